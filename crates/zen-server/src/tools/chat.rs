//! The `chat` tool: validate, open the thread (pinned while the call runs), rebuild the history
//! for the model, call the provider, store the new turns (only what was said), and reply with a
//! continuation offer. The thread handling is shared with every model-calling tool
//! (conversation.rs).
use async_trait::async_trait;
use rmcp::model::{JsonObject, ToolAnnotations};
use rmcp::schemars::{self, JsonSchema};
use serde::Deserialize;
use serde_json::json;

use super::conversation::{Conversation, check_text, turn, with_files};
use super::{Tool, ToolContext, ToolError, ToolReply, asks_a_model, parse_args, schema_of};
use crate::providers::{CompletionRequest, Message};

const SYSTEM_PROMPT: &str = include_str!("prompts/chat.txt");

/// `chat` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChatArgs {
    /// Your question, idea or request for the model. Put large content in files instead.
    pub prompt: String,
    /// Model to ask: a name from listmodels, `provider/model`, or `auto` (default: DEFAULT_MODEL).
    #[serde(default)]
    pub model: Option<String>,
    /// Thread id from an earlier chat reply, to continue that conversation.
    #[serde(default)]
    pub continuation_id: Option<String>,
    /// Sampling temperature from 0 (focused) to 1 (creative).
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Absolute paths of files to include; each at most 1 MiB, embedded once per conversation.
    #[serde(default)]
    pub absolute_file_paths: Vec<String>,
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
    let mut conversation =
        Conversation::open(ctx, "chat", args.continuation_id.as_deref(), 2).await?;
    let (files_text, notes) = conversation.embed(ctx, &args.absolute_file_paths).await;
    let mut messages = vec![Message::new("system", SYSTEM_PROMPT.trim_end())];
    messages.extend(conversation.take_history());
    messages.push(Message::new("user", with_files(&args.prompt, &files_text)));
    let request = CompletionRequest {
        thinking: None,
        model: route.model.clone(),
        messages,
        temperature: args.temperature,
    };
    let completion = ctx.call_provider(&route, request).await?;

    let model_label = format!("{}/{}", route.provider.name(), route.model);
    let mut asked = turn("user", "chat", args.prompt, None);
    asked.files = args.absolute_file_paths;
    let answered = turn(
        "assistant",
        "chat",
        completion.text.clone(),
        Some(model_label.clone()),
    );
    let recorded = (conversation)
        .record(ctx, vec![asked, answered], &completion.text)
        .await?;
    let text = format!("{}{}", completion.text, recorded.footer(&notes));
    let mut structured = recorded.fields(&notes);
    structured["reply"] = json!(completion.text);
    structured["model"] = json!(model_label);
    Ok(ToolReply {
        text,
        structured: Some(structured),
    })
}
