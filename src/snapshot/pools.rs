//! Pool and circuit-breaker figures.
use serde::{Deserialize, Serialize};

use super::latency::LatencySummary;

/// A pool's figures, as every reader sees them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PoolStats {
    pub name: String,
    pub limit: u32,
    pub in_use: u64,
    pub waiting: u64,
    pub peak_in_use: u64,
    pub peak_waiting: u64,
    pub acquired_total: u64,
    pub rejected_total: u64,
    pub rejected_shutting_down: u64,
    pub queue_wait: LatencySummary,
}

/// A breaker's state, as the snapshot shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
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
    pub state: BreakerState,
    pub consecutive_failures: u32,
    pub failure_threshold: u32,
    pub open_for_secs: f64,
    pub opened_total: u64,
    pub transitions_total: u64,
    pub short_circuited_total: u64,
}
