//! Which provider a model name routes to. A name or alias a provider lists (its built-in list or
//! the user's model file, compared without regard to case) goes to the first provider listing
//! it; `provider/model` names a provider outright; otherwise a provider's name pattern decides
//! (gpt-* → openai, gemini-* → gemini, grok-* → xai, vendor/model → openrouter). A provider with
//! an `*_ALLOWED_MODELS` list serves only the models on it.
use std::sync::Arc;

use super::allowed::AllowList;
use super::setup::{self, KNOWN};
use super::simulated::SimulatedProvider;
use super::{Capabilities, ModelInfo, Provider};
use crate::config::{ProviderConfig, SimConfig};

/// A model resolved to the provider that serves it.
#[derive(Clone)]
pub struct Route {
    /// The provider to call.
    pub provider: Arc<dyn Provider>,
    /// The model name to send it (routing prefix removed, aliases expanded).
    pub model: String,
    /// What the model can take (images, temperature, reasoning), from its record;
    /// [`Capabilities::GENERIC`] for a model no record describes.
    pub capabilities: Capabilities,
}

/// How many models an unknown-model error names before it points at listmodels.
const NAMED_IN_ERRORS: usize = 40;

/// The configured providers, in `auto` preference order (real ones first, simulated last).
pub struct Registry {
    /// Providers in preference order.
    providers: Vec<Arc<dyn Provider>>,
    /// Each provider's `*_ALLOWED_MODELS`, beside it (`None`: every model).
    allowed: Vec<Option<AllowList>>,
    /// DEFAULT_MODEL.
    default_model: String,
    /// Why DEFAULT_MODEL cannot be served, when it cannot: zen still starts (a client such as
    /// Claude Desktop shows a server that exits only in a log), says so at start, and answers
    /// it on each call that names no model and in listmodels.
    default_problem: Option<String>,
    /// The warnings of start-up (providers whose keys zen lacks, DEFAULT_MODEL's problem), kept
    /// for clients that ask for log messages.
    warnings: Vec<String>,
    /// The simulated provider, kept typed so tests and the snapshot can read its own counters.
    simulated: Arc<SimulatedProvider>,
}

impl Registry {
    /// Build the registry from the environment's keys, model files and allowed-model lists;
    /// simulated is always available.
    pub fn from_config(config: &ProviderConfig, sim: &SimConfig) -> anyhow::Result<Self> {
        let mut warnings = setup::lacking_provider_warnings(|v| std::env::var(v).ok());
        for warning in &warnings {
            tracing::warn!("{warning}");
        }
        let mut providers = setup::providers(config)?;
        let simulated = Arc::new(SimulatedProvider::new(sim.clone()));
        providers.push(simulated.clone());
        let allowed = (providers.iter())
            .map(|p| {
                let (var, entries) = config.catalogs.allowed(p.name())?;
                Some(AllowList::new(var, entries, p.as_ref()))
            })
            .collect();
        let mut registry = Registry {
            providers,
            allowed,
            default_model: config.default_model.clone(),
            default_problem: None,
            warnings: Vec::new(),
            simulated,
        };
        if let Err(e) = registry.resolve(None) {
            let problem = format!(
                "DEFAULT_MODEL={} cannot be served: {e} To fix it, set DEFAULT_MODEL to one of \
                 those models (or auto) where zen's environment is set (e.g. the client's MCP \
                 config) and restart zen; meanwhile calls that name a model work.",
                registry.default_model
            );
            tracing::warn!("{problem}");
            warnings.push(problem.clone());
            registry.default_problem = Some(problem);
        }
        registry.warnings = warnings;
        Ok(registry)
    }

    /// The warnings zen gave at start-up (also on stderr).
    pub fn startup_warnings(&self) -> &[String] {
        &self.warnings
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

    /// Why DEFAULT_MODEL cannot be served, when it cannot (found at start).
    pub fn default_problem(&self) -> Option<&str> {
        self.default_problem.as_deref()
    }

    /// The listed models of the provider at `index` its allowed-model list lets callers use.
    fn usable(&self, index: usize) -> impl Iterator<Item = &ModelInfo> {
        let allow = self.allowed[index].as_ref();
        (self.providers[index].models().iter())
            .filter(move |m| allow.is_none_or(|a| a.permits(&m.name, &m.name)))
    }

    /// A provider's models callers may use (its allowed-model list applied), for listmodels.
    pub fn models_of(&self, provider: &str) -> Vec<&ModelInfo> {
        (self.providers.iter().position(|p| p.name() == provider))
            .map(|i| self.usable(i).collect())
            .unwrap_or_default()
    }

    /// The variable restricting a provider's models and its entries, when one does.
    pub fn allowed_models(&self, provider: &str) -> Option<(&'static str, &[String])> {
        let i = self.providers.iter().position(|p| p.name() == provider)?;
        (self.allowed[i].as_ref()).map(|a| (a.var, a.entries.as_slice()))
    }

    /// Every model a caller may name, for error messages.
    pub fn available(&self) -> Vec<String> {
        (0..self.providers.len())
            .flat_map(|i| self.usable(i).map(|m| m.name.clone()))
            .collect()
    }

    /// The route to `canonical` at the provider at `index`, asked for as `requested`, or why its
    /// allowed-model list refuses it.
    fn route(&self, index: usize, requested: &str, canonical: String) -> Result<Route, String> {
        let provider = &self.providers[index];
        if let Some(allow) = &self.allowed[index]
            && !allow.permits(requested, &canonical)
        {
            return Err(allow.refusal(requested, provider.name()));
        }
        Ok(Route {
            capabilities: provider.capabilities(&canonical),
            provider: provider.clone(),
            model: canonical,
        })
    }

    /// Route a requested model (or the default) to a provider. A call that names no model
    /// while DEFAULT_MODEL cannot be served gets the reason and the fix.
    pub fn resolve(&self, requested: Option<&str>) -> Result<Route, String> {
        let named = requested.map(str::trim).filter(|m| !m.is_empty());
        match (named, &self.default_problem) {
            (None, Some(problem)) => Err(format!("This call names no model, and {problem}")),
            // A tool that passes the default on by name (consensus) gets the same answer.
            (Some(name), Some(problem)) if name == self.default_model => Err(problem.clone()),
            (named, _) => self.resolve_name(named.unwrap_or(&self.default_model)),
        }
    }

    /// Route a model name to a provider.
    fn resolve_name(&self, name: &str) -> Result<Route, String> {
        if name.eq_ignore_ascii_case("auto") {
            return Ok(self.auto());
        }
        // A refusal by an allowed-model list stands unless a later provider serves the name.
        let mut refused = None;
        for (i, p) in self.providers.iter().enumerate() {
            if let Some(model) = p.find(name) {
                match self.route(i, name, model.name.clone()) {
                    Ok(route) => return Ok(route),
                    Err(e) => refused = refused.or(Some(e)),
                }
            }
        }
        if let Some((prefix, rest)) = name.split_once('/')
            && !rest.is_empty()
        {
            let named = self
                .providers
                .iter()
                .position(|p| p.name().eq_ignore_ascii_case(prefix));
            if let Some(i) = named {
                return self.route(i, rest, self.providers[i].canonical(rest));
            }
            if let Some((provider, var)) =
                KNOWN.iter().find(|(n, _)| n.eq_ignore_ascii_case(prefix))
            {
                return Err(format!(
                    "model '{name}' names provider {provider}, which is not configured: set \
                     {var} to use it (configured: {})",
                    self.provider_names()
                ));
            }
        }
        for (i, p) in self.providers.iter().enumerate() {
            if p.accepts(name) {
                match self.route(i, name, p.canonical(name)) {
                    Ok(route) => return Ok(route),
                    Err(e) => refused = refused.or(Some(e)),
                }
            }
        }
        Err(refused.unwrap_or_else(|| self.unknown(name)))
    }

    /// `auto`: the first usable model of the first provider that has one (simulated always does).
    fn auto(&self) -> Route {
        (0..self.providers.len())
            .find_map(|i| {
                let model = self.usable(i).next()?;
                Some(Route {
                    provider: self.providers[i].clone(),
                    model: model.name.clone(),
                    capabilities: model.capabilities,
                })
            })
            .unwrap_or_else(|| {
                let sim = self.simulated.models()[0].clone();
                Route {
                    provider: self.simulated.clone(),
                    model: sim.name,
                    capabilities: sim.capabilities,
                }
            })
    }

    fn provider_names(&self) -> String {
        (self.providers.iter().map(|p| p.name()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The unknown-model error: the models a caller may name (with their aliases), the
    /// `provider/model` form, and how to turn other providers on.
    fn unknown(&self, name: &str) -> String {
        let all: Vec<String> = (0..self.providers.len())
            .flat_map(|i| self.usable(i))
            .map(|m| match m.aliases.as_slice() {
                [] => m.name.clone(),
                aliases => format!("{} (or {})", m.name, aliases.join(", ")),
            })
            .collect();
        let mut listed = all
            .iter()
            .take(NAMED_IN_ERRORS)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if all.len() > NAMED_IN_ERRORS {
            listed.push_str(&format!(" and {} more", all.len() - NAMED_IN_ERRORS));
        }
        let forms = (self.providers.iter())
            .map(|p| format!("{}/<model>", p.name()))
            .collect::<Vec<_>>()
            .join(", ");
        let configured: Vec<&str> = self.providers.iter().map(|p| p.name()).collect();
        let others = (KNOWN.iter())
            .filter(|(n, _)| !configured.contains(n))
            .map(|(n, var)| format!("{var} ({n})"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut message = format!(
            "unknown model '{name}': no configured provider serves it. Available: {listed}. \
             A model a provider serves but does not list is named provider/model: {forms}."
        );
        if !others.is_empty() {
            message.push_str(&format!(" To use other providers, set {others}."));
        }
        message.push_str(" listmodels shows every model and its capabilities.");
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ServeConfig;

    fn registry(adjust: impl FnOnce(&mut ServeConfig)) -> Registry {
        let mut config = ServeConfig::defaults();
        config.sim.sim_models = vec!["simulated".into(), "other".into()];
        adjust(&mut config);
        Registry::from_config(&config.providers, &config.sim).unwrap()
    }

    #[test]
    fn names_and_aliases_route_in_any_case_and_provider_slash_model_picks_the_provider() {
        let r = registry(|c| {
            c.providers.custom_api_url = Some("http://127.0.0.1:9/v1".into());
            c.providers.openai_api_key = Some("sk".into());
        });
        let route = |name: &str| {
            let route = r.resolve(Some(name)).unwrap();
            format!("{}/{}", route.provider.name(), route.model)
        };
        assert_eq!(route("MINI"), "openai/gpt-5-mini");
        assert_eq!(route("local"), "custom/llama3.2");
        assert_eq!(route("custom/anything"), "custom/anything");
        assert_eq!(
            route("gpt-4o-mini"),
            "openai/gpt-4o-mini",
            "by the name pattern"
        );
        assert_eq!(route("Sim"), "simulated/simulated");
        assert_eq!(route("auto"), "openai/gpt-5");
        assert!(
            r.resolve(Some("gpt-5"))
                .unwrap()
                .capabilities
                .supports_images
        );
        assert!(
            !r.resolve(Some("custom/x"))
                .unwrap()
                .capabilities
                .supports_images
        );
        let err = r.resolve(Some("xai/grok-4")).err().unwrap();
        assert!(
            err.contains("provider xai, which is not configured: set XAI_API_KEY"),
            "{err}"
        );
    }

    #[test]
    fn a_default_model_nobody_serves_is_explained_on_each_call_not_fatal_at_start() {
        let r = registry(|c| c.providers.default_model = "gpt-5".into());
        let problem = r.default_problem().unwrap().to_string();
        assert!(
            problem.starts_with("DEFAULT_MODEL=gpt-5 cannot be served: unknown model 'gpt-5'")
                && problem.contains("OPENAI_API_KEY (openai)"),
            "{problem}"
        );
        let err = r.resolve(None).err().unwrap();
        assert_eq!(err, format!("This call names no model, and {problem}"));
        assert_eq!(r.resolve(Some("gpt-5")).err().unwrap(), problem);
        assert!(r.resolve(Some("simulated")).is_ok());
        assert!(registry(|_| {}).default_problem().is_none());
    }

    #[test]
    fn the_unknown_model_error_names_models_aliases_and_the_provider_slash_model_form() {
        let err = registry(|_| {}).resolve(Some("nope")).err().unwrap();
        assert!(
            err.contains("Available: simulated (or sim), other.")
                && err.contains("named provider/model: simulated/<model>")
                && err.contains("OPENAI_API_KEY (openai)")
                && err.contains("CUSTOM_API_URL (custom)"),
            "{err}"
        );
    }

    #[test]
    fn allowed_models_restrict_routing_auto_and_the_lists() {
        let r = registry(|c| {
            c.providers.openai_api_key = Some("sk".into());
            c.providers.catalogs.openai_allowed_models = vec![" Mini ".into(), "o3".into()];
        });
        assert_eq!(r.resolve(Some("gpt-5-mini")).unwrap().model, "gpt-5-mini");
        assert_eq!(r.resolve(Some("mini")).unwrap().model, "gpt-5-mini");
        assert_eq!(
            r.resolve(None).unwrap().model,
            "gpt-5-mini",
            "auto: first allowed"
        );
        let err = r.resolve(Some("gpt-5")).err().unwrap();
        assert!(
            err.contains("model 'gpt-5' is not allowed: OPENAI_ALLOWED_MODELS=mini,o3"),
            "{err}"
        );
        assert!(
            r.resolve(Some("gpt-4o")).is_err(),
            "the name pattern is restricted too"
        );
        let names: Vec<_> = r
            .models_of("openai")
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        assert_eq!(names, ["gpt-5-mini", "o3"]);
        assert_eq!(
            r.allowed_models("openai").unwrap().0,
            "OPENAI_ALLOWED_MODELS"
        );
    }
}
