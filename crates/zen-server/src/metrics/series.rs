//! One series of calls (a tool, a provider, or all tools together): counts, errors by kind,
//! in flight, the latency histogram (all calls, and failed ones per kind) and the rate ring.
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;

use super::CallOutcome;
use zen_model::hdr::{encode as encode_histogram, new_histogram};
use zen_model::snapshot::{CallStats, ErrorCounts, LatencySummary, Rates};

/// The error kinds, in the order of `Series::errors` (the snapshot's names).
pub(super) const ERROR_KINDS: [&str; 4] = ["tool_error", "provider_error", "timeout", "rejected"];

const RING: usize = 64;

/// Calls and errors per whole second, for the last 64 seconds.
#[derive(Debug)]
pub(super) struct RateRing {
    /// (second since start, calls, errors); a slot is reused when its second is stale.
    slots: [(u64, u64, u64); RING],
}

impl RateRing {
    pub(super) fn new() -> Self {
        RateRing {
            slots: [(u64::MAX, 0, 0); RING],
        }
    }

    pub(super) fn add(&mut self, sec: u64, error: bool) {
        let slot = &mut self.slots[(sec as usize) % RING];
        if slot.0 != sec {
            *slot = (sec, 0, 0);
        }
        slot.1 += 1;
        slot.2 += u64::from(error);
    }

    /// Mean calls/s and errors/s over the `window` whole seconds before `now_sec`.
    pub(super) fn rate(&self, now_sec: u64, window: u64) -> (f64, f64) {
        let span = window.min(now_sec);
        if span == 0 {
            return (0.0, 0.0);
        }
        let from = now_sec - span;
        let (calls, errors) = self
            .slots
            .iter()
            .filter(|s| s.0 >= from && s.0 < now_sec)
            .fold((0, 0), |acc, s| (acc.0 + s.1, acc.1 + s.2));
        (calls as f64 / span as f64, errors as f64 / span as f64)
    }
}

/// The bytes of one latency histogram's counts (all latency histograms have the same bounds).
pub(super) fn latency_histogram_bytes() -> u64 {
    (empty().distinct_values() * std::mem::size_of::<u64>()) as u64
}

/// The histogram of a series with no calls yet, shared (read only) by every such series.
fn empty() -> &'static Histogram<u64> {
    static EMPTY: std::sync::OnceLock<Histogram<u64>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(new_histogram)
}

#[derive(Debug)]
struct SeriesInner {
    /// Every call's latency (µs); made at the first call. A histogram spanning 1 µs to an hour
    /// at 3 significant figures is about 190 KB, so series that never see a call (most tools'
    /// failure kinds, disabled or unused tools) must not hold one: eager ones cost 14 MB of
    /// idle RSS with 13 tools.
    latency_us: Option<Histogram<u64>>,
    /// Failed calls' latency per kind (the `errors` order), so an export can say which
    /// durations failed and how; made at the first failure of that kind.
    failed_us: [Option<Histogram<u64>>; 4],
    /// Calls and errors per second.
    ring: RateRing,
}

/// One series of calls (a tool, a provider, or all tools together).
#[derive(Debug)]
pub(super) struct Series {
    /// Calls finished.
    calls: AtomicU64,
    /// Failures by kind: tool, provider, timeout, rejected.
    errors: [AtomicU64; 4],
    /// Calls running now.
    pub(super) in_flight: AtomicU64,
    /// Most calls running at once.
    peak_in_flight: AtomicU64,
    /// Histogram and rate ring under one lock: one lock per recorded call.
    inner: Mutex<SeriesInner>,
}

impl Series {
    pub(super) fn new() -> Self {
        Series {
            calls: AtomicU64::new(0),
            errors: Default::default(),
            in_flight: AtomicU64::new(0),
            peak_in_flight: AtomicU64::new(0),
            inner: Mutex::new(SeriesInner {
                latency_us: None,
                failed_us: Default::default(),
                ring: RateRing::new(),
            }),
        }
    }

    /// Histograms this series has made so far (at most 1 + one per error kind).
    pub(super) fn histograms(&self) -> usize {
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        usize::from(inner.latency_us.is_some())
            + inner.failed_us.iter().filter(|h| h.is_some()).count()
    }

    pub(super) fn start_raw(&self) {
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak_in_flight.fetch_max(now, Ordering::Relaxed);
    }

    pub(super) fn record(&self, outcome: CallOutcome, elapsed: Duration, now_sec: u64) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let error_index = match outcome {
            CallOutcome::Ok => None,
            CallOutcome::ToolError => Some(0),
            CallOutcome::ProviderError => Some(1),
            CallOutcome::Timeout => Some(2),
            CallOutcome::Rejected => Some(3),
        };
        if let Some(i) = error_index {
            self.errors[i].fetch_add(1, Ordering::Relaxed);
        }
        let us = elapsed.as_micros().max(1) as u64;
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (inner.latency_us.get_or_insert_with(new_histogram)).saturating_record(us);
        if let Some(i) = error_index {
            (inner.failed_us[i].get_or_insert_with(new_histogram)).saturating_record(us);
        }
        inner.ring.add(now_sec, error_index.is_some());
    }

    pub(super) fn stats(&self, now_sec: u64) -> CallStats {
        let (latency, rates, failed_hdr) = {
            let inner = self
                .inner
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let rate = |w| inner.ring.rate(now_sec, w);
            let ((c1, e1), (c10, e10), (c60, e60)) = (rate(1), rate(10), rate(60));
            (
                LatencySummary::from_histogram(match &inner.latency_us {
                    Some(h) => h,
                    None => empty(),
                }),
                Rates {
                    calls_per_sec_1s: c1,
                    calls_per_sec_10s: c10,
                    calls_per_sec_60s: c60,
                    errors_per_sec_1s: e1,
                    errors_per_sec_10s: e10,
                    errors_per_sec_60s: e60,
                },
                (ERROR_KINDS.iter().zip(&inner.failed_us))
                    .filter_map(|(kind, h)| Some((kind, h.as_ref()?)))
                    .filter(|(_, h)| !h.is_empty())
                    .map(|(kind, h)| (kind.to_string(), encode_histogram(h)))
                    .collect(),
            )
        };
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let errors = ErrorCounts {
            tool_error: load(&self.errors[0]),
            provider_error: load(&self.errors[1]),
            timeout: load(&self.errors[2]),
            rejected: load(&self.errors[3]),
        };
        let calls = load(&self.calls);
        let total_errors =
            errors.tool_error + errors.provider_error + errors.timeout + errors.rejected;
        CallStats {
            total_operations: calls,
            total_errors,
            error_rate: zen_model::snapshot::error_rate(total_errors, calls),
            average_duration_ms: latency.mean_ms,
            in_flight: load(&self.in_flight),
            peak_in_flight: load(&self.peak_in_flight),
            errors,
            latency,
            rates,
            failed_hdr,
        }
    }
}
