//! Issue 30: messages a newcomer meets in the first hour point at the fix (the URL and the
//! variable to change, the setting to use), asserted on the text the user sees.
use std::time::Duration;

use serde_json::json;

use crate::util::{call, is_error, stdio_zen, text, wait_for, zen_output};

/// A 127.0.0.1 port nothing listens on (bound, then released).
fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_dead_provider_url_is_named_with_its_variable_on_the_first_call_and_while_open() {
    let base = format!("http://127.0.0.1:{}/v1", dead_port());
    // The default breaker of `custom` opens after 2 failures: the first call's own retries open
    // it, and that call must still say what failed, not "retry later".
    let env = [
        ("CUSTOM_API_URL", base.as_str()),
        ("ZEN_RETRY_BACKOFF", "10ms"),
    ];
    let zen = stdio_zen(&[], &env).await;
    let chat = json!({"prompt": "hi", "model": "local"});
    let first = call(&zen.client, "chat", chat.clone()).await;
    let first = (is_error(&first), text(&first));
    assert!(first.0, "{}", first.1);
    assert!(
        first
            .1
            .contains(&format!("cannot connect to {base} (CUSTOM_API_URL)")),
        "the first call: {}",
        first.1
    );
    assert!(!first.1.contains("circuit breaker"), "{}", first.1);
    // The breaker is open now: the refusal still names the URL and the variable.
    let refused = call(&zen.client, "chat", chat).await;
    let refused = text(&refused);
    assert!(
        refused.contains("circuit breaker is open")
            && refused.contains(&format!("cannot connect to {base} (CUSTOM_API_URL)")),
        "while open: {refused}"
    );
}

#[tokio::test]
async fn a_default_model_zen_cannot_serve_starts_and_explains_on_each_call_and_in_listmodels() {
    // No OpenAI key: gpt-5 cannot be served. zen used to exit 2 at start, which Claude Desktop
    // shows only in a log.
    let env = [("DEFAULT_MODEL", "gpt-5"), ("MISTRAL_API_KEY", "m-1")];
    let zen = stdio_zen(&[], &env).await;
    for _ in 0..2 {
        let reply = call(&zen.client, "chat", json!({"prompt": "hi"})).await;
        let message = text(&reply);
        assert!(is_error(&reply), "{message}");
        assert!(
            message.contains("This call names no model, and DEFAULT_MODEL=gpt-5 cannot be served")
                && message.contains("OPENAI_API_KEY (openai)")
                && message.contains("set DEFAULT_MODEL to one of those models (or auto)"),
            "{message}"
        );
    }
    // A call that names a model works meanwhile.
    let named = call(
        &zen.client,
        "chat",
        json!({"prompt": "hi", "model": "simulated"}),
    )
    .await;
    assert!(!is_error(&named), "{}", text(&named));
    let listed = call(&zen.client, "listmodels", json!({})).await;
    let structured = listed.structured_content.clone().unwrap_or_default();
    let problem = structured["default_model_problem"]
        .as_str()
        .unwrap_or_default();
    assert!(
        problem.starts_with("DEFAULT_MODEL=gpt-5 cannot be served"),
        "listmodels: {}",
        text(&listed)
    );
    // Said at start too, with the key of a provider zen lacks.
    wait_for("the start warnings", Duration::from_secs(10), async || {
        let log = zen.stderr.text();
        log.contains("DEFAULT_MODEL=gpt-5 cannot be served")
            && log.contains("MISTRAL_API_KEY is set but zen has no Mistral provider")
    })
    .await;
}

#[tokio::test]
async fn a_port_in_use_says_how_to_pick_another() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let (code, _, stderr) = zen_output(&["serve", "--http", &addr], &[]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("port {port} is already in use"))
            && stderr.contains("Pick another port with --http 127.0.0.1:PORT (or ZEN_HTTP)")
            && stderr.contains("port 0 for any free one"),
        "{stderr}"
    );
    let (code, _, stderr) = zen_output(&["serve", "--telemetry", &addr], &[]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--telemetry 127.0.0.1:PORT (or ZEN_TELEMETRY)"),
        "{stderr}"
    );
    drop(taken);
}

#[tokio::test]
async fn soak_out_is_the_json_report_and_a_series_name_there_points_at_series() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("soak.csv");
    let (code, _, stderr) =
        zen_output(&["soak", "-d", "10s", "--out", csv.to_str().unwrap()], &[]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--out writes the JSON report, as on every command (name it .json)")
            && stderr.contains("time series goes to --series FILE"),
        "{stderr}"
    );
    assert!(!csv.exists(), "nothing written");
}

#[tokio::test]
async fn version_listmodels_and_threads_answer_people_in_text_and_programs_in_structured_content() {
    let zen = stdio_zen(&[], &[("ZEN_SIM_LATENCY_MS", "1")]).await;
    let version = call(&zen.client, "version", json!({})).await;
    let said = text(&version);
    assert!(
        said.starts_with("zen ") && said.contains("Default model: auto; providers: simulated"),
        "{said}"
    );
    assert!(
        !said.contains('{') && !said.contains("uptime_secs"),
        "text, not JSON: {said}"
    );
    let data = version.structured_content.clone().unwrap();
    assert!(data["uptime_secs"].is_number(), "{data}");
    assert_eq!(data["config"]["providers"], json!(["simulated"]));
    assert_eq!(data["status"], "success");

    let listed = call(&zen.client, "listmodels", json!({})).await;
    let said = text(&listed);
    assert!(
        said.contains("goes to simulated/simulated")
            && said.contains("simulated, up to 32 calls at once:")
            && said.contains("Not configured; set to turn on: openai (OPENAI_API_KEY)"),
        "{said}"
    );
    assert!(!said.contains('{'), "text, not JSON: {said}");
    let data = listed.structured_content.clone().unwrap();
    assert_eq!(data["auto_resolves_to"], "simulated/simulated");

    // A workflow's thread continues with its workflow; a chat's with chat.
    let step = json!({"step": "Read the retry loop", "step_number": 1, "total_steps": 2,
                      "next_step_required": true, "findings": "Backoff is unbounded"});
    let review = call(&zen.client, "codereview", step).await;
    assert!(!is_error(&review), "{}", text(&review));
    let review_id = review.structured_content.clone().unwrap()["continuation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let chat = call(&zen.client, "chat", json!({"prompt": "hello"})).await;
    let chat_id = chat.structured_content.clone().unwrap()["continuation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let threads = call(&zen.client, "threads", json!({})).await;
    let said = text(&threads);
    let line_of = |id: &str| said.lines().find(|l| l.starts_with(id)).unwrap_or_default();
    assert!(
        line_of(&review_id).ends_with("→ continue with codereview"),
        "{said}"
    );
    assert!(
        line_of(&chat_id).ends_with("→ continue with chat"),
        "{said}"
    );
    let data = threads.structured_content.clone().unwrap();
    let continue_with = |id: &str| {
        (data["threads"].as_array().unwrap().iter())
            .find(|t| t["id"] == id)
            .map(|t| t["continue_with"].clone())
    };
    assert_eq!(continue_with(&review_id), Some(json!("codereview")));
    assert_eq!(continue_with(&chat_id), Some(json!("chat")));
}
