//! Pool and circuit-breaker figures.
use serde::{Deserialize, Serialize};

use super::latency::LatencySummary;

/// A pool's figures, as every reader sees them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PoolStats {
    /// `global` or the provider's name.
    pub name: String,
    /// Permits in all.
    pub limit: u32,
    /// Permits held now.
    pub in_use: u64,
    /// Calls waiting for a permit now.
    pub waiting: u64,
    /// Most permits ever held at once.
    pub peak_in_use: u64,
    /// Most calls ever waiting at once.
    pub peak_waiting: u64,
    /// Permits handed out since start.
    pub acquired_total: u64,
    /// Calls turned away since start: after the queue timeout, or while shutting down.
    pub rejected_total: u64,
    /// Of those, the ones turned away because the server was shutting down.
    pub rejected_shutting_down: u64,
    /// Time calls waited for a permit (every permit taken, waits of 0 included).
    pub queue_wait: LatencySummary,
}

/// A breaker's state, as the snapshot shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls go to the provider.
    Closed,
    /// Calls fail fast without reaching the provider.
    Open,
    /// One trial call may go through; its result closes or reopens the breaker.
    HalfOpen,
}

impl BreakerState {
    /// Every state, in the order /metrics lists them.
    pub const ALL: [BreakerState; 3] = [
        BreakerState::Closed,
        BreakerState::Open,
        BreakerState::HalfOpen,
    ];

    /// The serde name (`closed`, `open`, `half_open`): the one spelling every reader prints.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// Breaker figures for the snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BreakerStats {
    /// The breaker's state now.
    pub state: BreakerState,
    /// Provider failures in a row: so far when closed, those that opened it when open or half-open.
    pub consecutive_failures: u32,
    /// Failures in a row that open it.
    pub failure_threshold: u32,
    /// How long it stays open before a trial call, seconds.
    pub open_for_secs: f64,
    /// Times it opened since start.
    pub opened_total: u64,
    /// State changes since start, so a reader notices flapping between two snapshots.
    pub transitions_total: u64,
    /// Calls refused without reaching the provider since start (while open or the trial was out).
    pub short_circuited_total: u64,
}

/// Where the provider limits are held and, when they are shared, the cluster's figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LimitsStats {
    /// `local` (this process's pools only) or `redis` (every instance on one Redis).
    pub backend: String,
    /// The Redis URL without its password, when shared.
    pub location: Option<String>,
    /// How long a cluster lease lives unless renewed (a crashed instance's permits come back after it).
    pub lease_secs: f64,
    /// Redis answered the last call (always true for local limits).
    pub healthy: bool,
    /// The last Redis failure, so the operator sees why calls are refused.
    pub last_error: Option<String>,
    /// Provider calls refused because the shared limits could not be reached (they fail closed).
    pub unavailable_total: u64,
    /// Leases that lapsed while their call still ran (renewals failed for a whole lease time).
    pub leases_lost_total: u64,
    /// Per provider, across every instance on the same Redis.
    pub providers: Vec<ClusterPoolStats>,
}

impl Default for LimitsStats {
    fn default() -> Self {
        LimitsStats {
            backend: "local".to_string(),
            location: None,
            lease_secs: 0.0,
            healthy: true,
            last_error: None,
            unavailable_total: 0,
            leases_lost_total: 0,
            providers: Vec::new(),
        }
    }
}

/// One provider's cluster-wide figures, as of the last renewal tick.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ClusterPoolStats {
    /// The provider.
    pub name: String,
    /// The limit this instance enforces (every instance should set the same).
    pub limit: u32,
    /// Leases held by every instance together.
    pub held: u64,
    /// Calls queued for a lease on every instance together.
    pub waiting: u64,
    /// Of `held`, the leases this instance holds.
    pub held_here: u64,
}
