//! The one serde `Snapshot` every reader uses: the `metrics` tool, the telemetry listener
//! (`/snapshot` as JSON, `/metrics` rendered from it), `zen top` and the stress/soak reports.
//! The managers produce it; nothing else keeps a second copy of any figure.
use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::concurrency::PoolStats;
use crate::memory::StoreStats;
use crate::providers::resilience::BreakerStats;

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
}

/// Identity of the server process.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServerInfo {
    pub name: String,
    pub version: String,
    pub pid: u32,
    /// `stdio` or `http`.
    pub transport: String,
    /// The MCP endpoint when serving HTTP.
    pub endpoint: Option<String>,
    pub started_at_ms: u64,
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

/// A latency histogram summarised: percentiles plus fixed cumulative buckets (Prometheus-style).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct LatencySummary {
    pub count: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// Cumulative counts at each bound in [`BUCKET_BOUNDS_MS`]; `+Inf` is `count`.
    pub buckets: Vec<u64>,
}

/// Upper bounds (ms) of the fixed buckets used by `/metrics` and the dashboard.
pub const BUCKET_BOUNDS_MS: [f64; 16] = [
    1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0,
    60000.0, 300000.0,
];

impl LatencySummary {
    /// Summarise a histogram of µs values.
    pub fn from_histogram(h: &Histogram<u64>) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        if h.is_empty() {
            return LatencySummary {
                buckets: vec![0; BUCKET_BOUNDS_MS.len()],
                ..Default::default()
            };
        }
        let mut buckets = Vec::with_capacity(BUCKET_BOUNDS_MS.len());
        let mut cumulative = 0;
        let mut bounds = BUCKET_BOUNDS_MS
            .iter()
            .map(|b| (b * 1000.0) as u64)
            .peekable();
        // One pass over the recorded values, assigning each to its first bound.
        for v in h.iter_recorded() {
            let value = h.highest_equivalent(v.value_iterated_to());
            while let Some(&bound) = bounds.peek() {
                if value <= bound {
                    break;
                }
                buckets.push(cumulative);
                bounds.next();
            }
            cumulative += v.count_at_value();
        }
        while bounds.next().is_some() {
            buckets.push(cumulative);
        }
        LatencySummary {
            count: h.len(),
            mean_ms: h.mean() / 1000.0,
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
            buckets,
        }
    }
}

/// Calls and errors per second over the last 1, 10 and 60 whole seconds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Rates {
    pub calls_per_sec_1s: f64,
    pub calls_per_sec_10s: f64,
    pub calls_per_sec_60s: f64,
    pub errors_per_sec_1s: f64,
    pub errors_per_sec_10s: f64,
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
    pub memory_usage_mb: f64,
    pub rss_bytes: u64,
    /// Percent of one core, averaged since the previous sample.
    pub cpu_percent: f64,
    pub threads: u64,
    pub uptime_minutes: f64,
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_end_at_the_count() {
        let mut h = crate::metrics::new_histogram();
        for us in [500, 3_000, 3_000, 200_000, 7_000_000] {
            h.record(us).unwrap();
        }
        let s = LatencySummary::from_histogram(&h);
        assert_eq!(s.count, 5);
        // ≤1 ms: 1; ≤2.5: 1; ≤5: 3; … ≤250: 4; ≤10000: 5.
        assert_eq!(&s.buckets[..3], &[1, 1, 3]);
        assert_eq!(s.buckets[7], 4);
        assert_eq!(*s.buckets.last().unwrap(), 5);
        assert!(s.buckets.windows(2).all(|w| w[0] <= w[1]));
        assert!((s.p50_ms - 3.0).abs() < 0.01);
    }
}
