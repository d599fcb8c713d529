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
        "description": "Present while the conversation can go on: pass continuation_id to any \
                        tool that takes one. null at the last turn (MAX_CONVERSATION_TURNS).",
        "properties": {
            "continuation_id": {"type": "string"},
            "remaining_turns": {"type": "integer", "minimum": 0},
            "note": {"type": "string"},
        },
        "required": ["continuation_id", "remaining_turns", "note"],
    })
}

/// The output schema of a tool that keeps no thread: `status`, `content` and `properties`.
pub(crate) fn output_schema(properties: Value) -> JsonObject {
    let mut all = Map::new();
    all.insert("status".into(), json!({"type": "string"}));
    all.insert(
        "content".into(),
        json!({"type": "string", "description": "The reply for people (the text content)."}),
    );
    all.insert(
        "content_type".into(),
        json!({"type": "string", "enum": ["text", "markdown", "json"]}),
    );
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
/// and the model's name besides `properties`.
pub(crate) fn thread_output_schema(properties: Value) -> JsonObject {
    let mut all = json!({
        "continuation_offer": offer_schema(),
        "continuation_id": {
            "type": ["string", "null"],
            "description": "The thread to continue; null when there is nothing to continue.",
        },
        "thread_id": {"type": ["string", "null"], "description": "The thread this call was kept in."},
        "remaining_turns": {"type": "integer", "minimum": 0},
        "turns_left": {"type": "integer", "minimum": 0},
        "notes": {"type": "array", "items": {"type": "string"}},
        "metadata": {"type": "object"},
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
