//! zen-mcp-server's model files, allowed-model lists and hosted providers, through the real
//! binary against a fake OpenAI-compatible server (wiremock): names and aliases route through
//! the files, Azure OpenAI and DIAL are called at their deployment URLs with `api-key`, X.AI
//! with its bearer key, and the unknown-model error says what exists.
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::util::{StdioZen, call, is_error, stdio_zen, text, wait_for};

fn reply(text: &str) -> Value {
    json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]})
}

/// A model file in zen-mcp-server's format, in `dir`.
fn models_file(dir: &std::path::Path, name: &str, models: &Value) -> String {
    let file = dir.join(name);
    let body =
        json!({"_README": {"description": "as zen-mcp-server writes them"}, "models": models});
    std::fs::write(&file, body.to_string()).unwrap();
    file.display().to_string()
}

async fn chat(zen: &StdioZen, model: &str) -> (bool, String) {
    let result = call(&zen.client, "chat", json!({"prompt": "hi", "model": model})).await;
    (is_error(&result), text(&result))
}

#[tokio::test]
async fn a_custom_models_file_routes_alpha_its_aliases_and_custom_slash_alpha_to_one_model() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_partial_json(json!({"model": "alpha"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(reply("alpha answers")))
        .expect(4)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = models_file(
        dir.path(),
        "custom_models.json",
        &json!([
            {"model_name": "alpha", "aliases": ["a1", "Alpha-Short"], "context_window": 64000,
             "max_output_tokens": 4096, "supports_images": true, "max_image_size_mb": 8.0,
             "supports_temperature": false, "is_custom": true, "description": "the test model"},
            {"model_name": "beta", "aliases": ["b1"], "is_custom": true}
        ]),
    );
    let base = format!("{}/v1", server.uri());
    let zen = stdio_zen(
        &[],
        &[
            ("CUSTOM_API_URL", &base),
            ("CUSTOM_MODELS_CONFIG_PATH", &file),
        ],
    )
    .await;
    for model in ["alpha", "a1", "ALPHA-short", "custom/alpha"] {
        let (failed, answer) = chat(&zen, model).await;
        assert!(
            !failed && answer.starts_with("alpha answers"),
            "{model}: {answer}"
        );
    }
    // listmodels shows the file's models with their aliases and capabilities.
    let listed: Value = call(&zen.client, "listmodels", json!({}))
        .await
        .structured_content
        .unwrap();
    let custom = &listed["providers"][0];
    assert_eq!(custom["provider"], "custom");
    let models = custom["models"].as_array().unwrap();
    let alpha = models
        .iter()
        .find(|m| m["name"] == "alpha")
        .expect("alpha listed");
    assert_eq!(alpha["aliases"], json!(["a1", "Alpha-Short"]));
    assert_eq!(alpha["context_window"], 64000);
    assert_eq!(alpha["supports_images"], true);
    assert_eq!(alpha["max_image_size_mb"], 8.0);
    assert_eq!(alpha["supports_temperature"], false);
    // CUSTOM_MODEL_NAME is offered as well, as zen-mcp-server does.
    let names: Vec<&str> = models.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["llama3.2", "alpha", "beta"], "{listed}");

    // An unknown name: the error lists the file's models, their aliases and provider/model.
    let (failed, error) = chat(&zen, "gamma").await;
    assert!(failed, "{error}");
    for expected in [
        "unknown model 'gamma'",
        "alpha (or a1, Alpha-Short)",
        "beta (or b1)",
        "custom/<model>",
        "OPENAI_API_KEY (openai)",
    ] {
        assert!(error.contains(expected), "{expected}: {error}");
    }
}

#[tokio::test]
async fn a_bad_model_file_stops_zen_at_start_naming_the_file_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = models_file(
        dir.path(),
        "custom_models.json",
        &json!([{"model_name": "alpha", "context_windw": 5}]),
    );
    let (code, _, stderr) = crate::util::zen_output(
        &["serve", "--no-telemetry"],
        &[
            ("CUSTOM_API_URL", "http://127.0.0.1:9/v1"),
            ("CUSTOM_MODELS_CONFIG_PATH", &file),
        ],
    )
    .await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("CUSTOM_MODELS_CONFIG_PATH=") && stderr.contains("context_windw"),
        "{stderr}"
    );
}

#[tokio::test]
async fn allowed_models_restrict_a_provider_to_its_list() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_partial_json(json!({"model": "gpt-5-mini"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(reply("mini answers")))
        .expect(2)
        .mount(&server)
        .await;
    let base = format!("{}/v1", server.uri());
    let zen = stdio_zen(
        &[],
        &[
            ("OPENAI_API_KEY", "sk-test"),
            ("OPENAI_BASE_URL", &base),
            ("OPENAI_ALLOWED_MODELS", "mini, o4-mini"),
        ],
    )
    .await;
    for model in ["gpt-5-mini", "mini"] {
        let (failed, answer) = chat(&zen, model).await;
        assert!(
            !failed && answer.starts_with("mini answers"),
            "{model}: {answer}"
        );
    }
    let (failed, error) = chat(&zen, "o3").await;
    assert!(failed);
    assert!(
        error.contains("model 'o3' is not allowed: OPENAI_ALLOWED_MODELS=mini,o4-mini"),
        "{error}"
    );
    let listed: Value = call(&zen.client, "listmodels", json!({}))
        .await
        .structured_content
        .unwrap();
    let openai = &listed["providers"][0];
    let names: Vec<&str> = (openai["models"].as_array().unwrap().iter())
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["gpt-5-mini", "o4-mini"], "{listed}");
    assert_eq!(listed["auto_resolves_to"], "openai/gpt-5-mini");
}

#[tokio::test]
async fn azure_dial_and_xai_are_called_where_and_how_each_expects() {
    let server = MockServer::start().await;
    let at = |path_: &str| Mock::given(method("POST")).and(path(path_.to_string()));
    let ok = |text_: &str| ResponseTemplate::new(200).set_body_json(reply(text_));
    at("/openai/deployments/prod-gpt4o/chat/completions")
        .and(query_param("api-version", "2024-10-21"))
        .and(header("api-key", "azure-key"))
        .respond_with(ok("azure deployment"))
        .expect(2)
        .mount(&server)
        .await;
    at("/openai/deployments/adhoc/chat/completions")
        .and(header("api-key", "azure-key"))
        .respond_with(ok("azure adhoc"))
        .expect(1)
        .mount(&server)
        .await;
    at("/openai/deployments/o3-2025-04-16/chat/completions")
        .and(query_param("api-version", "2025-01-01-preview"))
        .and(header("api-key", "dial-key"))
        .respond_with(ok("dial o3"))
        .expect(1)
        .mount(&server)
        .await;
    at("/xai/v1/chat/completions")
        .and(header("authorization", "Bearer xai-key"))
        .and(body_partial_json(json!({"model": "grok-4"})))
        .respond_with(ok("grok answers"))
        .expect(2)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let azure_file = models_file(
        dir.path(),
        "azure_models.json",
        &json!([{"model_name": "gpt-4o", "deployment": "prod-gpt4o", "aliases": ["gpt4o-eu"],
                "supports_images": true}]),
    );
    let (uri, xai) = (server.uri(), format!("{}/xai/v1", server.uri()));
    let zen = stdio_zen(
        &[],
        &[
            ("AZURE_OPENAI_API_KEY", "azure-key"),
            ("AZURE_OPENAI_ENDPOINT", &format!("{uri}/")),
            ("AZURE_OPENAI_API_VERSION", "2024-10-21"),
            ("AZURE_MODELS_CONFIG_PATH", &azure_file),
            ("DIAL_API_KEY", "dial-key"),
            ("DIAL_API_HOST", &format!("{uri}/openai")),
            ("XAI_API_KEY", "xai-key"),
            ("XAI_BASE_URL", &xai),
        ],
    )
    .await;
    for (model, expected) in [
        ("gpt4o-eu", "azure deployment"),
        ("azure/gpt-4o", "azure deployment"),
        ("azure/adhoc", "azure adhoc"),
        ("o3", "dial o3"),
        ("grok", "grok answers"),
        ("xai/grok-4", "grok answers"),
    ] {
        let (failed, answer) = chat(&zen, model).await;
        assert!(!failed && answer.starts_with(expected), "{model}: {answer}");
    }
    let snap = crate::util::snapshot(&zen.client).await;
    for pool in ["azure", "dial", "xai"] {
        let found = (snap["pools"].as_array().unwrap().iter()).any(|p| p["name"] == pool);
        assert!(found, "a pool for {pool}: {}", snap["pools"]);
    }
}

#[tokio::test]
async fn after_an_outage_the_breaker_lets_calls_through_again_within_seconds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("down"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(reply("back")))
        .with_priority(2)
        .mount(&server)
        .await;
    let base = format!("{}/v1", server.uri());
    let zen = stdio_zen(
        &[],
        &[
            ("CUSTOM_API_URL", &base),
            ("ZEN_MAX_RETRIES", "1"),
            // Opens after 2 failures; the first trial 1 s later (at most 45 s, the old fixed time).
            ("ZEN_BREAKERS", "custom=2/1s..45s"),
        ],
    )
    .await;
    for _ in 0..2 {
        let (failed, error) = chat(&zen, "local").await;
        assert!(failed && error.contains("HTTP 503"), "{error}");
    }
    let (failed, error) = chat(&zen, "local").await;
    assert!(
        failed && error.contains("circuit breaker is open"),
        "{error}"
    );
    let opened = std::time::Instant::now();
    // Well before the 45 s the breaker used to stay open, a call reaches the provider again.
    wait_for(
        "the breaker's trial call",
        Duration::from_secs(30),
        async || !chat(&zen, "local").await.0,
    )
    .await;
    assert!(opened.elapsed() < Duration::from_secs(30));
}
