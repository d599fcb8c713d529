//! The wire shape of a chat completions call: the request body, serialized straight from the
//! request (no copy of the conversation), with images as image parts and the reasoning setting
//! in the form the model takes; and the token usage read back from a reply.
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq};
use serde_json::Value;

use super::super::{Message, Usage};

/// The chat completions request body.
#[derive(Serialize)]
pub(super) struct ChatBody<'a> {
    pub(super) model: &'a str,
    pub(super) messages: WireMessages<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) temperature: Option<f64>,
    /// OpenAI's, Gemini's, X.AI's and most servers' reasoning setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) reasoning_effort: Option<&'static str>,
    /// OpenRouter's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) reasoning: Option<Effort>,
}

/// OpenRouter's `reasoning` object.
#[derive(Serialize)]
pub(super) struct Effort {
    pub(super) effort: &'static str,
}

/// The conversation in the wire shape, serialized straight from the request (no copy).
pub(super) struct WireMessages<'a>(pub(super) &'a [Message]);

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

/// `usage.prompt_tokens` and `usage.completion_tokens` of a reply; none when either is missing
/// (some compatible servers send no usage).
pub(super) fn usage(reply: &Value) -> Option<Usage> {
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
