//! A workflow tool's arguments as a table: each field's name, kind, whether it is required, and
//! what to put in it. The table gives the JSON Schema (the same names, types, enums and bounds
//! as zen-mcp-server's), the checks (naming the field at fault) and the lines recorded in the
//! thread. The fields every tool shares are in `common.rs`.
use rmcp::model::JsonObject;
use serde_json::{Map, Value, json};

use crate::tools::ToolError;

/// The kind of value a field holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    /// Free text.
    Text,
    /// A list of short texts.
    TextList,
    /// File paths, embedded by the shared rules when the model is asked.
    Paths,
    /// Image paths or data URLs, sent as image parts when the model is asked.
    Images,
    /// true or false.
    Bool,
    /// A whole number of at least `min`.
    Integer {
        /// The smallest value the schema allows.
        min: i64,
    },
    /// A whole number whose schema advises at least `advised` while zen takes down to `min`,
    /// as zen-mcp-server did (its precommit schema says 3 steps, its checks 1).
    Advised {
        /// The smallest value taken.
        min: i64,
        /// The smallest value the schema shows.
        advised: i64,
    },
    /// A number within `min..=max`.
    Number {
        /// Lowest allowed.
        min: f64,
        /// Highest allowed.
        max: f64,
    },
    /// One of the listed names.
    Enum(&'static [&'static str]),
    /// A list of objects (issues: `{severity, description, ...}`; models; responses).
    Objects,
}

/// One argument of a workflow tool.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    /// Its argument name.
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
    /// True where zen cannot work without it (always a field zen-mcp-server requires too).
    pub required: bool,
    /// What to put in it, for the schema.
    pub description: &'static str,
}

impl Field {
    /// An optional field.
    pub(crate) const fn optional(
        name: &'static str,
        kind: Kind,
        description: &'static str,
    ) -> Self {
        Field {
            name,
            kind,
            required: false,
            description,
        }
    }

    /// A required field.
    pub(crate) const fn required(
        name: &'static str,
        kind: Kind,
        description: &'static str,
    ) -> Self {
        Field {
            required: true,
            ..Field::optional(name, kind, description)
        }
    }
}

/// The schema of one field.
pub(crate) fn schema(field: &Field) -> Value {
    let d = field.description;
    let strings = json!({"type": "string"});
    match field.kind {
        Kind::Text => json!({"type": "string", "description": d}),
        Kind::TextList | Kind::Paths | Kind::Images => {
            json!({"type": "array", "items": strings, "description": d})
        }
        Kind::Bool => json!({"type": "boolean", "description": d}),
        Kind::Integer { min } | Kind::Advised { advised: min, .. } => {
            json!({"type": "integer", "minimum": min, "description": d})
        }
        Kind::Number { min, max } => {
            json!({"type": "number", "minimum": min, "maximum": max, "description": d})
        }
        Kind::Enum(names) => json!({"type": "string", "enum": names, "description": d}),
        Kind::Objects => json!({"type": "array", "items": {"type": "object"}, "description": d}),
    }
}

/// Check one field's value, naming the field (and item) at fault.
pub(crate) fn check(tool: &str, field: &Field, value: &Value) -> Result<(), ToolError> {
    let bad = |why: String| ToolError::bad_field(tool, field.name, why);
    let list = |what: &str, ok: fn(&Value) -> bool| -> Result<(), ToolError> {
        let items = (value.as_array())
            .ok_or_else(|| bad(format!("expected a list of {what}s, got {value}")))?;
        match items.iter().position(|i| !ok(i)) {
            Some(i) => Err(bad(format!("item {i} is {}, expected {what}", items[i]))),
            None => Ok(()),
        }
    };
    match field.kind {
        Kind::Text if value.is_string() => Ok(()),
        Kind::Text => Err(bad(format!("expected a string, got {value}"))),
        Kind::Bool if value.is_boolean() => Ok(()),
        Kind::Bool => Err(bad(format!("expected true or false, got {value}"))),
        Kind::TextList | Kind::Paths | Kind::Images => list("string", Value::is_string),
        Kind::Objects => list("object", Value::is_object),
        Kind::Integer { min } | Kind::Advised { min, .. } => match value.as_i64() {
            Some(n) if n >= min => Ok(()),
            _ => Err(bad(format!(
                "expected a whole number of at least {min}, got {value}"
            ))),
        },
        Kind::Number { min, max } => match value.as_f64() {
            Some(n) if (min..=max).contains(&n) => Ok(()),
            _ => Err(bad(format!(
                "expected a number from {min} to {max}, got {value}"
            ))),
        },
        Kind::Enum(names) => match value.as_str() {
            Some(name) if names.contains(&name) => Ok(()),
            _ => Err(bad(format!("{value} is not one of {}", names.join(", ")))),
        },
    }
}

/// A field's value as the lines recorded in the thread (what the model reads at the end).
pub(crate) fn render(field: &Field, value: &Value) -> String {
    match value {
        Value::Array(items) if field.kind == Kind::Objects => {
            let mut text = format!("{}:\n", field.name);
            for item in items {
                text.push_str(&format!("  - {}\n", render_object(item)));
            }
            text
        }
        Value::Array(items) => {
            let list: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            format!("{}: {}\n", field.name, list.join(", "))
        }
        Value::String(s) => format!("{}: {s}\n", field.name),
        other => format!("{}: {other}\n", field.name),
    }
}

/// An issue as `[severity] description`, anything else it carries after; other objects as JSON.
fn render_object(item: &Value) -> String {
    let severity = item.get("severity").and_then(Value::as_str);
    let description = item.get("description").and_then(Value::as_str);
    let (Some(severity), Some(description), Some(all)) = (severity, description, item.as_object())
    else {
        return item.to_string();
    };
    let rest: Map<String, Value> = (all.iter())
        .filter(|(k, _)| *k != "severity" && *k != "description")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if rest.is_empty() {
        format!("[{severity}] {description}")
    } else {
        format!("[{severity}] {description} {}", Value::Object(rest))
    }
}

/// The tool's input schema from its field table.
pub(crate) fn tool_schema(fields: &[&[Field]]) -> JsonObject {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in fields.iter().copied().flatten() {
        properties.insert(field.name.to_string(), schema(field));
        if field.required {
            required.push(field.name);
        }
    }
    let schema = json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    match schema {
        Value::Object(map) => map,
        _ => unreachable!("built as an object"),
    }
}

/// Check every argument against the table: unknown names are refused (naming what the tool
/// takes), values are checked, and required fields must be there. Nulls count as absent.
pub(crate) fn check_all(
    tool: &str,
    fields: &[&[Field]],
    args: JsonObject,
) -> Result<Map<String, Value>, ToolError> {
    let find = |name: &str| fields.iter().copied().flatten().find(|f| f.name == name);
    let mut checked = Map::new();
    for (name, value) in args {
        let Some(field) = find(&name) else {
            let takes: Vec<&str> = fields.iter().copied().flatten().map(|f| f.name).collect();
            return Err(ToolError::bad_field(
                tool,
                &name,
                format!("unknown field; {tool} takes {}", takes.join(", ")),
            ));
        };
        if !value.is_null() {
            check(tool, field, &value)?;
            checked.insert(name, value);
        }
    }
    if let Some(missing) =
        (fields.iter().copied().flatten()).find(|f| f.required && !checked.contains_key(f.name))
    {
        return Err(ToolError::bad_field(
            tool,
            missing.name,
            "missing field: it is required",
        ));
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[Field] = &[
        Field::required("step", Kind::Text, "s"),
        Field::optional("n", Kind::Integer { min: 1 }, "n"),
        Field::optional("t", Kind::Number { min: 0.0, max: 1.0 }, "t"),
        Field::optional("e", Kind::Enum(&["a", "b"]), "e"),
        Field::optional("issues", Kind::Objects, "i"),
    ];

    fn run(args: &Value) -> Result<Map<String, Value>, String> {
        check_all("t", &[FIELDS], args.as_object().unwrap().clone()).map_err(|e| e.message)
    }

    #[test]
    fn values_are_checked_and_each_refusal_names_the_field() {
        assert!(run(&json!({"step": "s", "n": 1, "t": 0.5, "e": "a"})).is_ok());
        let cases = [
            (json!({"n": 1}), "step: missing field"),
            (
                json!({"step": "s", "n": 0}),
                "n: expected a whole number of at least 1",
            ),
            (
                json!({"step": "s", "n": "two"}),
                "n: expected a whole number",
            ),
            (
                json!({"step": "s", "t": 2}),
                "t: expected a number from 0 to 1",
            ),
            (
                json!({"step": "s", "e": "c"}),
                "e: \"c\" is not one of a, b",
            ),
            (
                json!({"step": "s", "issues": ["x"]}),
                "issues: item 0 is \"x\", expected object",
            ),
            (
                json!({"step": "s", "zzz": 1}),
                "zzz: unknown field; t takes step, n, t, e, issues",
            ),
        ];
        for (args, expected) in cases {
            let err = run(&args).unwrap_err();
            assert!(err.contains(expected), "{args}: {err}");
        }
        // null is absent: optional fields may be null, required ones may not.
        assert!(run(&json!({"step": "s", "n": null})).is_ok());
        assert!(run(&json!({"step": null})).is_err());
    }

    #[test]
    fn issues_render_as_severity_and_description_with_anything_else_after() {
        let field = FIELDS[4];
        let value = json!([
            {"severity": "high", "description": "leak"},
            {"severity": "low", "description": "name", "line": 3},
            {"note": "free-form"},
        ]);
        assert_eq!(
            render(&field, &value),
            "issues:\n  - [high] leak\n  - [low] name {\"line\":3}\n  - {\"note\":\"free-form\"}\n"
        );
    }
}
