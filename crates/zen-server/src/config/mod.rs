//! Every setting of `zen serve`, in one place: its flag, its environment variable (zen-mcp-server's
//! names where they exist) and its default. A `.env` file in the working directory is read first;
//! the environment wins over `.env`, flags win over both.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

mod bounds;
mod catalogs;
mod clink;
mod cluster;
mod hosted;
mod sim;
mod store;
mod tools;
mod values;
pub use bounds::BoundsConfig;
pub use catalogs::CatalogConfig;
pub use clink::ClinkConfig;
pub use cluster::ClusterConfig;
pub use hosted::HostedConfig;
pub use sim::SimConfig;
pub use store::{StoreConfig, StoreKind};
pub use tools::ToolsConfig;
pub use values::*;

/// `zen serve`: everything the MCP host needs to start.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// How clients reach zen, and the telemetry listener.
    #[command(flatten)]
    pub transport: TransportConfig,
    /// Caps and timeouts against hostile or careless clients.
    #[command(flatten)]
    pub bounds: BoundsConfig,
    /// The concurrency manager's pools.
    #[command(flatten)]
    pub limits: LimitConfig,
    /// Model providers, their timeouts, retries and breakers.
    #[command(flatten)]
    pub providers: ProviderConfig,
    /// The built-in simulated provider.
    #[command(flatten)]
    pub sim: SimConfig,
    /// Conversation lifetime and budget, and the memory watchdog.
    #[command(flatten)]
    pub memory: MemoryConfig,
    /// The conversation store's backend and where it keeps its data.
    #[command(flatten)]
    pub store: StoreConfig,
    /// Tools turned off.
    #[command(flatten)]
    pub tools: ToolsConfig,
    /// The AI CLIs clink runs, and their bounds.
    #[command(flatten)]
    pub clink: ClinkConfig,
    /// Provider limits shared across instances.
    #[command(flatten)]
    pub cluster: ClusterConfig,
    /// Log level for stderr: error, warn, info, debug, trace, or a filter like `zen=debug`
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    pub log_level: String,
}

impl ServeConfig {
    /// The defaults, with no environment and no flags: what tests start from.
    pub fn defaults() -> Self {
        use clap::FromArgMatches;
        let cmd = <Self as Args>::augment_args(clap::Command::new("serve"));
        let cmd = cmd.mut_args(|arg| arg.env(None::<&str>)); // ignore the environment
        let matches = cmd.get_matches_from(["serve"]);
        Self::from_arg_matches(&matches).expect("defaults parse")
    }
}

/// How clients reach zen: stdio or streamable HTTP, and the telemetry listener.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Transport")]
pub struct TransportConfig {
    /// Serve streamable HTTP at ADDR (path /mcp) instead of stdio; a bare port binds 127.0.0.1
    #[arg(long, value_name = "ADDR", env = "ZEN_HTTP", value_parser = parse_bind_addr)]
    pub http: Option<SocketAddr>,
    /// Allow --http on a non-loopback address; every request then needs `Authorization: Bearer <ZEN_AUTH_TOKEN>`
    #[arg(long, env = "ZEN_ALLOW_REMOTE", value_parser = parse_switch)]
    pub allow_remote: bool,
    /// Bearer token HTTP clients must send (required with --allow-remote)
    #[arg(
        long,
        env = "ZEN_AUTH_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub auth_token: Option<String>,
    /// Browser origins allowed besides loopback ones, comma-separated (e.g. https://app.example.com:443)
    #[arg(
        long,
        env = "ZEN_ALLOWED_ORIGINS",
        value_delimiter = ',',
        value_name = "ORIGINS"
    )]
    pub allowed_origins: Vec<String>,
    /// Largest request accepted: an HTTP body (413 above it) or one stdio line (a JSON-RPC error)
    #[arg(long, env = "ZEN_MAX_MESSAGE_BYTES", default_value_t = 4 * 1024 * 1024, value_name = "BYTES")]
    pub max_message_bytes: usize,
    /// Answer HTTP requests with an SSE stream even when the reply is one message and the client accepts JSON
    #[arg(long, env = "ZEN_SSE_REPLIES", value_parser = parse_switch)]
    pub sse_replies: bool,
    /// Serve HTTP without sessions: no Mcp-Session-Id, every request stands alone (behind a load balancer without affinity)
    #[arg(long, env = "ZEN_HTTP_STATELESS", value_parser = parse_switch)]
    pub http_stateless: bool,
    /// Telemetry listener (GET /snapshot and /metrics); must be a loopback address
    #[arg(long, env = "ZEN_TELEMETRY", default_value = "127.0.0.1:0", value_parser = parse_bind_addr, value_name = "ADDR")]
    pub telemetry: SocketAddr,
    /// Open no telemetry listener and write no discovery file
    #[arg(long, env = "ZEN_NO_TELEMETRY", value_parser = parse_switch)]
    pub no_telemetry: bool,
    /// Where discovery files go [default: $XDG_RUNTIME_DIR/zen, else a per-user temp directory]
    #[arg(long, env = "ZEN_RUNTIME_DIR", value_name = "DIR")]
    pub runtime_dir: Option<PathBuf>,
    /// On shutdown (stdin EOF, SIGTERM, Ctrl-C), how long in-flight calls may finish
    #[arg(long, env = "ZEN_DRAIN_TIMEOUT", default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    pub drain_timeout: Duration,
}

/// The concurrency manager's pools.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Concurrency")]
pub struct LimitConfig {
    /// Tool calls served at once; further calls wait in order
    #[arg(long, env = "MAX_CONCURRENT_REQUESTS", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub max_concurrent_requests: u32,
    /// Per-provider limits overriding the defaults (gemini=10,openai=20,openrouter=15,azure=10,xai=10,dial=10,custom=5,clink=3,simulated=32, others 5)
    #[arg(long, env = "ZEN_PROVIDER_LIMITS", default_value = "", value_parser = parse_provider_limits, value_name = "NAME=N,..")]
    pub provider_limits: NameMap<u32>,
    /// Longest wait for a pool before the call fails with "busy" (0 waits forever)
    #[arg(long, env = "ZEN_QUEUE_TIMEOUT", default_value = "60s", value_parser = parse_duration, value_name = "DURATION")]
    pub queue_timeout: Duration,
}

impl LimitConfig {
    /// The permit count of a provider's pool.
    pub fn provider_limit(&self, provider: &str) -> u32 {
        if let Some(n) = self.provider_limits.0.get(provider) {
            return *n;
        }
        match provider {
            "gemini" | "azure" | "xai" | "dial" => 10,
            "openai" => 20,
            "openrouter" => 15,
            // Each clink call is a whole CLI process (often a Node runtime) for minutes.
            "clink" => 3,
            "simulated" => 32,
            // "custom" and any other provider.
            _ => 5,
        }
    }

    /// The queue timeout, `None` meaning wait forever.
    pub fn queue_timeout(&self) -> Option<Duration> {
        (!self.queue_timeout.is_zero()).then_some(self.queue_timeout)
    }
}

/// Model providers. With no key set, zen runs on its built-in simulated provider.
#[derive(Clone, Args)]
#[command(next_help_heading = "Providers")]
pub struct ProviderConfig {
    /// Model used when a call names none; `auto` picks the first available model
    #[arg(
        long,
        env = "DEFAULT_MODEL",
        default_value = "auto",
        value_name = "MODEL"
    )]
    pub default_model: String,
    /// OpenAI API key
    #[arg(
        long,
        env = "OPENAI_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub openai_api_key: Option<String>,
    /// OpenAI-compatible base URL for `openai`
    #[arg(
        long,
        env = "OPENAI_BASE_URL",
        default_value = "https://api.openai.com/v1",
        value_name = "URL"
    )]
    pub openai_base_url: String,
    /// OpenRouter API key
    #[arg(
        long,
        env = "OPENROUTER_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub openrouter_api_key: Option<String>,
    /// Base URL for `openrouter`
    #[arg(
        long,
        env = "OPENROUTER_BASE_URL",
        default_value = "https://openrouter.ai/api/v1",
        value_name = "URL"
    )]
    pub openrouter_base_url: String,
    /// Google Gemini API key (used through Google's OpenAI-compatible endpoint)
    #[arg(
        long,
        env = "GEMINI_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub gemini_api_key: Option<String>,
    /// Base URL for `gemini`
    #[arg(
        long,
        env = "GEMINI_BASE_URL",
        default_value = "https://generativelanguage.googleapis.com/v1beta/openai",
        value_name = "URL"
    )]
    pub gemini_base_url: String,
    /// OpenAI-compatible endpoint of a local or self-hosted model (Ollama, vLLM, LM Studio), e.g. http://localhost:11434/v1
    #[arg(long, env = "CUSTOM_API_URL", value_name = "URL")]
    pub custom_api_url: Option<String>,
    /// API key for the custom endpoint, if it wants one
    #[arg(
        long,
        env = "CUSTOM_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub custom_api_key: Option<String>,
    /// Model name served by the custom endpoint
    #[arg(
        long,
        env = "CUSTOM_MODEL_NAME",
        default_value = "llama3.2",
        value_name = "MODEL"
    )]
    pub custom_model_name: String,
    /// Connect timeout for provider HTTP requests
    #[arg(long, env = "ZEN_CONNECT_TIMEOUT", default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    pub connect_timeout: Duration,
    /// Per-provider connect timeouts overriding --connect-timeout, e.g. custom=2s,openai=15s
    #[arg(long, env = "ZEN_PROVIDER_CONNECT_TIMEOUTS", default_value = "", value_parser = parse_connect_timeouts, value_name = "NAME=DURATION,..")]
    pub provider_connect_timeouts: NameMap<DurationArg>,
    /// Timeout of one provider attempt (the whole request, including reading the reply)
    #[arg(long, env = "ZEN_REQUEST_TIMEOUT", default_value = "300s", value_parser = parse_duration, value_name = "DURATION")]
    pub request_timeout: Duration,
    /// Per-provider request timeouts overriding --request-timeout, e.g. custom=600s,simulated=5s
    #[arg(long, env = "ZEN_PROVIDER_TIMEOUTS", default_value = "", value_parser = parse_provider_map::<DurationArg>, value_name = "NAME=DURATION,..")]
    pub provider_timeouts: NameMap<DurationArg>,
    /// The whole of one provider call: every attempt, backoff and Retry-After wait together; past it the call fails and its provider permit is freed
    #[arg(long, env = "ZEN_CALL_TIMEOUT", default_value = "10m", value_parser = parse_duration, value_name = "DURATION")]
    pub call_timeout: Duration,
    /// Attempts per provider call, counting the first (429, 5xx and timeouts are retried with backoff)
    #[arg(long, env = "ZEN_MAX_RETRIES", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub max_retries: u32,
    /// First retry backoff; it doubles per attempt, with jitter, and Retry-After wins when longer
    #[arg(long, env = "ZEN_RETRY_BACKOFF", default_value = "500ms", value_parser = parse_duration, value_name = "DURATION")]
    pub retry_backoff: Duration,
    /// Longest wait before a retry; a provider whose Retry-After asks for longer fails the call at once
    #[arg(long, env = "ZEN_MAX_RETRY_WAIT", default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    pub max_retry_wait: Duration,
    /// Largest provider reply read; a longer one fails the call and its connection is dropped
    #[arg(long, env = "ZEN_MAX_REPLY_BYTES", default_value_t = 8 * 1024 * 1024, value_parser = parse_byte_count, value_name = "BYTES")]
    pub max_reply_bytes: u64,
    /// Circuit breakers: failures in a row before opening, and the longest it stays open; it tries the provider again after 3s (or FIRST in N/FIRST..MAX) and doubles that after each failed try,
    /// e.g. gemini=3/30s,openai=5/1s..60s (defaults also openrouter=10/120s, custom=2/45s, others 5/60s)
    #[arg(long, env = "ZEN_BREAKERS", default_value = "", value_parser = parse_provider_map::<BreakerSpec>, value_name = "NAME=N/[FIRST..]MAX,..")]
    pub breakers: NameMap<BreakerSpec>,
    /// Azure OpenAI, X.AI and DIAL.
    #[command(flatten)]
    pub hosted: HostedConfig,
    /// Model files and allowed-model lists.
    #[command(flatten)]
    pub catalogs: CatalogConfig,
}

impl ProviderConfig {
    /// The connect timeout for one provider.
    pub fn connect_timeout(&self, provider: &str) -> Duration {
        self.provider_connect_timeouts
            .0
            .get(provider)
            .map_or(self.connect_timeout, |d| d.0)
    }

    /// The request timeout for one provider.
    pub fn request_timeout(&self, provider: &str) -> Duration {
        self.provider_timeouts
            .0
            .get(provider)
            .map_or(self.request_timeout, |d| d.0)
    }

    /// The circuit breaker settings for one provider.
    pub fn breaker(&self, provider: &str) -> BreakerSpec {
        if let Some(spec) = self.breakers.0.get(provider) {
            return *spec;
        }
        let (failures, secs) = match provider {
            "gemini" => (3, 30),
            "openrouter" => (10, 120),
            "custom" => (2, 45),
            // "openai" and any other provider.
            _ => (5, 60),
        };
        BreakerSpec::new(failures, Duration::from_secs(secs))
    }
}

impl std::fmt::Debug for ProviderConfig {
    // API keys never reach a log line, not even through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |k: &Option<String>| if k.is_some() { "set" } else { "unset" };
        f.debug_struct("ProviderConfig")
            .field("default_model", &self.default_model)
            .field("openai_api_key", &set(&self.openai_api_key))
            .field("openrouter_api_key", &set(&self.openrouter_api_key))
            .field("gemini_api_key", &set(&self.gemini_api_key))
            .field("custom_api_url", &self.custom_api_url)
            .field("custom_api_key", &set(&self.custom_api_key))
            .field("hosted", &self.hosted)
            .field("catalogs", &self.catalogs)
            .finish_non_exhaustive()
    }
}

/// The conversation store and the process memory watchdog.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Conversations and memory")]
pub struct MemoryConfig {
    /// Hours a conversation lives after its last turn
    #[arg(long, env = "CONVERSATION_TIMEOUT_HOURS", default_value_t = 3.0, value_parser = parse_positive_f64, value_name = "HOURS")]
    pub conversation_timeout_hours: f64,
    /// Turns a conversation may hold (each prompt and each reply is a turn)
    #[arg(long, env = "MAX_CONVERSATION_TURNS", default_value_t = 50, value_parser = clap::value_parser!(u32).range(2..), value_name = "N")]
    pub max_conversation_turns: u32,
    /// Byte budget of all stored conversations
    #[arg(long, env = "CONVERSATION_MEMORY_LIMIT_MB", default_value_t = 512.0, value_parser = parse_positive_f64, value_name = "MB")]
    pub conversation_memory_limit_mb: f64,
    /// Share of the budget at which least recently updated conversations are evicted
    #[arg(long, env = "ZEN_MEMORY_CLEANUP_THRESHOLD", default_value_t = 0.8, value_parser = parse_fraction, value_name = "FRACTION")]
    pub memory_cleanup_threshold: f64,
    /// Seconds between background memory checks (expiry, pressure, watchdog)
    #[arg(long, env = "ZEN_MEMORY_CHECK_SECS", default_value_t = 300.0, value_parser = parse_positive_f64, value_name = "SECS")]
    pub memory_check_secs: f64,
    /// Largest single conversation in bytes; older turns are dropped past it [default: budget / 10]
    #[arg(long, env = "ZEN_THREAD_MAX_BYTES", value_name = "BYTES")]
    pub thread_max_bytes: Option<u64>,
    /// Process RSS limit: above 80% a forced cleanup, above 100% new conversations are refused
    #[arg(long, env = "MEMORY_LIMIT_MB", default_value_t = 2048.0, value_parser = parse_positive_f64, value_name = "MB")]
    pub memory_limit_mb: f64,
    /// Largest prompt accepted by chat, in bytes (put bigger content in absolute_file_paths)
    #[arg(long, env = "ZEN_MAX_PROMPT_BYTES", default_value_t = 1024 * 1024, value_name = "BYTES")]
    pub max_prompt_bytes: usize,
}

impl MemoryConfig {
    /// The conversation byte budget.
    pub fn budget_bytes(&self) -> u64 {
        (self.conversation_memory_limit_mb * 1024.0 * 1024.0) as u64
    }
    /// The largest single thread.
    pub fn thread_max_bytes(&self) -> u64 {
        self.thread_max_bytes
            .unwrap_or(self.budget_bytes() / 10)
            .max(1)
    }
    /// How long a thread lives after its last update.
    pub fn conversation_ttl(&self) -> Duration {
        Duration::from_secs_f64(self.conversation_timeout_hours * 3600.0)
    }
    /// The RSS limit in bytes.
    pub fn rss_limit_bytes(&self) -> u64 {
        (self.memory_limit_mb * 1024.0 * 1024.0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_plan() {
        let c = ServeConfig::defaults();
        assert_eq!(c.limits.max_concurrent_requests, 50);
        assert_eq!(c.limits.provider_limit("gemini"), 10);
        assert_eq!(c.limits.provider_limit("simulated"), 32);
        assert_eq!(c.limits.provider_limit("whatever"), 5);
        assert_eq!(c.memory.budget_bytes(), 512 * 1024 * 1024);
        assert_eq!(c.memory.thread_max_bytes(), c.memory.budget_bytes() / 10);
        assert_eq!(c.providers.breaker("custom").failures, 2);
        assert_eq!(c.providers.max_retry_wait, Duration::from_secs(30));
        assert_eq!(c.providers.max_reply_bytes, 8_388_608);
        assert_eq!(c.sim.sim_latency_ms, Latency::Fixed(200));
        assert_eq!(
            c.providers.connect_timeout("openai"),
            Duration::from_secs(10)
        );
        let mut c = c;
        c.providers.provider_connect_timeouts = parse_connect_timeouts("custom=2s").unwrap();
        assert_eq!(
            c.providers.connect_timeout("custom"),
            Duration::from_secs(2)
        );
        assert_eq!(
            c.providers.connect_timeout("gemini"),
            Duration::from_secs(10)
        );
    }
}
