//! One step's arguments, checked against the tool's table: the values the engine acts on, typed,
//! and every argument kept for the record the thread holds (what the model reads at the end).
use rmcp::model::JsonObject;
use serde_json::{Map, Value};

use super::Spec;
use super::fields::{self, Field, Kind};
use crate::config::MemoryConfig;
use crate::providers::ThinkingMode;
use crate::tools::ToolError;
use crate::tools::conversation::check_text;

/// The arguments the engine itself reads; the rest are the tool's own, recorded as given.
const ENGINE: [&str; 10] = [
    "step",
    "step_number",
    "total_steps",
    "next_step_required",
    "findings",
    "continuation_id",
    "model",
    "temperature",
    "thinking_mode",
    "use_assistant_model",
];

/// Why the final step asks no model, when it does not.
const LOCAL_SETTINGS: [(&str, &str); 2] = [
    ("review_validation_type", "internal"),
    ("precommit_type", "internal"),
];

/// One step, checked.
#[derive(Debug)]
pub(crate) struct StepInput {
    /// What the caller did or concluded.
    pub step: String,
    /// From 1.
    pub step_number: u32,
    /// Grown to `step_number` when the caller counts past its plan.
    pub total_steps: u32,
    /// False on the final step.
    pub next_step_required: bool,
    /// The step's findings (the planner has none).
    pub findings: Option<String>,
    /// The thread to join.
    pub continuation_id: Option<String>,
    /// The model for the final step.
    pub model: Option<String>,
    /// Sampling temperature of the final call.
    pub temperature: Option<f64>,
    /// Reasoning depth of the final call.
    pub thinking_mode: Option<ThinkingMode>,
    /// False: finish without a model call.
    pub use_assistant_model: bool,
    /// Every argument given (nulls left out), checked.
    pub args: Map<String, Value>,
}

impl StepInput {
    /// Check `args` against `spec`'s table and the size limits, naming the field at fault.
    pub(crate) fn parse(
        spec: &Spec,
        mem: &MemoryConfig,
        args: JsonObject,
    ) -> Result<Self, ToolError> {
        let args = fields::check_all(spec.name, spec.fields, args)?;
        let text = |name: &str| args.get(name).and_then(Value::as_str).map(str::to_string);
        let number = |name: &str| {
            let n = args.get(name).and_then(Value::as_u64).unwrap_or(1);
            u32::try_from(n).map_err(|_| ToolError::bad_field(spec.name, name, "is too large"))
        };
        let step = text("step").unwrap_or_default();
        check_text(spec.name, "step", &step, mem)?;
        check_sizes(spec.name, &args, mem)?;
        let step_number = number("step_number")?;
        Ok(StepInput {
            total_steps: number("total_steps")?.max(step_number),
            step_number,
            step,
            next_step_required: args.get("next_step_required") != Some(&Value::Bool(false)),
            findings: text("findings"),
            continuation_id: text("continuation_id").filter(|c| !c.trim().is_empty()),
            model: text("model"),
            temperature: args.get("temperature").and_then(Value::as_f64),
            thinking_mode: text("thinking_mode").and_then(|m| ThinkingMode::parse(&m)),
            use_assistant_model: args.get("use_assistant_model") != Some(&Value::Bool(false)),
            args,
        })
    }

    /// Refuse a later step without the thread of the earlier ones.
    pub(crate) fn check_thread(&self, spec: &Spec) -> Result<(), ToolError> {
        if self.step_number > 1 && self.continuation_id.is_none() {
            return Err(ToolError::bad_field(
                spec.name,
                "continuation_id",
                format!(
                    "required from step 2 on: pass the continuation_id of step 1's reply so \
                     step {} joins the earlier steps' thread",
                    self.step_number
                ),
            ));
        }
        Ok(())
    }

    /// The final step: the caller says so, or is as sure as the tool's scale goes.
    pub(crate) fn is_final(&self, spec: &Spec) -> bool {
        let top = (spec.field("confidence")).and_then(|f| match f.kind {
            Kind::Enum(names) => names.last().copied(),
            _ => None,
        });
        let confidence = self.args.get("confidence").and_then(Value::as_str);
        !self.next_step_required || (top.is_some() && confidence == top)
    }

    /// Why the final step asks no model (`use_assistant_model: false`, or internal validation).
    pub(crate) fn local_reason(&self) -> Option<String> {
        if !self.use_assistant_model {
            return Some("use_assistant_model is false".to_string());
        }
        LOCAL_SETTINGS.iter().find_map(|(name, value)| {
            (self.args.get(*name).and_then(Value::as_str) == Some(value))
                .then(|| format!("{name} is {value}"))
        })
    }

    /// The values of every field of `kind`, flattened (the files to embed, the images to send).
    pub(crate) fn all_of(&self, spec: &Spec, kind: Kind) -> Vec<String> {
        (spec.fields.iter().copied().flatten())
            .filter(|f| f.kind == kind)
            .filter_map(|f| self.args.get(f.name)?.as_array())
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    /// The step as kept in the thread: the step and findings, then every other argument the
    /// caller gave, in the table's order (images by name: their bytes go to the model).
    pub(crate) fn record(&self, spec: &Spec) -> String {
        let mut text = format!(
            "[{} step {} of {}]\nstep: {}\n",
            spec.name, self.step_number, self.total_steps, self.step
        );
        if let Some(findings) = &self.findings {
            text.push_str(&format!("findings: {findings}\n"));
        }
        for field in spec.fields.iter().copied().flatten() {
            if ENGINE.contains(&field.name) {
                continue;
            }
            if let Some(value) = self.args.get(field.name) {
                text.push_str(&render(field, value));
            }
        }
        text
    }
}

/// A field's record line; images are named, never quoted (a data URL is megabytes).
fn render(field: &Field, value: &Value) -> String {
    if field.kind != Kind::Images {
        return fields::render(field, value);
    }
    let names: Vec<String> = (value.as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .map(|i| {
            if i.starts_with("data:") {
                format!("(data URL, {} bytes)", i.len())
            } else {
                i.to_string()
            }
        })
        .collect();
    format!("{}: {}\n", field.name, names.join(", "))
}

/// Every text argument (and list of texts) within ZEN_MAX_PROMPT_BYTES.
fn check_sizes(tool: &str, args: &Map<String, Value>, mem: &MemoryConfig) -> Result<(), ToolError> {
    // Images have their own limits (images.rs): a data URL may be megabytes.
    for (name, value) in args.iter().filter(|(name, _)| *name != "images") {
        let bytes = match value {
            Value::String(s) => s.len(),
            Value::Array(items) => items.iter().map(|i| i.to_string().len()).sum(),
            _ => 0,
        };
        if bytes > mem.max_prompt_bytes {
            return Err(ToolError::bad_field(
                tool,
                name,
                format!(
                    "{bytes} bytes is over the {} byte limit (ZEN_MAX_PROMPT_BYTES); put large \
                     content in a file and pass its path instead",
                    mem.max_prompt_bytes
                ),
            ));
        }
    }
    Ok(())
}
