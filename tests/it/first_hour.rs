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
