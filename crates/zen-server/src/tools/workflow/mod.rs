//! The workflow engine shared by thinkdeep, planner, codereview, precommit, debug, secaudit,
//! docgen, analyze, refactor, tracer and testgen: the caller works through numbered steps
//! (`step`, `step_number`, `total_steps`, `next_step_required`, `findings`, plus the tool's own
//! fields, named and typed as zen-mcp-server's); each step is recorded in the thread and
//! answered at once without a model call; the final step (or top confidence) asks the model with
//! everything gathered, files embedded by the shared rules and images attached, or finishes
//! without a model when `use_assistant_model` is false. A tool is a [`Spec`]: its field table
//! and its prompt file.
use async_trait::async_trait;
use rmcp::model::{JsonObject, ToolAnnotations};
use serde_json::{Value, json};

use super::conversation::{Conversation, Recorded, turn};
use super::images;
use super::{Tool, ToolContext, ToolError, ToolReply, asks_a_model};

pub(crate) mod analyze;
pub(crate) mod codereview;
pub(crate) mod common;
pub(crate) mod debug;
pub(crate) mod docgen;
pub(crate) mod fields;
mod finish;
mod input;
pub(crate) mod planner;
pub(crate) mod precommit;
pub(crate) mod refactor;
pub(crate) mod secaudit;
pub(crate) mod testgen;
pub(crate) mod thinkdeep;
pub(crate) mod tracer;

use fields::{Field, Kind};
use input::StepInput;

/// What makes one workflow tool.
#[derive(Debug)]
pub(crate) struct Spec {
    /// Tool name.
    pub name: &'static str,
    /// Short title for clients.
    pub title: &'static str,
    /// What the tool is for.
    pub description: &'static str,
    /// The system prompt for the final model call (a text file next to the code).
    pub prompt: &'static str,
    /// What the caller should do between steps.
    pub between_steps: &'static str,
    /// zen-mcp-server's word for this work in its statuses (`pause_for_{word}`).
    pub status_word: &'static str,
    /// Every argument the tool takes: shared groups (common.rs) and its own fields.
    pub fields: &'static [&'static [Field]],
}

impl Spec {
    /// The field called `name`, if the tool takes it.
    pub(crate) fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields
            .iter()
            .copied()
            .flatten()
            .find(|f| f.name == name)
    }
}

/// A workflow tool: the shared engine driven by one spec.
pub(crate) struct WorkflowTool(pub &'static Spec);

#[async_trait]
impl Tool for WorkflowTool {
    fn name(&self) -> &'static str {
        self.0.name
    }

    fn description(&self) -> &'static str {
        self.0.description
    }

    fn input_schema(&self) -> JsonObject {
        fields::tool_schema(self.0.fields)
    }

    fn output_schema(&self) -> JsonObject {
        super::reply::thread_output_schema(json!({
            "step_number": {"type": "integer"},
            "next_step_required": {"type": "boolean"},
            "expert_analysis": {"type": "object"},
        }))
    }

    fn annotations(&self) -> ToolAnnotations {
        asks_a_model(self.0.title)
    }

    async fn call(
        &self,
        ctx: &ToolContext,
        arguments: Option<JsonObject>,
    ) -> Result<ToolReply, ToolError> {
        let spec = self.0;
        let input = StepInput::parse(spec, &ctx.config.memory, arguments.unwrap_or_default())?;
        run(ctx, spec, input).await
    }
}

/// One step: record it; on the final step ask the model, or sum up without one.
async fn run(ctx: &ToolContext, spec: &Spec, input: StepInput) -> Result<ToolReply, ToolError> {
    input.check_thread(spec)?;
    // Resolved on every step, so a bad model name (or a model that takes no images) is refused
    // at the step that names it, not at the end.
    let route = (ctx.registry.resolve(input.model.as_deref())).map_err(ToolError::bad_input)?;
    let images = input.all_of(spec, Kind::Images);
    let image_urls = images::load(ctx, spec.name, &images, &route).await?;
    let conversation =
        Conversation::open(ctx, spec.name, input.continuation_id.as_deref(), 2).await?;
    let record = input.record(spec);
    let mut asked = turn("user", spec.name, record.clone(), None);
    asked.files = input.all_of(spec, Kind::Paths);
    // Image paths are kept with the step (data URLs are not: megabytes), to send at the end.
    let image_paths = images.iter().filter(|i| !i.starts_with("data:")).cloned();
    asked.files.extend(image_paths);
    if !input.is_final(spec) {
        let notes = Conversation::check_files(ctx, &input.all_of(spec, Kind::Paths)).await;
        let ack = format!(
            "Recorded {} step {} of {}; no model was asked yet.",
            spec.name, input.step_number, input.total_steps
        );
        let answered = turn("assistant", spec.name, ack, None);
        let recorded = conversation
            .record(ctx, vec![asked, answered], &record)
            .await?;
        return Ok(step_reply(spec, &input, &recorded, &notes));
    }
    let step = finish::Final {
        spec,
        input: &input,
        asked,
        record,
    };
    match input.local_reason() {
        Some(reason) => step.without_model(ctx, conversation, &reason).await,
        None => step.with_model(ctx, conversation, route, image_urls).await,
    }
}

/// The answer to an intermediate step: recorded, and what to do next.
fn step_reply(spec: &Spec, input: &StepInput, recorded: &Recorded, notes: &[String]) -> ToolReply {
    let next = input.step_number + 1;
    let body = format!(
        "{} step {} of {} recorded (no model call).\n\nNext: {}\nThen call {} again with \
         step_number {next}, your findings, and the continuation_id below; set \
         next_step_required to false on the final step, which asks the model with everything \
         gathered.",
        spec.name, input.step_number, input.total_steps, spec.between_steps, spec.name
    );
    let text = format!("{body}{}", recorded.footer(notes));
    let mut extra = recorded.fields(notes);
    extra["step_number"] = json!(input.step_number);
    extra["total_steps"] = json!(input.total_steps);
    extra["next_step_required"] = json!(true);
    extra["next_step_number"] = json!(next);
    extra["next_steps"] = json!(spec.between_steps);
    extra["required_actions"] = json!([spec.between_steps]);
    let status = format!("pause_for_{}", spec.status_word);
    ToolReply::shaped(&status, &body, text, extra)
}

/// The step fields of a structured reply.
fn step_fields(input: &StepInput, extra: &mut Value) {
    extra["step_number"] = json!(input.step_number);
    extra["total_steps"] = json!(input.total_steps);
    extra["next_step_required"] = json!(false);
}
