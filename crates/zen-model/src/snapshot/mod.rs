//! The one serde `Snapshot` every reader uses: the `metrics` tool, the telemetry listener
//! (`/snapshot` as JSON, `/metrics` rendered from it), `zen top` and the stress/soak reports.
//! The managers produce it; nothing else keeps a second copy of any figure.
//!
//! A leaf: it imports nothing of zen's. The managers, telemetry, `zen top` and the reports all
//! depend on it, never the reverse, so a reader of figures never needs the server's internals.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod bounded;
mod latency;
mod pools;
mod store;
mod window;

pub use bounded::BoundedPart;
pub use latency::{BUCKET_BOUNDS_MS, LatencySummary, ModelLatency, per_bucket};
pub use pools::{BreakerState, BreakerStats, ClusterPoolStats, LimitsStats, PoolStats};
pub use store::{Cause, CleanupInfo, Evictions, StoreStats, WatchdogState, WatchdogStats};
pub use window::{WindowLatency, between as latency_between};

/// Everything zen serve knows about itself at one instant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Snapshot {
    /// Who is talking.
    pub server: ServerInfo,
    /// When this snapshot was taken (Unix ms).
    pub taken_at_ms: u64,
    /// All tool calls together.
    pub totals: CallStats,
    /// Per tool.
    pub tools: BTreeMap<String, CallStats>,
    /// Per provider: calls (one per tool-level provider request, retries inside), retries, breaker.
    pub providers: BTreeMap<String, ProviderStats>,
    /// The global pool first, then one per provider.
    pub pools: Vec<PoolStats>,
    /// The zen process itself.
    pub system: SystemStats,
    /// The conversation store and the memory watchdog.
    pub conversations: StoreStats,
    /// Messages that never became a tool call.
    pub protocol: ProtocolStats,
    /// Tokens used, per provider and model, as the providers reported them.
    #[serde(default)]
    pub tokens: Vec<TokenStats>,
    /// Provider request latency per provider and model (the providers' figures split by model).
    #[serde(default)]
    pub model_latency: Vec<ModelLatency>,
    /// Where the provider limits are held (local or Redis) and the cluster's figures.
    #[serde(default)]
    pub limits: LimitsStats,
    /// The OpenTelemetry exporter's own figures; absent when export is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otel: Option<OtelStats>,
    /// The parts of the process's memory a setting bounds, each with its size and its cap, so
    /// a soak projects them to their bound instead of extrapolating them.
    #[serde(default)]
    pub bounded: Vec<BoundedPart>,
}

/// What the OpenTelemetry exporter sent and lost: export never slows a call, so what it cannot
/// queue it drops, and counts here.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct OtelStats {
    /// Spans waiting for export now (bounded by OTEL_BSP_MAX_QUEUE_SIZE).
    pub spans_queued: u64,
    /// Spans dropped because the queue was full.
    pub spans_dropped: u64,
    /// Spans the collector accepted.
    pub spans_exported: u64,
    /// Spans in exports that failed (collector down or refusing).
    pub spans_failed: u64,
    /// Metric exports that reached the collector.
    pub metric_exports: u64,
    /// Metric exports that failed (the next one carries the cumulative totals again).
    pub metric_exports_failed: u64,
}

/// Tokens one provider's model used since the server started.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct TokenStats {
    /// The provider (`openai`, `simulated`, …).
    pub provider: String,
    /// The provider's model name; `other` gathers models past the collector's cap.
    pub model: String,
    /// Tokens sent (the conversation and the prompt).
    pub prompt_tokens: u64,
    /// Tokens received (the replies).
    pub completion_tokens: u64,
    /// Tokens sent per call (HdrHistogram V2 deflate, base64; empty without calls).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prompt_per_call: String,
    /// Tokens received per call (same encoding).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub completion_per_call: String,
}

/// Prompt and completion tokens summed over every provider and model.
pub fn token_totals(tokens: &[TokenStats]) -> (u64, u64) {
    (tokens.iter()).fold((0, 0), |(p, c), t| {
        (p + t.prompt_tokens, c + t.completion_tokens)
    })
}

/// Identity of the server process.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServerInfo {
    /// The server's name (`zen`).
    pub name: String,
    /// zen's version.
    pub version: String,
    /// The server's process id.
    pub pid: u32,
    /// `stdio` or `http`.
    pub transport: String,
    /// The MCP endpoint when serving HTTP.
    pub endpoint: Option<String>,
    /// When the server started, Unix ms.
    pub started_at_ms: u64,
    /// Time since the server started, seconds.
    pub uptime_secs: f64,
    /// True once shutdown began: new calls are refused while in-flight ones finish.
    pub draining: bool,
}

/// Counts, error kinds, latency and rates of one series of calls.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct CallStats {
    /// Calls finished (the plan's field name).
    pub total_operations: u64,
    /// Calls that failed, any kind.
    pub total_errors: u64,
    /// total_errors / total_operations.
    pub error_rate: f64,
    /// Mean latency in ms.
    pub average_duration_ms: f64,
    /// Calls running now.
    pub in_flight: u64,
    /// Most calls ever running at once.
    pub peak_in_flight: u64,
    /// Failures by kind.
    pub errors: ErrorCounts,
    /// Latency distribution of finished calls.
    pub latency: LatencySummary,
    /// Recent throughput, for live views.
    pub rates: Rates,
    /// Latency of the failed calls per error kind (`tool_error`, …), encoded like
    /// `latency.hdr`: the ok calls' are `latency` minus these. Kinds without failures absent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failed_hdr: BTreeMap<String, String>,
}

/// Failures split by kind.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ErrorCounts {
    /// Bad arguments, unknown model or thread, refused by the watchdog.
    pub tool_error: u64,
    /// The provider answered with an error or could not be reached.
    pub provider_error: u64,
    /// The provider did not answer in time, or the call was cancelled.
    pub timeout: u64,
    /// Turned away by a pool (busy) or because the server is shutting down.
    pub rejected: u64,
}

/// Calls and errors per second over the last 1, 10 and 60 whole seconds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Rates {
    /// Calls finished per second over the last whole second.
    pub calls_per_sec_1s: f64,
    /// Calls finished per second over the last 10 whole seconds.
    pub calls_per_sec_10s: f64,
    /// Calls finished per second over the last 60 whole seconds.
    pub calls_per_sec_60s: f64,
    /// Failed calls per second over the last whole second.
    pub errors_per_sec_1s: f64,
    /// Failed calls per second over the last 10 whole seconds.
    pub errors_per_sec_10s: f64,
    /// Failed calls per second over the last 60 whole seconds.
    pub errors_per_sec_60s: f64,
}

/// One provider's figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProviderStats {
    /// Provider requests as the chat flow sees them (retries happen inside one).
    pub calls: CallStats,
    /// Extra attempts made after a retryable failure.
    pub retries_total: u64,
    /// The circuit breaker.
    pub breaker: BreakerStats,
}

/// The zen process (the plan's `system` block plus raw figures).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct SystemStats {
    /// Resident memory, MiB (`rss_bytes` / 2^20).
    pub memory_usage_mb: f64,
    /// Resident memory, bytes.
    pub rss_bytes: u64,
    /// Percent of one core, averaged since the previous sample.
    pub cpu_percent: f64,
    /// OS threads of the process (0 where they cannot be read).
    pub threads: u64,
    /// Time since the process started, minutes.
    pub uptime_minutes: f64,
    /// CPU time (user + system) the process has used since it started, read with the
    /// snapshot: two snapshots give a load run the server's CPU per call.
    #[serde(default)]
    pub cpu_secs: f64,
    /// Bytes the C allocator has handed out and not had back (0 where it does not say).
    #[serde(default)]
    pub heap_in_use_bytes: u64,
    /// Bytes freed to the C allocator and kept in its free lists: resident, yet in no use.
    #[serde(default)]
    pub heap_free_bytes: u64,
    /// Every byte SQLite holds in the process (page caches, schemas, statements).
    #[serde(default)]
    pub sqlite_bytes: u64,
}

/// Traffic that never became a tool call, counted rather than lost.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ProtocolStats {
    /// Lines on stdin that were not JSON-RPC (logged and answered with an error).
    pub malformed_messages: u64,
    /// Messages over ZEN_MAX_MESSAGE_BYTES (answered with an error when their id was readable).
    pub oversized_messages: u64,
    /// tools/call for a tool zen does not have.
    pub unknown_tools: u64,
    /// Error replies to bad messages dropped because the reply queue was full.
    #[serde(default)]
    pub dropped_replies: u64,
    /// HTTP `initialize` requests refused because ZEN_MAX_SESSIONS sessions were open.
    #[serde(default)]
    pub refused_sessions: u64,
    /// HTTP sessions zen closed at ZEN_MAX_SESSIONS to let a new client in (the least recently
    /// used quiet one).
    #[serde(default)]
    pub evicted_sessions: u64,
    /// HTTP sessions zen closed after ZEN_SESSION_IDLE without a request.
    #[serde(default)]
    pub idle_sessions_closed: u64,
    /// HTTP connections closed because a request's headers took over ZEN_HEADER_TIMEOUT.
    #[serde(default)]
    pub header_timeouts: u64,
    /// Kept-alive HTTP connections closed after ZEN_HTTP_IDLE_TIMEOUT without a request.
    #[serde(default)]
    pub idle_closes: u64,
    /// HTTP connections answered 408 and closed because a request's body took over
    /// ZEN_BODY_TIMEOUT.
    #[serde(default)]
    pub body_timeouts: u64,
    /// Log messages for clients (`notifications/message`) dropped by a session's rate limit or
    /// a full queue.
    #[serde(default)]
    pub dropped_log_messages: u64,
}

/// Anything that can produce the current snapshot: the server, or a test double. Telemetry and
/// the `metrics` tool hold one of these instead of the server itself.
pub trait SnapshotSource: Send + Sync {
    /// Everything the managers know, now.
    fn snapshot(&self) -> Snapshot;
}

/// Bytes as MiB, the unit every report and panel prints.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// errors / calls, 0 when there were no calls.
pub fn error_rate(errors: u64, calls: u64) -> f64 {
    if calls == 0 {
        0.0
    } else {
        errors as f64 / calls as f64
    }
}
