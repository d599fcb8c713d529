//! Bounds on what clients may make zen hold: HTTP sessions and connections, how long a slow or
//! idle client may keep them, and which files `chat` may read. Kept apart from mod.rs so each
//! file stays readable; flattened into `ServeConfig` like the other groups.
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::values::{parse_count, parse_duration};

/// Caps and timeouts against hostile or careless clients.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Client limits")]
pub struct BoundsConfig {
    /// Most HTTP sessions open at once; at it an `initialize` closes the least recently used quiet session (never-used ones first), else gets 503
    #[arg(long, env = "ZEN_MAX_SESSIONS", default_value = "1000", value_parser = parse_count, value_name = "N")]
    pub max_sessions: usize,
    /// An HTTP session with no request for this long is closed (its client must initialize again)
    #[arg(long, env = "ZEN_SESSION_IDLE", default_value = "10m", value_parser = parse_duration, value_name = "DURATION")]
    pub session_idle: Duration,
    /// Most HTTP connections open at once (lowered to fit the descriptor limit); further ones wait to be accepted
    #[arg(long, env = "ZEN_MAX_CONNECTIONS", default_value = "1000", value_parser = parse_count, value_name = "N")]
    pub max_connections: usize,
    /// A client must send a request's headers within this time, or its connection is closed
    #[arg(long, env = "ZEN_HEADER_TIMEOUT", default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    pub header_timeout: Duration,
    /// A request's body must arrive whole within this time after its headers, or it is answered 408 and its connection closed
    #[arg(long, env = "ZEN_BODY_TIMEOUT", default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    pub body_timeout: Duration,
    /// A kept-alive HTTP connection with no request in flight for this long is closed
    #[arg(long, env = "ZEN_HTTP_IDLE_TIMEOUT", default_value = "60s", value_parser = parse_duration, value_name = "DURATION")]
    pub http_idle_timeout: Duration,
    /// Roots chat may read files under, colon-separated [default: anywhere but /proc, /sys and /dev]
    #[arg(
        long,
        env = "ZEN_ALLOWED_PATHS",
        value_delimiter = ':',
        value_name = "DIR:DIR.."
    )]
    pub allowed_paths: Vec<PathBuf>,
}
