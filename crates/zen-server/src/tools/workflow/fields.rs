//! A workflow tool's own fields: their kinds, JSON Schema and checks. The common step fields
//! are a serde struct (`StepArgs` in mod.rs); each tool adds a few of these.
use rmcp::model::JsonObject;
use serde_json::{Map, Value, json};

use crate::tools::ToolError;

/// How sure the caller is, in rising order; `certain` asks the model at once.
pub(crate) const CONFIDENCE: [&str; 7] = [
    "exploring",
    "low",
    "medium",
    "high",
    "very_high",
    "almost_certain",
    "certain",
];

/// Severities an issue may have.
const SEVERITY: [&str; 4] = ["critical", "high", "medium", "low"];

/// The kind of value a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Free text.
    Text,
    /// A list of short texts.
    TextList,
    /// Absolute file paths, embedded by the shared rules when the model is asked.
    Paths,
    /// One of [`CONFIDENCE`].
    Confidence,
    /// true or false.
    Bool,
    /// Issues: `{severity, description}` objects.
    Issues,
}

/// One field of a workflow tool.
#[derive(Debug)]
pub(crate) struct Field {
    /// Its argument name.
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
    /// What to put in it, for the schema.
    pub description: &'static str,
}

/// The schema of one field.
pub(crate) fn schema(field: &Field) -> Value {
    let d = field.description;
    match field.kind {
        Kind::Text => json!({"type": "string", "description": d}),
        Kind::TextList | Kind::Paths => {
            json!({"type": "array", "items": {"type": "string"}, "description": d})
        }
        Kind::Confidence => json!({"type": "string", "enum": CONFIDENCE, "description": d}),
        Kind::Bool => json!({"type": "boolean", "description": d}),
        Kind::Issues => json!({
            "type": "array",
            "description": d,
            "items": {
                "type": "object",
                "properties": {
                    "severity": {"type": "string", "enum": SEVERITY},
                    "description": {"type": "string"},
                },
                "required": ["severity", "description"],
                "additionalProperties": false,
            },
        }),
    }
}

/// Check one field's value, naming the field (and item) at fault.
pub(crate) fn check(tool: &str, field: &Field, value: &Value) -> Result<(), ToolError> {
    let bad = |why: String| ToolError::bad_field(tool, field.name, why);
    let strings = |v: &Value| -> Result<(), ToolError> {
        let items = v
            .as_array()
            .ok_or_else(|| bad(format!("expected a list of strings, got {v}")))?;
        match items.iter().position(|i| !i.is_string()) {
            Some(i) => Err(bad(format!("item {i} is {}, expected a string", items[i]))),
            None => Ok(()),
        }
    };
    match field.kind {
        Kind::Text if value.is_string() => Ok(()),
        Kind::Text => Err(bad(format!("expected a string, got {value}"))),
        Kind::Bool if value.is_boolean() => Ok(()),
        Kind::Bool => Err(bad(format!("expected true or false, got {value}"))),
        Kind::TextList | Kind::Paths => strings(value),
        Kind::Confidence => match value.as_str() {
            Some(c) if CONFIDENCE.contains(&c) => Ok(()),
            _ => Err(bad(format!(
                "{value} is not one of {}",
                CONFIDENCE.join(", ")
            ))),
        },
        Kind::Issues => check_issues(value).map_err(bad),
    }
}

fn check_issues(value: &Value) -> Result<(), String> {
    let items =
        (value.as_array()).ok_or_else(|| format!("expected a list of issues, got {value}"))?;
    for (i, item) in items.iter().enumerate() {
        let severity = item.get("severity").and_then(Value::as_str);
        let described = item.get("description").is_some_and(Value::is_string);
        let extra = (item.as_object())
            .is_some_and(|o| o.keys().any(|k| k != "severity" && k != "description"));
        if !severity.is_some_and(|s| SEVERITY.contains(&s)) || !described || extra {
            return Err(format!(
                "item {i} is {item}; each issue is {{\"severity\": one of {}, \"description\": \"...\"}}",
                SEVERITY.join(", ")
            ));
        }
    }
    Ok(())
}

/// A field's value as the lines recorded in the thread.
pub(crate) fn render(field: &Field, value: &Value) -> String {
    match (field.kind, value) {
        (Kind::Issues, Value::Array(items)) => {
            let mut text = format!("{}:\n", field.name);
            for item in items {
                let s = item["severity"].as_str().unwrap_or("");
                let d = item["description"].as_str().unwrap_or("");
                text.push_str(&format!("  - [{s}] {d}\n"));
            }
            text
        }
        (_, Value::Array(items)) => {
            let list: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            format!("{}: {}\n", field.name, list.join(", "))
        }
        (_, Value::String(s)) => format!("{}: {s}\n", field.name),
        (_, other) => format!("{}: {other}\n", field.name),
    }
}

/// The tool's schema: the common step schema with its own fields added.
pub(crate) fn tool_schema(mut common: JsonObject, fields: &[Field]) -> JsonObject {
    if let Some(Value::Object(props)) = common.get_mut("properties") {
        for f in fields {
            props.insert(f.name.to_string(), schema(f));
        }
    }
    common.insert("additionalProperties".into(), Value::Bool(false));
    common
}

/// Take the tool's own fields out of the arguments, checked; what is left are the common ones.
/// An argument neither common nor the tool's own is refused, naming what the tool takes.
pub(crate) fn split(
    tool: &str,
    fields: &[Field],
    common: &[&str],
    mut args: JsonObject,
) -> Result<(JsonObject, Map<String, Value>), ToolError> {
    let mut own = Map::new();
    for f in fields {
        if let Some(v) = args.remove(f.name)
            && !v.is_null()
        {
            check(tool, f, &v)?;
            own.insert(f.name.to_string(), v);
        }
    }
    if let Some(unknown) = args.keys().find(|k| !common.contains(&k.as_str())) {
        let mut takes: Vec<&str> = common.to_vec();
        takes.extend(fields.iter().map(|f| f.name));
        return Err(ToolError::bad_field(
            tool,
            unknown,
            format!("unknown field; {tool} takes {}", takes.join(", ")),
        ));
    }
    Ok((args, own))
}
