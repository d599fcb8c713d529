//! The `consensus` tool, in both shapes a caller may use:
//! - zen's one call, `{prompt, models}`: every model is asked at once and the reply has every
//!   answer (or its error) and latency, then a short side-by-side;
//! - zen-mcp-server's steps (`step`, `step_number`, `total_steps`, `next_step_required`,
//!   `findings`, `models`…): step 1 asks every model at once too, and answers with the first
//!   model's view; each later step returns the next answer, already in hand, without a wait.
//!
//! Either way one call (or one workflow) is one thread, continued by any tool.
use async_trait::async_trait;
use rmcp::model::{JsonObject, ToolAnnotations};
use serde_json::{Map, Value, json};

use crate::metrics::CallOutcome;
use crate::tools::conversation::{Conversation, Recorded, check_text, turn, with_files};
use crate::tools::workflow::fields::{self, Field, Kind};
use crate::tools::{Tool, ToolContext, ToolError, ToolReply, asks_a_model, images, reply};

mod ask;
mod steps;

use ask::{ModelChoice, Opinion, Question, Stance};

/// zen's one-call fields.
const ONE_CALL: &[Field] = &[
    Field::optional(
        "prompt",
        Kind::Text,
        "One call: the proposal or question every model weighs (then leave the step fields out).",
    ),
    Field::optional(
        "absolute_file_paths",
        Kind::Paths,
        "One call: absolute paths of files every model sees; each at most 1 MiB.",
    ),
];

/// The fields of both shapes.
const SHARED: &[Field] = &[
    Field::optional(
        "models",
        Kind::Objects,
        "2 to 8 models, each {model, stance: for|against|neutral, stance_prompt}; a model may \
         appear twice with different stances. Default: the default model, for and against.",
    ),
    Field::optional(
        "continuation_id",
        Kind::Text,
        "A thread id: from step 1's reply (steps 2+), or any zen reply to weigh with its history.",
    ),
    Field::optional(
        "images",
        Kind::Images,
        "Image paths or data URLs every model sees (each model must take images).",
    ),
    Field::optional(
        "use_assistant_model",
        Kind::Bool,
        "Accepted for zen-mcp-server's callers; consensus always asks its models.",
    ),
];

/// zen-mcp-server's step fields.
const STEPS: &[Field] = &[
    Field::optional(
        "step",
        Kind::Text,
        "Steps: at step 1 the proposal every model is asked; later, your notes on the answer \
         just read (not sent to any model).",
    ),
    Field::optional(
        "step_number",
        Kind::Integer { min: 1 },
        "Steps: 1 asks every model at once; step n returns the n-th model's answer.",
    ),
    Field::optional(
        "total_steps",
        Kind::Integer { min: 1 },
        "Steps: the number of models (zen sets it from models at step 1).",
    ),
    Field::optional(
        "next_step_required",
        Kind::Bool,
        "Steps: true while answers remain to read; false at step 1 returns every answer at once.",
    ),
    Field::optional(
        "findings",
        Kind::Text,
        "Steps: your own analysis (step 1) or a summary of the answer just read.",
    ),
    Field::optional(
        "relevant_files",
        Kind::Paths,
        "Steps: absolute paths of files every model sees.",
    ),
    Field::optional(
        "current_model_index",
        Kind::Integer { min: 0 },
        "Steps: accepted; zen keeps the position itself.",
    ),
    Field::optional(
        "model_responses",
        Kind::Objects,
        "Steps: accepted; zen keeps the answers in the thread itself.",
    ),
];

const FIELDS: &[&[Field]] = &[ONE_CALL, SHARED, STEPS];

/// The consensus tool.
pub(crate) struct Consensus;

#[async_trait]
impl Tool for Consensus {
    fn name(&self) -> &'static str {
        "consensus"
    }

    fn description(&self) -> &'static str {
        "Ask several models the same question at once, each with a stance (for, against, \
         neutral), and get every answer with its latency side by side, plus where they agree \
         and differ. One call takes {prompt, models}; zen-mcp-server's step shape (step, \
         step_number, total_steps, next_step_required, findings, models) works too, and its \
         step 1 asks all models at once. One failing model does not fail the call."
    }

    fn input_schema(&self) -> JsonObject {
        let mut schema = fields::tool_schema(FIELDS);
        let item = json!({
            "type": "object",
            "properties": {
                "model": {"type": "string"},
                "stance": {"type": "string", "enum": Stance::NAMES},
                "stance_prompt": {"type": "string"},
            },
            "required": ["model"],
        });
        if let Some(models) = schema
            .get_mut("properties")
            .and_then(|p| p.get_mut("models"))
        {
            models["items"] = item;
        }
        schema
    }

    fn output_schema(&self) -> JsonObject {
        reply::thread_output_schema(json!({
            "opinions": {"type": "array"},
            "step_number": {"type": "integer"},
            "model_response": {"type": "object"},
        }))
    }

    fn annotations(&self) -> ToolAnnotations {
        asks_a_model("Consensus of several models")
    }

    async fn call(
        &self,
        ctx: &ToolContext,
        arguments: Option<JsonObject>,
    ) -> Result<ToolReply, ToolError> {
        let args = fields::check_all("consensus", FIELDS, arguments.unwrap_or_default())?;
        let models = match args.get("models") {
            Some(models) => parse_models(models)?,
            None => ask::default_choices(ctx),
        };
        match (args.contains_key("prompt"), args.contains_key("step")) {
            (true, false) => {
                only_shape(&args, ONE_CALL, "prompt")?;
                one_call(ctx, &args, models).await
            }
            (false, true) => {
                only_shape(&args, STEPS, "step")?;
                steps::run(ctx, &args, models).await
            }
            (true, true) => Err(ToolError::bad_field(
                "consensus",
                "step",
                "give either prompt (one call) or step (zen-mcp-server's steps), not both",
            )),
            (false, false) => Err(ToolError::bad_field(
                "consensus",
                "prompt",
                "missing: give prompt (and models) for one call, or step, step_number, \
                 total_steps, next_step_required and findings for the step shape",
            )),
        }
    }
}

/// Refuse a field of the other shape, naming it.
fn only_shape(args: &Map<String, Value>, own: &[Field], shape: &str) -> Result<(), ToolError> {
    let other = if shape == "prompt" { STEPS } else { ONE_CALL };
    match other.iter().find(|f| args.contains_key(f.name)) {
        Some(f) => Err(ToolError::bad_field(
            "consensus",
            f.name,
            format!(
                "belongs to the other shape; with {shape}, give {} and the shared fields",
                own.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// `models`, naming the entry and field at fault.
fn parse_models(models: &Value) -> Result<Vec<ModelChoice>, ToolError> {
    serde_path_to_error::deserialize::<_, Vec<ModelChoice>>(models).map_err(|err| {
        let path = err.path().to_string();
        ToolError::bad_field(
            "consensus",
            &format!("models{path}"),
            err.into_inner().to_string(),
        )
    })
}

/// A string argument.
fn text<'a>(args: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    args.get(name).and_then(Value::as_str)
}

/// A list-of-strings argument.
fn strings(args: &Map<String, Value>, name: &str) -> Vec<String> {
    (args
        .get(name)
        .and_then(Value::as_array)
        .into_iter()
        .flatten())
    .filter_map(|v| v.as_str().map(str::to_string))
    .collect()
}

/// What one consultation needs.
struct Consult<'a> {
    /// The proposal the models weigh.
    question: &'a str,
    /// The caller's turn as kept in the thread.
    record: String,
    /// Who to ask.
    models: &'a [ModelChoice],
    /// Files every model sees.
    files: Vec<String>,
    /// Images every model sees.
    images: Vec<String>,
    /// The thread to continue.
    continuation_id: Option<&'a str>,
}

/// Every model asked at once, the answers kept in the thread.
struct Consulted {
    /// The answers, in the order of `models`.
    opinions: Vec<Opinion>,
    /// How they were kept.
    recorded: Recorded,
    /// What the caller should know (files left out).
    notes: Vec<String>,
}

/// Ask every model at once and keep the question and the answers as turns.
async fn consult(ctx: &ToolContext, c: Consult<'_>) -> Result<Consulted, ToolError> {
    check_text("consensus", "prompt", c.question, &ctx.config.memory)?;
    let routes = ask::routes(ctx, c.models)?;
    let image_urls = match routes
        .iter()
        .enumerate()
        .min_by_key(|(_, r)| r.capabilities.max_image_bytes())
    {
        // Read once, against the smallest limit: every model gets the same images, and a
        // model that takes none refuses them (naming it) before anything is read.
        Some((i, route)) if !c.images.is_empty() => {
            images::load(ctx, "consensus", &c.images, route)
                .await
                .map_err(|e| ToolError::bad_input(format!("{} (models[{i}])", e.message)))?
        }
        _ => Vec::new(),
    };
    let new_turns = 1 + routes.len() as u32;
    let mut conversation =
        Conversation::open(ctx, "consensus", c.continuation_id, new_turns).await?;
    let (files_text, notes) = conversation.embed(ctx, &c.files).await;
    let history = conversation.take_history();
    let question = with_files(c.question, &files_text);
    let asked = Question {
        history: &history,
        text: &question,
        images: &image_urls,
    };
    let opinions = ask::ask_all(ctx, &routes, c.models, &asked).await;
    drop(history);
    if opinions.iter().all(|o| o.answer.is_none()) {
        return Err(ToolError::new(
            CallOutcome::ProviderError,
            format!("every model failed:\n{}", ask::error_lines(&opinions)),
        ));
    }
    let mut question_turn = turn("user", "consensus", c.record, None);
    question_turn.files = c.files;
    let mut turns = vec![question_turn];
    turns.extend(ask::answer_turns(&opinions));
    let recorded = conversation
        .record(ctx, turns, &ask::render(&opinions))
        .await?;
    Ok(Consulted {
        opinions,
        recorded,
        notes,
    })
}

/// zen's one call: every answer side by side.
async fn one_call(
    ctx: &ToolContext,
    args: &Map<String, Value>,
    models: Vec<ModelChoice>,
) -> Result<ToolReply, ToolError> {
    let prompt = text(args, "prompt").unwrap_or_default();
    let done = consult(
        ctx,
        Consult {
            question: prompt,
            record: prompt.to_string(),
            models: &models,
            files: strings(args, "absolute_file_paths"),
            images: strings(args, "images"),
            continuation_id: text(args, "continuation_id"),
        },
    )
    .await?;
    let body = ask::render(&done.opinions);
    let mut extra = done.recorded.fields(&done.notes);
    extra["opinions"] = json!(done.opinions);
    extra["summary"] = ask::summary_json(&done.opinions);
    let text = format!("{body}{}", done.recorded.footer(&done.notes));
    Ok(ToolReply::shaped(
        done.recorded.status(),
        &body,
        text,
        extra,
    ))
}
