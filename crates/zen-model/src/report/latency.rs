//! A latency figure of a report: percentiles, the fixed-bucket histogram and the lossless HDR
//! encoding that merges and comparisons read.
use hdrhistogram::Histogram;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::snapshot::LatencySummary;

/// Percentiles plus a histogram over fixed bounds.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LatencyReport {
    /// Calls measured.
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
    /// Calls per bucket (not cumulative); `le_ms` null is the overflow bucket.
    pub histogram: Vec<HistogramBin>,
    /// The full histogram (µs): HDR V2 deflate, base64; exact for merging and comparing.
    pub hdr: String,
}

/// One bucket of a latency histogram.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HistogramBin {
    /// Upper bound of the bucket, ms (inclusive); null for the overflow bucket.
    pub le_ms: Option<f64>,
    /// Calls in this bucket alone.
    pub count: u64,
}

impl LatencyReport {
    /// Summarise a histogram of µs values: percentiles, per-bucket counts, the lossless encoding.
    pub fn from_histogram(h: &Histogram<u64>) -> Self {
        let s = LatencySummary::from_histogram(h);
        let bounds = crate::snapshot::BUCKET_BOUNDS_MS.iter().map(|le| Some(*le));
        let histogram: Vec<HistogramBin> = (bounds.chain([None]))
            .zip(crate::snapshot::per_bucket(&s.buckets, s.count))
            .map(|(le_ms, count)| HistogramBin { le_ms, count })
            .collect();
        LatencyReport {
            count: s.count,
            mean_ms: s.mean_ms,
            p50_ms: s.p50_ms,
            p90_ms: s.p90_ms,
            p99_ms: s.p99_ms,
            p999_ms: s.p999_ms,
            max_ms: s.max_ms,
            histogram,
            hdr: crate::hdr::encode(h),
        }
    }
}
