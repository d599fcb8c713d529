//! Checks before load: every call of the plan names a tool the target lists, with arguments
//! its input schema accepts. A mistake is a setup error (exit 2) found in well under a second,
//! with the tool list or the schema error, instead of a run of identical failures. A target that
//! lists no tools at all gives nothing to check against: its calls go out unchecked, with a
//! warning.
use anyhow::{Result, bail};
use rmcp::model::Tool;
use serde_json::Value;

use crate::plan::scenario::CallSpec;

/// Check each call kind against the tools the target listed (`dropped`: tools a 2026-07-28 HTTP
/// client must not call, with why).
pub(crate) fn check(
    tools: &[Tool],
    dropped: &[(String, String)],
    calls: &[CallSpec],
) -> Result<()> {
    let calls: Vec<&CallSpec> = (calls.iter())
        .filter(|c| c.op == crate::plan::op::Op::ToolsCall)
        .collect();
    if calls.is_empty() {
        return Ok(());
    }
    if tools.is_empty() && dropped.is_empty() {
        tracing::warn!("the target lists no tools: the calls go out unchecked");
        return Ok(());
    }
    for call in calls {
        if let Some((_, why)) = dropped.iter().find(|(name, _)| *name == call.tool) {
            bail!(
                "the target's tool '{}' has an invalid x-mcp-header annotation ({why}), so an \
                 MCP 2026-07-28 HTTP client must not call it; fix the tool's schema or use \
                 --protocol 2025-11-25",
                call.tool
            );
        }
        let Some(tool) = tools.iter().find(|t| t.name == call.tool) else {
            bail!(
                "the target has no tool '{}'; it lists: {} (set the tool with --tool or the \
                 scenario's [[calls]] tool)",
                call.tool,
                tool_list(tools)
            );
        };
        check_args(tool, &Value::Object(call.args.clone()))?;
        // Each step of a chain, as it will be sent (continuation_id is added by the run).
        for step in &call.steps {
            let mut args = call.args.clone();
            args.extend(step.clone());
            check_args(tool, &Value::Object(args))?;
        }
    }
    Ok(())
}

/// The listed tool names, comma-separated.
fn tool_list(tools: &[Tool]) -> String {
    if tools.is_empty() {
        return "no tools at all".to_string();
    }
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.join(", ")
}

/// The arguments against the tool's input schema (a schema that cannot be compiled is the
/// server's business: it is not held against the run). A null given for an optional argument
/// is checked as an absent one, as servers commonly read it (and MCP 2026-07-28 sends no
/// `Mcp-Param-*` header for it).
fn check_args(tool: &Tool, args: &Value) -> Result<()> {
    let schema = Value::Object((*tool.input_schema).clone());
    let Ok(validator) = jsonschema::validator_for(&schema) else {
        tracing::warn!(tool = %tool.name, "the tool's input schema does not compile; arguments not checked");
        return Ok(());
    };
    let required: Vec<&str> = (schema.get("required").and_then(Value::as_array))
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut checked = args.clone();
    if let Value::Object(map) = &mut checked {
        map.retain(|key, value| !value.is_null() || required.contains(&key.as_str()));
    }
    let errors: Vec<String> = validator
        .iter_errors(&checked)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() {
                "arguments".to_string()
            } else {
                at
            };
            format!("  {at}: {e}")
        })
        .take(5)
        .collect();
    if !errors.is_empty() {
        bail!(
            "the arguments {args} do not fit the input schema of '{}':\n{}\n{}",
            tool.name,
            errors.join("\n"),
            argument_names(&schema, &required)
        );
    }
    Ok(())
}

/// The names a tool takes, required ones marked: what a user who misspelled one needs, where
/// the whole schema (a kilobyte on one line) buried it.
fn argument_names(schema: &Value, required: &[&str]) -> String {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return "it declares no named arguments".to_string();
    };
    let names: Vec<String> = (properties.keys())
        .map(|name| {
            if required.contains(&name.as_str()) {
                format!("{name} (required)")
            } else {
                name.clone()
            }
        })
        .collect();
    format!("its arguments: {}", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str, schema: Value) -> Tool {
        let Value::Object(map) = schema else { panic!() };
        Tool::new(name.to_string(), "t", std::sync::Arc::new(map))
    }

    fn call(tool: &str, args: Value) -> CallSpec {
        let mut spec = CallSpec::default_chat();
        spec.tool = tool.to_string();
        let Value::Object(args) = args else { panic!() };
        spec.args = args;
        spec
    }

    #[test]
    fn regression_an_unknown_tool_names_the_tools_the_target_has() {
        let tools = [tool("echo", json!({"type": "object"}))];
        let err = check(&tools, &[], &[call("ecko", json!({}))]).unwrap_err();
        assert!(err.to_string().contains("no tool 'ecko'"), "{err}");
        assert!(err.to_string().contains("lists: echo"), "{err}");
    }

    #[test]
    fn regression_arguments_outside_the_schema_are_refused_with_the_reason() {
        let schema = json!({"type": "object", "required": ["message"],
            "properties": {"message": {"type": "string"}}});
        let tools = [tool("echo", schema)];
        assert!(check(&tools, &[], &[call("echo", json!({"message": "hi"}))]).is_ok());
        let err = check(&tools, &[], &[call("echo", json!({"message": 3}))]).unwrap_err();
        assert!(err.to_string().contains("/message"), "{err}");
        let err = check(&tools, &[], &[call("echo", json!({}))]).unwrap_err();
        assert!(err.to_string().contains("message"), "{err}");
        // A misspelled name: the names the tool takes, not its whole schema.
        let strict = json!({"type": "object", "required": ["message"], "additionalProperties": false,
            "properties": {"message": {"type": "string", "description": "what to echo"}, "loud": {}}});
        let tools = [tool("echo", strict)];
        let err = check(&tools, &[], &[call("echo", json!({"mesage": "hi"}))]).unwrap_err();
        let err = err.to_string();
        let last = err.lines().last().unwrap();
        assert!(
            err.contains("'mesage' was unexpected")
                && last.starts_with("its arguments: ")
                && last.contains("message (required)")
                && last.contains("loud"),
            "{err}"
        );
        assert!(!err.contains("what to echo"), "no schema dump: {err}");
        // A null for an optional argument reads as absent; for a required one it is refused.
        let optional = json!({"message": "hi", "loud": null});
        assert!(check(&tools, &[], &[call("echo", optional)]).is_ok());
        let err = check(&tools, &[], &[call("echo", json!({"message": null}))]).unwrap_err();
        assert!(err.to_string().contains("/message"), "{err}");
    }

    #[test]
    fn a_dropped_tool_says_why_and_an_empty_list_checks_nothing() {
        let dropped = [(
            "bad".to_string(),
            "property 'f': x-mcp-header …".to_string(),
        )];
        let err = check(&[], &dropped, &[call("bad", json!({}))]).unwrap_err();
        assert!(err.to_string().contains("x-mcp-header"), "{err}");
        assert!(check(&[], &[], &[call("anything", json!({}))]).is_ok());
    }
}
