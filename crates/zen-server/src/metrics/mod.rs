//! The metrics collector: per tool and per provider, calls, errors by kind, in flight, latency in
//! an HDR histogram (µs, 3 significant digits) and a ring of per-second buckets for live rates;
//! plus the process's RSS, CPU and threads, sampled once a second off the call path.
//! Everything is fixed-size: memory does not grow with the call count.
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod footprint;
mod models;
mod series;
mod tokens;
use models::ModelLatencies;
#[cfg(test)]
use series::RateRing;
use series::Series;
pub use tokens::{MAX_TOKEN_SERIES, Tokens};

use zen_model::snapshot::{CallStats, ModelLatency, ProtocolStats, SystemStats, TokenStats};

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// The call succeeded.
    Ok,
    /// Bad arguments, unknown model or thread, or refused by the watchdog.
    ToolError,
    /// The provider answered with an error or could not be reached.
    ProviderError,
    /// The provider did not answer in time, or the call was cancelled.
    Timeout,
    /// Turned away by a pool (busy) or because the server is shutting down.
    Rejected,
}

impl CallOutcome {
    /// The snapshot's name of the outcome (`ok`, `tool_error`, …), also OTel's error.type.
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::ToolError => "tool_error",
            CallOutcome::ProviderError => "provider_error",
            CallOutcome::Timeout => "timeout",
            CallOutcome::Rejected => "rejected",
        }
    }
}

/// One call being timed. `finish` records its outcome; dropping it unfinished records a
/// timeout (the call was cancelled or abandoned). Either way it leaves the in-flight count.
#[must_use = "a recording counts the call in flight until finished or dropped"]
pub struct Recording<'a> {
    metrics: &'a Metrics,
    series: [Option<&'a Series>; 2],
    /// The (provider, model) a provider request is for, so its latency is kept per model too.
    model: Option<(&'static str, String)>,
    started: Instant,
    done: bool,
}

impl Recording<'_> {
    /// Record how the call ended.
    pub fn finish(mut self, outcome: CallOutcome) {
        self.record(outcome);
    }

    fn record(&mut self, outcome: CallOutcome) {
        self.done = true;
        let elapsed = self.started.elapsed();
        let now = self.metrics.now_sec();
        for series in self.series.iter().flatten() {
            series.in_flight.fetch_sub(1, Ordering::Relaxed);
            series.record(outcome, elapsed, now);
        }
        if let Some((provider, model)) = &self.model {
            (self.metrics.models).record(provider, model, outcome, elapsed);
        }
    }
}

impl Drop for Recording<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.record(CallOutcome::Timeout);
        }
    }
}

/// All series, fixed at start: tools and providers are known, so no map ever grows.
#[derive(Debug)]
pub struct Metrics {
    /// Start of the process, for uptime and rate seconds.
    started: Instant,
    /// Every tool call, whatever the tool.
    total: Series,
    /// Per tool.
    tools: BTreeMap<&'static str, Series>,
    /// Per provider.
    providers: BTreeMap<&'static str, (Series, AtomicU64)>,
    /// Protocol-level counts.
    malformed: AtomicU64,
    oversized: AtomicU64,
    unknown_tools: AtomicU64,
    /// Error replies to bad messages dropped because the reply queue was full.
    dropped_replies: AtomicU64,
    /// HTTP sessions refused at ZEN_MAX_SESSIONS.
    refused_sessions: AtomicU64,
    /// HTTP sessions closed at ZEN_MAX_SESSIONS for a new client.
    evicted_sessions: AtomicU64,
    /// HTTP sessions closed after ZEN_SESSION_IDLE.
    idle_sessions_closed: AtomicU64,
    /// HTTP connections closed for not sending a request's headers within ZEN_HEADER_TIMEOUT.
    header_timeouts: AtomicU64,
    /// Kept-alive HTTP connections closed after ZEN_HTTP_IDLE_TIMEOUT without a request.
    idle_closes: AtomicU64,
    /// HTTP connections closed (after a 408) for not sending a body within ZEN_BODY_TIMEOUT.
    body_timeouts: AtomicU64,
    /// The latest process sample (written once a second by the sampler).
    system: Mutex<SystemStats>,
    /// Tokens per provider and model; at most [`MAX_TOKEN_SERIES`] pairs.
    tokens: Tokens,
    /// Provider request latency per provider and model; the same cap as the tokens.
    models: ModelLatencies,
}

/// Why zen closed an HTTP connection itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConnectionClose {
    /// The request's headers did not arrive within ZEN_HEADER_TIMEOUT.
    HeaderTimeout,
    /// No request for ZEN_HTTP_IDLE_TIMEOUT on a kept-alive connection.
    Idle,
    /// A request's body did not arrive whole within ZEN_BODY_TIMEOUT.
    BodyTimeout,
}

impl Metrics {
    /// Series for these tools and providers, fixed for the life of the process.
    pub fn new(tools: &[&'static str], providers: &[&'static str]) -> Self {
        Metrics {
            started: Instant::now(),
            total: Series::new(),
            tools: tools.iter().map(|t| (*t, Series::new())).collect(),
            providers: providers
                .iter()
                .map(|p| (*p, (Series::new(), AtomicU64::new(0))))
                .collect(),
            malformed: AtomicU64::new(0),
            oversized: AtomicU64::new(0),
            dropped_replies: AtomicU64::new(0),
            refused_sessions: AtomicU64::new(0),
            evicted_sessions: AtomicU64::new(0),
            idle_sessions_closed: AtomicU64::new(0),
            header_timeouts: AtomicU64::new(0),
            idle_closes: AtomicU64::new(0),
            body_timeouts: AtomicU64::new(0),
            unknown_tools: AtomicU64::new(0),
            system: Mutex::new(SystemStats::default()),
            tokens: Tokens::default(),
            models: ModelLatencies::default(),
        }
    }

    /// Time since the collector was made, at the process's start.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    fn now_sec(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// A tool call starts: it counts as in flight (for the tool and the total) until the
    /// recording is finished or dropped. A dropped recording (a cancelled call) is counted as a
    /// timeout, so no call goes missing from the figures.
    pub fn begin_tool(&self, tool: &str) -> Recording<'_> {
        let series = self.tool_series(tool);
        self.total.start_raw();
        series.start_raw();
        Recording {
            metrics: self,
            series: [Some(&self.total), Some(series)],
            model: None,
            started: Instant::now(),
            done: false,
        }
    }

    fn tool_series(&self, tool: &str) -> &Series {
        self.tools
            .get(tool)
            .unwrap_or_else(|| panic!("tool {tool} has no series: series are made for every tool"))
    }

    fn provider(&self, provider: &str) -> &(Series, AtomicU64) {
        self.providers.get(provider).unwrap_or_else(|| {
            panic!("provider {provider} has no series: series are made for every provider")
        })
    }

    /// A provider request starts (retries happen inside it); see [`Metrics::begin_tool`].
    pub fn begin_provider(&self, provider: &str) -> Recording<'_> {
        let series = &self.provider(provider).0;
        series.start_raw();
        Recording {
            metrics: self,
            series: [Some(series), None],
            model: None,
            started: Instant::now(),
            done: false,
        }
    }

    /// A provider request for `model` starts: timed for the provider, as
    /// [`Metrics::begin_provider`], and for the (provider, model) pair with the same duration.
    pub fn begin_provider_model(&self, provider: &'static str, model: &str) -> Recording<'_> {
        let mut recording = self.begin_provider(provider);
        recording.model = Some((provider, model.to_string()));
        recording
    }

    /// A provider attempt failed and will be retried.
    pub fn record_retry(&self, provider: &str) {
        self.provider(provider).1.fetch_add(1, Ordering::Relaxed);
    }

    /// Tokens a provider reported for one completion of `model`.
    pub fn record_tokens(&self, provider: &'static str, model: &str, prompt: u64, completion: u64) {
        self.tokens.record(provider, model, prompt, completion);
    }

    /// Tokens per provider and model, for the snapshot.
    pub fn token_stats(&self) -> Vec<TokenStats> {
        self.tokens.stats()
    }

    /// Provider request latency per provider and model, for the snapshot.
    pub fn model_latency(&self) -> Vec<ModelLatency> {
        self.models.stats()
    }

    /// A message that was not valid JSON-RPC (a stdin line or an HTTP body).
    pub fn count_malformed(&self) {
        self.malformed.fetch_add(1, Ordering::Relaxed);
    }
    /// A message over ZEN_MAX_MESSAGE_BYTES.
    pub fn count_oversized(&self) {
        self.oversized.fetch_add(1, Ordering::Relaxed);
    }
    /// An error reply to a bad message, dropped because the reply queue was full.
    pub fn count_dropped_reply(&self) {
        self.dropped_replies.fetch_add(1, Ordering::Relaxed);
    }
    /// An HTTP `initialize` refused because ZEN_MAX_SESSIONS sessions were open.
    pub fn count_refused_session(&self) {
        self.refused_sessions.fetch_add(1, Ordering::Relaxed);
    }
    /// An HTTP session closed at ZEN_MAX_SESSIONS to let a new client in.
    pub fn count_evicted_session(&self) {
        self.evicted_sessions.fetch_add(1, Ordering::Relaxed);
    }
    /// An HTTP session closed after ZEN_SESSION_IDLE without a request.
    pub fn count_idle_session_closed(&self) {
        self.idle_sessions_closed.fetch_add(1, Ordering::Relaxed);
    }
    /// An HTTP connection zen closed for one of its timeouts.
    pub fn count_closed_connection(&self, why: ConnectionClose) {
        let counter = match why {
            ConnectionClose::HeaderTimeout => &self.header_timeouts,
            ConnectionClose::Idle => &self.idle_closes,
            ConnectionClose::BodyTimeout => &self.body_timeouts,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
    /// A tools/call for a tool zen does not have.
    pub fn count_unknown_tool(&self) {
        self.unknown_tools.fetch_add(1, Ordering::Relaxed);
    }

    /// Every tool call together, for the snapshot.
    pub fn total_stats(&self) -> CallStats {
        self.total.stats(self.now_sec())
    }

    /// Per tool, for the snapshot.
    pub fn tool_stats(&self) -> BTreeMap<String, CallStats> {
        let now = self.now_sec();
        self.tools
            .iter()
            .map(|(name, s)| (name.to_string(), s.stats(now)))
            .collect()
    }

    /// (calls, retries) per provider.
    pub fn provider_stats(&self) -> BTreeMap<&'static str, (CallStats, u64)> {
        let now = self.now_sec();
        self.providers
            .iter()
            .map(|(name, (s, retries))| (*name, (s.stats(now), retries.load(Ordering::Relaxed))))
            .collect()
    }

    /// Traffic that never became a tool call, for the snapshot.
    pub fn protocol_stats(&self) -> ProtocolStats {
        ProtocolStats {
            malformed_messages: self.malformed.load(Ordering::Relaxed),
            oversized_messages: self.oversized.load(Ordering::Relaxed),
            unknown_tools: self.unknown_tools.load(Ordering::Relaxed),
            dropped_replies: self.dropped_replies.load(Ordering::Relaxed),
            refused_sessions: self.refused_sessions.load(Ordering::Relaxed),
            evicted_sessions: self.evicted_sessions.load(Ordering::Relaxed),
            idle_sessions_closed: self.idle_sessions_closed.load(Ordering::Relaxed),
            header_timeouts: self.header_timeouts.load(Ordering::Relaxed),
            idle_closes: self.idle_closes.load(Ordering::Relaxed),
            body_timeouts: self.body_timeouts.load(Ordering::Relaxed),
            dropped_log_messages: crate::client_log::dropped_total(),
        }
    }

    /// The latest process sample, with uptime and CPU time filled in now.
    pub fn system(&self) -> SystemStats {
        let mut s = self
            .system
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        s.uptime_minutes = self.uptime().as_secs_f64() / 60.0;
        s.cpu_secs = zen_os::process::cpu_secs();
        s
    }

    /// Store a new process sample (from the sampler task).
    pub fn set_system(&self, sample: SystemStats) {
        *self
            .system
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = sample;
    }
}

#[cfg(test)]
mod tests;
