//! Model providers behind one trait: the built-in simulated provider and OpenAI-compatible
//! chat completions (OpenAI, OpenRouter, Gemini's compatible endpoint, custom/local servers).
//! `registry` routes a model name to its provider; `resilience` adds retries and breakers.
use std::time::Duration;

use async_trait::async_trait;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize};

pub(crate) mod capabilities;
pub mod openai_compat;
pub(crate) mod registry;
pub(crate) mod reply;
pub(crate) mod resilience;
pub(crate) mod retry;
pub(crate) mod simulated;
pub mod thinking;

pub use registry::{Registry, Route};
pub use thinking::ThinkingMode;

/// One message of the conversation sent to a model.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// What was said.
    pub content: String,
    /// Images sent with it, as data URLs (`data:image/png;base64,…`): the wire form becomes a
    /// list of parts, the text first (OpenAI's vision shape, which the compatible APIs share).
    #[serde(default)]
    pub images: Vec<String>,
}

impl Message {
    /// A message from `role`: `system`, `user` or `assistant`.
    pub fn new(role: &str, content: impl Into<String>) -> Self {
        Message {
            role: role.to_string(),
            content: content.into(),
            images: Vec::new(),
        }
    }
}

impl Serialize for Message {
    /// `{role, content}` with `content` a string, or a list of parts when images go along.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// One image part: `{"type": "image_url", "image_url": {"url": …}}`.
        struct ImagePart<'a>(&'a str);
        impl Serialize for ImagePart<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(2))?;
                map.serialize_entry("type", "image_url")?;
                map.serialize_entry("image_url", &serde_json::json!({ "url": self.0 }))?;
                map.end()
            }
        }
        /// The text part, then one part per image.
        struct Parts<'a>(&'a Message);
        impl Serialize for Parts<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeSeq;
                let mut seq = s.serialize_seq(Some(1 + self.0.images.len()))?;
                seq.serialize_element(
                    &serde_json::json!({"type": "text", "text": self.0.content}),
                )?;
                for url in &self.0.images {
                    seq.serialize_element(&ImagePart(url))?;
                }
                seq.end()
            }
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("role", &self.role)?;
        if self.images.is_empty() {
            map.serialize_entry("content", &self.content)?;
        } else {
            map.serialize_entry("content", &Parts(self))?;
        }
        map.end()
    }
}

/// A chat completion request, provider-neutral.
#[derive(Debug, Clone, Default)]
pub struct CompletionRequest {
    /// The provider's own model name (the routing prefix removed).
    pub model: String,
    /// The rebuilt conversation, oldest first, ending with the new user message.
    pub messages: Vec<Message>,
    /// Sampling temperature, 0..1.
    pub temperature: Option<f64>,
    /// How hard the model should think, sent as the provider's reasoning setting where it has
    /// one (see [`thinking`]); ignored where it has none.
    pub thinking_mode: Option<ThinkingMode>,
}

/// A model's reply.
#[derive(Debug, Clone)]
pub struct Completion {
    /// The reply text.
    pub text: String,
    /// Tokens the provider says the request used; none when it did not say.
    pub usage: Option<Usage>,
}

/// Token counts of one completion, as OpenAI-compatible APIs report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// `usage.prompt_tokens`: the conversation sent.
    pub prompt_tokens: u64,
    /// `usage.completion_tokens`: the reply.
    pub completion_tokens: u64,
}

/// What a model offers, for `listmodels` and routing.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    /// The name a caller passes as `model`.
    pub name: String,
    /// Context window in tokens.
    pub context_window: u64,
    /// Longest reply in tokens.
    pub max_output_tokens: u64,
    /// Other names that route here.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

/// Why a provider call failed. Messages name the provider and never contain an API key.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    /// The provider answered with an HTTP error status.
    #[error("provider {provider} returned HTTP {status}: {message}")]
    Status {
        /// The provider called.
        provider: &'static str,
        /// The HTTP status code.
        status: u16,
        /// The provider's own error message, cut short, with any API key scrubbed.
        message: String,
        /// The provider's Retry-After, when it sent one.
        retry_after: Option<Duration>,
    },
    /// One attempt got no answer within the provider's request timeout.
    #[error("provider {provider} did not answer within {}", humantime::format_duration(*.after))]
    Timeout {
        /// The provider called.
        provider: &'static str,
        /// The per-attempt timeout that ran out.
        after: Duration,
    },
    /// The provider could not be reached, or the connection broke while its reply was read.
    #[error("provider {provider} could not be reached: {message}")]
    Connect {
        /// The provider called.
        provider: &'static str,
        /// What failed, with any API key scrubbed.
        message: String,
    },
    /// The provider's reply could not be read: not JSON, no content, or over ZEN_MAX_REPLY_BYTES.
    #[error("provider {provider} sent a reply zen could not read: {message}")]
    BadReply {
        /// The provider called.
        provider: &'static str,
        /// What was wrong with the reply.
        message: String,
    },
    /// The provider's circuit breaker is open: the call failed fast without reaching it.
    #[error(
        "provider {provider} is failing: its circuit breaker is open for another {}s after {failures} failures in a row (the last: {last_error}); retry later",
        .retry_in.as_secs().max(1)
    )]
    CircuitOpen {
        /// The provider whose breaker refused the call.
        provider: &'static str,
        /// Failures in a row that opened the breaker.
        failures: u32,
        /// Time left until the breaker lets a trial call through (zero while the trial is out).
        retry_in: Duration,
        /// The error that opened the breaker, one line, cut short.
        last_error: String,
    },
    /// The provider asked to wait longer than ZEN_MAX_RETRY_WAIT: failing now frees the
    /// provider permit instead of holding it asleep.
    #[error(
        "rate limited by {provider}: it asks to retry after {} (more than ZEN_MAX_RETRY_WAIT={}); try again later",
        zen_model::units::seconds(*.asked),
        humantime::format_duration(*.max_wait)
    )]
    RetryTooLong {
        /// Who asked.
        provider: &'static str,
        /// The wait its Retry-After asked for (saturated when absurd, e.g. `1e30`).
        asked: Duration,
        /// ZEN_MAX_RETRY_WAIT.
        max_wait: Duration,
    },
    /// The whole call (every attempt and wait) ran past ZEN_CALL_TIMEOUT: it ends so its
    /// provider permit is freed.
    #[error(
        "provider {provider} did not finish within ZEN_CALL_TIMEOUT={} ({attempts} attempts{}); \
         raise ZEN_CALL_TIMEOUT for slower models",
        humantime::format_duration(*.limit),
        .last_error.as_ref().map(|e| format!(", the last: {e}")).unwrap_or_default()
    )]
    CallTimeout {
        /// The provider called.
        provider: &'static str,
        /// ZEN_CALL_TIMEOUT.
        limit: Duration,
        /// Attempts started before the deadline.
        attempts: u32,
        /// The last attempt's error, when one had failed.
        last_error: Option<String>,
    },
}

impl ProviderError {
    /// Worth another attempt: rate limits, server errors, timeouts and connection failures.
    pub fn is_retryable(&self) -> bool {
        match self {
            ProviderError::Status { status, .. } => *status == 429 || *status >= 500,
            ProviderError::Timeout { .. } | ProviderError::Connect { .. } => true,
            ProviderError::BadReply { .. }
            | ProviderError::CircuitOpen { .. }
            | ProviderError::RetryTooLong { .. }
            | ProviderError::CallTimeout { .. } => false,
        }
    }

    /// Counts against the provider's health (a 4xx other than 429 is the caller's fault).
    pub fn is_provider_fault(&self) -> bool {
        self.is_retryable() || matches!(self, ProviderError::BadReply { .. })
    }

    /// A low-cardinality name of the failure (OpenTelemetry's error.type).
    pub fn kind_name(&self) -> &'static str {
        match self {
            ProviderError::Status { .. } => "http_status",
            ProviderError::Timeout { .. } => "timeout",
            ProviderError::Connect { .. } => "connect",
            ProviderError::BadReply { .. } => "bad_reply",
            ProviderError::CircuitOpen { .. } => "circuit_open",
            ProviderError::RetryTooLong { .. } => "retry_too_long",
            ProviderError::CallTimeout { .. } => "call_timeout",
        }
    }

    /// How long the provider asked us to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A timeout: one attempt's (ZEN_REQUEST_TIMEOUT) or the whole call's (ZEN_CALL_TIMEOUT).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            ProviderError::Timeout { .. } | ProviderError::CallTimeout { .. }
        )
    }
}

/// A model provider.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// Short name: `simulated`, `openai`, `openrouter`, `gemini`, `custom`.
    fn name(&self) -> &'static str;
    /// Models offered, for `listmodels` and routing.
    fn models(&self) -> &[ModelInfo];
    /// True if any model name routes here (beyond the listed ones, e.g. `gpt-*`).
    fn accepts(&self, model: &str) -> bool {
        self.models()
            .iter()
            .any(|m| m.name == model || m.aliases.iter().any(|a| a == model))
    }
    /// The canonical name for a model or alias.
    fn canonical(&self, model: &str) -> String {
        self.models()
            .iter()
            .find(|m| m.aliases.iter().any(|a| a == model))
            .map_or_else(|| model.to_string(), |m| m.name.clone())
    }
    /// The largest image `model` takes, in bytes; `None` when it takes no images, so a call
    /// with images is refused before anything is sent.
    fn image_limit(&self, model: &str) -> Option<u64> {
        capabilities::image_limit(self.name(), model)
    }
    /// The provider's reasoning setting `thinking_mode` becomes for `model` (for notes); `None`
    /// when it has none and the mode is ignored.
    fn reasoning_setting(&self, model: &str) -> Option<&'static str> {
        thinking::setting_name(self.name(), model)
    }
    /// One attempt at a completion. Dropping the future aborts the request.
    async fn complete(&self, request: &CompletionRequest) -> Result<Completion, ProviderError>;
}
