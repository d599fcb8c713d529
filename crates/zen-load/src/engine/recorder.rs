//! What a load run measures: HDR histograms in µs (overall, per tool, and for open loops the
//! latency from each call's intended send time), counts by outcome, errors by kind with the
//! first few messages verbatim. Fixed size: nothing grows with the number of calls.
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use hdrhistogram::Histogram;
use zen_model::report::{ErrorBucket, LatencyReport, ToolReport};

use crate::plan::op::Op;
use zen_model::hdr::new_histogram;

/// How a call failed, from the client's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// A JSON-RPC error reply (e.g. unknown tool).
    JsonRpc,
    /// A tool result with isError.
    Tool,
    /// The connection failed or closed.
    Transport,
    /// No reply within --timeout.
    Timeout,
    /// The server asked for the client's input first (MCP 2026-07-28 `resultType:
    /// "input_required"`), which a load test cannot give.
    InputRequired,
}

impl ErrorKind {
    pub(crate) const ALL: [ErrorKind; 5] = [
        ErrorKind::JsonRpc,
        ErrorKind::Tool,
        ErrorKind::Transport,
        ErrorKind::Timeout,
        ErrorKind::InputRequired,
    ];
    pub(crate) fn label(self) -> &'static str {
        match self {
            ErrorKind::JsonRpc => "jsonrpc",
            ErrorKind::Tool => "tool_error",
            ErrorKind::Transport => "transport",
            ErrorKind::Timeout => "timeout",
            ErrorKind::InputRequired => "input_required",
        }
    }
    fn index(self) -> usize {
        self as usize
    }
}

/// Messages kept verbatim per error kind, and the longest kept message.
use zen_model::report::{ERROR_SAMPLES as SAMPLES, SAMPLE_CHARS};

#[derive(Debug)]
struct PerTool {
    /// The tool (tools/call) or the operation's method.
    name: String,
    /// The operation this kind of call makes.
    op: Op,
    latency_us: Histogram<u64>,
    ok: u64,
    failed: u64,
}

#[derive(Debug)]
struct Inner {
    latency_us: Histogram<u64>,
    /// Open loop only: from the intended send time.
    corrected_us: Option<Histogram<u64>>,
    tools: Vec<PerTool>,
    errors: [ErrorBucket; 5],
    /// The calls finished since the time series last looked (latency of this second).
    window: Window,
    /// Since when every call has failed to reach the target (None: the last one got through).
    unreachable_since: Option<Instant>,
    /// `--churn`: each call's handshake (a new session or client identity), µs.
    handshake_us: Option<Histogram<u64>>,
}

/// What finished in the current time-series interval; taken and reset once per interval.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    /// Latency of the calls finished in the interval, µs.
    pub latency_us: Histogram<u64>,
    /// Calls finished in the interval.
    pub calls: u64,
    /// Of which failed.
    pub errors: u64,
}

impl Window {
    fn new() -> Self {
        Window {
            latency_us: new_histogram(),
            calls: 0,
            errors: 0,
        }
    }
}

/// Shared by every worker of a run.
#[derive(Debug)]
pub(crate) struct Recorder {
    inner: Mutex<Inner>,
    /// Live counters for progress bars and dashboards.
    pub ok: AtomicU64,
    pub failed: AtomicU64,
    pub in_flight: AtomicU64,
    pub peak_in_flight: AtomicU64,
    /// Open loop: sends that went out later than planned (waited for a slot, or >10 ms behind).
    pub late: AtomicU64,
    /// Open loop: planned sends never made because the run ended first.
    pub unsent: AtomicU64,
    /// Calls cut off by an early stop (Ctrl-C); neither ok nor failed.
    pub aborted: AtomicU64,
    /// When the recorder was made (the run's clock for the time series and "died after").
    pub started: Instant,
    /// Why the target is gone, once it is: (seconds into the run, what was seen).
    lost: Mutex<Option<(f64, String)>>,
    /// Each instance's share of the calls, when the target is several (`--url A --url B`).
    pub spread: Option<crate::engine::spread::Spread>,
    /// Each MCP revision's share of the calls, when the sessions speak several.
    pub by_protocol: Option<crate::engine::spread::Spread>,
}

/// A snapshot of a recorder's histograms and counts, for reports.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub latency_us: Histogram<u64>,
    pub corrected_us: Option<Histogram<u64>>,
    /// Per call kind: (tool or method, latency, ok, failed).
    pub tools: Vec<(String, Histogram<u64>, u64, u64)>,
    /// Per call kind: its operation.
    pub ops: Vec<Op>,
    /// `--churn`: the handshakes, µs.
    pub handshake_us: Option<Histogram<u64>>,
    pub errors: Vec<(ErrorKind, ErrorBucket)>,
    pub ok: u64,
    pub failed: u64,
    pub late: u64,
    pub unsent: u64,
    pub aborted: u64,
    pub peak_in_flight: u64,
}

impl Recorder {
    /// `tools`: the tool of each call kind, in the plan's order (all tools/call).
    #[cfg(test)]
    pub(crate) fn new(tools: &[String], open_loop: bool) -> Self {
        let kinds: Vec<(String, Op)> = tools.iter().map(|t| (t.clone(), Op::ToolsCall)).collect();
        Self::for_kinds(&kinds, open_loop)
    }

    /// `kinds`: the label (tool, or method) and operation of each call kind, in the plan's order.
    pub(crate) fn for_kinds(kinds: &[(String, Op)], open_loop: bool) -> Self {
        Recorder {
            inner: Mutex::new(Inner {
                latency_us: new_histogram(),
                corrected_us: open_loop.then(new_histogram),
                tools: kinds
                    .iter()
                    .map(|(name, op)| PerTool {
                        name: name.clone(),
                        op: *op,
                        latency_us: new_histogram(),
                        ok: 0,
                        failed: 0,
                    })
                    .collect(),
                errors: Default::default(),
                window: Window::new(),
                unreachable_since: None,
                handshake_us: None,
            }),
            ok: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            peak_in_flight: AtomicU64::new(0),
            late: AtomicU64::new(0),
            unsent: AtomicU64::new(0),
            aborted: AtomicU64::new(0),
            started: Instant::now(),
            lost: Mutex::new(None),
            spread: None,
            by_protocol: None,
        }
    }

    /// Count each call against the instance its session talks to.
    pub(crate) fn with_spread(mut self, spread: crate::engine::spread::Spread) -> Self {
        self.spread = Some(spread);
        self
    }

    /// Count each call against the MCP revision its session speaks.
    pub(crate) fn with_protocols(mut self, by_protocol: crate::engine::spread::Spread) -> Self {
        self.by_protocol = Some(by_protocol);
        self
    }

    /// The target is gone (its process exited, or it refuses every call): keep the first cause.
    pub(crate) fn target_lost(&self, why: String) {
        let mut lost = self
            .lost
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if lost.is_none() {
            *lost = Some((self.started.elapsed().as_secs_f64(), why));
        }
    }

    /// (seconds into the run, why) if the target died.
    pub(crate) fn lost(&self) -> Option<(f64, String)> {
        self.lost
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// How long every call has failed at the transport (nothing got through), if it has.
    pub(crate) fn unreachable_for(&self) -> Option<Duration> {
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.unreachable_since.map(|since| since.elapsed())
    }

    /// Take what finished since the last call (one time-series interval) and start afresh.
    pub(crate) fn take_window(&self) -> Window {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::replace(&mut inner.window, Window::new())
    }

    /// `--churn`: a call's new session took `took` to start.
    pub(crate) fn handshake(&self, took: Duration) {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let us = (took.as_micros() as u64).max(1);
        inner
            .handshake_us
            .get_or_insert_with(new_histogram)
            .saturating_record(us);
    }

    pub(crate) fn call_started(&self) {
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak_in_flight.fetch_max(now, Ordering::Relaxed);
    }

    /// A call ended. `corrected` is the latency from its intended send time (open loop).
    pub(crate) fn record(
        &self,
        kind_index: usize,
        failure: Option<(ErrorKind, String)>,
        latency: Duration,
        corrected: Option<Duration>,
    ) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        let us = |d: Duration| (d.as_micros() as u64).max(1);
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.latency_us.saturating_record(us(latency));
        if let (Some(h), Some(c)) = (inner.corrected_us.as_mut(), corrected) {
            h.saturating_record(us(c));
        }
        inner.window.latency_us.saturating_record(us(latency));
        inner.window.calls += 1;
        inner.window.errors += u64::from(failure.is_some());
        match &failure {
            Some((ErrorKind::Transport, _)) => {
                inner.unreachable_since.get_or_insert_with(Instant::now);
            }
            _ => inner.unreachable_since = None,
        }
        let tool = &mut inner.tools[kind_index];
        tool.latency_us.saturating_record(us(latency));
        match failure {
            None => {
                tool.ok += 1;
                drop(inner);
                self.ok.fetch_add(1, Ordering::Relaxed);
            }
            Some((kind, message)) => {
                tool.failed += 1;
                let bucket = &mut inner.errors[kind.index()];
                bucket.count += 1;
                let sample = || message.chars().take(SAMPLE_CHARS);
                if bucket.samples.len() < SAMPLES
                    && !bucket.samples.iter().any(|s| s.chars().eq(sample()))
                {
                    bucket.samples.push(sample().collect());
                }
                drop(inner);
                self.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// A call cut off by an early stop.
    pub(crate) fn abort(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.aborted.fetch_add(1, Ordering::Relaxed);
    }

    /// Copy out everything measured so far.
    pub(crate) fn recorded(&self) -> Recorded {
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Recorded {
            latency_us: inner.latency_us.clone(),
            corrected_us: inner.corrected_us.clone(),
            tools: inner
                .tools
                .iter()
                .map(|t| (t.name.clone(), t.latency_us.clone(), t.ok, t.failed))
                .collect(),
            ops: inner.tools.iter().map(|t| t.op).collect(),
            handshake_us: inner.handshake_us.clone(),
            errors: ErrorKind::ALL
                .iter()
                .map(|k| (*k, inner.errors[k.index()].clone()))
                .collect(),
            ok: load(&self.ok),
            failed: load(&self.failed),
            late: load(&self.late),
            unsent: load(&self.unsent),
            aborted: load(&self.aborted),
            peak_in_flight: load(&self.peak_in_flight),
        }
    }
}

/// Fold per-kind tool figures by tool name (tools/call kinds only).
pub(crate) fn tool_reports(recorded: &Recorded) -> BTreeMap<String, ToolReport> {
    fold(recorded, |op, name| {
        (op == Op::ToolsCall).then(|| name.to_string())
    })
}

/// Fold per-kind figures by operation (its method).
pub(crate) fn op_reports(recorded: &Recorded) -> BTreeMap<String, ToolReport> {
    fold(recorded, |op, _| Some(op.method().to_string()))
}

/// Fold per-kind figures under the key `key` gives each kind (none: left out).
fn fold(
    recorded: &Recorded,
    key: impl Fn(Op, &str) -> Option<String>,
) -> BTreeMap<String, ToolReport> {
    let mut merged: BTreeMap<String, (Histogram<u64>, u64, u64)> = BTreeMap::new();
    let kinds = recorded.tools.iter().zip(&recorded.ops);
    for ((name, hist, ok, failed), op) in kinds {
        let Some(key) = key(*op, name) else { continue };
        let entry = merged.entry(key).or_insert_with(|| (new_histogram(), 0, 0));
        let _ = entry.0.add(hist);
        entry.1 += ok;
        entry.2 += failed;
    }
    merged
        .into_iter()
        .map(|(name, (hist, ok, failed))| {
            (
                name,
                ToolReport {
                    calls: ok + failed,
                    ok,
                    failed,
                    latency: LatencyReport::from_histogram(&hist),
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_samples_are_distinct_and_bounded_while_every_error_is_counted() {
        let recorder = Recorder::new(&["chat".to_string()], false);
        let fail = |message: &str| {
            recorder.call_started();
            let failure = Some((ErrorKind::Tool, message.to_string()));
            recorder.record(0, failure, Duration::from_millis(1), None);
        };
        for _ in 0..100 {
            fail("breaker open");
        }
        for i in 0..10 {
            fail(&format!("provider error {i}"));
        }
        let recorded = recorder.recorded();
        let (_, bucket) = recorded
            .errors
            .iter()
            .find(|(kind, _)| *kind == ErrorKind::Tool)
            .unwrap();
        assert_eq!(bucket.count, 110);
        assert_eq!(
            bucket.samples,
            [
                "breaker open",
                "provider error 0",
                "provider error 1",
                "provider error 2",
                "provider error 3"
            ]
        );
        assert_eq!(recorded.failed, 110);
    }
}
