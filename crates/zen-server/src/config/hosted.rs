//! The hosted providers zen-mcp-server users also have: Azure OpenAI (deployments and an API
//! version), X.AI and DIAL, under zen-mcp-server's variable names. Each one configured gets its
//! own pool and breaker like the others.
use clap::Args;

/// Azure OpenAI, X.AI and DIAL.
#[derive(Clone, Args)]
#[command(next_help_heading = "Providers: Azure OpenAI, X.AI, DIAL")]
pub struct HostedConfig {
    /// Azure OpenAI API key (with AZURE_OPENAI_ENDPOINT)
    #[arg(
        long,
        env = "AZURE_OPENAI_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub azure_openai_api_key: Option<String>,
    /// Azure OpenAI resource endpoint, e.g. https://NAME.openai.azure.com/
    #[arg(long, env = "AZURE_OPENAI_ENDPOINT", value_name = "URL")]
    pub azure_openai_endpoint: Option<String>,
    /// Azure OpenAI API version sent with every request
    #[arg(
        long,
        env = "AZURE_OPENAI_API_VERSION",
        default_value = "2024-02-15-preview",
        value_name = "VERSION"
    )]
    pub azure_openai_api_version: String,
    /// One Azure deployment to offer under its own name, besides those of AZURE_MODELS_CONFIG_PATH (any deployment is also reachable as azure/DEPLOYMENT)
    #[arg(long, env = "AZURE_OPENAI_DEPLOYMENT_NAME", value_name = "DEPLOYMENT")]
    pub azure_openai_deployment_name: Option<String>,
    /// X.AI (Grok) API key
    #[arg(long, env = "XAI_API_KEY", hide_env_values = true, value_name = "KEY")]
    pub xai_api_key: Option<String>,
    /// Base URL for `xai`
    #[arg(
        long,
        env = "XAI_BASE_URL",
        default_value = "https://api.x.ai/v1",
        value_name = "URL"
    )]
    pub xai_base_url: String,
    /// DIAL API key
    #[arg(long, env = "DIAL_API_KEY", hide_env_values = true, value_name = "KEY")]
    pub dial_api_key: Option<String>,
    /// DIAL host; models are called at HOST/openai/deployments/MODEL/chat/completions
    #[arg(
        long,
        env = "DIAL_API_HOST",
        default_value = "https://core.dialx.ai",
        value_name = "URL"
    )]
    pub dial_api_host: String,
    /// DIAL API version sent with every request
    #[arg(
        long,
        env = "DIAL_API_VERSION",
        default_value = "2025-01-01-preview",
        value_name = "VERSION"
    )]
    pub dial_api_version: String,
}

impl HostedConfig {
    /// Azure's key and endpoint, when both are set.
    pub fn azure(&self) -> Option<(&str, &str)> {
        let key = self
            .azure_openai_api_key
            .as_deref()
            .filter(|k| !k.is_empty())?;
        let endpoint = (self.azure_openai_endpoint.as_deref()).filter(|e| !e.trim().is_empty())?;
        Some((key, endpoint))
    }
}

impl std::fmt::Debug for HostedConfig {
    // API keys never reach a log line, not even through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |k: &Option<String>| if k.is_some() { "set" } else { "unset" };
        f.debug_struct("HostedConfig")
            .field("azure_openai_api_key", &set(&self.azure_openai_api_key))
            .field("azure_openai_endpoint", &self.azure_openai_endpoint)
            .field("azure_openai_api_version", &self.azure_openai_api_version)
            .field("xai_api_key", &set(&self.xai_api_key))
            .field("xai_base_url", &self.xai_base_url)
            .field("dial_api_key", &set(&self.dial_api_key))
            .field("dial_api_host", &self.dial_api_host)
            .finish_non_exhaustive()
    }
}
