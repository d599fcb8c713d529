//! OpenAI-compatible chat completions over reqwest: OpenAI, OpenRouter, Gemini (through
//! Google's OpenAI-compatible endpoint) and custom servers such as Ollama, vLLM or LM Studio.
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;

use super::reply::{self, ReadError};
use super::{Completion, CompletionRequest, Message, ModelInfo, Provider, ProviderError, Usage};

/// The most of an error reply read: its message is quoted cut to 300 characters anyway.
const ERROR_BODY_BYTES: u64 = 64 * 1024;

/// The chat completions request body.
#[derive(Serialize)]
struct ChatBody<'a> {
    model: &'a str,
    messages: &'a [Message],
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    /// `thinking_mode` as OpenAI's and Gemini's `reasoning_effort` (thinking.rs).
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_effort: Option<Value>,
    /// `thinking_mode` as OpenRouter's `reasoning: {effort}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning: Option<Value>,
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
    /// ZEN_MAX_REPLY_BYTES: a longer reply fails the call and is not read further.
    max_reply_bytes: u64,
}

impl OpenAiCompatible {
    /// A provider at `base_url` (it posts to `/chat/completions` there): its models, the name
    /// prefixes it accepts, its connect timeout and ZEN_MAX_REPLY_BYTES.
    pub fn new(
        name: &'static str,
        base_url: &str,
        api_key: Option<String>,
        models: Vec<ModelInfo>,
        accepts_prefixes: Vec<&'static str>,
        connect_timeout: Duration,
        max_reply_bytes: u64,
    ) -> anyhow::Result<Self> {
        zen_os::tls::use_ring();
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
            max_reply_bytes,
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

    /// The error for a non-success reply, quoting the start of its body.
    async fn status_error(&self, response: reqwest::Response) -> ProviderError {
        let status = response.status().as_u16();
        let retry_after = reply::retry_after(response.headers());
        let cap = ERROR_BODY_BYTES.min(self.max_reply_bytes);
        let message = match reply::read_prefix(response, cap).await {
            Ok(body) => self.error_message(&String::from_utf8_lossy(&body)),
            Err(e) => self.scrub(&format!("(reading the error reply failed: {e})")),
        };
        ProviderError::Status {
            provider: self.name,
            status,
            message,
            retry_after,
        }
    }

    fn read_error(&self, error: ReadError) -> ProviderError {
        match error {
            ReadError::TooLarge => ProviderError::BadReply {
                provider: self.name,
                message: format!(
                    "it is larger than ZEN_MAX_REPLY_BYTES={} ({}); zen stopped reading it and \
                     dropped the connection (raise ZEN_MAX_REPLY_BYTES if replies this big are expected)",
                    self.max_reply_bytes,
                    zen_model::units::bytes(self.max_reply_bytes)
                ),
            },
            ReadError::Broken(e) => ProviderError::Connect {
                provider: self.name,
                message: self.scrub(&format!("reading the reply failed: {e}")),
            },
        }
    }
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
        let mut body = ChatBody {
            model: &request.model,
            messages: &request.messages,
            temperature: request.temperature,
            reasoning_effort: None,
            reasoning: None,
        };
        match super::thinking::body_fields(self.name, &request.model, request.thinking_mode) {
            Some(("reasoning", value)) => body.reasoning = Some(value),
            Some((_, value)) => body.reasoning_effort = Some(value),
            None => {}
        }
        let mut http = self.client.post(&self.completions_url).json(&body);
        if let Some(key) = &self.api_key {
            http = http.bearer_auth(key);
        }
        let response = http.send().await.map_err(|e| ProviderError::Connect {
            provider: self.name,
            // reqwest errors carry the URL, never headers; scrub anyway.
            message: self.scrub(&format!("{e:#}")),
        })?;
        if !response.status().is_success() {
            return Err(self.status_error(response).await);
        }
        let body = reply::read_capped(response, self.max_reply_bytes)
            .await
            .map_err(|e| self.read_error(e))?;
        let value: Value = serde_json::from_slice(&body).map_err(|e| ProviderError::BadReply {
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
            usage: usage(&value),
        })
    }
}

/// `usage.prompt_tokens` and `usage.completion_tokens` of a reply; none when either is missing
/// (some compatible servers send no usage).
fn usage(reply: &Value) -> Option<Usage> {
    let count = |field: &str| {
        reply
            .pointer(&format!("/usage/{field}"))
            .and_then(Value::as_u64)
    };
    Some(Usage {
        prompt_tokens: count("prompt_tokens")?,
        completion_tokens: count("completion_tokens")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_is_read_when_both_counts_are_there() {
        let reply = serde_json::json!({"usage": {"prompt_tokens": 12, "completion_tokens": 5}});
        assert_eq!(
            usage(&reply),
            Some(Usage {
                prompt_tokens: 12,
                completion_tokens: 5
            })
        );
        assert_eq!(
            usage(&serde_json::json!({"usage": {"prompt_tokens": 1}})),
            None
        );
        assert_eq!(usage(&serde_json::json!({})), None);
    }
}
