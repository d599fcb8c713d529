//! The `challenge` tool: no model call. It hands a statement back to the calling assistant,
//! framed so that it re-examines the statement critically instead of agreeing by reflex.
use async_trait::async_trait;
use rmcp::model::{JsonObject, ToolAnnotations};
use rmcp::schemars::{self, JsonSchema};
use serde::Deserialize;
use serde_json::json;

use super::conversation::check_text;
use super::{
    Tool, ToolContext, ToolError, ToolReply, parse_args, read_only_local, reply, schema_of,
};

const FRAME: &str = include_str!("prompts/challenge.txt");

/// `challenge` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChallengeArgs {
    /// The statement, claim or pushback to examine critically (e.g. what the user just said).
    pub prompt: String,
}

/// The challenge tool.
pub(crate) struct Challenge;

#[async_trait]
impl Tool for Challenge {
    fn name(&self) -> &'static str {
        "challenge"
    }

    fn description(&self) -> &'static str {
        "Re-examine a statement before agreeing with it: when the user disagrees or claims \
         something, pass their words here and get them back framed for a critical check \
         (is it right, what is the evidence, what would change your mind). No model is called."
    }

    fn input_schema(&self) -> JsonObject {
        schema_of::<ChallengeArgs>()
    }

    fn output_schema(&self) -> JsonObject {
        reply::output_schema(json!({"challenge_prompt": {"type": "string"}}))
    }

    fn annotations(&self) -> ToolAnnotations {
        read_only_local("Challenge a statement")
    }

    async fn call(
        &self,
        ctx: &ToolContext,
        arguments: Option<JsonObject>,
    ) -> Result<ToolReply, ToolError> {
        let args: ChallengeArgs = parse_args("challenge", arguments)?;
        check_text("challenge", "prompt", &args.prompt, &ctx.config.memory)?;
        let text = format!(
            "{}\n\nThe statement to examine:\n\"\"\"\n{}\n\"\"\"",
            FRAME.trim_end(),
            args.prompt.trim()
        );
        let extra = json!({"original_statement": args.prompt, "challenge_prompt": text});
        // zen-mcp-server's status for this reply.
        Ok(ToolReply::shaped(
            "challenge_accepted",
            &text,
            text.clone(),
            extra,
        ))
    }
}
