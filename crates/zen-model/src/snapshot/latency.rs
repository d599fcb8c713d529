//! Latency distributions: the histogram every recorder uses and its serde summary.
use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::hdr::encode;
#[cfg(test)]
use crate::hdr::new_histogram;

/// A latency histogram summarised: percentiles plus fixed cumulative buckets (Prometheus-style).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct LatencySummary {
    /// Calls recorded.
    pub count: u64,
    /// Mean latency, ms.
    pub mean_ms: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 90th percentile latency, ms.
    pub p90_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// 99.9th percentile latency, ms.
    pub p999_ms: f64,
    /// The slowest call, ms.
    pub max_ms: f64,
    /// Cumulative counts at each bound in [`BUCKET_BOUNDS_MS`]; `+Inf` is `count`.
    pub buckets: Vec<u64>,
    /// The whole histogram, lossless (HdrHistogram V2 deflate, base64; empty without calls): two
    /// snapshots give any window's exact percentiles (see `snapshot::window`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hdr: String,
}

/// One (provider, model)'s provider requests: only the lossless histograms, no summary, so
/// the snapshot stays small with many models (readers derive any figure from `hdr`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ModelLatency {
    /// The provider (`openai`, `simulated`, …).
    pub provider: String,
    /// The requested model; `other` gathers models past the collector's cap.
    pub model: String,
    /// Requests finished, whatever the outcome.
    pub calls: u64,
    /// Every request's latency (µs), encoded like [`LatencySummary::hdr`].
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hdr: String,
    /// Failed requests' latency per error kind (same encoding); the ok ones are `hdr` minus these.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failed_hdr: BTreeMap<String, String>,
}

/// Upper bounds (ms) of the fixed buckets used by `/metrics` and the dashboard.
pub const BUCKET_BOUNDS_MS: [f64; 16] = [
    1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0,
    60000.0, 300_000.0,
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
            hdr: encode(h),
        }
    }
}

/// Per-bucket counts from cumulative ones (one per bound in [`BUCKET_BOUNDS_MS`]) and the total:
/// the result has one more entry, the `+Inf` bucket. Saturating, so a counter reset between two
/// samples reads as zero rather than wrapping.
pub fn per_bucket(cumulative: &[u64], total: u64) -> Vec<u64> {
    let mut out = Vec::with_capacity(cumulative.len() + 1);
    let mut below = 0;
    for &cum in cumulative {
        out.push(cum.saturating_sub(below));
        below = below.max(cum);
    }
    out.push(total.saturating_sub(below));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_end_at_the_count() {
        let mut h = new_histogram();
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

    #[test]
    fn per_bucket_splits_cumulative_counts_and_ends_with_the_overflow() {
        assert_eq!(per_bucket(&[1, 1, 3], 5), vec![1, 0, 2, 2]);
        assert_eq!(per_bucket(&[], 0), vec![0]);
    }
}
