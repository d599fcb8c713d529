//! The `chat` tool: validate, open the thread (pinned while the call runs), rebuild the history
//! for the model, call the provider (with images, temperature and thinking mode), store the new
//! turns (only what was said), and reply with a continuation offer. The thread handling is
//! shared with every model-calling tool (conversation.rs).
use async_trait::async_trait;
use rmcp::model::{JsonObject, ToolAnnotations};
use rmcp::schemars::{self, JsonSchema};
use serde::Deserialize;
use serde_json::json;

use super::conversation::{
    Conversation, Question, check_text, model_metadata, thinking_note, turn, with_files,
};
use super::{
    Tool, ToolContext, ToolError, ToolReply, asks_a_model, images, parse_args, reply, schema_of,
    workdir,
};
use crate::providers::ThinkingMode;

const SYSTEM_PROMPT: &str = include_str!("prompts/chat.txt");

/// `chat` arguments: zen-mcp-server's, with the same names and types.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChatArgs {
    /// Your question, idea or request for the model. Put large content in files instead.
    pub prompt: String,
    /// Model to ask: a name from listmodels, `provider/model`, or `auto` (default: DEFAULT_MODEL).
    #[serde(default)]
    pub model: Option<String>,
    /// Thread id from an earlier reply of any zen tool, to continue that conversation.
    #[serde(default)]
    pub continuation_id: Option<String>,
    /// Sampling temperature from 0 (focused) to 1 (creative).
    #[serde(default)]
    #[schemars(range(min = 0, max = 1))]
    pub temperature: Option<f64>,
    /// Reasoning depth: minimal, low, medium, high or max; sent as the provider's reasoning
    /// setting where it has one (OpenAI reasoning models, Gemini 2.5+, OpenRouter).
    #[serde(default)]
    #[schemars(schema_with = "thinking_mode_schema")]
    pub thinking_mode: Option<ThinkingMode>,
    /// Files to include (absolute, or relative to working_directory_absolute_path); each at
    /// most 1 MiB, embedded once per conversation.
    #[serde(default)]
    pub absolute_file_paths: Vec<String>,
    /// Images for the model (png, jpeg, gif, webp): paths or data URLs, sent as image parts;
    /// refused for models that take no images.
    #[serde(default)]
    pub images: Vec<String>,
    /// Absolute path of an existing directory inside the allowed roots: relative file and
    /// image paths are resolved against it.
    #[serde(default)]
    pub working_directory_absolute_path: Option<String>,
}

/// The schema of `thinking_mode`: a string of five names.
fn thinking_mode_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "enum": ThinkingMode::NAMES,
        "description": "Reasoning depth: minimal, low, medium, high or max; sent as the \
                        provider's reasoning setting where it has one.",
    })
}

/// The chat tool.
pub(crate) struct Chat;

#[async_trait]
impl Tool for Chat {
    fn name(&self) -> &'static str {
        "chat"
    }

    fn description(&self) -> &'static str {
        "Ask an AI model: a general chat and thinking partner. Replies carry a continuation_id; \
         pass it back to continue the conversation with its history."
    }

    fn input_schema(&self) -> JsonObject {
        schema_of::<ChatArgs>()
    }

    fn output_schema(&self) -> JsonObject {
        reply::thread_output_schema(json!({"model": {"type": "string"}}))
    }

    fn annotations(&self) -> ToolAnnotations {
        asks_a_model("Chat with a model")
    }

    async fn call(
        &self,
        ctx: &ToolContext,
        arguments: Option<JsonObject>,
    ) -> Result<ToolReply, ToolError> {
        run(ctx, parse_args("chat", arguments)?).await
    }
}

/// Run one chat call.
pub(crate) async fn run(ctx: &ToolContext, args: ChatArgs) -> Result<ToolReply, ToolError> {
    check_text("chat", "prompt", &args.prompt, &ctx.config.memory)?;
    if let Some(t) = args.temperature
        && !(0.0..=1.0).contains(&t)
    {
        return Err(ToolError::bad_field(
            "chat",
            "temperature",
            format!("{t} is outside 0 to 1"),
        ));
    }
    let route = (ctx.registry.resolve(args.model.as_deref())).map_err(ToolError::bad_input)?;
    let base = workdir::base(ctx, "chat", args.working_directory_absolute_path.as_deref()).await?;
    let files = workdir::resolve(base.as_deref(), &args.absolute_file_paths);
    let image_refs = workdir::resolve(base.as_deref(), &args.images);
    let image_urls = images::load(ctx, "chat", &image_refs, &route).await?;
    let mut conversation =
        Conversation::open(ctx, "chat", args.continuation_id.as_deref(), 2).await?;
    let (files_text, mut notes) = conversation.embed(ctx, &files).await;
    notes.extend(thinking_note(&route, args.thinking_mode));
    let question = Question {
        system: SYSTEM_PROMPT,
        text: with_files(&args.prompt, &files_text),
        images: image_urls,
        temperature: args.temperature,
        thinking_mode: args.thinking_mode,
    };
    let answer = conversation.ask(ctx, &route, "chat", question).await?;
    let mut asked = turn("user", "chat", with_images(args.prompt, &image_refs), None);
    asked.files = files;
    let recorded = (conversation)
        .record(ctx, vec![asked, answer.turn], &answer.text)
        .await?;
    let text = format!("{}{}", answer.text, recorded.footer(&notes));
    let mut extra = recorded.fields(&notes);
    extra["reply"] = json!(answer.text);
    extra["model"] = json!(answer.model);
    extra["metadata"] = model_metadata("chat", &route);
    Ok(ToolReply::shaped(
        recorded.status(),
        &answer.text,
        text,
        extra,
    ))
}

/// The prompt as kept in the thread: the images it came with are named (their bytes went to
/// the model once and are not kept).
fn with_images(prompt: String, images: &[String]) -> String {
    if images.is_empty() {
        return prompt;
    }
    let names: Vec<&str> = (images.iter())
        .map(|i| {
            if i.starts_with("data:") {
                "(a data URL)"
            } else {
                i.as_str()
            }
        })
        .collect();
    format!(
        "{prompt}\n[images sent with this message: {}]",
        names.join(", ")
    )
}
