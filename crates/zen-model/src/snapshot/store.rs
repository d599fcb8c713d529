//! Conversation-store and memory-watchdog figures.
use serde::{Deserialize, Serialize};

/// Why threads were removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The store crossed its threshold (or a write would cross the budget).
    Pressure,
    /// Idle longer than CONVERSATION_TIMEOUT_HOURS.
    Expiry,
    /// The watchdog saw RSS above 80% of MEMORY_LIMIT_MB.
    Watchdog,
}

/// Evictions by cause, since start.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Evictions {
    /// Threads evicted for the budget (or by the watchdog's forced cleanup).
    pub pressure: u64,
    /// Threads freed after expiring.
    pub expiry: u64,
    /// Turns dropped from threads larger than ZEN_THREAD_MAX_BYTES (or, when the new turns
    /// alone were larger, not stored).
    pub oversize: u64,
}

/// The last cleanup run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CleanupInfo {
    /// When it finished, Unix ms.
    pub at_ms: u64,
    /// How long it took, ms.
    pub duration_ms: f64,
    /// Why it ran.
    pub cause: Cause,
    /// Threads it removed.
    pub evicted: u64,
}

/// The watchdog's view of process memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WatchdogState {
    /// RSS under 80% of the limit.
    #[default]
    Ok,
    /// RSS at 80% or more: warned and cleaned up.
    Warning,
    /// RSS above the limit: new threads are refused.
    Refusing,
}

/// Watchdog figures for the snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct WatchdogStats {
    /// The state after the last RSS reading.
    pub state: WatchdogState,
    /// The last RSS reading, bytes.
    pub rss_bytes: u64,
    /// MEMORY_LIMIT_MB in bytes.
    pub limit_bytes: u64,
    /// New conversations refused while RSS was over the limit, since start.
    pub refused_threads_total: u64,
    /// Times RSS was over the limit while conversations held too little of it to be the cause
    /// (a session flood, say): nothing was evicted or refused, so it is counted here instead.
    #[serde(default)]
    pub pressure_elsewhere_total: u64,
}

/// The store's figures for the snapshot, `/metrics` and the `metrics` tool.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct StoreStats {
    /// The backend: `sqlite`, `memory` (or `redis`).
    #[serde(default)]
    pub kind: String,
    /// Conversation threads stored.
    pub threads: u64,
    /// Stored conversation bytes (serialized size), held against the budget.
    pub bytes: u64,
    /// Of those, the bytes held in this process's memory (all of them for `memory`; the hot
    /// cache for a store on disk): what RSS can be expected to carry.
    #[serde(default)]
    pub resident_bytes: u64,
    /// The store's file(s) on disk, when it has any (SQLite: database plus WAL).
    #[serde(default)]
    pub file_bytes: Option<u64>,
    /// Memory the store uses as a cache (SQLite's page cache).
    #[serde(default)]
    pub cache_bytes: u64,
    /// Where the store keeps its data, for people (a path or URL without secrets).
    #[serde(default)]
    pub location: Option<String>,
    /// The byte budget of all stored conversations (CONVERSATION_MEMORY_LIMIT_MB in bytes).
    pub budget_bytes: u64,
    /// bytes / budget_bytes.
    pub utilisation: f64,
    /// Share of the budget where cleanup starts.
    pub threshold: f64,
    /// Most bytes one thread may hold (ZEN_THREAD_MAX_BYTES); older turns are dropped past it.
    pub thread_max_bytes: u64,
    /// The most bytes ever stored at once: at or under the budget, except when only threads
    /// pinned by calls in flight were left to evict (the thread being written is then stored
    /// over it).
    pub peak_bytes: u64,
    /// Evictions since start, by cause.
    pub evictions: Evictions,
    /// Cleanup runs since start.
    pub cleanups_total: u64,
    /// The latest cleanup run, if any has run.
    pub last_cleanup: Option<CleanupInfo>,
    /// The memory watchdog's view of the process's RSS.
    pub watchdog: WatchdogStats,
}
