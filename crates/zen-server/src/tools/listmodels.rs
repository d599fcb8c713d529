//! The `listmodels` tool: the configured providers, their models (with aliases and what each
//! takes: images, temperature, a reasoning setting), the allowed-model lists in force, and how
//! to turn the other providers on.
use async_trait::async_trait;
use rmcp::model::{JsonObject, ToolAnnotations};
use serde_json::{Value, json};

use super::{
    NoArgs, Tool, ToolContext, ToolError, ToolReply, empty_schema, parse_args, read_only_local,
    reply,
};
use crate::providers::setup::KNOWN;

/// The listmodels tool.
pub(crate) struct ListModels;

#[async_trait]
impl Tool for ListModels {
    fn name(&self) -> &'static str {
        "listmodels"
    }

    fn description(&self) -> &'static str {
        "List the configured providers, their models, aliases, limits and capabilities."
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
    let registry = &ctx.registry;
    let providers: Vec<Value> = (registry.providers().iter())
        .map(|p| {
            let mut entry = json!({
                "provider": p.name(),
                "concurrency_limit": ctx.config.limits.provider_limit(p.name()),
                "models": registry.models_of(p.name()),
                "other_models": format!("{}/<model>", p.name()),
            });
            if let Some((var, names)) = registry.allowed_models(p.name()) {
                entry["allowed_models"] = json!({ "variable": var, "models": names });
            }
            entry
        })
        .collect();
    let configured: Vec<&str> = registry.providers().iter().map(|p| p.name()).collect();
    let unconfigured: Vec<Value> = (KNOWN.iter())
        .filter(|(name, _)| !configured.contains(name))
        .map(|(name, var)| json!({ "provider": name, "enable_with": var }))
        .collect();
    let default = registry
        .resolve(None)
        .map(|r| format!("{}/{}", r.provider.name(), r.model))
        .unwrap_or_default();
    let mut answer = json!({
        "default_model": registry.default_model(),
        "auto_resolves_to": default,
        "providers": providers,
        "not_configured": unconfigured,
    });
    // First in the reply's eye: a default that cannot be served, and how to fix it.
    if let Some(problem) = registry.default_problem() {
        answer["default_model_problem"] = json!(problem);
    }
    answer
}
