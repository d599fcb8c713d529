//! OpenAI-compatible chat completions over reqwest: OpenAI, OpenRouter, Gemini (through
//! Google's OpenAI-compatible endpoint) and custom servers such as Ollama, vLLM or LM Studio.
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;

use super::{Completion, CompletionRequest, Message, ModelInfo, Provider, ProviderError};

/// The chat completions request body.
#[derive(Serialize)]
struct ChatBody<'a> {
    model: &'a str,
    messages: &'a [Message],
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
}

/// One OpenAI-compatible endpoint.
pub struct OpenAiCompatible {
    /// `openai`, `openrouter`, `gemini` or `custom`.
    name: &'static str,
    /// `{base}/chat/completions`, built once.
    completions_url: String,
    /// Sent as `Authorization: Bearer …` when present.
    api_key: Option<String>,
    /// Known models (routing also accepts `accepts_prefixes`).
    models: Vec<ModelInfo>,
    /// Model name prefixes that belong to this provider (`gpt-`, `gemini-`); `/` means any
    /// `vendor/model` name (OpenRouter).
    accepts_prefixes: Vec<&'static str>,
    /// Shared connection pool; its connect timeout is the provider's.
    client: reqwest::Client,
}

impl OpenAiCompatible {
    pub fn new(
        name: &'static str,
        base_url: &str,
        api_key: Option<String>,
        models: Vec<ModelInfo>,
        accepts_prefixes: Vec<&'static str>,
        connect_timeout: Duration,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .user_agent(concat!("zen/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(OpenAiCompatible {
            name,
            completions_url: format!("{}/chat/completions", base_url.trim_end_matches('/')),
            api_key: api_key.filter(|k| !k.is_empty()),
            models,
            accepts_prefixes,
            client,
        })
    }

    /// Remove the API key from any text that might echo it back (error bodies, URLs).
    fn scrub(&self, text: &str) -> String {
        match &self.api_key {
            Some(key) if text.contains(key.as_str()) => text.replace(key.as_str(), "[redacted]"),
            _ => text.to_string(),
        }
    }

    fn error_message(&self, body: &str) -> String {
        let from_json = serde_json::from_str::<Value>(body).ok().and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.get("message"))
                .or_else(|| v.get("error"))
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        let mut message = from_json.unwrap_or_else(|| body.trim().to_string());
        if message.is_empty() {
            message = "(empty body)".to_string();
        }
        if message.len() > 300 {
            let cut = (0..=300)
                .rev()
                .find(|i| message.is_char_boundary(*i))
                .unwrap_or(0);
            message.truncate(cut);
            message.push('…');
        }
        self.scrub(&message)
    }
}

/// `Retry-After` as seconds (the HTTP-date form is rare from model APIs and is ignored).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| *s >= 0.0)
        .map(Duration::from_secs_f64)
}

#[async_trait]
impl Provider for OpenAiCompatible {
    fn name(&self) -> &'static str {
        self.name
    }

    fn models(&self) -> &[ModelInfo] {
        &self.models
    }

    fn accepts(&self, model: &str) -> bool {
        self.models
            .iter()
            .any(|m| m.name == model || m.aliases.iter().any(|a| a == model))
            || self.accepts_prefixes.iter().any(|p| match *p {
                "/" => model.contains('/'),
                prefix => model.starts_with(prefix),
            })
    }

    async fn complete(&self, request: &CompletionRequest) -> Result<Completion, ProviderError> {
        // Serialized straight from the request: no copy of the conversation on the way.
        let body = ChatBody {
            model: &request.model,
            messages: &request.messages,
            temperature: request.temperature,
        };
        let mut http = self.client.post(&self.completions_url).json(&body);
        if let Some(key) = &self.api_key {
            http = http.bearer_auth(key);
        }
        let response = http.send().await.map_err(|e| ProviderError::Connect {
            provider: self.name,
            // reqwest errors carry the URL, never headers; scrub anyway.
            message: self.scrub(&format!("{e:#}")),
        })?;
        let status = response.status();
        let retry = retry_after(response.headers());
        let text = response.text().await.map_err(|e| ProviderError::Connect {
            provider: self.name,
            message: self.scrub(&format!("reading the reply failed: {e}")),
        })?;
        if !status.is_success() {
            return Err(ProviderError::Status {
                provider: self.name,
                status: status.as_u16(),
                message: self.error_message(&text),
                retry_after: retry,
            });
        }
        let value: Value = serde_json::from_str(&text).map_err(|e| ProviderError::BadReply {
            provider: self.name,
            message: format!("not JSON ({e})"),
        })?;
        let content = value
            .pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::BadReply {
                provider: self.name,
                message: "no choices[0].message.content in the reply".to_string(),
            })?;
        Ok(Completion {
            text: content.to_string(),
        })
    }
}
