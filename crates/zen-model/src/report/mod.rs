//! Stress and soak reports: one serde type for the JSON report (its JSON Schema is committed as
//! tests/report.schema.json and checked by a test). The load engine writes it, `zen report`
//! reads it; neither needs the other.
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub mod ceiling;
mod latency;
pub mod series;
mod server;
pub mod soak;
pub mod verdict;

pub use latency::{HistogramBin, LatencyReport};
pub use server::{PoolSide, ProviderSide, ServerSide, ServerTime};

use ceiling::CeilingReport;
use series::Point;
use soak::SoakReport;
use verdict::{Thresholds, Verdict};

/// A stress or soak run, as `--json` prints it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// Bumped when a field changes meaning.
    pub schema_version: u32,
    /// `stress` or `soak`.
    pub command: String,
    /// The version of zen that wrote the report.
    pub zen_version: String,
    /// The scenario's name, if one was used.
    pub scenario: Option<String>,
    /// True when the run was stopped early (q, Ctrl-C) or its target died.
    pub partial: bool,
    /// Why the run ended before its plan did ("target died after 3.0 s: …"), if it did.
    pub ended_early: Option<String>,
    /// The server driven: how it was reached and what it called itself.
    pub target: TargetReport,
    /// The load as planned: model, size, sessions and per-call timeout.
    pub load: LoadReport,
    /// Wall time of the load, first send to last reply.
    pub elapsed_secs: f64,
    /// How the calls ended.
    pub calls: CallCounts,
    /// Finished calls per second of wall time.
    pub throughput_per_sec: f64,
    /// Latency of finished calls (open loop: from the intended send time).
    pub latency: LatencyReport,
    /// Open loop only: latency from the actual send time, beside the corrected figure.
    pub latency_uncorrected: Option<LatencyReport>,
    /// Per tool.
    pub tools: BTreeMap<String, ToolReport>,
    /// Per MCP operation (`tools/call`, `resources/read`, `ping`, …): its calls, failures and
    /// latency histogram; empty in reports from before zen sent other operations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub operations: BTreeMap<String, ToolReport>,
    /// `--churn`: the handshake each call's new session (or new client identity) made, apart;
    /// the calls' latency includes it, as a new client sees it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handshake: Option<LatencyReport>,
    /// `--shard I/N`: which part of one test on N generators this run was, and when it was
    /// told to start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardReport>,
    /// Per instance, when the run spread its sessions over several (`--url A --url B`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetShare>,
    /// Per MCP revision, when the sessions spoke several (`--protocol 2026-07-28,2025-11-25`):
    /// the eras side by side against one server; each share's `label` is the revision.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protocols: Vec<TargetShare>,
    /// Failed calls by kind: jsonrpc, tool_error, transport, timeout, input_required (the server
    /// asked for the client's input, MCP 2026-07-28 `resultType: "input_required"`, which a
    /// load test cannot give).
    pub errors: BTreeMap<String, ErrorBucket>,
    /// The server's side, when the target is zen (with several `--url`, the first instance's).
    pub server: Option<ServerSide>,
    /// The load generator's own cost.
    pub generator: Generator,
    /// The pass/fail limits the run was judged against.
    pub thresholds: Thresholds,
    /// Pass or fail, with every threshold checked.
    pub verdict: Verdict,
    /// Soak runs: the memory time series verdict.
    pub soak: Option<SoakReport>,
    /// `--find-ceiling`: the highest rate that held and every step of the search; the rest of
    /// the report is the step at that rate (or the first step when none held).
    #[serde(default)]
    pub ceiling: Option<CeilingReport>,
    /// One point per second of the run (merged pairwise past 1200 points).
    #[serde(deserialize_with = "series::bounded")]
    pub series: Vec<Point>,
}

/// The server a run drove.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TargetReport {
    /// `spawned`, `stdio` or `http`.
    pub kind: String,
    /// The command or URL.
    pub label: String,
    /// The name the server gave in its MCP `initialize` reply.
    pub server_name: String,
    /// The version the server gave in its MCP `initialize` reply.
    pub server_version: String,
    /// The server's process id, when known (spawned by the run, or from zen's snapshot).
    pub pid: Option<u32>,
    /// The MCP revision the sessions spoke (`2026-07-28`, `2025-11-25`, …), or `mixed` when
    /// they spoke several; empty in reports from before zen spoke 2026-07-28.
    #[serde(default)]
    pub protocol: String,
    /// What `--protocol` (or the scenario) asked for: `auto`, a revision, or several joined
    /// with commas.
    #[serde(default)]
    pub protocol_requested: String,
    /// The revision each session spoke, by session.
    #[serde(default)]
    pub session_protocols: Vec<String>,
    /// The names of the extra headers sent with every request (`-H`, `--bearer-token-env`),
    /// never their values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
}

/// One generator's part of a test spread over several (`--shard I/N`, `--start-at`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ShardReport {
    /// 0-based index of this part.
    pub index: u32,
    /// How many parts the test has.
    pub count: u32,
    /// `--start-at`, ms since the epoch, if given.
    pub start_at_unix_ms: Option<u64>,
    /// When this generator's load really started, ms since the epoch (its clock).
    pub started_unix_ms: u64,
}

/// The load a run put on its target, as planned.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LoadReport {
    /// `closed` or `open`.
    pub model: String,
    /// Closed loop: calls kept in flight at once (with stages, the peak).
    pub concurrency: Option<u32>,
    /// Closed loop: calls to make in all, when the run was bounded by a count.
    pub requests: Option<u64>,
    /// Open loop: calls started per second (with stages, the peak).
    pub rate_per_sec: Option<f64>,
    /// Open loop: most calls outstanding at once.
    pub max_in_flight: Option<u32>,
    /// Planned length of the load in seconds, when it was bounded by time.
    pub duration_secs: Option<f64>,
    /// MCP sessions the calls were spread over.
    pub sessions: u32,
    /// Per-call timeout, seconds.
    pub timeout_secs: f64,
    /// `--stages`: each ramps linearly from the previous target (the first from 0); the model's
    /// concurrency or rate is then the peak.
    #[serde(default)]
    pub stages: Option<Vec<StageReport>>,
}

/// One stage of a load shape.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StageReport {
    /// Length of the ramp to `target`.
    pub duration_secs: f64,
    /// Calls in flight (closed loop) or calls per second (open loop) at the end of the stage.
    pub target: f64,
}

/// How a run's calls ended.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CallCounts {
    /// ok + failed.
    pub total: u64,
    /// Calls that succeeded.
    pub ok: u64,
    /// Calls that failed, any kind (see `errors`).
    pub failed: u64,
    /// Share of calls that failed: failed / total, 0.0 to 1.0.
    pub error_rate: f64,
    /// Open loop: sends that went out later than planned.
    pub late: u64,
    /// Open loop: planned sends never made.
    pub unsent: u64,
    /// Cut off by an early stop.
    pub aborted: u64,
    /// Most calls in flight at once.
    pub peak_in_flight: u64,
}

/// One tool's calls in a run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ToolReport {
    /// Calls finished: ok + failed.
    pub calls: u64,
    /// Calls that succeeded.
    pub ok: u64,
    /// Calls that failed, any kind.
    pub failed: u64,
    /// Latency of the tool's finished calls.
    pub latency: LatencyReport,
}

/// What the load generator itself cost.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Generator {
    /// CPU time (user + system) the generator spent during the load.
    pub cpu_secs: f64,
    /// That CPU time per call, µs.
    pub cpu_us_per_call: f64,
    /// The generator's resident memory when the load ended, bytes (a merged report: the largest).
    pub rss_bytes: u64,
}

/// Distinct messages an [`ErrorBucket`] keeps (a run writes at most this many; a report read
/// back keeps at most this many).
pub const ERROR_SAMPLES: usize = 5;
/// Longest message an [`ErrorBucket`] keeps, in characters.
pub const SAMPLE_CHARS: usize = 300;

/// Errors of one kind.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ErrorBucket {
    /// Failed calls of this kind.
    pub count: u64,
    /// The first few distinct messages, verbatim (truncated to 300 characters).
    pub samples: Vec<String>,
}

/// One part's share of a run, in the report: an instance (`targets`) or an MCP revision
/// (`protocols`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct TargetShare {
    /// The instance's URL, or the revision.
    pub label: String,
    /// MCP sessions opened to it.
    pub sessions: u32,
    /// Calls to it that succeeded.
    pub ok: u64,
    /// Calls to it that failed.
    pub failed: u64,
    /// Its calls per second of the run's wall time.
    pub throughput_per_sec: f64,
    /// Median latency of its calls, ms.
    pub p50_ms: f64,
    /// 99th percentile latency of its calls, ms.
    pub p99_ms: f64,
}

/// The JSON Schema of [`Report`] (committed as tests/report.schema.json).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Report)).expect("schema serialises")
}
