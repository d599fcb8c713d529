//! Model providers behind one trait: the built-in simulated provider and OpenAI-compatible
//! chat completions (OpenAI, Gemini's compatible endpoint, Azure OpenAI, X.AI, DIAL, custom/local
//! servers, OpenRouter). `setup` builds them from the settings with their models (`catalog`:
//! zen-mcp-server's model files), `registry` routes a model name to its provider (`allowed`: the
//! `*_ALLOWED_MODELS` lists), `capabilities` says what a model takes, and `resilience` and
//! `retry` add the breakers and retries.
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub(crate) mod allowed;
pub mod capabilities;
pub(crate) mod catalog;
pub mod openai_compat;
pub(crate) mod registry;
pub(crate) mod reply;
pub(crate) mod resilience;
pub(crate) mod retry;
pub(crate) mod setup;
pub(crate) mod simulated;

pub use capabilities::{Capabilities, Reasoning, TemperatureRule, ThinkingMode};
pub use registry::{Registry, Route};

/// One message of the conversation sent to a model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// What was said.
    pub content: String,
    /// Images shown with it, as URLs (`data:image/png;base64,…` or `https://…`), sent as image
    /// parts after the text. Only for models whose capabilities say they take images.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
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

    /// The same message with these images (URLs or `data:` URLs) shown after its text.
    pub fn with_images(mut self, images: Vec<String>) -> Self {
        self.images = images;
        self
    }
}

/// A chat completion request, provider-neutral.
#[derive(Debug, Clone, Default)]
pub struct CompletionRequest {
    /// The provider's own model name (the routing prefix removed).
    pub model: String,
    /// The rebuilt conversation, oldest first, ending with the new user message.
    pub messages: Vec<Message>,
    /// Sampling temperature, 0..1; left out or corrected for models whose capabilities say so.
    pub temperature: Option<f64>,
    /// `thinking_mode`: sent as the model's reasoning setting when it has one, else ignored.
    pub thinking: Option<ThinkingMode>,
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

/// What a model offers, for `listmodels` and routing: its names, and what it can take.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    /// The name a caller passes as `model` (and the name sent to the provider).
    pub name: String,
    /// Other names that route here (matched without regard to case, like the name).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// What the model is, from its record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Images, temperature, reasoning and token limits.
    #[serde(flatten)]
    pub capabilities: Capabilities,
    /// The Azure deployment this model is called through, when it is not the model's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
}

impl ModelInfo {
    /// A model called `name` with these capabilities, no aliases.
    pub fn new(name: impl Into<String>, capabilities: Capabilities) -> Self {
        ModelInfo {
            name: name.into(),
            aliases: Vec::new(),
            description: None,
            capabilities,
            deployment: None,
        }
    }

    /// The same model, also called by these names.
    pub fn with_aliases(mut self, aliases: &[&str]) -> Self {
        self.aliases = aliases.iter().map(|a| (*a).to_string()).collect();
        self
    }

    /// True when `name` is this model's name or one of its aliases, in any case.
    pub fn answers_to(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
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
    /// Short name: `simulated`, `openai`, `openrouter`, `gemini`, `azure`, `xai`, `dial`, `custom`.
    fn name(&self) -> &'static str;
    /// Models offered, for `listmodels` and routing.
    fn models(&self) -> &[ModelInfo];
    /// The record of a listed model, by its name or an alias, in any case.
    fn find(&self, model: &str) -> Option<&ModelInfo> {
        self.models().iter().find(|m| m.answers_to(model))
    }
    /// True if any model name routes here (beyond the listed ones, e.g. `gpt-*`).
    fn accepts(&self, model: &str) -> bool {
        self.find(model).is_some()
    }
    /// The canonical name for a model or alias.
    fn canonical(&self, model: &str) -> String {
        self.find(model)
            .map_or_else(|| model.to_string(), |m| m.name.clone())
    }
    /// Whether the provider keeps working on a request zen stopped waiting for: a remote API
    /// does (until it notices the closed connection), so an abandoned attempt keeps its permit
    /// until it ends (see `retry`); an in-process provider stops when its future is dropped.
    fn works_on_when_abandoned(&self) -> bool {
        false
    }
    /// What a model can take: its record's capabilities, or [`Capabilities::GENERIC`] for a
    /// model no record describes.
    fn capabilities(&self, model: &str) -> Capabilities {
        self.find(model)
            .map_or(Capabilities::GENERIC, |m| m.capabilities)
    }
    /// One attempt at a completion. Dropping the future aborts the request.
    async fn complete(&self, request: &CompletionRequest) -> Result<Completion, ProviderError>;
}
