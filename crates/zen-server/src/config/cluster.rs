//! Several instances as one: provider limits held in Redis for every instance pointing at it.
use std::time::Duration;

use clap::Args;

/// Parse ZEN_SHARED_LIMITS: a Redis URL.
fn parse_redis_url(text: &str) -> Result<String, String> {
    let url = text.trim();
    if url.starts_with("redis://") || url.starts_with("rediss://") {
        Ok(url.to_string())
    } else {
        Err(format!(
            "'{}' is not a Redis URL: use redis://host:port[/db] (rediss:// for TLS), the same \
             Redis for every instance that should share the provider limits",
            crate::redis_connect::redacted_url(url)
        ))
    }
}

/// Provider limits across instances.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Several instances")]
pub struct ClusterConfig {
    /// Hold the provider limits (ZEN_PROVIDER_LIMITS) in Redis at this URL, across every instance using it; without Redis, provider calls are refused (fail closed)
    #[arg(long, env = "ZEN_SHARED_LIMITS", value_parser = parse_redis_url, value_name = "URL")]
    pub shared_limits: Option<String>,
    /// Seconds a cluster lease lives unless renewed: a crashed instance's permits come back within it
    #[arg(long, env = "ZEN_LEASE_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..), value_name = "SECS")]
    pub lease_secs: u64,
}

impl ClusterConfig {
    /// The lease time.
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs)
    }
}
