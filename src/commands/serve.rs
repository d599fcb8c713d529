//! `zen serve`: the MCP tool host, until stdin closes (stdio) or SIGINT/SIGTERM.
use anyhow::Result;
use zen_model::ExitOutcome;
use zen_server::config::ServeConfig;
use zen_server::telemetry::otel::Otel;

pub(super) async fn run(config: ServeConfig) -> Result<ExitOutcome> {
    // Before logging, which carries its span layer; a bad OTEL_* setting is exit 2.
    let (otel, spans) = Otel::from_env()?.unzip();
    crate::logging::init_stderr_with(&config.log_level, spans)?;
    let shutdown = super::shutdown_on_signal();
    zen_server::serve::run(config, shutdown, otel).await?;
    Ok(ExitOutcome::Success)
}
