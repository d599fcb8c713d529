//! `clink`: which AI CLIs it may run (zen-mcp-server's CLI_CLIENTS_CONFIG_PATH), how long one
//! may run, how much output it may print, and which of zen's environment variables a CLI sees.
//! Its pool is `clink` in ZEN_PROVIDER_LIMITS.
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::values::{parse_byte_count, parse_duration};

/// The variables every CLI sees when zen has them: enough to find programs, its home (where
/// the CLIs keep their logins) and the locale; never zen's whole environment.
const DEFAULT_PASS_ENV: &str = "PATH,HOME,USER,LOGNAME,LANG,LC_ALL,LC_CTYPE,TMPDIR,TZ";

/// Settings of the clink tool.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "clink (AI CLIs as sub-agents)")]
pub struct ClinkConfig {
    /// A CLI client file or a directory of them (zen-mcp-server's conf/cli_clients/*.json format), read on every call; its clients are added to (or replace) the built-in gemini, codex and claude, as are those in ~/.zen/cli_clients
    #[arg(long, env = "CLI_CLIENTS_CONFIG_PATH", value_name = "PATH")]
    pub cli_clients_config_path: Option<PathBuf>,
    /// How long one CLI run may take (retries included) unless its client file sets timeout_seconds; past it the CLI and every process it started are killed
    #[arg(long, env = "ZEN_CLINK_TIMEOUT", default_value = "30m", value_parser = parse_duration, value_name = "DURATION")]
    pub clink_timeout: Duration,
    /// The most a CLI may print on stdout, and on stderr; past it the CLI and its processes are killed and the call fails
    #[arg(long, env = "ZEN_CLINK_MAX_OUTPUT_BYTES", default_value_t = 10 * 1024 * 1024, value_parser = parse_byte_count, value_name = "BYTES")]
    pub clink_max_output_bytes: u64,
    /// zen's environment variables a CLI sees (when set), comma-separated; a client file's `env` adds fixed values, and its `pass_env` more names
    #[arg(
        long,
        env = "ZEN_CLINK_PASS_ENV",
        default_value = DEFAULT_PASS_ENV,
        value_delimiter = ',',
        value_name = "NAMES"
    )]
    pub clink_pass_env: Vec<String>,
}
