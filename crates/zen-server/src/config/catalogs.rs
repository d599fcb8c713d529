//! Which models each provider offers: zen-mcp-server's model files (`custom_models.json`,
//! `openrouter_models.json` and the others, in its JSON format) and its `*_ALLOWED_MODELS`
//! restrictions, under its variable names.
use std::path::PathBuf;

use clap::Args;

/// Model files and allowed-model lists.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Providers: model files and allowed models")]
pub struct CatalogConfig {
    /// custom_models.json: the models of CUSTOM_API_URL, their aliases and capabilities (zen-mcp-server's format; entries marked is_custom=false go to OpenRouter)
    #[arg(long, env = "CUSTOM_MODELS_CONFIG_PATH", value_name = "FILE")]
    pub custom_models_config_path: Option<PathBuf>,
    /// openrouter_models.json: OpenRouter's models, aliases and capabilities, instead of zen's built-in list
    #[arg(long, env = "OPENROUTER_MODELS_CONFIG_PATH", value_name = "FILE")]
    pub openrouter_models_config_path: Option<PathBuf>,
    /// openai_models.json, instead of zen's built-in list of OpenAI models
    #[arg(long, env = "OPENAI_MODELS_CONFIG_PATH", value_name = "FILE")]
    pub openai_models_config_path: Option<PathBuf>,
    /// gemini_models.json, instead of zen's built-in list of Gemini models
    #[arg(long, env = "GEMINI_MODELS_CONFIG_PATH", value_name = "FILE")]
    pub gemini_models_config_path: Option<PathBuf>,
    /// xai_models.json, instead of zen's built-in list of X.AI models
    #[arg(long, env = "XAI_MODELS_CONFIG_PATH", value_name = "FILE")]
    pub xai_models_config_path: Option<PathBuf>,
    /// dial_models.json, instead of zen's built-in list of DIAL models
    #[arg(long, env = "DIAL_MODELS_CONFIG_PATH", value_name = "FILE")]
    pub dial_models_config_path: Option<PathBuf>,
    /// azure_models.json: Azure deployments (each entry's `deployment`), their aliases and capabilities
    #[arg(long, env = "AZURE_MODELS_CONFIG_PATH", value_name = "FILE")]
    pub azure_models_config_path: Option<PathBuf>,
    /// OpenAI models callers may use, names or aliases, comma-separated [default: all]
    #[arg(
        long,
        env = "OPENAI_ALLOWED_MODELS",
        value_delimiter = ',',
        value_name = "MODELS"
    )]
    pub openai_allowed_models: Vec<String>,
    /// Gemini models callers may use [default: all]
    #[arg(
        long,
        env = "GOOGLE_ALLOWED_MODELS",
        value_delimiter = ',',
        value_name = "MODELS"
    )]
    pub google_allowed_models: Vec<String>,
    /// X.AI models callers may use [default: all]
    #[arg(
        long,
        env = "XAI_ALLOWED_MODELS",
        value_delimiter = ',',
        value_name = "MODELS"
    )]
    pub xai_allowed_models: Vec<String>,
    /// OpenRouter models callers may use [default: all]
    #[arg(
        long,
        env = "OPENROUTER_ALLOWED_MODELS",
        value_delimiter = ',',
        value_name = "MODELS"
    )]
    pub openrouter_allowed_models: Vec<String>,
    /// DIAL models callers may use [default: all]
    #[arg(
        long,
        env = "DIAL_ALLOWED_MODELS",
        value_delimiter = ',',
        value_name = "MODELS"
    )]
    pub dial_allowed_models: Vec<String>,
    /// Azure OpenAI models callers may use [default: all]
    #[arg(
        long,
        env = "AZURE_OPENAI_ALLOWED_MODELS",
        value_delimiter = ',',
        value_name = "MODELS"
    )]
    pub azure_openai_allowed_models: Vec<String>,
}

impl CatalogConfig {
    /// The model file given for a provider, if any.
    pub fn models_file(&self, provider: &str) -> Option<&PathBuf> {
        match provider {
            "custom" => self.custom_models_config_path.as_ref(),
            "openrouter" => self.openrouter_models_config_path.as_ref(),
            "openai" => self.openai_models_config_path.as_ref(),
            "gemini" => self.gemini_models_config_path.as_ref(),
            "xai" => self.xai_models_config_path.as_ref(),
            "dial" => self.dial_models_config_path.as_ref(),
            "azure" => self.azure_models_config_path.as_ref(),
            _ => None,
        }
        .filter(|p| !p.as_os_str().is_empty())
    }

    /// A provider's allowed-model list and the variable it came from; `None` when unrestricted
    /// (unset, empty or only commas, as zen-mcp-server reads it).
    pub fn allowed(&self, provider: &str) -> Option<(&'static str, Vec<String>)> {
        let (var, list) = match provider {
            "openai" => ("OPENAI_ALLOWED_MODELS", &self.openai_allowed_models),
            "gemini" => ("GOOGLE_ALLOWED_MODELS", &self.google_allowed_models),
            "xai" => ("XAI_ALLOWED_MODELS", &self.xai_allowed_models),
            "openrouter" => ("OPENROUTER_ALLOWED_MODELS", &self.openrouter_allowed_models),
            "dial" => ("DIAL_ALLOWED_MODELS", &self.dial_allowed_models),
            "azure" => (
                "AZURE_OPENAI_ALLOWED_MODELS",
                &self.azure_openai_allowed_models,
            ),
            _ => return None,
        };
        let names: Vec<String> = (list.iter())
            .map(|n| n.trim().to_ascii_lowercase())
            .filter(|n| !n.is_empty())
            .collect();
        (!names.is_empty()).then_some((var, names))
    }
}
