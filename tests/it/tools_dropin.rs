//! What zen-mcp-server's callers send, honoured through the real binary against a fake
//! OpenAI-compatible provider: consensus in the step shape (all models asked at step 1, at
//! once), images as image parts (refused for a model that takes none), thinking_mode as the
//! provider's reasoning setting, temperature, use_assistant_model false, the working directory,
//! and MAX_CONVERSATION_TURNS counted in turns with no continuation offered at the last one.
use serde_json::{Value, json};

use crate::fake_provider::FakeProvider;
use crate::util::{call, is_error, snapshot, stdio_zen, text};

/// A 1x1 PNG, as base64 and as bytes.
const PIXEL_B64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
pub(crate) const PIXEL: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0d\x49\x44\x41\x54\x78\xda\x63\x64\x60\xf8\x5f\x0f\x00\x02\x87\x01\x80\xeb\x47\xba\x92\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

/// zen with the fake provider as OpenAI (and as the custom endpoint).
fn openai_env(provider: &FakeProvider) -> Vec<(&'static str, String)> {
    vec![
        ("OPENAI_API_KEY", "sk-fake-key-for-tests".to_string()),
        ("OPENAI_BASE_URL", provider.url.clone()),
        ("CUSTOM_API_URL", provider.url.clone()),
        ("ZEN_SIM_LATENCY_MS", "1".to_string()),
    ]
}

fn env_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The last message the provider was sent in request `i`.
fn last_message(body: &Value) -> &Value {
    body["messages"].as_array().unwrap().last().unwrap()
}

#[tokio::test]
async fn consensus_steps_get_every_answer_and_the_provider_saw_all_three_at_once() {
    let provider = FakeProvider::start(3).await;
    let env = openai_env(&provider);
    let zen = stdio_zen(&[], &env_refs(&env)).await;
    let step = |n: u32, thread: Option<&str>| {
        let mut args = json!({
            "step": if n == 1 { "Should we cache provider replies?".to_string() } else { format!("notes on answer {}", n - 1) },
            "step_number": n, "total_steps": 3, "next_step_required": n < 3,
            "findings": format!("findings {n}"),
        });
        if n == 1 {
            args["models"] = json!([
                {"model": "gpt-5", "stance": "for"},
                {"model": "gpt-5", "stance": "against"},
                {"model": "gpt-5", "stance": "neutral"},
            ]);
        }
        if let Some(t) = thread {
            args["continuation_id"] = json!(t);
        }
        args
    };
    let r1 = call(&zen.client, "consensus", step(1, None)).await;
    assert!(!is_error(&r1), "{}", text(&r1));
    let s1 = r1.structured_content.unwrap();
    assert_eq!(s1["status"], "analysis_and_first_model_consulted");
    assert_eq!(s1["total_steps"], 3);
    assert!(
        s1["model_response"]["verdict"]
            .as_str()
            .unwrap()
            .contains("stance FOR"),
        "{s1}"
    );
    assert_eq!(s1["model_responses"].as_array().unwrap().len(), 3);
    // The provider had all three requests inside at once (each was held until all came).
    assert_eq!(provider.bodies().len(), 3);
    assert_eq!(
        provider.peak(),
        3,
        "the three models were not asked at once"
    );
    let thread = s1["continuation_offer"]["continuation_id"]
        .as_str()
        .unwrap()
        .to_string();

    let mut verdicts = vec![
        s1["model_response"]["verdict"]
            .as_str()
            .unwrap()
            .to_string(),
    ];
    for n in 2..=3 {
        let r = call(&zen.client, "consensus", step(n, Some(&thread))).await;
        assert!(!is_error(&r), "{}", text(&r));
        let s = r.structured_content.unwrap();
        let expected = if n == 3 {
            "consensus_workflow_complete"
        } else {
            "model_consulted"
        };
        assert_eq!(s["status"], expected, "{s}");
        assert_eq!(s["step_number"], n);
        verdicts.push(s["model_response"]["verdict"].as_str().unwrap().to_string());
    }
    for (verdict, stance) in verdicts.iter().zip(["FOR", "AGAINST", "NEUTRAL"]) {
        assert!(
            verdict.contains(&format!("stance {stance}")),
            "{verdicts:?}"
        );
    }
    assert_eq!(provider.bodies().len(), 3, "later steps asked no model");
    // The step shape and a thread from step 1 on are one conversation: chat continues it.
    let more = call(
        &zen.client,
        "chat",
        json!({"prompt": "which one?", "continuation_id": thread, "model": "sim"}),
    )
    .await;
    assert!(!is_error(&more), "{}", text(&more));
}

#[tokio::test]
async fn images_thinking_mode_and_temperature_reach_the_provider_as_its_own_fields() {
    let provider = FakeProvider::start(1).await;
    let env = openai_env(&provider);
    let zen = stdio_zen(&[], &env_refs(&env)).await;
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("shot.png");
    std::fs::write(&png, PIXEL).unwrap();
    let data_url = format!("data:image/png;base64,{PIXEL_B64}");
    let args = json!({
        "prompt": "what is in these?", "model": "gpt-5", "thinking_mode": "high",
        "temperature": 0.3, "images": [data_url, png.to_str().unwrap()],
    });
    let r = call(&zen.client, "chat", args).await;
    assert!(!is_error(&r), "{}", text(&r));
    let body = provider.bodies().pop().unwrap();
    assert_eq!(body["reasoning_effort"], "high");
    // gpt-5's record says it takes no temperature: left out rather than failing the call.
    assert!(body.get("temperature").is_none(), "{body}");
    let parts = last_message(&body)["content"].as_array().unwrap().clone();
    assert_eq!(parts[0]["type"], "text");
    assert_eq!(parts.len(), 3, "{parts:?}");
    for part in &parts[1..] {
        assert_eq!(part["type"], "image_url");
        assert_eq!(part["image_url"]["url"], json!(data_url));
    }

    // A model without a reasoning setting: nothing sent, and the reply says so.
    let r = call(
        &zen.client,
        "chat",
        json!({"prompt": "p", "model": "gpt-4.1", "thinking_mode": "max", "temperature": 0.3}),
    )
    .await;
    let body = provider.bodies().pop().unwrap();
    assert!(body.get("reasoning_effort").is_none(), "{body}");
    assert_eq!(body["temperature"], 0.3);
    let notes = r.structured_content.unwrap()["notes"].to_string();
    assert!(notes.contains("thinking_mode max was not sent"), "{notes}");

    // A model that takes no images refuses them before any request is made.
    let before = provider.bodies().len();
    let r = call(
        &zen.client,
        "chat",
        json!({"prompt": "p", "model": "custom/llama3.2", "images": [png.to_str().unwrap()]}),
    )
    .await;
    assert!(is_error(&r));
    assert!(
        text(&r).contains("images: custom/llama3.2 takes no images"),
        "{}",
        text(&r)
    );
    assert_eq!(provider.bodies().len(), before);
    // Not an image at all: refused, naming the image.
    let fake = dir.path().join("fake.png");
    std::fs::write(&fake, "text").unwrap();
    let r = call(
        &zen.client,
        "chat",
        json!({"prompt": "p", "model": "gpt-5", "images": [fake.to_str().unwrap()]}),
    )
    .await;
    assert!(
        text(&r).contains("images[0]") && text(&r).contains("is not a PNG"),
        "{}",
        text(&r)
    );

    // A workflow sends the images of its earlier steps on the final step.
    let step = |n: u32, thread: Option<&str>| {
        let mut a = json!({"step": format!("step {n}"), "step_number": n, "total_steps": 2,
            "next_step_required": n < 2, "findings": "f", "model": "gpt-5", "thinking_mode": "low"});
        if n == 1 {
            a["images"] = json!([png.to_str().unwrap()]);
        }
        if let Some(t) = thread {
            a["continuation_id"] = json!(t);
        }
        a
    };
    let r1 = call(&zen.client, "debug", step(1, None)).await;
    let thread = r1.structured_content.unwrap()["continuation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let asked = provider.bodies().len();
    let r2 = call(&zen.client, "debug", step(2, Some(&thread))).await;
    assert!(!is_error(&r2), "{}", text(&r2));
    let bodies = provider.bodies();
    assert_eq!(bodies.len(), asked + 1, "one model call, on the final step");
    let last = bodies.last().unwrap();
    assert_eq!(last["reasoning_effort"], "low");
    let parts = last_message(last)["content"].as_array().unwrap();
    assert_eq!(parts[1]["image_url"]["url"], json!(data_url));
}

#[tokio::test]
async fn use_assistant_model_false_and_internal_validation_finish_without_a_model_call() {
    let zen = stdio_zen(&[], &[("ZEN_SIM_LATENCY_MS", "1")]).await;
    let calls = |snap: &Value| {
        snap["providers"]["simulated"]["calls"]["total_operations"]
            .as_u64()
            .unwrap()
    };
    let before = calls(&snapshot(&zen.client).await);
    for (tool, local) in [
        ("codereview", json!({"use_assistant_model": false})),
        ("codereview", json!({"review_validation_type": "internal"})),
        ("precommit", json!({"precommit_type": "internal"})),
        ("planner", json!({"use_assistant_model": false})),
    ] {
        let first = json!({"step": "read the cache", "step_number": 1, "total_steps": 2,
            "next_step_required": true, "findings": "evicts on write"});
        let r1 = call(&zen.client, tool, first).await;
        assert!(!is_error(&r1), "{tool}: {}", text(&r1));
        let thread = r1.structured_content.unwrap()["continuation_id"].clone();
        let mut last = json!({"step": "done", "step_number": 2, "total_steps": 2,
            "next_step_required": false, "continuation_id": thread, "findings": "all read"});
        last.as_object_mut()
            .unwrap()
            .extend(local.as_object().unwrap().clone());
        let r2 = call(&zen.client, tool, last).await;
        assert!(!is_error(&r2), "{tool}: {}", text(&r2));
        let s = r2.structured_content.unwrap();
        assert_eq!(s["status"], "local_work_complete", "{tool} {local}");
        let content = s["content"].as_str().unwrap();
        assert!(
            content.contains("2 steps recorded") && content.contains("evicts on write"),
            "{content}"
        );
    }
    assert_eq!(
        calls(&snapshot(&zen.client).await),
        before,
        "no model was asked"
    );
}

#[tokio::test]
async fn relative_paths_resolve_against_the_working_directory_inside_the_allowed_roots() {
    let provider = FakeProvider::start(1).await;
    let allowed = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        allowed.path().join("notes.txt"),
        "the cache key is the prompt hash",
    )
    .unwrap();
    let mut env = openai_env(&provider);
    env.push((
        "ZEN_ALLOWED_PATHS",
        allowed.path().to_str().unwrap().to_string(),
    ));
    let zen = stdio_zen(&[], &env_refs(&env)).await;
    let r = call(
        &zen.client,
        "chat",
        json!({"prompt": "read it", "model": "gpt-5",
        "working_directory_absolute_path": allowed.path(), "absolute_file_paths": ["notes.txt"]}),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let body = provider.bodies().pop().unwrap();
    assert!(
        last_message(&body)["content"]
            .as_str()
            .unwrap()
            .contains("the cache key is the prompt hash")
    );
    for (dir, why) in [
        (
            outside.path().to_str().unwrap(),
            "outside ZEN_ALLOWED_PATHS",
        ),
        ("relative/dir", "not an absolute path"),
    ] {
        let r = call(
            &zen.client,
            "chat",
            json!({"prompt": "p", "working_directory_absolute_path": dir}),
        )
        .await;
        assert!(is_error(&r));
        assert!(
            text(&r).contains("working_directory_absolute_path") && text(&r).contains(why),
            "{}",
            text(&r)
        );
    }
}

#[tokio::test]
async fn turns_are_counted_as_turns_and_the_last_turn_offers_no_continuation() {
    let zen = stdio_zen(
        &[],
        &[("ZEN_SIM_LATENCY_MS", "1"), ("MAX_CONVERSATION_TURNS", "4")],
    )
    .await;
    let r1 = call(&zen.client, "chat", json!({"prompt": "one"})).await;
    let s1 = r1.structured_content.unwrap();
    assert_eq!(s1["status"], "continuation_available");
    assert_eq!(
        s1["continuation_offer"]["remaining_turns"], 2,
        "4 turns, 2 used"
    );
    let thread = s1["continuation_offer"]["continuation_id"].clone();
    let r2 = call(
        &zen.client,
        "chat",
        json!({"prompt": "two", "continuation_id": thread}),
    )
    .await;
    assert!(!is_error(&r2), "{}", text(&r2));
    let s2 = r2.structured_content.clone().unwrap();
    assert_eq!(s2["status"], "success");
    assert_eq!(s2["continuation_offer"], Value::Null);
    assert_eq!(s2["continuation_id"], Value::Null);
    assert_eq!(s2["thread_id"], thread);
    assert!(
        text(&r2).contains("reached MAX_CONVERSATION_TURNS (4)"),
        "{}",
        text(&r2)
    );
    assert!(!text(&r2).contains("continuation_id:"), "{}", text(&r2));
    let r3 = call(
        &zen.client,
        "chat",
        json!({"prompt": "three", "continuation_id": thread}),
    )
    .await;
    assert!(
        is_error(&r3) && text(&r3).contains("is full"),
        "{}",
        text(&r3)
    );
}
