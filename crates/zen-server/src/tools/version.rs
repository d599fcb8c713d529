//! The `version` tool: zen's version, uptime and a configuration summary.
use async_trait::async_trait;
use rmcp::model::{JsonObject, ToolAnnotations};
use serde_json::{Value, json};

use super::{
    NoArgs, Tool, ToolContext, ToolError, ToolReply, empty_schema, parse_args, read_only_local,
    reply,
};

/// The version tool.
pub(crate) struct Version;

#[async_trait]
impl Tool for Version {
    fn name(&self) -> &'static str {
        "version"
    }

    fn description(&self) -> &'static str {
        "zen's version, uptime and configuration summary (no network access)."
    }

    fn input_schema(&self) -> JsonObject {
        empty_schema()
    }

    fn output_schema(&self) -> JsonObject {
        reply::output_schema(json!({"version": {"type": "string"}}))
    }

    fn annotations(&self) -> ToolAnnotations {
        read_only_local("Version")
    }

    async fn call(
        &self,
        ctx: &ToolContext,
        arguments: Option<JsonObject>,
    ) -> Result<ToolReply, ToolError> {
        parse_args::<NoArgs>("version", arguments)?;
        Ok(ToolReply::json(version(ctx)))
    }
}

fn version(ctx: &ToolContext) -> Value {
    let c = &ctx.config;
    let server = ctx.server_info();
    json!({
        "name": "zen",
        "version": zen_model::VERSION,
        "uptime_secs": server.uptime_secs,
        "pid": server.pid,
        "transport": server.transport,
        "config": {
            "default_model": c.providers.default_model,
            "providers": ctx.registry.providers().iter().map(|p| p.name()).collect::<Vec<_>>(),
            "max_concurrent_requests": c.limits.max_concurrent_requests,
            "queue_timeout_secs": c.limits.queue_timeout.as_secs_f64(),
            "max_retries": c.providers.max_retries,
            "conversation_timeout_hours": c.memory.conversation_timeout_hours,
            "max_conversation_turns": c.memory.max_conversation_turns,
            "conversation_memory_limit_mb": c.memory.conversation_memory_limit_mb,
            "memory_limit_mb": c.memory.memory_limit_mb,
            "telemetry": !c.transport.no_telemetry,
        },
    })
}
