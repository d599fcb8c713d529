//! The `apilookup` tool: no model call. It tells the calling assistant how to find current API
//! documentation (its own training data is older than the libraries it is asked about).
use async_trait::async_trait;
use rmcp::model::{JsonObject, ToolAnnotations};
use rmcp::schemars::{self, JsonSchema};
use serde::Deserialize;
use serde_json::json;

use super::conversation::check_text;
use super::{
    Tool, ToolContext, ToolError, ToolReply, parse_args, read_only_local, reply, schema_of,
};

const GUIDE: &str = include_str!("prompts/apilookup.txt");

/// `apilookup` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApiLookupArgs {
    /// The API, library, SDK or version to look up, e.g. "tokio 1.x select! cancellation".
    pub prompt: String,
}

/// The apilookup tool.
pub(crate) struct ApiLookup;

#[async_trait]
impl Tool for ApiLookup {
    fn name(&self) -> &'static str {
        "apilookup"
    }

    fn description(&self) -> &'static str {
        "Before using or advising on an API, SDK or library version, get instructions for \
         looking up its current documentation (latest version, breaking changes, deprecations) \
         with your own search tools, instead of relying on possibly outdated memory. No model \
         is called."
    }

    fn input_schema(&self) -> JsonObject {
        schema_of::<ApiLookupArgs>()
    }

    fn output_schema(&self) -> JsonObject {
        reply::output_schema(json!({"instructions": {"type": "string"}}))
    }

    fn annotations(&self) -> ToolAnnotations {
        read_only_local("Look up current API docs")
    }

    async fn call(
        &self,
        ctx: &ToolContext,
        arguments: Option<JsonObject>,
    ) -> Result<ToolReply, ToolError> {
        let args: ApiLookupArgs = parse_args("apilookup", arguments)?;
        check_text("apilookup", "prompt", &args.prompt, &ctx.config.memory)?;
        let today = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let text = format!(
            "Look up: {}\nToday is {} (UTC).\n\n{}",
            args.prompt.trim(),
            &today[..10],
            GUIDE.trim_end()
        );
        let extra = json!({"query": args.prompt, "user_prompt": args.prompt, "instructions": text});
        // zen-mcp-server's status for this reply.
        Ok(ToolReply::shaped(
            "web_lookup_needed",
            &text,
            text.clone(),
            extra,
        ))
    }
}
