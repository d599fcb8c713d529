//! Which providers the settings configure, each with its models: zen's built-in list or the
//! user's model file, as zen-mcp-server reads them. Routing between them is `registry`'s.
use std::sync::Arc;

use super::catalog::{self, Record};
use super::openai_compat::{Auth, Endpoint, OpenAiCompatible};
use super::{Capabilities, ModelInfo, Provider};
use crate::config::ProviderConfig;

/// Every model provider zen has, with the setting that turns it on, in routing order: a name two
/// providers list goes to the first (the native APIs, then custom, then OpenRouter, as in
/// zen-mcp-server).
pub(crate) const KNOWN: [(&str, &str); 7] = [
    ("openai", "OPENAI_API_KEY"),
    ("gemini", "GEMINI_API_KEY"),
    ("azure", "AZURE_OPENAI_API_KEY and AZURE_OPENAI_ENDPOINT"),
    ("xai", "XAI_API_KEY"),
    ("dial", "DIAL_API_KEY"),
    ("custom", "CUSTOM_API_URL"),
    ("openrouter", "OPENROUTER_API_KEY"),
];

/// Keys of model providers zen has no provider for (or spells differently): set, they would be
/// ignored without a word, so start names them with what to use instead.
const LACKING: [(&str, &str); 9] = [
    ("ANTHROPIC_API_KEY", "Anthropic"),
    ("MISTRAL_API_KEY", "Mistral"),
    ("GROQ_API_KEY", "Groq"),
    ("DEEPSEEK_API_KEY", "DeepSeek"),
    ("TOGETHER_API_KEY", "Together"),
    ("PERPLEXITY_API_KEY", "Perplexity"),
    ("FIREWORKS_API_KEY", "Fireworks"),
    ("COHERE_API_KEY", "Cohere"),
    ("GOOGLE_API_KEY", "Google"),
];

/// One warning line per set variable of a provider zen lacks, saying what to use instead.
/// `var` reads a variable (the process environment, or a test's own).
pub(crate) fn lacking_provider_warnings(var: impl Fn(&str) -> Option<String>) -> Vec<String> {
    (LACKING.iter())
        .filter(|(name, _)| var(name).is_some_and(|v| !v.trim().is_empty()))
        .map(|(name, who)| match *name {
            "GOOGLE_API_KEY" => format!(
                "{name} is set but zen reads Gemini's key from GEMINI_API_KEY: set that instead \
                 ({name} is ignored)"
            ),
            _ => format!(
                "{name} is set but zen has no {who} provider, so it is ignored: reach {who}'s \
                 models through OpenRouter (OPENROUTER_API_KEY) or an OpenAI-compatible endpoint \
                 (CUSTOM_API_URL with CUSTOM_API_KEY)"
            ),
        })
        .collect()
}

/// The variable naming a provider's model file.
fn models_var(provider: &str) -> &'static str {
    match provider {
        "openai" => "OPENAI_MODELS_CONFIG_PATH",
        "gemini" => "GEMINI_MODELS_CONFIG_PATH",
        "azure" => "AZURE_MODELS_CONFIG_PATH",
        "xai" => "XAI_MODELS_CONFIG_PATH",
        "dial" => "DIAL_MODELS_CONFIG_PATH",
        "openrouter" => "OPENROUTER_MODELS_CONFIG_PATH",
        _ => "CUSTOM_MODELS_CONFIG_PATH",
    }
}

/// A provider's records from its model file, when one is set.
fn file_records(config: &ProviderConfig, provider: &str) -> anyhow::Result<Option<Vec<Record>>> {
    (config.catalogs.models_file(provider))
        .map(|path| catalog::load(path, provider, models_var(provider)))
        .transpose()
}

/// A provider's models: its model file's, or zen's built-in list.
fn models(config: &ProviderConfig, provider: &str) -> anyhow::Result<Vec<ModelInfo>> {
    Ok(match file_records(config, provider)? {
        Some(records) => records.into_iter().map(|r| r.model).collect(),
        None => catalog::builtin(provider),
    })
}

/// The custom endpoint's models and, from an older combined custom_models.json (one with
/// `is_custom` entries), the OpenRouter models it also lists.
fn custom_models(config: &ProviderConfig) -> anyhow::Result<(Vec<ModelInfo>, Vec<ModelInfo>)> {
    let records = file_records(config, "custom")?.unwrap_or_default();
    let combined = records.iter().any(|r| r.is_custom == Some(true));
    let (mut custom, cloud): (Vec<Record>, Vec<Record>) =
        (records.into_iter()).partition(|r| !combined || r.is_custom == Some(true));
    // CUSTOM_MODEL_NAME is offered too, as zen-mcp-server does, unless the file lists it.
    let name = config.custom_model_name.trim();
    if !name.is_empty() && !custom.iter().any(|r| r.model.answers_to(name)) {
        let mut model = ModelInfo::new(name, Capabilities::text(32_768, 8_192));
        if !custom.iter().any(|r| r.model.answers_to("local")) {
            model.aliases.push("local".into());
        }
        custom.insert(
            0,
            Record {
                model,
                is_custom: Some(true),
            },
        );
    }
    let models = |r: Vec<Record>| r.into_iter().map(|r| r.model).collect();
    Ok((models(custom), models(cloud)))
}

/// The configured model providers (the simulated one is added by the registry), in
/// [`KNOWN`]'s order.
pub(crate) fn providers(config: &ProviderConfig) -> anyhow::Result<Vec<Arc<dyn Provider>>> {
    let key = |k: &Option<String>| k.clone().filter(|k| !k.is_empty());
    let endpoint = |name: &'static str, base_url: &str, api_key: Option<String>| Endpoint {
        name,
        base_url: base_url.to_string(),
        api_key,
        auth: Auth::Bearer,
        deployments_api_version: None,
        models: Vec::new(),
        accepts_prefixes: Vec::new(),
        connect_timeout: config.connect_timeout(name),
        max_reply_bytes: config.max_reply_bytes,
    };
    let hosted = &config.hosted;
    let (custom, old_cloud) = custom_models(config)?;
    let mut built: Vec<Endpoint> = Vec::new();
    if let Some(k) = key(&config.openai_api_key) {
        built.push(Endpoint {
            models: models(config, "openai")?,
            accepts_prefixes: vec!["gpt-", "o1", "o3", "o4", "chatgpt-"],
            ..endpoint("openai", &config.openai_base_url, Some(k))
        });
    }
    if let Some(k) = key(&config.gemini_api_key) {
        built.push(Endpoint {
            models: models(config, "gemini")?,
            accepts_prefixes: vec!["gemini-"],
            ..endpoint("gemini", &config.gemini_base_url, Some(k))
        });
    }
    if let Some((k, url)) = hosted.azure() {
        built.push(Endpoint {
            auth: Auth::ApiKeyHeader,
            deployments_api_version: Some(hosted.azure_openai_api_version.clone()),
            models: azure_models(config)?,
            ..endpoint("azure", without_openai_suffix(url), Some(k.to_string()))
        });
    }
    if let Some(k) = key(&hosted.xai_api_key) {
        built.push(Endpoint {
            models: models(config, "xai")?,
            accepts_prefixes: vec!["grok-"],
            ..endpoint("xai", &hosted.xai_base_url, Some(k))
        });
    }
    if let Some(k) = key(&hosted.dial_api_key) {
        built.push(Endpoint {
            auth: Auth::ApiKeyHeader,
            deployments_api_version: Some(hosted.dial_api_version.clone()),
            models: models(config, "dial")?,
            ..endpoint(
                "dial",
                without_openai_suffix(&hosted.dial_api_host),
                Some(k),
            )
        });
    }
    if let Some(url) = config.custom_api_url.as_deref().filter(|u| !u.is_empty()) {
        built.push(Endpoint {
            models: custom,
            ..endpoint("custom", url, key(&config.custom_api_key))
        });
    }
    if let Some(k) = key(&config.openrouter_api_key) {
        let models = match file_records(config, "openrouter")? {
            Some(records) => records.into_iter().map(|r| r.model).collect(),
            None if !old_cloud.is_empty() => old_cloud,
            None => catalog::builtin("openrouter"),
        };
        built.push(Endpoint {
            models,
            accepts_prefixes: vec!["/"],
            ..endpoint("openrouter", &config.openrouter_base_url, Some(k))
        });
    }
    (built.into_iter())
        .map(|e| Ok(Arc::new(OpenAiCompatible::new(e)?) as Arc<dyn Provider>))
        .collect()
}

/// Azure's deployments: AZURE_MODELS_CONFIG_PATH's entries (each called through its
/// `deployment`, or its own name when it has none) and AZURE_OPENAI_DEPLOYMENT_NAME.
fn azure_models(config: &ProviderConfig) -> anyhow::Result<Vec<ModelInfo>> {
    let mut models = models(config, "azure")?;
    let one = config
        .hosted
        .azure_openai_deployment_name
        .as_deref()
        .map(str::trim);
    if let Some(deployment) = one.filter(|d| !d.is_empty())
        && !models
            .iter()
            .any(|m| m.answers_to(deployment) || m.deployment.as_deref() == Some(deployment))
    {
        let mut model = ModelInfo::new(deployment, Capabilities::text(128_000, 16_384));
        model.description = Some("AZURE_OPENAI_DEPLOYMENT_NAME".into());
        models.push(model);
    }
    Ok(models)
}

/// A host given with the `/openai` path the deployment URLs add themselves.
fn without_openai_suffix(url: &str) -> &str {
    let url = url.trim().trim_end_matches('/');
    url.strip_suffix("/openai").unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_providers_zen_lacks_are_named_with_what_to_use_instead() {
        let env = |name: &str| {
            matches!(
                name,
                "MISTRAL_API_KEY" | "GOOGLE_API_KEY" | "OPENAI_API_KEY"
            )
            .then(|| "k".to_string())
        };
        let warnings = lacking_provider_warnings(env);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].starts_with("MISTRAL_API_KEY is set but zen has no Mistral provider")
                && warnings[0].contains("OPENROUTER_API_KEY")
                && warnings[0].contains("CUSTOM_API_URL"),
            "{}",
            warnings[0]
        );
        assert!(
            warnings[1].contains("GEMINI_API_KEY: set that instead"),
            "{}",
            warnings[1]
        );
        assert!(lacking_provider_warnings(|_| Some(" ".into())).is_empty());
    }
}
