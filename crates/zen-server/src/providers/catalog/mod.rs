//! Model records in zen-mcp-server's model file format (`custom_models.json`,
//! `openrouter_models.json`, `azure_models.json` and the others): `{"models": [{"model_name",
//! "aliases", "context_window", "max_output_tokens", "supports_images", "max_image_size_mb",
//! "supports_temperature", "temperature_constraint", "supports_extended_thinking", …}]}`. zen's
//! own built-in lists (the JSON files beside this one) are in the same format and read by the
//! same parser; a `*_MODELS_CONFIG_PATH` file replaces a provider's built-in list, as it does in
//! zen-mcp-server.
use std::path::Path;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::{Capabilities, ModelInfo, Reasoning, TemperatureRule};

/// The largest model file read: the biggest real one is tens of kilobytes.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// A file's top level: only `models` is read (`_README` and the rest are documentation).
#[derive(Deserialize)]
struct File {
    /// The model records.
    #[serde(default)]
    models: Vec<Entry>,
}

/// Aliases as a list, or as one comma-separated string (both are accepted upstream).
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Aliases {
    #[default]
    None,
    List(Vec<String>),
    Text(String),
}

/// One model record. Every field zen-mcp-server knows is accepted; those zen has no use for are
/// read and ignored, and a field nobody knows (a typo) is refused, naming it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(
    dead_code,
    reason = "the upstream fields zen has no use for are read and dropped"
)]
struct Entry {
    model_name: String,
    #[serde(default)]
    aliases: Aliases,
    description: Option<String>,
    context_window: Option<u64>,
    max_output_tokens: Option<u64>,
    supports_images: Option<bool>,
    max_image_size_mb: Option<f64>,
    supports_temperature: Option<bool>,
    temperature_constraint: Option<String>,
    supports_extended_thinking: Option<bool>,
    /// Azure: the deployment the model is called through.
    deployment: Option<String>,
    deployment_name: Option<String>,
    /// The older combined custom_models.json: true for the custom endpoint's models, false or
    /// absent for OpenRouter's.
    is_custom: Option<bool>,
    // Known upstream, not used by zen.
    friendly_name: Option<IgnoredAny>,
    intelligence_score: Option<IgnoredAny>,
    max_thinking_tokens: Option<IgnoredAny>,
    supports_system_prompts: Option<IgnoredAny>,
    supports_streaming: Option<IgnoredAny>,
    supports_function_calling: Option<IgnoredAny>,
    supports_json_mode: Option<IgnoredAny>,
    supports_responses_api: Option<IgnoredAny>,
    use_openai_response_api: Option<IgnoredAny>,
    default_reasoning_effort: Option<IgnoredAny>,
    allow_code_generation: Option<IgnoredAny>,
    provider: Option<IgnoredAny>,
}

/// One model as a file describes it.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// The model.
    pub model: ModelInfo,
    /// `is_custom` as written (the older combined custom_models.json splits on it).
    pub is_custom: Option<bool>,
}

/// The image budget assumed for a model that takes images but names no size.
const DEFAULT_IMAGE_MB: f64 = 20.0;

/// How a provider's models take `thinking_mode` when their record says
/// `supports_extended_thinking`.
fn reasoning_style(provider: &str, model: &str) -> Option<Reasoning> {
    let model = model.to_ascii_lowercase();
    match provider {
        "openai" | "azure" if model.starts_with("gpt-5") => Some(Reasoning::EffortWithMinimal),
        "openrouter" => Some(Reasoning::OpenRouter),
        // Grok 4 always reasons and refuses reasoning_effort; grok-3-mini takes low or high.
        "xai" if model.starts_with("grok-3-mini") => Some(Reasoning::EffortLowHigh),
        // The other Grok models, and DIAL deployments, which think or not by their name (the
        // `-with-thinking` ones).
        "xai" | "dial" => None,
        _ => Some(Reasoning::Effort),
    }
}

impl Entry {
    fn into_record(self, provider: &str) -> Result<Record, String> {
        let name = self.model_name.trim().to_string();
        if name.is_empty() {
            return Err("model_name is empty".into());
        }
        let temperature = match self.temperature_constraint.as_deref().map(str::trim) {
            None | Some("range" | "discrete") => TemperatureRule::STANDARD,
            Some("fixed") => TemperatureRule::Fixed { value: 1.0 },
            Some(other) => {
                return Err(format!(
                    "{name}: temperature_constraint '{other}' is not fixed, range or discrete"
                ));
            }
        };
        let supports_images = self.supports_images.unwrap_or(false);
        let capabilities = Capabilities {
            context_window: self.context_window.filter(|n| *n > 0).unwrap_or(32_768),
            max_output_tokens: self.max_output_tokens.filter(|n| *n > 0).unwrap_or(8_192),
            supports_images,
            max_image_size_mb: match self.max_image_size_mb {
                Some(mb) if mb.is_finite() && mb > 0.0 => mb,
                _ if supports_images => DEFAULT_IMAGE_MB,
                _ => 0.0,
            },
            supports_temperature: self.supports_temperature.unwrap_or(true),
            temperature,
            reasoning: if self.supports_extended_thinking.unwrap_or(false) {
                reasoning_style(provider, &name)
            } else {
                None
            },
        };
        let aliases = match self.aliases {
            Aliases::None => Vec::new(),
            Aliases::List(list) => list,
            Aliases::Text(text) => text.split(',').map(str::to_string).collect(),
        };
        let mut model = ModelInfo::new(name, capabilities);
        model.aliases = (aliases.into_iter())
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty() && !a.eq_ignore_ascii_case(&model.name))
            .collect();
        model.description = self.description.filter(|d| !d.trim().is_empty());
        model.deployment = (self.deployment.or(self.deployment_name))
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty());
        Ok(Record {
            model,
            is_custom: self.is_custom,
        })
    }
}

/// Parse a model file's text for `provider`; `source` names it in errors.
pub(crate) fn parse(text: &str, provider: &str, source: &str) -> Result<Vec<Record>, String> {
    let deserializer = &mut serde_json::Deserializer::from_str(text);
    let file: File = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let at = e.path().to_string();
        format!("{source}: {at}: {}", e.into_inner())
    })?;
    let mut records = Vec::with_capacity(file.models.len());
    for (i, entry) in file.models.into_iter().enumerate() {
        records.push(
            (entry.into_record(provider)).map_err(|e| format!("{source}: models[{i}]: {e}"))?,
        );
    }
    check_unique_names(&records).map_err(|e| format!("{source}: {e}"))?;
    Ok(records)
}

/// Every name and alias routes to one model: a repeat would make routing depend on file order.
fn check_unique_names(records: &[Record]) -> Result<(), String> {
    let mut seen: Vec<(String, &str)> = Vec::new();
    for record in records {
        let model = &record.model;
        for name in std::iter::once(&model.name).chain(&model.aliases) {
            let key = name.to_ascii_lowercase();
            if let Some((_, owner)) = seen.iter().find(|(k, _)| *k == key) {
                return Err(format!(
                    "'{name}' names both '{owner}' and '{}'; each model name and alias must be \
                     unique (compared without regard to case)",
                    model.name
                ));
            }
            seen.push((key, &model.name));
        }
    }
    Ok(())
}

/// Read and parse the model file at `path` (named by `var` in errors, with the path).
pub(crate) fn load(path: &Path, provider: &str, var: &str) -> anyhow::Result<Vec<Record>> {
    use std::io::Read;
    let source = format!("{var}={}", path.display());
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("{source}: cannot open the model file: {e}"))?;
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| anyhow::anyhow!("{source}: cannot read the model file: {e}"))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        anyhow::bail!(
            "{source}: the model file is larger than {}; is it the right file?",
            zen_model::units::bytes(MAX_FILE_BYTES)
        );
    }
    parse(&text, provider, &source).map_err(anyhow::Error::msg)
}

/// zen's built-in list of a provider's models (none for `azure` and `custom`, whose models are
/// the user's own).
pub(crate) fn builtin(provider: &str) -> Vec<ModelInfo> {
    let text = match provider {
        "openai" => include_str!("openai.json"),
        "gemini" => include_str!("gemini.json"),
        "xai" => include_str!("xai.json"),
        "dial" => include_str!("dial.json"),
        "openrouter" => include_str!("openrouter.json"),
        _ => return Vec::new(),
    };
    let records = parse(text, provider, provider).expect("the built-in model lists parse");
    records.into_iter().map(|r| r.model).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_list_parses_with_unique_names() {
        for provider in ["openai", "gemini", "xai", "dial", "openrouter"] {
            let models = builtin(provider);
            assert!(models.len() >= 3, "{provider}");
        }
        let openai = builtin("openai");
        let gpt5 = openai.iter().find(|m| m.name == "gpt-5").unwrap();
        assert_eq!(
            gpt5.capabilities.reasoning,
            Some(Reasoning::EffortWithMinimal)
        );
        assert!(!gpt5.capabilities.supports_temperature);
        let o3 = openai.iter().find(|m| m.name == "o3").unwrap();
        assert_eq!(o3.capabilities.reasoning, Some(Reasoning::Effort));
        let grok = builtin("xai");
        assert_eq!(
            grok[0].capabilities.reasoning, None,
            "grok-4 takes no setting"
        );
    }

    #[test]
    fn an_upstream_custom_models_file_reads_with_its_capabilities() {
        let text = r#"{
          "_README": {"description": "documentation is ignored"},
          "models": [
            {"model_name": "llama3.2", "aliases": ["local-llama", "Local"], "context_window": 128000,
             "max_output_tokens": 64000, "supports_extended_thinking": false, "supports_json_mode": false,
             "supports_function_calling": false, "supports_images": false, "max_image_size_mb": 0.0,
             "is_custom": true, "description": "Local Llama"},
            {"model_name": "vision", "aliases": "eye, seer", "supports_images": true,
             "supports_temperature": false, "temperature_constraint": "fixed", "intelligence_score": 12,
             "friendly_name": "Vision"}
          ]}"#;
        let records = parse(text, "custom", "custom_models.json").unwrap();
        let llama = &records[0].model;
        assert_eq!(llama.aliases, ["local-llama", "Local"]);
        assert_eq!(llama.capabilities.context_window, 128_000);
        assert!(!llama.capabilities.supports_images);
        assert_eq!(records[0].is_custom, Some(true));
        let vision = &records[1].model;
        assert_eq!(vision.aliases, ["eye", "seer"]);
        assert!(vision.capabilities.supports_images);
        assert_eq!(vision.capabilities.max_image_size_mb, DEFAULT_IMAGE_MB);
        assert_eq!(vision.capabilities.temperature_for(Some(0.2)), None);
        assert_eq!(
            vision.capabilities.context_window, 32_768,
            "the generic default"
        );
    }

    #[test]
    fn typos_repeats_and_bad_values_are_refused_naming_the_place() {
        let err = |text: &str| parse(text, "custom", "f.json").unwrap_err();
        let typo = err(r#"{"models": [{"model_name": "a", "context_windw": 5}]}"#);
        assert!(
            typo.contains("f.json") && typo.contains("models[0]") && typo.contains("context_windw"),
            "{typo}"
        );
        let repeat = err(
            r#"{"models": [{"model_name": "a", "aliases": ["x"]}, {"model_name": "b", "aliases": ["X"]}]}"#,
        );
        assert!(repeat.contains("'X' names both 'a' and 'b'"), "{repeat}");
        let constraint =
            err(r#"{"models": [{"model_name": "a", "temperature_constraint": "loose"}]}"#);
        assert!(
            constraint.contains("models[0]: a: temperature_constraint 'loose'"),
            "{constraint}"
        );
        assert!(err(r#"{"models": [{"model_name": " "}]}"#).contains("model_name is empty"));
        assert!(err("not json").contains("f.json"));
    }
}
