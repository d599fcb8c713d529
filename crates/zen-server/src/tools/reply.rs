//! Replies that people and programs can both read: the prose goes in the text content, and
//! `structuredContent` carries zen-mcp-server's fields (`status`, `content`, `content_type`,
//! `continuation_offer: {continuation_id, remaining_turns, note}`, `metadata`) beside zen's own.
//! Each tool declares an `outputSchema` built here, so clients that validate replies (the Python
//! SDK does) can rely on those fields.
use rmcp::model::JsonObject;
use serde_json::{Map, Value, json};

use super::ToolReply;

/// What every structured reply has: `status` and `content`, as zen-mcp-server's ToolOutput.
pub(crate) fn structured(status: &str, content: &str, extra: Value) -> Value {
    let mut value = json!({
        "status": status,
        "content": content,
        "content_type": "text",
    });
    if let (Some(all), Value::Object(extra)) = (value.as_object_mut(), extra) {
        all.extend(extra);
    }
    value
}

impl ToolReply {
    /// A reply whose prose is `text` (body and any footer) and whose structured form has
    /// `status`, `body` as `content`, and `extra`'s fields.
    pub(crate) fn shaped(status: &str, body: &str, text: String, extra: Value) -> Self {
        ToolReply {
            structured: Some(structured(status, body, extra)),
            text,
        }
    }
}

/// The schema of `continuation_offer`: null when the conversation cannot go on.
fn offer_schema() -> Value {
    json!({
        "type": ["object", "null"],
        "properties": {
            "continuation_id": {"type": "string"},
            "remaining_turns": {"type": "integer"},
            "note": {"type": "string"},
        },
        "required": ["continuation_id", "remaining_turns", "note"],
    })
}

/// The output schema of a tool that keeps no thread: `status`, `content` and `properties`
/// (short: tools/list carries every schema to the client's model).
pub(crate) fn output_schema(properties: Value) -> JsonObject {
    let mut all = Map::new();
    all.insert("status".into(), json!({"type": "string"}));
    all.insert("content".into(), json!({"type": "string"}));
    if let Value::Object(own) = properties {
        all.extend(own);
    }
    let schema = json!({
        "type": "object",
        "properties": all,
        "required": ["status", "content"],
    });
    match schema {
        Value::Object(map) => map,
        _ => unreachable!("built as an object"),
    }
}

/// The output schema of a tool that asks a model and keeps a thread: the continuation fields
/// besides `properties`.
pub(crate) fn thread_output_schema(properties: Value) -> JsonObject {
    let mut all = json!({
        "continuation_offer": offer_schema(),
        "continuation_id": {"type": ["string", "null"]},
    });
    if let (Some(all), Value::Object(own)) = (all.as_object_mut(), properties) {
        all.extend(own);
    }
    output_schema(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_structured_reply_has_the_python_fields_and_fits_its_schema() {
        let value = structured("success", "hello", json!({"model": "m"}));
        assert_eq!(value["status"], "success");
        assert_eq!(value["content"], "hello");
        assert_eq!(value["content_type"], "text");
        assert_eq!(value["model"], "m");
        let schema = Value::Object(thread_output_schema(json!({"model": {"type": "string"}})));
        let validator = jsonschema::validator_for(&schema).unwrap();
        assert!(validator.is_valid(&value));
        let mut offered = value.clone();
        offered["continuation_offer"] =
            json!({"continuation_id": "x", "remaining_turns": 4, "note": "n"});
        assert!(validator.is_valid(&offered));
        offered["continuation_offer"] = json!({"continuation_id": "x"});
        assert!(!validator.is_valid(&offered));
        assert!(!validator.is_valid(&json!({"content": "no status"})));
    }
}
