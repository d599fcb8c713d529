//! What the user reads when a provider call fails: the status and the start of the provider's
//! own message, or, when no answer came, the endpoint's URL and the variable that sets it; every
//! text scrubbed of the API key first.
use serde_json::Value;

use super::super::ProviderError;
use super::super::reply::{self, ReadError};
use super::OpenAiCompatible;
use super::redact::scrub_key;

/// The most of an error reply read: its message is quoted cut to 300 characters anyway.
const ERROR_BODY_BYTES: u64 = 64 * 1024;

impl OpenAiCompatible {
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
    pub(super) async fn status_error(&self, response: reqwest::Response) -> ProviderError {
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
    pub(super) fn connect_error(&self, error: &reqwest::Error) -> ProviderError {
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

    pub(super) fn read_error(&self, error: ReadError) -> ProviderError {
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
