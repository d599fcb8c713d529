//! The soak part of a report: the memory trends after the warm-up, where the conversation
//! store's bytes were, and the verdict on memory growth.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::verdict::Status;

/// A fitted series, for reports.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct TrendReport {
    /// Samples in the fit.
    pub samples: u64,
    /// The first sample after the warm-up, MiB.
    pub start_mb: f64,
    /// The last sample, MiB.
    pub end_mb: f64,
    /// The largest sample, MiB.
    pub peak_mb: f64,
    /// end - start, after the warm-up.
    pub growth_mb: f64,
    /// Hours from the first sample to the last.
    pub span_hours: f64,
    /// growth extrapolated to one hour.
    pub growth_per_hour_mb: Option<f64>,
    /// Slope of the least-squares line through the samples, MiB per hour.
    pub slope_mb_per_hour: Option<f64>,
    /// How well that line fits, 0 to 1 (1: a straight line); none when the series did not vary.
    pub r_squared: Option<f64>,
}

/// The conversation store as the soak saw it last: where its bytes are.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StoreSummary {
    /// `sqlite` or `memory`.
    pub kind: String,
    /// Stored conversation bytes (against the budget).
    pub bytes: u64,
    /// Its files on disk (sqlite): not in RSS.
    pub file_bytes: Option<u64>,
    /// Its cache in memory.
    pub cache_bytes: u64,
}

/// The soak part of a report.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SoakReport {
    /// Time between two memory samples, seconds.
    pub sample_interval_secs: f64,
    /// The start of the run left out of the trends, seconds.
    pub warmup_secs: f64,
    /// Samples taken in all, warm-up included.
    pub samples_total: u64,
    /// Where the target's RSS came from: `pid` (/proc) or `snapshot` (zen's telemetry).
    pub rss_source: String,
    /// The target's RSS after the warm-up.
    pub target: TrendReport,
    /// The load generator's own RSS after the warm-up.
    pub generator: TrendReport,
    /// zen only: the conversation bytes zen holds in memory after the warm-up (the whole store
    /// when it is `memory`, its cache when it is on disk): growth bounded by a setting.
    pub conversations: Option<TrendReport>,
    /// zen only: RSS minus those bytes: growth the store does not explain.
    pub unexplained: Option<TrendReport>,
    /// The growth allowed per hour, MiB (`--max-growth-mb`): the slope and the growth over one hour
    /// must both stay within it.
    pub max_growth_mb: f64,
    /// zen only: the conversation store's peak and budget.
    pub conversation_peak_bytes: Option<u64>,
    /// zen only: the conversation store's byte budget.
    pub conversation_budget_bytes: Option<u64>,
    /// Time series file, if written.
    pub out_file: Option<String>,
    /// The columns of the time series file, in order.
    pub series_columns: Vec<String>,
    /// zen only: the conversation store at the end, on disk apart from RSS.
    #[serde(default)]
    pub store: Option<StoreSummary>,
    /// The memory verdict, with why.
    pub status: Status,
    /// The checks behind the status, one line each, and any note on them.
    pub reasons: Vec<String>,
}
