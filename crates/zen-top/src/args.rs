//! The command line of `zen top`.
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use zen_model::units::parse_duration;

/// `zen top`.
#[derive(Debug, Clone, Args)]
pub struct TopArgs {
    /// Telemetry address of the server, e.g. http://127.0.0.1:40123; repeat it to watch several instances with the cluster's totals [default: found in the discovery directory]
    #[arg(long, value_name = "URL")]
    pub url: Vec<String>,
    /// Attach to the zen serve with this pid (when several are running)
    #[arg(long, value_name = "PID", conflicts_with = "url")]
    pub pid: Option<u32>,
    /// Refresh interval (250ms or more)
    #[arg(long, default_value = "1s", value_parser = parse_interval, value_name = "DURATION")]
    pub interval: Duration,
    /// Where discovery files are [default: $XDG_RUNTIME_DIR/zen, else a per-user temp directory]
    #[arg(long, env = "ZEN_RUNTIME_DIR", value_name = "DIR")]
    pub runtime_dir: Option<PathBuf>,
    /// Write logs to FILE (nothing is logged to the terminal the dashboard draws on)
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// Log level for --log-file: error, warn, info, debug, trace, or a filter like `zen=debug`
    #[arg(long, env = "LOG_LEVEL", value_name = "LEVEL", default_value = "info")]
    pub log_level: String,
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < Duration::from_millis(250) {
        return Err(format!("'{s}' is below the 250ms minimum"));
    }
    Ok(d)
}
