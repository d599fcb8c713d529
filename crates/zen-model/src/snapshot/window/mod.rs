//! Lossless latency histograms in the snapshot, and exact figures over a window between two
//! snapshots. The fixed buckets are fine for Prometheus, but a percentile interpolated inside a
//! bucket can land far from any real call (even above the window's max); with the whole
//! histogram on both sides, a window's percentile is the percentile of that window's calls.
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::latency::LatencySummary;
use crate::hdr::decode;

/// The calls recorded in `newer` and not in `older` (none: all of `newer`). None when a side does
/// not decode or `older` is not a prefix of `newer` (a restarted server).
pub fn between(older: Option<&LatencySummary>, newer: &LatencySummary) -> Option<Histogram<u64>> {
    let mut h = decode(&newer.hdr).ok()?;
    if let Some(o) = older {
        h.subtract(decode(&o.hdr).ok()?).ok()?;
    }
    Some(h)
}

/// Exact figures of one window's calls.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct WindowLatency {
    /// Calls finished in the window.
    pub count: u64,
    /// Median (ms) of the window's calls; each percentile is the highest value equivalent to a
    /// real call's.
    pub p50_ms: f64,
    /// 90th percentile (ms) of the window's calls.
    pub p90_ms: f64,
    /// 99th percentile (ms) of the window's calls.
    pub p99_ms: f64,
    /// The slowest call of the window (same precision as the percentiles, so never below them).
    pub max_ms: f64,
    /// Mean latency of the window's calls, ms.
    pub mean_ms: f64,
}

impl WindowLatency {
    /// Figures of a (window) histogram; none without calls.
    pub fn of(h: &Histogram<u64>) -> Option<Self> {
        if h.is_empty() {
            return None;
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Some(WindowLatency {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
            mean_ms: h.mean() / 1000.0,
        })
    }

    /// Figures of the calls between two summaries of the same series.
    pub fn between(older: Option<&LatencySummary>, newer: &LatencySummary) -> Option<Self> {
        Self::of(&between(older, newer)?)
    }
}

#[cfg(test)]
mod tests;
