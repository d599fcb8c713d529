//! consensus against the real binary: three models at 200 ms answer in about one provider delay,
//! with the provider limit at 1 in about three; one failing model leaves the others' answers;
//! the thread continues in chat with the consensus turns in its history.
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::hostile_server::{Hostile, Reply};
use crate::util::{call, is_error, snapshot, stdio_zen, text};

const THREE: [(&str, &str); 2] = [
    ("ZEN_SIM_LATENCY_MS", "200"),
    ("ZEN_SIM_MODELS", "alpha,beta,gamma"),
];

fn three_models() -> Value {
    json!([
        {"model": "alpha", "stance": "for"},
        {"model": "beta", "stance": "against"},
        {"model": "gamma"},
    ])
}

/// One consensus call: its result and wall time.
async fn timed_consensus(
    client: &crate::util::Client,
    models: Value,
) -> (rmcp::model::CallToolResult, Duration) {
    let started = Instant::now();
    let result = call(
        client,
        "consensus",
        json!({"prompt": "Should we cache provider replies?", "models": models}),
    )
    .await;
    (result, started.elapsed())
}

#[tokio::test]
async fn three_models_at_200ms_answer_in_about_one_provider_delay() {
    let zen = stdio_zen(&[], &THREE).await;
    let (result, took) = timed_consensus(&zen.client, three_models()).await;
    assert!(!is_error(&result), "{}", text(&result));
    let body = text(&result);
    for heading in [
        "## simulated/alpha (for, ",
        "## simulated/beta (against, ",
        "## simulated/gamma (neutral, ",
        "## Side by side",
        "3 of 3 models answered",
    ] {
        assert!(body.contains(heading), "{heading} missing:\n{body}");
    }
    let structured = result.structured_content.unwrap();
    let opinions = structured["opinions"].as_array().unwrap();
    assert_eq!(opinions.len(), 3);
    for o in opinions {
        assert!(o["latency_ms"].as_u64().unwrap() >= 200, "{o}");
        assert!(o["answer"].is_string(), "{o}");
    }
    // In parallel the call takes about the slowest opinion; had any two run one after the
    // other it would take at least their sum. Measured against the opinions' own latencies, so
    // a loaded machine that slows every call slows both sides of the comparison, and on the
    // server's own clock for the call (the pipe and the client's scheduling, which a loaded
    // machine can stretch by hundreds of ms, are not the tool's).
    let mut latencies: Vec<u64> = (opinions.iter())
        .map(|o| o["latency_ms"].as_u64().unwrap())
        .collect();
    latencies.sort_unstable();
    let two_in_a_row = (latencies[0] + latencies[1]) as f64;
    let snap = snapshot(&zen.client).await;
    let in_server = snap["tools"]["consensus"]["average_duration_ms"]
        .as_f64()
        .unwrap();
    assert!(
        in_server < two_in_a_row,
        "3 models took {in_server} ms in the server ({took:?} at the client): not in parallel \
         (opinions {latencies:?} ms)"
    );
    assert_eq!(
        snap["providers"]["simulated"]["calls"]["total_operations"],
        3
    );
    assert_eq!(snap["tools"]["consensus"]["total_operations"], 1);
}

#[tokio::test]
async fn with_the_provider_limit_at_1_three_models_take_three_delays() {
    let mut env = THREE.to_vec();
    env.push(("ZEN_PROVIDER_LIMITS", "simulated=1"));
    let zen = stdio_zen(&[], &env).await;
    let (result, took) = timed_consensus(&zen.client, three_models()).await;
    assert!(!is_error(&result), "{}", text(&result));
    assert!(took >= Duration::from_millis(600), "took {took:?}");
    let structured = result.structured_content.unwrap();
    let mut latencies: Vec<u64> = (structured["opinions"].as_array().unwrap().iter())
        .map(|o| o["latency_ms"].as_u64().unwrap())
        .collect();
    latencies.sort_unstable();
    // Each waited for the one permit: about 200, 400 and 600 ms.
    assert!(latencies[2] >= 600, "{latencies:?}");
}

#[tokio::test]
async fn one_failing_model_leaves_the_other_answers_and_the_thread_continues_in_chat() {
    let hostile = Hostile::start(Reply::ServerError("model overloaded".into())).await;
    let env = [
        ("ZEN_SIM_LATENCY_MS", "20"),
        ("ZEN_SIM_MODELS", "alpha,beta"),
        ("CUSTOM_API_URL", hostile.url.as_str()),
        ("ZEN_MAX_RETRIES", "1"),
    ];
    let zen = stdio_zen(&[], &env).await;
    let models = json!([
        {"model": "simulated/alpha", "stance": "for"},
        {"model": "custom/llama3.2", "stance": "neutral"},
        {"model": "simulated/beta", "stance": "against"},
    ]);
    let (result, _) = timed_consensus(&zen.client, models).await;
    assert!(!is_error(&result), "{}", text(&result));
    let body = text(&result);
    assert!(
        body.contains("2 of 3 models answered (custom/llama3.2 failed)"),
        "{body}"
    );
    assert!(
        body.contains("FAILED: provider custom returned HTTP 500"),
        "{body}"
    );
    let structured = result.structured_content.unwrap();
    let thread = structured["continuation_id"].as_str().unwrap().to_string();

    // The same thread, continued by chat: consensus's four turns are in the history.
    let followup = call(
        &zen.client,
        "chat",
        json!({"prompt": "Which answer convinced you?", "continuation_id": thread, "model": "alpha"}),
    )
    .await;
    assert!(!is_error(&followup), "{}", text(&followup));
    assert!(
        text(&followup).contains("Read 6 messages"),
        "{}",
        text(&followup)
    );

    // Every model failing fails the call, naming each error.
    let all_bad = json!([{"model": "custom/llama3.2"}, {"model": "local", "stance": "for"}]);
    let (result, _) = timed_consensus(&zen.client, all_bad).await;
    assert!(is_error(&result));
    assert!(
        text(&result).starts_with("every model failed"),
        "{}",
        text(&result)
    );
}

#[tokio::test]
async fn bad_consensus_arguments_name_the_field() {
    let zen = stdio_zen(&[], &[("ZEN_SIM_LATENCY_MS", "1")]).await;
    let cases = [
        (
            json!({"prompt": "x", "models": [{"model": "simulated"}]}),
            "models: 1 entries",
        ),
        (
            json!({"prompt": "x", "models": "simulated"}),
            "models: expected a list of objects",
        ),
        (
            json!({"prompt": "x", "models": [{"model": "sim"}, {"model": "nope"}]}),
            "models[1].model: unknown model 'nope'",
        ),
        (
            json!({"prompt": "x", "models": [{"model": "sim", "stance": "maybe"}, {"model": "sim"}]}),
            "models[0].stance: unknown variant `maybe`",
        ),
        (
            json!({"prompt": "x", "models": [{"model": "sim"}, {"model": "sim"}]}),
            "models[1]: 'sim' with stance neutral is already listed",
        ),
        (
            json!({"prompt": " ", "models": [{"model": "sim"}, {"model": "sim", "stance": "for"}]}),
            "prompt: must not be empty",
        ),
        (json!({"models": []}), "prompt: missing: give prompt"),
        (
            json!({"prompt": "x", "step": "y"}),
            "step: give either prompt (one call) or step",
        ),
        (
            json!({"prompt": "x", "step_number": 1}),
            "step_number: belongs to the other shape",
        ),
        (
            json!({"step": "x", "step_number": 1, "total_steps": 2, "next_step_required": true}),
            "findings: missing field",
        ),
        (
            json!({"step": "x", "step_number": 2, "total_steps": 2, "next_step_required": true, "findings": "f"}),
            "continuation_id: required from step 2 on",
        ),
    ];
    for (args, expected) in cases {
        let r = call(&zen.client, "consensus", args.clone()).await;
        assert!(is_error(&r), "{args}");
        assert!(
            text(&r).contains("invalid arguments for consensus"),
            "{args}: {}",
            text(&r)
        );
        assert!(text(&r).contains(expected), "{args}: {}", text(&r));
    }
}
