//! OpenAI-compatible chat completions over reqwest: OpenAI, OpenRouter, Gemini (through
//! Google's OpenAI-compatible endpoint), X.AI, custom servers such as Ollama, vLLM or LM Studio,
//! and the deployment-shaped endpoints of Azure OpenAI and DIAL. Each request is shaped by the
//! model's capabilities: no temperature for a model that takes none, its reasoning setting for
//! `thinking_mode`, images as image parts.
//!
//! Files by concern: the request body and the reply's usage (`wire`), the errors a user reads
//! (`errors`), keeping the key out of them (`redact`).
mod errors;
mod redact;
mod wire;

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Url;
use serde_json::Value;

use super::reply;
use super::{Completion, CompletionRequest, ModelInfo, Provider, ProviderError, Reasoning};
use wire::{ChatBody, Effort, WireMessages};

/// How the API key travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer KEY` (OpenAI and most compatible servers).
    Bearer,
    /// `api-key: KEY` (Azure OpenAI and DIAL).
    ApiKeyHeader,
}

/// Where a request goes.
#[derive(Debug, Clone)]
enum Target {
    /// Every model at `{base}/chat/completions`.
    Completions(String),
    /// Each model at `{base}/openai/deployments/{deployment}/chat/completions?api-version=V`
    /// (Azure OpenAI, DIAL).
    Deployments {
        /// The endpoint, parsed once at start.
        base: Url,
        /// `api-version`.
        api_version: String,
    },
}

/// Where and how one OpenAI-compatible endpoint is called, and what it serves.
pub struct Endpoint {
    /// `openai`, `openrouter`, `gemini`, `xai`, `azure`, `dial` or `custom`.
    pub name: &'static str,
    /// The base URL: `/chat/completions` is appended, or the deployment path when
    /// `deployments_api_version` is set.
    pub base_url: String,
    /// The API key, when the endpoint wants one.
    pub api_key: Option<String>,
    /// How the key is sent.
    pub auth: Auth,
    /// Some(api-version): Azure-style deployment URLs; None: one completions URL.
    pub deployments_api_version: Option<String>,
    /// Known models (routing also accepts `accepts_prefixes`).
    pub models: Vec<ModelInfo>,
    /// Model name prefixes that belong to this provider (`gpt-`, `gemini-`); `/` means any
    /// `vendor/model` name (OpenRouter).
    pub accepts_prefixes: Vec<&'static str>,
    /// Connect timeout of its connection pool.
    pub connect_timeout: Duration,
    /// ZEN_MAX_REPLY_BYTES.
    pub max_reply_bytes: u64,
}

/// One OpenAI-compatible endpoint.
pub struct OpenAiCompatible {
    /// `openai`, `openrouter`, `gemini`, `xai`, `azure`, `dial` or `custom`.
    name: &'static str,
    /// Where requests go, built once.
    target: Target,
    /// Sent as `auth` says when present.
    api_key: Option<String>,
    /// How the key is sent.
    auth: Auth,
    /// Known models (routing also accepts `accepts_prefixes`).
    models: Vec<ModelInfo>,
    /// Model name prefixes that belong to this provider (`gpt-`, `gemini-`); `/` means any
    /// `vendor/model` name (OpenRouter).
    accepts_prefixes: Vec<&'static str>,
    /// The base URL as configured, and the variable that sets it, named when the endpoint
    /// cannot be reached so the user knows which setting to fix.
    base_url: String,
    /// Shared connection pool; its connect timeout is the provider's.
    client: reqwest::Client,
    /// ZEN_MAX_REPLY_BYTES: a longer reply fails the call and is not read further.
    max_reply_bytes: u64,
}

impl OpenAiCompatible {
    /// The provider an [`Endpoint`] describes; a base URL that is not a URL is refused here, at
    /// start, naming the provider.
    pub fn new(endpoint: Endpoint) -> anyhow::Result<Self> {
        zen_os::tls::use_ring();
        let client = reqwest::Client::builder()
            .connect_timeout(endpoint.connect_timeout)
            .user_agent(concat!("zen/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let base = endpoint.base_url.trim_end_matches('/');
        let target = match endpoint.deployments_api_version {
            None => Target::Completions(format!("{base}/chat/completions")),
            Some(api_version) => Target::Deployments {
                base: Url::parse(base).map_err(|e| {
                    anyhow::anyhow!("{}: '{base}' is not a URL ({e})", endpoint.name)
                })?,
                api_version,
            },
        };
        Ok(OpenAiCompatible {
            name: endpoint.name,
            base_url: base.to_string(),
            target,
            api_key: endpoint.api_key.filter(|k| !k.is_empty()),
            auth: endpoint.auth,
            models: endpoint.models,
            accepts_prefixes: endpoint.accepts_prefixes,
            client,
            max_reply_bytes: endpoint.max_reply_bytes,
        })
    }

    /// A model's deployment URL: `{base}/openai/deployments/{deployment}/chat/completions`
    /// with its `api-version`; the deployment is the record's, or the model's own name.
    fn deployment_url(&self, base: &Url, api_version: &str, model: &str) -> Url {
        let deployment = (self.find(model).and_then(|m| m.deployment.as_deref())).unwrap_or(model);
        let mut url = base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend([
                "openai",
                "deployments",
                deployment,
                "chat",
                "completions",
            ]);
        }
        url.query_pairs_mut()
            .append_pair("api-version", api_version);
        url
    }
}

#[async_trait]
impl Provider for OpenAiCompatible {
    fn works_on_when_abandoned(&self) -> bool {
        true
    }
    fn name(&self) -> &'static str {
        self.name
    }

    fn models(&self) -> &[ModelInfo] {
        &self.models
    }

    fn accepts(&self, model: &str) -> bool {
        self.find(model).is_some()
            || self.accepts_prefixes.iter().any(|p| match *p {
                "/" => model.contains('/'),
                prefix => model.starts_with(prefix),
            })
    }

    async fn complete(&self, request: &CompletionRequest) -> Result<Completion, ProviderError> {
        let capabilities = self.capabilities(&request.model);
        let effort = capabilities.effort_for(request.thinking);
        // Serialized straight from the request: no copy of the conversation on the way.
        let body = ChatBody {
            model: &request.model,
            messages: WireMessages(&request.messages),
            temperature: capabilities.temperature_for(request.temperature),
            reasoning_effort: effort
                .filter(|(style, _)| *style != Reasoning::OpenRouter)
                .map(|(_, word)| word),
            reasoning: effort
                .filter(|(style, _)| *style == Reasoning::OpenRouter)
                .map(|(_, effort)| Effort { effort }),
        };
        let mut http = match &self.target {
            Target::Completions(url) => self.client.post(url),
            Target::Deployments { base, api_version } => {
                (self.client).post(self.deployment_url(base, api_version, &request.model))
            }
        }
        .json(&body);
        match (&self.api_key, self.auth) {
            (Some(key), Auth::Bearer) => http = http.bearer_auth(key),
            (Some(key), Auth::ApiKeyHeader) => http = http.header("api-key", key),
            (None, _) => {}
        }
        let response = http.send().await.map_err(|e| self.connect_error(&e))?;
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
            usage: wire::usage(&value),
        })
    }
}
