//! Which providers are configured, and which one a model name routes to:
//! `provider/model` names a provider outright; otherwise a model's own name or a small built-in
//! table (gpt-* → openai, gemini-* → gemini, vendor/model → openrouter) decides.
use std::sync::Arc;

use super::openai_compat::OpenAiCompatible;
use super::simulated::SimulatedProvider;
use super::{ModelInfo, Provider};
use crate::config::{ProviderConfig, SimConfig};

/// A model resolved to the provider that serves it.
#[derive(Clone)]
pub struct Route {
    /// The provider to call.
    pub provider: Arc<dyn Provider>,
    /// The model name to send it (routing prefix removed, aliases expanded).
    pub model: String,
}

/// The configured providers, in `auto` preference order (real ones first, simulated last).
pub struct Registry {
    /// Providers in preference order.
    providers: Vec<Arc<dyn Provider>>,
    /// DEFAULT_MODEL.
    default_model: String,
    /// The simulated provider, kept typed so tests and the snapshot can read its own counters.
    simulated: Arc<SimulatedProvider>,
}

fn model(name: &str, context_window: u64, max_output_tokens: u64, aliases: &[&str]) -> ModelInfo {
    ModelInfo {
        name: name.to_string(),
        context_window,
        max_output_tokens,
        aliases: aliases
            .iter()
            .map(std::string::ToString::to_string)
            .collect(),
    }
}

impl Registry {
    /// Build the registry from the environment's keys; simulated is always available.
    pub fn from_config(config: &ProviderConfig, sim: &SimConfig) -> anyhow::Result<Self> {
        let mut providers: Vec<Arc<dyn Provider>> = Vec::new();
        let key = |k: &Option<String>| k.clone().filter(|k| !k.is_empty());
        if let Some(k) = key(&config.openai_api_key) {
            providers.push(Arc::new(OpenAiCompatible::new(
                "openai",
                &config.openai_base_url,
                Some(k),
                vec![
                    model("gpt-5", 400_000, 128_000, &[]),
                    model("gpt-5-mini", 400_000, 128_000, &["mini"]),
                    model("gpt-4.1", 1_000_000, 32_768, &[]),
                    model("o3", 200_000, 100_000, &[]),
                    model("o4-mini", 200_000, 100_000, &[]),
                ],
                vec!["gpt-", "o1", "o3", "o4", "chatgpt-"],
                config.connect_timeout("openai"),
                config.max_reply_bytes,
            )?));
        }
        if let Some(k) = key(&config.gemini_api_key) {
            providers.push(Arc::new(OpenAiCompatible::new(
                "gemini",
                &config.gemini_base_url,
                Some(k),
                vec![
                    model("gemini-2.5-pro", 1_048_576, 65_536, &["pro"]),
                    model("gemini-2.5-flash", 1_048_576, 65_536, &["flash"]),
                ],
                vec!["gemini-"],
                config.connect_timeout("gemini"),
                config.max_reply_bytes,
            )?));
        }
        if let Some(k) = key(&config.openrouter_api_key) {
            providers.push(Arc::new(OpenAiCompatible::new(
                "openrouter",
                &config.openrouter_base_url,
                Some(k),
                vec![model("openrouter/auto", 2_000_000, 32_768, &[])],
                vec!["/"],
                config.connect_timeout("openrouter"),
                config.max_reply_bytes,
            )?));
        }
        if let Some(url) = config.custom_api_url.as_deref().filter(|u| !u.is_empty()) {
            providers.push(Arc::new(OpenAiCompatible::new(
                "custom",
                url,
                key(&config.custom_api_key),
                vec![model(&config.custom_model_name, 32_768, 8_192, &["local"])],
                vec![],
                config.connect_timeout("custom"),
                config.max_reply_bytes,
            )?));
        }
        let simulated = Arc::new(SimulatedProvider::new(sim.clone()));
        providers.push(simulated.clone());
        let registry = Registry {
            providers,
            default_model: config.default_model.clone(),
            simulated,
        };
        // A DEFAULT_MODEL nobody serves is a setup error, caught at start rather than per call.
        registry
            .resolve(None)
            .map_err(|e| anyhow::anyhow!("DEFAULT_MODEL: {e}"))?;
        Ok(registry)
    }

    /// The configured providers, `auto` preference first.
    pub fn providers(&self) -> &[Arc<dyn Provider>] {
        &self.providers
    }

    /// The simulated provider.
    pub fn simulated(&self) -> &Arc<SimulatedProvider> {
        &self.simulated
    }

    /// The default model as configured (may be `auto`).
    pub fn default_model(&self) -> &str {
        &self.default_model
    }

    /// Every model a caller may name, for error messages.
    pub fn available(&self) -> Vec<String> {
        self.providers
            .iter()
            .flat_map(|p| p.models().iter().map(|m| m.name.clone()))
            .collect()
    }

    /// Route a requested model (or the default) to a provider.
    pub fn resolve(&self, requested: Option<&str>) -> Result<Route, String> {
        let name = requested
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .unwrap_or(&self.default_model);
        if name.eq_ignore_ascii_case("auto") {
            let provider = self.providers[0].clone();
            let model = provider.models()[0].name.clone();
            return Ok(Route { provider, model });
        }
        if let Some((prefix, rest)) = name.split_once('/')
            && let Some(p) = self.providers.iter().find(|p| p.name() == prefix)
            && !rest.is_empty()
        {
            return Ok(Route {
                provider: p.clone(),
                model: p.canonical(rest),
            });
        }
        if let Some(p) = self.providers.iter().find(|p| p.accepts(name)) {
            return Ok(Route {
                provider: p.clone(),
                model: p.canonical(name),
            });
        }
        Err(format!(
            "unknown model '{name}': no configured provider serves it. Available: {}. \
             Set the provider's API key (OPENAI_API_KEY, GEMINI_API_KEY, OPENROUTER_API_KEY, \
             CUSTOM_API_URL) to use its models, or call listmodels.",
            self.available().join(", ")
        ))
    }
}
