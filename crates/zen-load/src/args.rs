//! The command lines of `zen stress` and `zen soak`: the target, the load, thresholds and output.
//! Every flag's doc comment is its `--help`.
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use zen_model::units::parse_duration;

/// Which MCP server to drive.
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "Target")]
pub struct TargetArgs {
    /// Spawn this MCP server command over stdio, e.g. "node dist/index.js stdio" [default: this zen's own `serve`]
    #[arg(long, value_name = "CMD", conflicts_with = "url")]
    pub stdio: Option<String>,
    /// Drive a streamable HTTP MCP server, e.g. http://127.0.0.1:8931/mcp; repeat it to spread the sessions over several instances
    #[arg(long, value_name = "URL")]
    pub url: Vec<String>,
    /// Environment for a spawned target, KEY=VALUE (repeatable), e.g. ZEN_SIM_ERROR_RATE=0.5
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_env_pair)]
    pub env: Vec<(String, String)>,
    /// MCP revision to speak: auto (server/discover first, the 2025 handshake when the server does not know it), 2026-07-28, 2025-11-25, 2025-06-18 or 2025-03-26; several (comma-separated) spread the sessions over them, to compare the eras on one server [default: auto]
    #[arg(long, value_name = "VERSION", value_delimiter = ',', value_parser = crate::target::protocol::Protocol::parse)]
    pub protocol: Vec<crate::target::protocol::Protocol>,
    /// Send this header with every request to a --url target (repeatable), e.g. -H 'X-Api-Key: …'; reports and logs name it, never show its value
    #[arg(short = 'H', long = "header", value_name = "'NAME: VALUE'", value_parser = crate::target::access::parse_header)]
    pub headers: Vec<crate::target::access::HeaderArg>,
    /// Send `Authorization: Bearer <token>` with the token read from this environment variable (kept out of shell history and reports), e.g. --bearer-token-env MCP_TOKEN
    #[arg(long, value_name = "VAR")]
    pub bearer_token_env: Option<String>,
    /// HTTPS: also trust the certificates in this PEM file (a private CA, a self-signed server), e.g. --cacert ca.pem
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// HTTP transport of --url: streamable-http (MCP 2025-03-26 on), sse (the legacy HTTP+SSE of 2024-11-05: GET the stream, e.g. http://host/sse, POST where it says), or auto (streamable HTTP, falling back to SSE on a 4xx as the spec's backwards compatibility says) [default: streamable-http]
    #[arg(
        long,
        value_enum,
        value_name = "TRANSPORT",
        hide_possible_values = true
    )]
    pub transport: Option<crate::target::http::transport::Transport>,
    /// HTTPS: accept any certificate, unverified (a test server only: anyone in between can read the load and its credentials)
    #[arg(long)]
    pub insecure: bool,
}

/// The load model and the calls to make; a scenario file may set all of these, flags win.
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "Load")]
pub struct LoadArgs {
    /// Scenario file (TOML) with target, load, tool mix and thresholds
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Closed loop: calls kept in flight at once
    #[arg(long, short = 'c', value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: Option<u32>,
    /// Closed loop: total calls to make [default: the concurrency]
    #[arg(long, short = 'n', value_name = "M", value_parser = clap::value_parser!(u64).range(1..))]
    pub requests: Option<u64>,
    /// Run for this long instead of a call count (e.g. 30s, 10m, 1h)
    #[arg(long, short = 'd', value_parser = parse_duration, value_name = "DURATION")]
    pub duration: Option<Duration>,
    /// Open loop: calls started per second, on schedule whatever the replies do (with --stages: no value, the stage targets are the rates)
    #[arg(long, value_name = "PER_SEC", num_args = 0..=1)]
    pub rate: Option<Option<f64>>,
    /// Load shape: DURATION:TARGET stages ramping linearly from 0, e.g. "30s:10,1m:50,30s:0"; the target is calls in flight, or calls/s with --rate
    #[arg(long, value_name = "STAGES", conflicts_with_all = ["concurrency", "requests", "duration"])]
    pub stages: Option<String>,
    /// Open loop: most calls outstanding at once; sends that cannot go out on time are counted late
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_in_flight: Option<u32>,
    /// MCP sessions to spread the calls over
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..))]
    pub sessions: Option<u32>,
    /// Per-call timeout [default: 60s]
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,
    /// How long the target may take to start and list its tools [default: 30s]
    #[arg(long, value_parser = parse_startup, value_name = "DURATION")]
    pub startup_timeout: Option<Duration>,
    /// Tool to call [default: zen's chat with a short prompt]
    #[arg(long, value_name = "NAME")]
    pub tool: Option<String>,
    /// Tool arguments as a JSON object (with --op prompts/get: the prompt's arguments; with --op completion/complete: its params, e.g. '{"ref":{"type":"ref/prompt","name":"p"},"argument":{"name":"a","value":"x"}}')
    #[arg(long, value_name = "JSON")]
    pub args: Option<String>,
    /// Operation to load instead of tools/call; repeat it for an equal mix, e.g. --op ping, --op resources/read --uri random: ping, tools/list, tools/call, resources/list, resources/read, prompts/list, prompts/get, completion/complete
    #[arg(long, value_name = "OP", value_parser = crate::plan::op::Op::parse)]
    pub op: Vec<crate::plan::op::Op>,
    /// --op resources/read: the resource URI, or `random` (one of the target's resources, picked per call) [default: random]
    #[arg(long, value_name = "URI")]
    pub uri: Option<String>,
    /// --op prompts/get: the prompt's name (its arguments in --args), e.g. --prompt simple-prompt
    #[arg(long, value_name = "NAME")]
    pub prompt: Option<String>,
    /// Connection churn: every call from a new client (--url only): a new session (initialize) on 2025 revisions, a new client identity (server/discover) on 2026-07-28; the handshake counts in the call's latency, as a new client sees it, and is reported apart
    #[arg(long)]
    pub churn: bool,
    /// Run the I-th (0-based) of N equal parts of the load, for one test on N machines: closed loop, the concurrency, calls and sessions split; open loop, every N-th call of the one schedule; merge the N reports with zen report merge, e.g. --shard $(JOB_COMPLETION_INDEX)/3
    #[arg(long, value_name = "I/N", value_parser = crate::plan::shard::Shard::parse)]
    pub shard: Option<crate::plan::shard::Shard>,
    /// Connect, then wait until this UTC instant to start the load (so shards start together; refused if it is in the past), e.g. --start-at 2026-12-03T15:00:00Z
    #[arg(long, value_name = "RFC3339", value_parser = crate::plan::shard::parse_start_at)]
    pub start_at: Option<std::time::SystemTime>,
}

/// `zen stress`.
#[derive(Debug, Clone, Args)]
pub struct StressArgs {
    /// Which MCP server to drive.
    #[command(flatten)]
    pub target: TargetArgs,
    /// The load model and the calls to make.
    #[command(flatten)]
    pub load: LoadArgs,
    /// Fail when more than this share of calls fail (0.0 to 1.0); OP=RATE or tool:NAME=RATE limits one operation's or tool's calls alone (repeatable), e.g. --max-error-rate resources/read=0.05
    #[arg(long, value_name = "[SCOPE=]RATE", value_parser = crate::plan::thresholds::parse_max_error_rate, help_heading = "Thresholds")]
    pub max_error_rate: Vec<crate::plan::thresholds::Scoped<f64>>,
    /// Fail when p99 latency is above this (e.g. 500ms); OP=DURATION or tool:NAME=DURATION limits one operation's or tool's calls alone (repeatable), e.g. --max-p99 tools/call=300ms --max-p99 tool:chat=1s
    #[arg(long, value_parser = crate::plan::thresholds::parse_max_p99, value_name = "[SCOPE=]DURATION", help_heading = "Thresholds")]
    pub max_p99: Vec<crate::plan::thresholds::Scoped<Duration>>,
    /// Fail when throughput is below this many calls per second; OP=PER_SEC or tool:NAME=PER_SEC for one operation's or tool's calls alone (repeatable), e.g. --min-throughput ping=100
    #[arg(long, value_name = "[SCOPE=]PER_SEC", value_parser = crate::plan::thresholds::parse_min_throughput, help_heading = "Thresholds")]
    pub min_throughput: Vec<crate::plan::thresholds::Scoped<f64>>,
    /// Print the machine-readable JSON report (schema: tests/report.schema.json) instead of the text one
    #[arg(long, help_heading = "Output")]
    pub json: bool,
    /// Show the live dashboard while the run goes
    #[arg(long, help_heading = "Output", conflicts_with = "json")]
    pub tui: bool,
    /// Log level for stderr: error, warn, info, debug, trace, or a filter like `zen=debug` [default: warn, with rmcp's own lines off]
    #[arg(long, env = "LOG_LEVEL", value_name = "LEVEL", help_heading = "Output")]
    pub log_level: Option<String>,
    /// Also write the JSON report to FILE (the text report still goes to the terminal)
    #[arg(long, value_name = "FILE.json", help_heading = "Output")]
    pub out: Option<PathBuf>,
    /// Report files to write besides what is printed.
    #[command(flatten)]
    pub files: crate::report::args::ReportFiles,
    /// Print only the verdict line (no progress, no steps, no report); errors still go to stderr
    #[arg(long, short = 'q', help_heading = "Output", conflicts_with_all = ["json", "tui"])]
    pub quiet: bool,
    /// `--find-ceiling` and its pace.
    #[command(flatten)]
    pub ceiling: CeilingArgs,
}

/// `zen stress --find-ceiling` and its pace.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Find the ceiling")]
pub struct CeilingArgs {
    /// Search for the highest constant rate (open loop) that stays within --max-p99 and --max-error-rate [default for it: 0.01]
    #[arg(long, requires = "max_p99", conflicts_with_all = ["rate", "stages", "concurrency", "requests", "duration", "tui", "min_throughput"])]
    pub find_ceiling: bool,
    /// How long each step of the search sends at its rate
    #[arg(long, default_value = "10s", value_parser = parse_step, value_name = "DURATION", requires = "find_ceiling")]
    pub step_duration: Duration,
    /// The first rate the search tries, calls per second; it doubles from there until a step breaks the limits
    #[arg(
        long,
        default_value_t = 10.0,
        value_name = "PER_SEC",
        requires = "find_ceiling"
    )]
    pub start_rate: f64,
}

/// `zen soak`.
#[derive(Debug, Clone, Args)]
pub struct SoakArgs {
    /// Which MCP server to drive.
    #[command(flatten)]
    pub target: TargetArgs,
    /// The load model and the calls to make.
    #[command(flatten)]
    pub load: LoadArgs,
    /// Sample the target's memory this often (100ms or more) [default: about 60 samples after the warm-up, 250ms to 10s]
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", help_heading = "Verdict")]
    pub sample_interval: Option<Duration>,
    /// Samples to ignore at the start [default: the larger of 10% of the run and the lesser of 60s and a quarter of it]
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", help_heading = "Verdict")]
    pub warmup: Option<Duration>,
    /// Pass when memory is projected to grow at most this many MiB over one hour (bounded parts of zen to their caps, the rest from its trend)
    #[arg(
        long,
        default_value_t = 50.0,
        value_name = "MB",
        help_heading = "Verdict"
    )]
    pub max_growth_mb: f64,
    /// Fail when more than this share of calls fail (0.0 to 1.0): memory under failing load proves little [default: 0.01]
    #[arg(long, value_name = "RATE", help_heading = "Verdict")]
    pub max_error_rate: Option<f64>,
    /// Sample this process's memory (for a --url target that is not zen)
    #[arg(long, value_name = "PID", help_heading = "Target")]
    pub pid: Option<u32>,
    /// Write the time series to FILE (.csv or .ndjson)
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub series: Option<PathBuf>,
    /// Also write the JSON report to FILE, as `zen stress --out` does (the text report still goes to the terminal)
    #[arg(long, value_name = "FILE.json", help_heading = "Output")]
    pub out: Option<PathBuf>,
    /// Print the machine-readable JSON report instead of the text one
    #[arg(long, help_heading = "Output")]
    pub json: bool,
    /// Show the live dashboard while the run goes
    #[arg(long, help_heading = "Output", conflicts_with = "json")]
    pub tui: bool,
    /// Log level for stderr: error, warn, info, debug, trace, or a filter like `zen=debug` [default: warn, with rmcp's own lines off]
    #[arg(long, env = "LOG_LEVEL", value_name = "LEVEL", help_heading = "Output")]
    pub log_level: Option<String>,
    /// Report files to write besides what is printed.
    #[command(flatten)]
    pub files: crate::report::args::ReportFiles,
    /// Print only the verdict line (no progress, no report); errors still go to stderr
    #[arg(long, short = 'q', help_heading = "Output", conflicts_with_all = ["json", "tui"])]
    pub quiet: bool,
}

fn parse_step(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < Duration::from_millis(500) {
        return Err(format!(
            "'{s}' is too short to measure a rate; 500ms or more (10s is steadier)"
        ));
    }
    Ok(d)
}

fn parse_startup(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err(format!(
            "'{s}' leaves the target no time to start; e.g. 10s"
        ));
    }
    Ok(d)
}

fn parse_env_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("'{s}' is not KEY=VALUE")),
    }
}
