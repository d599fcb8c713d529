//! The `listmodels` tool: the configured providers, their models and limits, and how to enable
//! the others.
use async_trait::async_trait;
use rmcp::model::{JsonObject, ToolAnnotations};
use serde_json::{Value, json};

use super::{
    NoArgs, Tool, ToolContext, ToolError, ToolReply, empty_schema, parse_args, read_only_local,
    reply,
};

/// The listmodels tool.
pub(crate) struct ListModels;

#[async_trait]
impl Tool for ListModels {
    fn name(&self) -> &'static str {
        "listmodels"
    }

    fn description(&self) -> &'static str {
        "List the configured providers, their models and limits."
    }

    fn input_schema(&self) -> JsonObject {
        empty_schema()
    }

    fn output_schema(&self) -> JsonObject {
        reply::output_schema(json!({"providers": {"type": "array"}}))
    }

    fn annotations(&self) -> ToolAnnotations {
        read_only_local("List models")
    }

    async fn call(
        &self,
        ctx: &ToolContext,
        arguments: Option<JsonObject>,
    ) -> Result<ToolReply, ToolError> {
        parse_args::<NoArgs>("listmodels", arguments)?;
        Ok(ToolReply::json(listmodels(ctx)))
    }
}

fn listmodels(ctx: &ToolContext) -> Value {
    let providers: Vec<Value> = ctx
        .registry
        .providers()
        .iter()
        .map(|p| {
            json!({
                "provider": p.name(),
                "concurrency_limit": ctx.config.limits.provider_limit(p.name()),
                "models": p.models(),
            })
        })
        .collect();
    let configured: Vec<&str> = ctx.registry.providers().iter().map(|p| p.name()).collect();
    let unconfigured: Vec<Value> = [
        ("openai", "OPENAI_API_KEY"),
        ("gemini", "GEMINI_API_KEY"),
        ("openrouter", "OPENROUTER_API_KEY"),
        ("custom", "CUSTOM_API_URL"),
    ]
    .into_iter()
    .filter(|(name, _)| !configured.contains(name))
    .map(|(name, var)| json!({ "provider": name, "enable_with": var }))
    .collect();
    let default = ctx
        .registry
        .resolve(None)
        .map(|r| format!("{}/{}", r.provider.name(), r.model))
        .unwrap_or_default();
    json!({
        "default_model": ctx.registry.default_model(),
        "auto_resolves_to": default,
        "providers": providers,
        "not_configured": unconfigured,
    })
}
