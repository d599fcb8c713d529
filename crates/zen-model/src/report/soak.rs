//! The soak part of a report: the memory trends after the warm-up, where the conversation
//! store's bytes were, how the curve was read (the deciding window, the steps, each bounded
//! part projected to its cap) and the verdict on memory growth.
use std::collections::BTreeMap;

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
    /// How the curve was read: the window that decided, the steps, the projection.
    #[serde(default)]
    pub reading: Option<CurveReading>,
    /// The memory over the whole run, warm-up included (averaged pairwise past 600 points),
    /// for charts.
    #[serde(default)]
    pub memory_series: Vec<MemoryPoint>,
}

/// One point of the memory series.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct MemoryPoint {
    /// Seconds into the run.
    pub t_secs: f64,
    /// The target's RSS, MiB.
    pub target_mb: f64,
    /// The load generator's RSS, MiB.
    pub generator_mb: f64,
    /// zen only: each bounded part's size by key (`store_cache`, …), MiB.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parts: BTreeMap<String, f64>,
}

/// A stretch of the run after the warm-up, with the line fitted through it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct SoakWindow {
    /// Where it starts, seconds into the run.
    pub start_secs: f64,
    /// Where it ends, seconds into the run.
    pub end_secs: f64,
    /// Samples in it.
    pub samples: u64,
    /// The judged curve's mean over it, MiB.
    pub mean_mb: f64,
    /// The judged curve's slope over it, MiB per hour.
    pub slope_mb_per_hour: f64,
    /// Twice the slope's standard error, MiB per hour: the slope is known to about ± this.
    pub slope_margin_mb_per_hour: f64,
    /// How well a line fits it, 0 to 1; none when the curve did not vary.
    pub r_squared: Option<f64>,
    /// The target's RSS over it: mean, MiB.
    pub rss_mean_mb: f64,
    /// The target's RSS slope over it, MiB per hour.
    pub rss_slope_mb_per_hour: f64,
}

/// A jump of the judged curve between two stretches of it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct SoakStep {
    /// When, seconds into the run.
    pub at_secs: f64,
    /// How much, MiB (negative: a drop).
    pub height_mb: f64,
    /// What zen was doing then, when the target is zen and something happened ("the store's
    /// first cleanup").
    pub cause: Option<String>,
}

/// One part of the projection over one hour.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct PartProjection {
    /// `store_cache`, `conversations`, `histograms`, or `rest` (everything else, extrapolated).
    pub key: String,
    /// What it is, for people.
    pub name: String,
    /// Its size at the end of the run, MiB.
    pub now_mb: f64,
    /// The most it can reach, MiB (none for the rest: it is not bounded).
    pub cap_mb: Option<f64>,
    /// What sets the cap.
    pub bounded_by: Option<String>,
    /// Its slope over the deciding window, MiB per hour.
    pub slope_mb_per_hour: f64,
    /// Its projected growth over one hour, MiB: a bounded part no further than its cap.
    pub growth_mb: f64,
    /// A bounded part still filling: seconds until it reaches its cap at this rate.
    pub full_in_secs: Option<f64>,
}

/// How the memory curve was read to reach the verdict.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct CurveReading {
    /// The curve judged: `rss`, or for zen `rss minus bounded parts` (the bounded parts are
    /// projected to their caps instead).
    pub curve: String,
    /// What the curve did: `flat`, `plateau` (flat after its steps), `growth`, `staircase`
    /// (steps that keep coming), `slowing` (growth that is levelling off), `step_at_end`.
    pub shape: String,
    /// The window the verdict was decided on.
    pub deciding: SoakWindow,
    /// Why that window: "the last 6m 12s, after the last step".
    pub deciding_why: String,
    /// The curve's noise (robust standard deviation), MiB.
    pub noise_mb: f64,
    /// Jumps found after the warm-up, in time order.
    pub steps: Vec<SoakStep>,
    /// The projection over one hour, part by part (bounded parts, then the rest).
    pub projection: Vec<PartProjection>,
    /// The projected growth over one hour, MiB: the parts' sum.
    pub projected_growth_mb: f64,
    /// Its uncertainty, MiB (twice the rest's slope error over an hour).
    pub projected_margin_mb: f64,
    /// When inconclusive: a run length that would decide, seconds.
    pub decide_with_secs: Option<f64>,
    /// The reading in one sentence: "RSS flat at 47.0 MiB for the last 6m (slope +0.1 MiB/h);
    /// one step of +14.9 MiB at 2m 31s, at the store's first cleanup".
    pub summary: String,
}
