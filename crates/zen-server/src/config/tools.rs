//! Which tools zen offers.
use clap::Args;

/// Tools turned off (zen-mcp-server's DISABLED_TOOLS).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Tools")]
pub struct ToolsConfig {
    /// Tools to turn off, comma-separated (e.g. consensus,precommit): hidden from tools/list and
    /// refused when called. chat, listmodels, version, metrics and threads cannot be disabled
    /// (a warning at start says so); unknown names are warned about and ignored
    #[arg(
        long,
        env = "DISABLED_TOOLS",
        value_delimiter = ',',
        value_name = "TOOLS"
    )]
    pub disabled_tools: Vec<String>,
}
