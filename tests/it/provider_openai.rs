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

/// An `openai` endpoint at `base` serving `model` (and any `gpt-*`), with the test key.
fn endpoint(base: &str, model: ModelInfo) -> OpenAiCompatible {
    OpenAiCompatible::new(Endpoint {
        name: "openai",
        base_url: base.to_string(),
        api_key: Some("sk-test-key".into()),
        auth: Auth::Bearer,
        deployments_api_version: None,
        models: vec![model],
        accepts_prefixes: vec!["gpt-"],
        connect_timeout: Duration::from_secs(2),
        max_reply_bytes: 8 * 1024 * 1024,
    })
    .unwrap()
}

fn provider(base: &str) -> OpenAiCompatible {
    endpoint(base, ModelInfo::new("gpt-5", Capabilities::GENERIC))
}

fn request() -> CompletionRequest {
    CompletionRequest {
        model: "gpt-5".into(),
        messages: vec![
            Message::new("system", "be brief"),
            Message::new("user", "hi"),
        ],
        temperature: Some(0.2),
        ..CompletionRequest::default()
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

/// The body a capability-shaped request sends, captured by the fake server.
async fn body_sent(model: ModelInfo, request: CompletionRequest) -> serde_json::Value {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(reply("ok")))
        .expect(1)
        .mount(&server)
        .await;
    endpoint(&server.uri(), model)
        .complete(&request)
        .await
        .unwrap();
    let received = server.received_requests().await.unwrap();
    serde_json::from_slice(&received[0].body).unwrap()
}

#[tokio::test]
async fn each_request_is_shaped_by_the_models_capabilities() {
    use zen_server::providers::{Reasoning, TemperatureRule, ThinkingMode};
    let looking = CompletionRequest {
        model: "m".into(),
        messages: vec![
            Message::new("user", "what is this?")
                .with_images(vec!["data:image/png;base64,iVBORw0KGgo=".into()]),
        ],
        temperature: Some(0.2),
        thinking: Some(ThinkingMode::Minimal),
    };
    // A reasoning model that takes no temperature: reasoning_effort, no temperature, image parts.
    let reasoning = Capabilities {
        supports_images: true,
        supports_temperature: false,
        reasoning: Some(Reasoning::EffortWithMinimal),
        ..Capabilities::GENERIC
    };
    let body = body_sent(ModelInfo::new("m", reasoning), looking.clone()).await;
    assert_eq!(body["reasoning_effort"], "minimal", "{body}");
    assert!(body.get("temperature").is_none(), "{body}");
    assert_eq!(
        body["messages"][0]["content"],
        json!([
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        ])
    );
    // OpenRouter's reasoning object, and a fixed temperature.
    let routed = Capabilities {
        temperature: TemperatureRule::Fixed { value: 1.0 },
        reasoning: Some(Reasoning::OpenRouter),
        ..Capabilities::GENERIC
    };
    let body = body_sent(ModelInfo::new("m", routed), looking.clone()).await;
    assert_eq!(body["reasoning"], json!({"effort": "low"}), "{body}");
    assert!(body.get("reasoning_effort").is_none(), "{body}");
    assert_eq!(body["temperature"], 1.0);
    // A model no record describes: the temperature as asked, no reasoning setting, and a plain
    // string for a message without images.
    let plain = CompletionRequest {
        messages: vec![Message::new("user", "hi")],
        ..looking
    };
    let body = body_sent(ModelInfo::new("other", Capabilities::GENERIC), plain).await;
    assert_eq!(body["temperature"], 0.2);
    assert!(body.get("reasoning_effort").is_none() && body.get("reasoning").is_none());
    assert_eq!(body["messages"][0]["content"], "hi");
}
