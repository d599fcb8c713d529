//! Where conversations live: the backend, its directory and its cache.
use std::path::PathBuf;

use clap::Args;

/// Which conversation store backend to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreKind {
    /// One SQLite file in the data dir (the default): off the heap, survives restarts.
    Sqlite,
    /// Process memory: throwaway runs and tests; lost on exit.
    Memory,
    /// Redis at this URL: several zen serve instances share their conversations.
    Redis(String),
}

impl StoreKind {
    /// The name the setting takes and the snapshot shows.
    pub fn as_str(&self) -> &'static str {
        match self {
            StoreKind::Sqlite => "sqlite",
            StoreKind::Memory => "memory",
            StoreKind::Redis(_) => "redis",
        }
    }
}

/// Parse ZEN_STORE.
pub(super) fn parse_store(text: &str) -> Result<StoreKind, String> {
    match text.trim() {
        "" | "sqlite" => Ok(StoreKind::Sqlite),
        "memory" => Ok(StoreKind::Memory),
        url if url.starts_with("redis://") || url.starts_with("rediss://") => {
            Ok(StoreKind::Redis(url.to_string()))
        }
        other => Err(format!(
            "'{other}' is not a conversation store: use sqlite (the default, a file in the data \
             dir), memory (lost on exit) or a redis:// URL (shared by several instances)"
        )),
    }
}

/// The conversation store's backend and where it keeps its data.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Conversation store")]
pub struct StoreConfig {
    /// Conversation store: sqlite (a file in the data dir, survives restarts), memory (lost on exit), or redis://host:port[/db] (shared by several instances; rediss:// for TLS)
    #[arg(long = "store", env = "ZEN_STORE", default_value = "sqlite", value_parser = parse_store, value_name = "sqlite|memory|URL")]
    pub kind: StoreKind,
    /// Prefix of zen's keys in Redis, so several deployments can share one Redis
    #[arg(
        long,
        env = "ZEN_REDIS_PREFIX",
        default_value = "zen:",
        value_name = "PREFIX"
    )]
    pub redis_prefix: String,
    /// Directory of zen's data (the conversation store's file) [default: $XDG_DATA_HOME/zen, else ~/.local/share/zen]
    #[arg(long, env = "ZEN_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Memory the store may use for hot conversations (SQLite's page cache), in MB
    #[arg(long, env = "ZEN_STORE_CACHE_MB", default_value_t = 16.0, value_parser = super::values::parse_positive_f64, value_name = "MB")]
    pub store_cache_mb: f64,
}

impl StoreConfig {
    /// The data dir: the setting, else $XDG_DATA_HOME/zen, else ~/.local/share/zen.
    pub fn data_dir(&self) -> PathBuf {
        if let Some(dir) = &self.data_dir {
            return dir.clone();
        }
        zen_os::discovery::default_data_dir()
    }

    /// The cache size in bytes.
    pub fn cache_bytes(&self) -> u64 {
        (self.store_cache_mb * 1024.0 * 1024.0) as u64
    }
}
