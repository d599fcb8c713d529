//! OpenAI-compatible chat completions over reqwest: OpenAI, OpenRouter, Gemini (through
//! Google's OpenAI-compatible endpoint), X.AI, custom servers such as Ollama, vLLM or LM Studio,
//! and the deployment-shaped endpoints of Azure OpenAI and DIAL. Each request is shaped by the
//! model's capabilities: no temperature for a model that takes none, its reasoning setting for
//! `thinking_mode`, images as image parts.
use std::time::Duration;

use async_trait::async_trait;
use reqwest::Url;
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq};
use serde_json::Value;

use super::reply::{self, ReadError};
use super::{
    Completion, CompletionRequest, Message, ModelInfo, Provider, ProviderError, Reasoning, Usage,
};

/// The most of an error reply read: its message is quoted cut to 300 characters anyway.
const ERROR_BODY_BYTES: u64 = 64 * 1024;

/// The chat completions request body.
#[derive(Serialize)]
struct ChatBody<'a> {
    model: &'a str,
    messages: WireMessages<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    /// OpenAI's, Gemini's, X.AI's and most servers' reasoning setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_effort: Option<&'static str>,
    /// OpenRouter's.
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning: Option<Effort>,
}

/// OpenRouter's `reasoning` object.
#[derive(Serialize)]
struct Effort {
    effort: &'static str,
}

/// The conversation in the wire shape, serialized straight from the request (no copy).
struct WireMessages<'a>(&'a [Message]);

/// A message's content with images: a text part, then one image part per image.
struct Parts<'a>(&'a Message);

impl Serialize for WireMessages<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for message in self.0 {
            seq.serialize_element(&WireMessage(message))?;
        }
        seq.end()
    }
}

/// One message: `content` is a string, or a list of parts when it carries images.
struct WireMessage<'a>(&'a Message);

impl Serialize for WireMessage<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("role", &self.0.role)?;
        if self.0.images.is_empty() {
            map.serialize_entry("content", &self.0.content)?;
        } else {
            map.serialize_entry("content", &Parts(self.0))?;
        }
        map.end()
    }
}

impl Serialize for Parts<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(1 + self.0.images.len()))?;
        seq.serialize_element(&serde_json::json!({"type": "text", "text": self.0.content}))?;
        for url in &self.0.images {
            seq.serialize_element(
                &serde_json::json!({"type": "image_url", "image_url": {"url": url}}),
            )?;
        }
        seq.end()
    }
}

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

    /// Remove the API key from any text that might echo it back (error bodies, URLs).
    fn scrub(&self, text: &str) -> String {
        match &self.api_key {
            Some(key) => scrub_key(text, key),
            None => text.to_string(),
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

    /// A request that never got an answer: the endpoint's URL and the variable that sets it
    /// first (the usual fix is there), then the cause chain (reqwest's own text repeats the URL).
    fn connect_error(&self, error: &reqwest::Error) -> ProviderError {
        let mut causes = Vec::new();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            causes.push(cause.to_string());
            source = cause.source();
        }
        let cause = if causes.is_empty() {
            error.to_string()
        } else {
            causes.join(": ")
        };
        let what = if error.is_timeout() {
            "no connection within the connect timeout to"
        } else if error.is_connect() {
            "cannot connect to"
        } else {
            "the request failed at"
        };
        ProviderError::Connect {
            provider: self.name,
            // reqwest errors carry the URL, never headers; scrub anyway.
            message: self.scrub(&format!(
                "{what} {} ({}): {cause}",
                self.base_url,
                url_var(self.name)
            )),
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

/// The variable that sets a provider's base URL (its default when unset), named when the
/// provider cannot be reached.
fn url_var(provider: &str) -> &'static str {
    match provider {
        "openai" => "OPENAI_BASE_URL",
        "gemini" => "GEMINI_BASE_URL",
        "azure" => "AZURE_OPENAI_ENDPOINT",
        "xai" => "XAI_BASE_URL",
        "dial" => "DIAL_API_HOST",
        "openrouter" => "OPENROUTER_BASE_URL",
        _ => "CUSTOM_API_URL",
    }
}

/// The shortest piece of a key hidden when it is echoed cut short (a random key shares no run
/// this long with ordinary text).
const MIN_ECHO: usize = 10;

/// `text` with `key` hidden: whole, percent-encoded, or any piece of it of [`MIN_ECHO`]
/// characters or more (a provider that echoes the key cut short, or URL-encoded).
/// Quadratic in the lengths, for error messages of at most a few hundred characters.
fn scrub_key(text: &str, key: &str) -> String {
    let encoded = |upper: bool| -> String {
        key.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    char::from(b).to_string()
                } else if upper {
                    format!("%{b:02X}")
                } else {
                    format!("%{b:02x}")
                }
            })
            .collect()
    };
    let mut text = text.to_string();
    for form in [key.to_string(), encoded(true), encoded(false)] {
        text = hide_pieces(&text, form.as_bytes());
    }
    text
}

/// Replace every run of at least [`MIN_ECHO`] bytes of `text` that occurs in `secret`.
fn hide_pieces(text: &str, secret: &[u8]) -> String {
    let t = text.as_bytes();
    if secret.len() < MIN_ECHO {
        return text.to_string();
    }
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        let longest = (0..secret.len())
            .map(|j| {
                t[i..]
                    .iter()
                    .zip(&secret[j..])
                    .take_while(|(a, b)| a == b)
                    .count()
            })
            .max()
            .unwrap_or(0);
        if longest >= MIN_ECHO {
            out.extend_from_slice(b"[redacted]");
            i += longest;
        } else {
            out.push(t[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests;
