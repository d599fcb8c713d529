//! The OpenAI-compatible provider against a local fake server (wiremock), in process and
//! through the real binary.
use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use zen_server::providers::openai_compat::{Auth, Endpoint, OpenAiCompatible};
use zen_server::providers::{
    Capabilities, CompletionRequest, Message, ModelInfo, Provider, ProviderError,
};

use crate::util::{call, is_error, stdio_zen, text};

fn provider(base: &str) -> OpenAiCompatible {
    OpenAiCompatible::new(Endpoint {
        name: "openai",
        base_url: base.to_string(),
        api_key: Some("sk-test-key".into()),
        auth: Auth::Bearer,
        deployments_api_version: None,
        models: vec![ModelInfo::new("gpt-5", Capabilities::GENERIC)],
        accepts_prefixes: vec!["gpt-"],
        connect_timeout: Duration::from_secs(2),
        max_reply_bytes: 8 * 1024 * 1024,
    })
    .unwrap()
}

fn request() -> CompletionRequest {
    CompletionRequest {
        model: "gpt-5".into(),
        messages: vec![
            Message::new("system", "be brief"),
            Message::new("user", "hi"),
        ],
        temperature: Some(0.2),
        thinking: None,
    }
}

fn reply(text: &str) -> serde_json::Value {
    json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]})
}

#[tokio::test]
async fn sends_the_openai_request_shape_with_the_bearer_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", "Bearer sk-test-key"))
        .and(body_partial_json(json!({
            "model": "gpt-5",
            "temperature": 0.2,
            "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(reply("hello")))
        .expect(1)
        .mount(&server)
        .await;
    let out = provider(&format!("{}/v1", server.uri()))
        .complete(&request())
        .await
        .unwrap();
    assert_eq!(out.text, "hello");
}

/// The error the provider gives for a fake server's one reply.
async fn error_for(reply: ResponseTemplate) -> ProviderError {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(reply)
        .mount(&server)
        .await;
    provider(&server.uri())
        .complete(&request())
        .await
        .unwrap_err()
}

#[tokio::test]
async fn error_statuses_name_provider_and_status_and_never_the_key() {
    let err = error_for(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "7")
            .set_body_json(json!({"error": {"message": "rate limited for key sk-test-key"}})),
    )
    .await;
    let message = err.to_string();
    assert!(
        message.contains("provider openai returned HTTP 429"),
        "{message}"
    );
    assert!(!message.contains("sk-test-key"), "{message}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(err.is_retryable());

    let err = error_for(ResponseTemplate::new(401).set_body_string("bad key")).await;
    assert!(
        matches!(err, ProviderError::Status { status: 401, .. }) && !err.is_retryable(),
        "{err}"
    );

    let err = error_for(ResponseTemplate::new(200).set_body_string("{}")).await;
    assert!(
        err.to_string().contains("no choices[0].message.content"),
        "{err}"
    );
}

#[tokio::test]
async fn a_slow_provider_times_out_through_zen_with_a_clear_tool_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(reply("late"))
                .set_delay(Duration::from_secs(5)),
        )
        .mount(&server)
        .await;
    let base = format!("{}/v1", server.uri());
    let zen = stdio_zen(
        &[],
        &[
            ("OPENAI_API_KEY", "sk-test-key"),
            ("OPENAI_BASE_URL", &base),
            ("ZEN_REQUEST_TIMEOUT", "300ms"),
            ("ZEN_MAX_RETRIES", "1"),
        ],
    )
    .await;
    let result = call(
        &zen.client,
        "chat",
        json!({"prompt": "hi", "model": "gpt-5"}),
    )
    .await;
    assert!(is_error(&result));
    assert!(
        text(&result).contains("provider openai did not answer within 300ms"),
        "{}",
        text(&result)
    );
}

#[tokio::test]
async fn zen_routes_models_to_the_configured_provider() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_partial_json(json!({"model": "gpt-5"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(reply("real-ish reply")))
        .mount(&server)
        .await;
    let base = format!("{}/v1", server.uri());
    let zen = stdio_zen(
        &[],
        &[
            ("OPENAI_API_KEY", "sk-test-key"),
            ("OPENAI_BASE_URL", &base),
        ],
    )
    .await;
    // auto picks the first real provider; gpt-* and openai/… route there; simulated stays reachable.
    for model in [None, Some("gpt-5"), Some("openai/gpt-5")] {
        let mut args = json!({"prompt": "hi"});
        if let Some(m) = model {
            args["model"] = json!(m);
        }
        let result = call(&zen.client, "chat", args).await;
        assert!(
            text(&result).starts_with("real-ish reply"),
            "{model:?}: {}",
            text(&result)
        );
    }
    let sim = call(
        &zen.client,
        "chat",
        json!({"prompt": "hi", "model": "simulated"}),
    )
    .await;
    assert!(text(&sim).contains("simulated reply"));
}
