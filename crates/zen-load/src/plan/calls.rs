//! The calls a run makes, from the flags over the scenario's `[[calls]]`: `--tool` and
//! `--args` for one tool, `--op` (with `--uri`, `--prompt`) for a mix of operations, else the
//! scenario's mix, else zen's chat.
use anyhow::{Result, bail};
use serde_json::{Map, Value};

use crate::args::LoadArgs;
use crate::plan::op::Op;
use crate::plan::scenario::{CallSpec, Scenario};

/// The kinds of call to make, each with its weight.
pub(crate) fn calls(load: &LoadArgs, scenario: &Scenario) -> Result<Vec<CallSpec>> {
    Ok(match (&load.tool, &load.args) {
        _ if !load.op.is_empty() => op_calls(load)?,
        (None, None) if !scenario.calls.is_empty() => scenario.calls.clone(),
        (None, None) => vec![CallSpec::default_chat()],
        (tool, args) => {
            let mut spec = CallSpec::default_chat();
            if let Some(tool) = tool {
                spec.tool.clone_from(tool);
                spec.args = Map::new();
            }
            if let Some(json) = args {
                spec.args = parse_args(json)?;
            }
            vec![spec]
        }
    })
}

fn parse_args(json: &str) -> Result<Map<String, Value>> {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => {
            bail!("--args must be a JSON object like '{{\"prompt\": \"hi\"}}', not {other}")
        }
        Err(e) => bail!("--args is not valid JSON ({e}); e.g. --args '{{\"prompt\": \"hi\"}}'"),
    }
}

/// `--op` (repeatable): one call kind per operation, an equal share each, with `--tool`,
/// `--args`, `--uri` and `--prompt` for the operations that take them.
fn op_calls(load: &LoadArgs) -> Result<Vec<CallSpec>> {
    let args = match &load.args {
        Some(json) => parse_args(json)?,
        None => Map::new(),
    };
    let mut calls = Vec::new();
    for op in &load.op {
        let mut spec = CallSpec::default_chat();
        spec.op = *op;
        match op {
            Op::ToolsCall => {
                if let Some(tool) = &load.tool {
                    spec.tool.clone_from(tool);
                    spec.args.clone_from(&args);
                } else if load.args.is_some() {
                    spec.args.clone_from(&args);
                }
            }
            Op::PromptsGet | Op::Complete => {
                spec.tool.clear();
                spec.args.clone_from(&args);
            }
            _ => {
                spec.tool.clear();
                spec.args = Map::new();
            }
        }
        if *op == Op::ResourcesRead {
            spec.uri = Some(load.uri.clone().unwrap_or_else(|| "random".to_string()));
        }
        if *op == Op::PromptsGet {
            spec.prompt.clone_from(&load.prompt);
        }
        spec.check_op().map_err(|e| {
            anyhow::anyhow!(
                "--op {op}: {e} (flags: --tool, --args, --uri, --prompt; a mix with its own \
                 arguments per operation goes in a scenario's [[calls]])"
            )
        })?;
        calls.push(spec);
    }
    if let Some(tool) = &load.tool
        && !load.op.contains(&Op::ToolsCall)
    {
        bail!(
            "--tool goes with --op tools/call: add --op tools/call to mix calls of {tool} with \
             the other operations (or drop --op to call only {tool})"
        );
    }
    let takes_args = [Op::ToolsCall, Op::PromptsGet, Op::Complete];
    if load.args.is_some() && !load.op.iter().any(|op| takes_args.contains(op)) {
        bail!("--args goes with --op tools/call, prompts/get or completion/complete");
    }
    if load.uri.is_some() && !load.op.contains(&Op::ResourcesRead) {
        bail!("--uri goes with --op resources/read");
    }
    if load.prompt.is_some() && !load.op.contains(&Op::PromptsGet) {
        bail!("--prompt goes with --op prompts/get");
    }
    Ok(calls)
}
