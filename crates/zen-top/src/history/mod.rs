//! A bounded history of compact samples taken from successive snapshots, and the figures
//! derived from it: per-interval rates and exact latency percentiles, time bins, the RSS slope.
use std::collections::VecDeque;

use hdrhistogram::Histogram;

use zen_model::hdr::decode as decode_histogram;
use zen_model::snapshot::{LatencySummary, Snapshot, WindowLatency, latency_between, per_bucket};

/// The longest window the dashboard shows; older samples are dropped.
pub(crate) const MAX_WINDOW_MS: u64 = 3_600_000;
/// Hard cap on samples whatever the feed rate (one hour at the 250 ms minimum interval). A sample
/// carries the encoded all-calls histogram (a few hundred bytes; see BENCHMARKS.md).
pub(crate) const MAX_SAMPLES: usize = 14_400;
/// The RSS slope ignores samples taken before the server was up this long: start-up allocation
/// is not a leak, and a slope through it read +2 000 MB/h in the first seconds.
pub(crate) const SLOPE_WARMUP_MS: u64 = 60_000;
/// The RSS slope needs this many samples in the window…
pub(crate) const SLOPE_MIN_SAMPLES: usize = 10;
/// …spread over at least this long.
pub(crate) const SLOPE_MIN_SPAN_MS: u64 = 20_000;

/// What the dashboard keeps of one snapshot (whatever the number of tools).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    /// When the snapshot was taken (Unix ms).
    pub t_ms: u64,
    /// Server uptime then (ms), for the slope's warm-up.
    pub uptime_ms: u64,
    /// Calls finished, all tools.
    pub calls: u64,
    /// Of which failed.
    pub errors: u64,
    /// Calls running then.
    pub in_flight: u64,
    /// All finished calls (with a latency).
    pub count: u64,
    /// Every call's latency, lossless (the snapshot's encoded histogram): two samples give the
    /// exact distribution of the calls between them.
    pub hdr: String,
    /// The server's resident memory.
    pub rss_bytes: u64,
    /// Figures over the interval since the previous sample (none for the first).
    pub interval: Option<Interval>,
}

/// Rates and latency over one sampling interval, derived from two snapshots' counters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Interval {
    pub calls_per_sec: f64,
    /// Percent of the interval's calls that failed; none without calls.
    pub error_pct: Option<f64>,
    /// Exact percentiles (ms) of the interval's calls; none without calls.
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

impl Sample {
    fn of(s: &Snapshot) -> Self {
        Sample {
            t_ms: s.taken_at_ms,
            uptime_ms: s.taken_at_ms.saturating_sub(s.server.started_at_ms),
            calls: s.totals.total_operations,
            errors: s.totals.total_errors,
            in_flight: s.totals.in_flight,
            count: s.totals.latency.count,
            hdr: s.totals.latency.hdr.clone(),
            rss_bytes: s.system.rss_bytes,
            interval: None,
        }
    }

    /// The sample's histogram as a summary, for the window functions.
    fn summary(&self) -> LatencySummary {
        LatencySummary {
            count: self.count,
            hdr: self.hdr.clone(),
            ..Default::default()
        }
    }
}

/// The calls finished after `older` up to `newer` (all of `newer` without `older`), exactly;
/// none when a histogram does not decode or the counts went backwards.
pub(crate) fn window_histogram(older: Option<&Sample>, newer: &Sample) -> Option<Histogram<u64>> {
    latency_between(older.map(Sample::summary).as_ref(), &newer.summary())
}

/// Exact latency figures of the calls between two samples; none without calls.
#[cfg(test)]
pub(crate) fn window_latency(older: Option<&Sample>, newer: &Sample) -> Option<WindowLatency> {
    WindowLatency::of(&window_histogram(older, newer)?)
}

/// Window counts per fixed display bucket (the last entry is `+Inf`), from the exact window.
pub(crate) fn bucket_deltas(older: Option<&Sample>, newer: &Sample) -> Vec<u64> {
    let h = window_histogram(older, newer).unwrap_or_else(zen_model::hdr::new_histogram);
    let s = LatencySummary::from_histogram(&h);
    per_bucket(&s.buckets, s.count)
}

/// Rates and exact percentiles between two consecutive samples.
/// `prev_hist` and `hist` are the two samples' decoded histograms (none: undecodable).
fn interval(
    prev: &Sample,
    sample: &Sample,
    prev_hist: Option<&Histogram<u64>>,
    hist: Option<&Histogram<u64>>,
) -> Interval {
    let secs = (sample.t_ms - prev.t_ms) as f64 / 1000.0;
    let calls = sample.calls.saturating_sub(prev.calls);
    let errors = sample.errors.saturating_sub(prev.errors);
    let window = hist.zip(prev_hist).and_then(|(h, p)| {
        let mut w = h.clone();
        w.subtract(p).ok().map(|()| w)
    });
    let latency = window.as_ref().and_then(WindowLatency::of);
    Interval {
        calls_per_sec: calls as f64 / secs,
        error_pct: (calls > 0).then(|| 100.0 * errors.min(calls) as f64 / calls as f64),
        p50_ms: latency.map(|l| l.p50_ms),
        p90_ms: latency.map(|l| l.p90_ms),
        p99_ms: latency.map(|l| l.p99_ms),
    }
}

/// Samples of one server run, oldest first, bounded by [`MAX_SAMPLES`] and [`MAX_WINDOW_MS`].
#[derive(Debug, Clone, Default)]
pub(crate) struct History {
    samples: VecDeque<Sample>,
    /// (pid, started_at_ms) of the server the samples belong to.
    server: Option<(u32, u64)>,
    /// The newest sample's histogram, decoded once: the next interval subtracts it.
    last_hist: Option<Histogram<u64>>,
}

impl History {
    /// Record a snapshot. Returns false (and keeps nothing) when it is not newer than the last
    /// sample. A different server (restart) or counters going backwards start a new history.
    pub(crate) fn push(&mut self, snap: &Snapshot) -> bool {
        let id = (snap.server.pid, snap.server.started_at_ms);
        let mut sample = Sample::of(snap);
        let hist = decode_histogram(&sample.hdr).ok();
        if self.server != Some(id) || self.last().is_some_and(|l| sample.calls < l.calls) {
            self.samples.clear();
            self.server = Some(id);
        }
        if let Some(prev) = self.last() {
            if sample.t_ms <= prev.t_ms {
                return false;
            }
            sample.interval = Some(interval(
                prev,
                &sample,
                self.last_hist.as_ref(),
                hist.as_ref(),
            ));
        }
        self.last_hist = hist;
        let newest = sample.t_ms;
        self.samples.push_back(sample);
        while self.samples.len() > MAX_SAMPLES
            || self
                .samples
                .front()
                .is_some_and(|s| s.t_ms + MAX_WINDOW_MS < newest)
        {
            self.samples.pop_front();
        }
        true
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.samples.len()
    }

    pub(crate) fn last(&self) -> Option<&Sample> {
        self.samples.back()
    }

    /// Samples with `end - span < t <= end`, oldest first.
    pub(crate) fn window(&self, end_ms: u64, span_ms: u64) -> impl Iterator<Item = &Sample> {
        let start = end_ms.saturating_sub(span_ms);
        let from = self.samples.partition_point(|s| s.t_ms <= start);
        self.samples
            .range(from..)
            .take_while(move |s| s.t_ms <= end_ms)
    }

    /// The last sample at or before `t_ms`.
    pub(crate) fn at_or_before(&self, t_ms: u64) -> Option<&Sample> {
        let n = self.samples.partition_point(|s| s.t_ms <= t_ms);
        n.checked_sub(1).and_then(|i| self.samples.get(i))
    }

    /// Where counting over the window starts: the last sample at or before its start, else
    /// (a window longer than the history) the oldest sample in it.
    pub(crate) fn window_base(&self, end_ms: u64, span_ms: u64) -> Option<&Sample> {
        self.at_or_before(end_ms.saturating_sub(span_ms))
            .or_else(|| self.window(end_ms, span_ms).next())
    }

    /// Median gap between the recent samples (ms); 1000 until there are two.
    pub(crate) fn typical_interval_ms(&self) -> u64 {
        let n = self.samples.len();
        let mut gaps: Vec<u64> = self
            .samples
            .range(n.saturating_sub(17)..)
            .collect::<Vec<_>>()
            .windows(2)
            .map(|w| w[1].t_ms - w[0].t_ms)
            .collect();
        if gaps.is_empty() {
            return 1000;
        }
        gaps.sort_unstable();
        gaps[gaps.len() / 2].max(1)
    }

    /// `value` over the window in `bins` equal time slices (oldest first): the mean, or the
    /// maximum with `max`, of the samples in each slice; `None` where a slice has none.
    pub(crate) fn binned(
        &self,
        end_ms: u64,
        span_ms: u64,
        bins: usize,
        max: bool,
        value: impl Fn(&Sample) -> Option<f64>,
    ) -> Vec<Option<f64>> {
        if bins == 0 || span_ms == 0 {
            return Vec::new();
        }
        let mut acc = vec![(0.0, 0u32); bins];
        let start = end_ms.saturating_sub(span_ms);
        for s in self.window(end_ms, span_ms) {
            let Some(v) = value(s) else { continue };
            let i =
                ((u128::from(s.t_ms - start - 1) * bins as u128) / u128::from(span_ms)) as usize;
            let (acc, n) = &mut acc[i.min(bins - 1)];
            *acc = match (max, *n) {
                (true, 0) => v,
                (true, _) => acc.max(v),
                (false, _) => *acc + v,
            };
            *n += 1;
        }
        acc.into_iter()
            .map(|(sum, n)| (n > 0).then(|| if max { sum } else { sum / f64::from(n) }))
            .collect()
    }

    /// How many bins suit a window drawn `width` cells wide: one per cell at most, and no more
    /// than the samples expected in the window (so a short window has no holes).
    pub(crate) fn bins_for(&self, span_ms: u64, width: u16) -> usize {
        let expected = span_ms.div_ceil(self.typical_interval_ms()).max(1) as usize;
        expected.min(width as usize)
    }

    /// Least-squares slope of RSS over the window, in MB per hour; none until the window holds
    /// [`SLOPE_MIN_SAMPLES`] samples over [`SLOPE_MIN_SPAN_MS`] (a slope over a few seconds is noise),
    /// counting only samples after the server's [`SLOPE_WARMUP_MS`].
    pub(crate) fn rss_slope_mb_per_hour(&self, end_ms: u64, span_ms: u64) -> Option<f64> {
        let pts: Vec<(f64, f64)> = self
            .window(end_ms, span_ms)
            .filter(|s| s.uptime_ms >= SLOPE_WARMUP_MS)
            .map(|s| {
                (
                    s.t_ms as f64 / 3_600_000.0,
                    s.rss_bytes as f64 / 1_048_576.0,
                )
            })
            .collect();
        let covered_ms = (pts.last()?.0 - pts.first()?.0) * 3_600_000.0;
        if pts.len() < SLOPE_MIN_SAMPLES || covered_ms < SLOPE_MIN_SPAN_MS as f64 {
            return None;
        }
        least_squares_slope(&pts)
    }
}

/// Slope of the least-squares line through `pts`; none under two distinct x values.
pub(crate) fn least_squares_slope(pts: &[(f64, f64)]) -> Option<f64> {
    let n = pts.len() as f64;
    if pts.len() < 2 {
        return None;
    }
    let (mx, my) = pts
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (sxy, sxx) = pts.iter().fold((0.0, 0.0), |(sxy, sxx), (x, y)| {
        (sxy + (x - mx) * (y - my), sxx + (x - mx) * (x - mx))
    });
    (sxx > 0.0).then(|| sxy / sxx)
}

#[cfg(test)]
mod tests;
