//! Header values of MCP 2026-07-28's request-metadata headers (`Mcp-Name`, `Mcp-Param-*`):
//! how a value is written (`basic/transports/streamable-http#value-encoding`) and which tool
//! arguments become `Mcp-Param-*` headers (`server/tools#x-mcp-header`). The client encodes, the
//! server decodes and compares: both read the same rules here.
use std::borrow::Cow;

use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use serde_json::{Map, Value};

/// Start of a Base64-wrapped value (case-sensitive).
const PREFIX: &str = "=?base64?";
/// End of a Base64-wrapped value.
const SUFFIX: &str = "?=";

/// A value must be wrapped when it cannot travel as a bare header value: leading or trailing
/// space or tab, a control or non-ASCII character, or a value that already looks wrapped
/// (`#value-encoding`). An empty value travels as an empty header.
fn needs_base64(value: &str) -> bool {
    let bytes = value.as_bytes();
    matches!(bytes.first(), Some(b' ' | b'\t'))
        || matches!(bytes.last(), Some(b' ' | b'\t'))
        || bytes.iter().any(|b| *b < 0x20 || *b > 0x7E)
        || (value.starts_with(PREFIX) && value.ends_with(SUFFIX))
}

/// The header form of `value`: itself, or `=?base64?…?=` of its UTF-8 bytes.
pub fn encode(value: &str) -> Cow<'_, str> {
    if needs_base64(value) {
        Cow::Owned(format!("{PREFIX}{}{SUFFIX}", BASE64_STANDARD.encode(value)))
    } else {
        Cow::Borrowed(value)
    }
}

/// The value a header carries: unwrapped when it is `=?base64?…?=` (strict Base64 with padding,
/// UTF-8 inside; `None` if not), else as it is (a value with only the prefix or only the suffix
/// is a literal).
pub fn decode(header: &str) -> Option<Cow<'_, str>> {
    match header
        .strip_prefix(PREFIX)
        .and_then(|inner| inner.strip_suffix(SUFFIX))
    {
        Some(inner) => {
            let bytes = BASE64_STANDARD.decode(inner).ok()?;
            String::from_utf8(bytes).ok().map(Cow::Owned)
        }
        None => Some(Cow::Borrowed(header)),
    }
}

/// A tool argument's header form before encoding: strings as they are, integers in decimal,
/// booleans as `true`/`false`; other values (null, objects, arrays) have none.
pub fn primitive(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

/// One `x-mcp-header` annotation: the property path from the schema's root (through
/// `properties` keys only) and the header's name suffix (`Mcp-Param-{header}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamHeader {
    /// Property names from the root to the annotated property.
    pub path: Vec<String>,
    /// What follows `Mcp-Param-` in the header's name.
    pub header: String,
}

impl ParamHeader {
    /// The argument this header mirrors, if present and not null.
    pub fn value_in<'a>(&self, arguments: &'a Map<String, Value>) -> Option<&'a Value> {
        let (first, rest) = self.path.split_first()?;
        let value = rest
            .iter()
            .try_fold(arguments.get(first)?, |v, key| v.get(key))?;
        (!value.is_null()).then_some(value)
    }
}

/// The `x-mcp-header` annotations of a tool's input schema, or why the schema's annotations are
/// invalid (`server/tools#x-mcp-header`): a non-empty RFC 9110 token, case-insensitively unique,
/// on a `string`, `integer` or `boolean` property reached from the root through `properties`
/// only. An HTTP client MUST drop a tool whose annotations are invalid.
pub fn param_headers(schema: &Map<String, Value>) -> Result<Vec<ParamHeader>, String> {
    if schema.contains_key("x-mcp-header") {
        return Err("x-mcp-header annotates the schema's root, not a property".to_string());
    }
    if off_chain(schema, true) {
        return Err(
            "x-mcp-header sits below items, a combinator or a $ref, not on a properties path"
                .to_string(),
        );
    }
    let mut found = Vec::new();
    collect(schema.get("properties"), &mut Vec::new(), &mut found);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(found.len());
    for (path, property, header) in found {
        let prop = path.join(".");
        let Value::String(header) = header else {
            return Err(format!("property '{prop}': x-mcp-header is not a string"));
        };
        if header.is_empty() || !header.bytes().all(is_tchar) {
            return Err(format!(
                "property '{prop}': x-mcp-header '{header}' is not an HTTP token"
            ));
        }
        if !seen.insert(header.to_ascii_lowercase()) {
            return Err(format!(
                "property '{prop}': x-mcp-header '{header}' is used twice (names compare case-insensitively)"
            ));
        }
        match property.get("type").and_then(Value::as_str) {
            Some("string" | "integer" | "boolean") => {}
            other => {
                return Err(format!(
                    "property '{prop}': x-mcp-header needs a string, integer or boolean property, not {}",
                    other.unwrap_or("an untyped one")
                ));
            }
        }
        out.push(ParamHeader {
            path,
            header: header.clone(),
        });
    }
    Ok(out)
}

/// Annotated properties along `properties` chains: (path, property schema, annotation).
fn collect<'a>(
    properties: Option<&'a Value>,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, &'a Value, &'a Value)>,
) {
    let Some(Value::Object(properties)) = properties else {
        return;
    };
    for (name, schema) in properties {
        path.push(name.clone());
        if let Some(header) = schema.get("x-mcp-header") {
            out.push((path.clone(), schema, header));
        }
        collect(schema.get("properties"), path, out);
        path.pop();
    }
}

/// True if an `x-mcp-header` sits anywhere but on a property reached through `properties` keys
/// alone (`on_chain`: `schema` is the root or such a property).
fn off_chain(schema: &Map<String, Value>, on_chain: bool) -> bool {
    schema.iter().any(|(key, value)| match key.as_str() {
        "x-mcp-header" => !on_chain,
        "properties" => value
            .as_object()
            .is_some_and(|m| m.values().any(|s| sub_off_chain(s, on_chain))),
        // Instance data or property names, not subschemas.
        "default" | "const" | "enum" | "examples" | "dependentRequired" | "required" => false,
        _ => sub_off_chain(value, false),
    })
}

fn sub_off_chain(value: &Value, on_chain: bool) -> bool {
    match value {
        Value::Object(schema) => off_chain(schema, on_chain),
        Value::Array(items) => items.iter().any(|item| sub_off_chain(item, false)),
        _ => false,
    }
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_wrapped_exactly_when_they_cannot_travel_bare() {
        // The spec's example and the conformance suite's expectations.
        assert_eq!(encode("Hello, 世界"), "=?base64?SGVsbG8sIOS4lueVjA==?=");
        assert_eq!(encode(" padded "), "=?base64?IHBhZGRlZCA=?=");
        assert_eq!(encode("line1\r\nline2"), "=?base64?bGluZTENCmxpbmUy?=");
        assert_eq!(encode("\tindented"), "=?base64?CWluZGVudGVk?=");
        assert_eq!(encode("us west 1"), "us west 1");
        assert_eq!(encode(""), "");
        assert_eq!(encode("=?base64?abc?="), "=?base64?PT9iYXNlNjQ/YWJjPz0=?=");
        for value in ["Hello, 世界", " x", "a\nb", "=?base64?abc?=", "plain"] {
            assert_eq!(decode(&encode(value)).unwrap(), value);
        }
    }

    #[test]
    fn decoding_is_strict_and_half_sentinels_are_literals() {
        assert_eq!(decode("=?base64?SGVsbG8=?=").unwrap(), "Hello");
        assert_eq!(decode("=?base64?SGVsbG8?="), None);
        assert_eq!(decode("=?base64?SGVs!!!bG8=?="), None);
        assert_eq!(decode("SGVsbG8=").unwrap(), "SGVsbG8=");
        assert_eq!(decode("=?base64?SGVsbG8=").unwrap(), "=?base64?SGVsbG8=");
    }

    #[test]
    fn annotations_are_read_along_properties_and_bad_ones_refused() {
        let schema = json!({"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "nested": {"type": "object", "properties": {
                "flag": {"type": "boolean", "x-mcp-header": "Flag"}}},
            "query": {"type": "string"}}});
        let headers = param_headers(schema.as_object().unwrap()).unwrap();
        assert_eq!(headers.len(), 2);
        let args = json!({"region": "eu", "nested": {"flag": true}});
        let args = args.as_object().unwrap();
        let values: Vec<_> = headers.iter().map(|h| h.value_in(args).cloned()).collect();
        assert!(values.contains(&Some(json!("eu"))) && values.contains(&Some(json!(true))));
        let bad = [
            json!({"properties": {"a": {"type": "number", "x-mcp-header": "A"}}}),
            json!({"properties": {"a": {"type": "string", "x-mcp-header": ""}}}),
            json!({"properties": {"a": {"type": "string", "x-mcp-header": "Re gion"}}}),
            json!({"properties": {"a": {"type": "string", "x-mcp-header": "X"},
                                  "b": {"type": "string", "x-mcp-header": "x"}}}),
            json!({"properties": {"a": {"type": "array",
                   "items": {"type": "string", "x-mcp-header": "A"}}}}),
            json!({"x-mcp-header": "Root"}),
        ];
        for schema in bad {
            assert!(
                param_headers(schema.as_object().unwrap()).is_err(),
                "{schema}"
            );
        }
        assert_eq!(primitive(&json!(42)).unwrap(), "42");
        assert_eq!(primitive(&json!(false)).unwrap(), "false");
        assert!(primitive(&json!(null)).is_none());
    }
}
