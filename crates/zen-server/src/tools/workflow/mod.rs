//! The workflow engine shared by thinkdeep, planner, codereview, precommit and debug: the
//! caller works through numbered steps (`step`, `step_number`, `total_steps`,
//! `next_step_required`, `findings`, plus the tool's own fields); each step is recorded in the
//! thread and answered at once without a model call; the final step (or `confidence: certain`
//! where the tool has it) asks the model with everything gathered, files embedded by the shared
//! rules. A tool is a [`Spec`]: its fields and its prompt file.
use async_trait::async_trait;
use rmcp::model::{JsonObject, ToolAnnotations};
use rmcp::schemars::{self, JsonSchema};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::conversation::{Conversation, Recorded, check_text, turn, with_files};
use super::{Tool, ToolContext, ToolError, ToolReply, asks_a_model, parse_args, schema_of};
use crate::providers::{CompletionRequest, Message};

pub(crate) mod codereview;
pub(crate) mod debug;
pub(crate) mod fields;
pub(crate) mod planner;
pub(crate) mod precommit;
pub(crate) mod thinkdeep;

use fields::{Field, Kind};

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
    /// The tool's own fields.
    pub fields: &'static [Field],
}

/// The step fields every workflow tool takes.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepArgs {
    /// What you are doing or concluding in this step.
    pub step: String,
    /// This step's number, from 1.
    pub step_number: u32,
    /// How many steps you expect in all (may change as you learn more).
    pub total_steps: u32,
    /// true if another step follows; false on the final step, which asks the model.
    pub next_step_required: bool,
    /// What you found in this step: facts, evidence, open questions.
    pub findings: String,
    /// Thread id from step 1's reply (required from step 2 on), or from any earlier zen reply
    /// to start with that history.
    #[serde(default)]
    pub continuation_id: Option<String>,
    /// Model for the final step: a name from listmodels, `provider/model`, or `auto`.
    #[serde(default)]
    pub model: Option<String>,
}

const COMMON: [&str; 7] = [
    "step",
    "step_number",
    "total_steps",
    "next_step_required",
    "findings",
    "continuation_id",
    "model",
];

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
        fields::tool_schema(schema_of::<StepArgs>(), self.0.fields)
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
        let (common, own) = fields::split(
            spec.name,
            spec.fields,
            &COMMON,
            arguments.unwrap_or_default(),
        )?;
        let args: StepArgs = parse_args(spec.name, Some(common))?;
        run(ctx, spec, args, own).await
    }
}

/// Check the step fields before anything is spent.
fn validate(ctx: &ToolContext, spec: &Spec, args: &StepArgs) -> Result<(), ToolError> {
    let mem = &ctx.config.memory;
    check_text(spec.name, "step", &args.step, mem)?;
    check_text(spec.name, "findings", &args.findings, mem)?;
    if args.step_number == 0 {
        return Err(ToolError::bad_field(
            spec.name,
            "step_number",
            "steps count from 1",
        ));
    }
    if args.total_steps == 0 {
        return Err(ToolError::bad_field(
            spec.name,
            "total_steps",
            "must be at least 1",
        ));
    }
    let continued = args
        .continuation_id
        .as_deref()
        .is_some_and(|c| !c.trim().is_empty());
    if args.step_number > 1 && !continued {
        return Err(ToolError::bad_field(
            spec.name,
            "continuation_id",
            format!(
                "required from step 2 on: pass the continuation_id of step 1's reply so step {} \
                 joins the earlier steps' thread",
                args.step_number
            ),
        ));
    }
    Ok(())
}

/// One step: record it, and on the final step (or when certain) ask the model.
async fn run(
    ctx: &ToolContext,
    spec: &Spec,
    mut args: StepArgs,
    own: Map<String, Value>,
) -> Result<ToolReply, ToolError> {
    validate(ctx, spec, &args)?;
    // A caller who finds more to do than planned just keeps counting.
    args.total_steps = args.total_steps.max(args.step_number);
    let certain = own.get("confidence").and_then(Value::as_str) == Some("certain");
    let final_step = !args.next_step_required || certain;
    // Resolved on every step, so a bad model name is refused at step 1, not at the end.
    let route = (ctx.registry.resolve(args.model.as_deref())).map_err(ToolError::bad_input)?;
    let route = final_step.then_some(route);
    let mut conversation =
        Conversation::open(ctx, spec.name, args.continuation_id.as_deref(), 2).await?;
    let record = step_record(spec, &args, &own);
    let files = paths(spec, &own);
    let mut asked = turn("user", spec.name, record.clone(), None);
    asked.files = files.clone();
    let Some(route) = route else {
        let ack = format!(
            "Recorded {} step {} of {}; no model was asked yet.",
            spec.name, args.step_number, args.total_steps
        );
        let answered = turn("assistant", spec.name, ack, None);
        let notes = Conversation::check_files(ctx, &files).await;
        let recorded = conversation
            .record(ctx, vec![asked, answered], &record)
            .await?;
        return Ok(step_reply(spec, &args, &recorded, &notes));
    };
    let (files_text, notes) = conversation.embed(ctx, &files).await;
    let mut messages = vec![Message::new("system", spec.prompt.trim_end())];
    messages.extend(conversation.take_history());
    let closing = format!(
        "{record}\nThis is the final step. Give your expert analysis of everything gathered \
         in this {} so far.",
        spec.name
    );
    messages.push(Message::new("user", with_files(&closing, &files_text)));
    let request = CompletionRequest {
        thinking: None,
        model: route.model.clone(),
        messages,
        temperature: None,
    };
    let completion = ctx.call_provider(&route, request).await?;
    let model = format!("{}/{}", route.provider.name(), route.model);
    let answered = turn(
        "assistant",
        spec.name,
        completion.text.clone(),
        Some(model.clone()),
    );
    let recorded = (conversation)
        .record(ctx, vec![asked, answered], &completion.text)
        .await?;
    let mut structured = recorded.fields(&notes);
    structured["status"] = json!("analysis_complete");
    structured["step_number"] = json!(args.step_number);
    structured["total_steps"] = json!(args.total_steps);
    structured["expert_analysis"] = json!(completion.text);
    structured["model"] = json!(model);
    Ok(ToolReply {
        text: format!(
            "{} analysis by {model} (step {} of {}):\n\n{}{}",
            spec.name,
            args.step_number,
            args.total_steps,
            completion.text,
            recorded.footer(&notes)
        ),
        structured: Some(structured),
    })
}

/// The step as kept in the thread: what the model reads on the final step.
fn step_record(spec: &Spec, args: &StepArgs, own: &Map<String, Value>) -> String {
    let mut text = format!(
        "[{} step {} of {}]\nstep: {}\nfindings: {}\n",
        spec.name, args.step_number, args.total_steps, args.step, args.findings
    );
    for field in spec.fields {
        if let Some(value) = own.get(field.name) {
            text.push_str(&fields::render(field, value));
        }
    }
    text
}

/// The file paths this step names (its `Paths` fields).
fn paths(spec: &Spec, own: &Map<String, Value>) -> Vec<String> {
    (spec.fields.iter().filter(|f| f.kind == Kind::Paths))
        .filter_map(|f| own.get(f.name)?.as_array())
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// The answer to an intermediate step: recorded, and what to do next.
fn step_reply(spec: &Spec, args: &StepArgs, recorded: &Recorded, notes: &[String]) -> ToolReply {
    let next = args.step_number + 1;
    let mut text = format!(
        "{} step {} of {} recorded (no model call).\n\nNext: {}\nThen call {} again with \
         step_number {next}, your findings, and the continuation_id below; set \
         next_step_required to false on the final step, which asks the model with everything \
         gathered.",
        spec.name, args.step_number, args.total_steps, spec.between_steps, spec.name
    );
    text.push_str(&recorded.footer(notes));
    let mut structured = recorded.fields(notes);
    structured["status"] = json!("step_recorded");
    structured["step_number"] = json!(args.step_number);
    structured["total_steps"] = json!(args.total_steps);
    structured["next_step_number"] = json!(next);
    structured["next"] = json!(spec.between_steps);
    ToolReply {
        text,
        structured: Some(structured),
    }
}
