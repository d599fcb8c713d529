//! The `listmodels` tool: the configured providers, their models (with aliases and what each
//! takes: images, temperature, a reasoning setting), the allowed-model lists in force, and how
//! to turn the other providers on: as short lines a person reads, and in full, as data, in
//! `structuredContent`.
use std::fmt::Write as _;

use async_trait::async_trait;
use rmcp::model::{JsonObject, ToolAnnotations};
use serde_json::{Value, json};

use super::{
    NoArgs, Tool, ToolContext, ToolError, ToolReply, empty_schema, parse_args, read_only_local,
    reply,
};
use crate::providers::setup::KNOWN;
use crate::providers::{ModelInfo, Registry, TemperatureRule};

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
        reply::output_schema(json!({
            "default_model": {"type": "string"},
            "auto_resolves_to": {"type": "string"},
            "default_model_problem": {"type": "string"},
            "providers": {"type": "array"},
            "not_configured": {"type": "array"},
        }))
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
        let value = listmodels(ctx);
        let text = summary(ctx, &value);
        Ok(ToolReply::shaped("success", &text, text.clone(), value))
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

/// The reply's text: the default model (or why it cannot be served) first, then each provider
/// with its models one a line, then how to turn on the others.
fn summary(ctx: &ToolContext, value: &Value) -> String {
    let registry = &ctx.registry;
    let mut text = String::new();
    if let Some(problem) = registry.default_problem() {
        let _ = writeln!(text, "{problem}\n");
    } else {
        let resolved = value["auto_resolves_to"].as_str().unwrap_or_default();
        let _ = writeln!(
            text,
            "Default model: {} (a call that names no model goes to {resolved})\n",
            registry.default_model()
        );
    }
    for provider in registry.providers() {
        let name = provider.name();
        let _ = writeln!(
            text,
            "{name}, up to {} calls at once:",
            ctx.config.limits.provider_limit(name)
        );
        for model in registry.models_of(name) {
            let _ = writeln!(text, "  {}", model_line(model));
        }
        provider_footer(&mut text, registry, name);
    }
    let others: Vec<String> = (value["not_configured"].as_array().into_iter().flatten())
        .map(|p| {
            let name = p["provider"].as_str().unwrap_or_default();
            let var = p["enable_with"].as_str().unwrap_or_default();
            format!("{name} ({var})")
        })
        .collect();
    if !others.is_empty() {
        let _ = write!(
            text,
            "Not configured; set to turn on: {}.",
            others.join(", ")
        );
    }
    text.trim_end().to_string()
}

/// A provider's last lines: other names it takes, and its allowed-model list when one applies.
fn provider_footer(text: &mut String, registry: &Registry, name: &str) {
    let _ = writeln!(text, "  any other model of {name}: {name}/<model>");
    if let Some((var, names)) = registry.allowed_models(name) {
        let _ = writeln!(
            text,
            "  only these are allowed ({var}): {}",
            names.join(", ")
        );
    }
    text.push('\n');
}

/// One model as a person scans it: name, aliases, window, and what it takes.
fn model_line(model: &ModelInfo) -> String {
    let c = &model.capabilities;
    let mut line = model.name.clone();
    if !model.aliases.is_empty() {
        let _ = write!(line, " (or {})", model.aliases.join(", "));
    }
    let _ = write!(
        line,
        ": {} context, {} out",
        tokens(c.context_window),
        tokens(c.max_output_tokens)
    );
    if c.supports_images {
        let _ = write!(line, "; images up to {} MB", c.max_image_size_mb);
    }
    match (c.supports_temperature, c.temperature) {
        (false, _) => line.push_str("; no temperature"),
        (true, TemperatureRule::Fixed { value }) => {
            let _ = write!(line, "; temperature fixed at {value}");
        }
        (true, TemperatureRule::Range { min, max }) => {
            let _ = write!(line, "; temperature {min} to {max}");
        }
    }
    if c.reasoning.is_some() {
        line.push_str("; takes thinking_mode");
    }
    line
}

/// A token count, short: `400K`, `1M`, `1.05M`, `512`.
fn tokens(n: u64) -> String {
    let short = |value: f64, unit: &str| {
        let text = format!("{value:.2}");
        format!("{}{unit}", text.trim_end_matches('0').trim_end_matches('.'))
    };
    match n {
        1_000_000.. => short(n as f64 / 1e6, "M"),
        1_000.. => short((n as f64 / 1e3).round(), "K"),
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{Capabilities, Reasoning};

    #[test]
    fn a_model_line_says_what_the_model_takes() {
        let mut caps = Capabilities::text(400_000, 128_000);
        caps.supports_images = true;
        caps.max_image_size_mb = 20.0;
        caps.supports_temperature = false;
        caps.reasoning = Some(Reasoning::EffortWithMinimal);
        let model = ModelInfo::new("gpt-5", caps).with_aliases(&["gpt5"]);
        assert_eq!(
            model_line(&model),
            "gpt-5 (or gpt5): 400K context, 128K out; images up to 20 MB; no temperature; \
             takes thinking_mode"
        );
        let plain = ModelInfo::new("llama", Capabilities::GENERIC);
        assert_eq!(
            model_line(&plain),
            "llama: 33K context, 8K out; temperature 0 to 2"
        );
        assert_eq!(tokens(1_048_576), "1.05M");
        assert_eq!(tokens(1_000_000), "1M");
        assert_eq!(tokens(512), "512");
    }
}
