//! A bounded history of compact samples taken from successive snapshots, and the figures
//! derived from it: per-interval rates and latency percentiles, time bins, the RSS slope.
use std::collections::VecDeque;

use crate::snapshot::{BUCKET_BOUNDS_MS, Snapshot, per_bucket};

/// The longest window the dashboard shows; older samples are dropped.
pub const MAX_WINDOW_MS: u64 = 3_600_000;
/// Hard cap on samples whatever the feed rate (one hour at the 250 ms minimum interval): at most
/// 3.7 MB of history.
pub const MAX_SAMPLES: usize = 14_400;
/// The RSS slope needs this many samples in the window…
pub const SLOPE_MIN_SAMPLES: usize = 10;
/// …spread over at least this long.
pub const SLOPE_MIN_SPAN_MS: u64 = 20_000;

/// What the dashboard keeps of one snapshot (256 bytes, whatever the number of tools).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub t_ms: u64,
    pub calls: u64,
    pub errors: u64,
    pub in_flight: u64,
    /// Cumulative latency bucket counts of all calls, as in [`crate::snapshot::LatencySummary`].
    pub buckets: [u64; BUCKET_BOUNDS_MS.len()],
    /// All finished calls (the `+Inf` bucket).
    pub count: u64,
    pub rss_bytes: u64,
    /// Figures over the interval since the previous sample (none for the first).
    pub interval: Option<Interval>,
}

/// Rates and latency over one sampling interval, derived from two snapshots' counters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub calls_per_sec: f64,
    /// Percent of the interval's calls that failed; none without calls.
    pub error_pct: Option<f64>,
    /// Percentiles (ms) estimated from the interval's bucket counts; none without calls.
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

impl Sample {
    fn of(s: &Snapshot) -> Self {
        let mut buckets = [0; BUCKET_BOUNDS_MS.len()];
        for (b, v) in buckets.iter_mut().zip(&s.totals.latency.buckets) {
            *b = *v;
        }
        Sample {
            t_ms: s.taken_at_ms,
            calls: s.totals.total_operations,
            errors: s.totals.total_errors,
            in_flight: s.totals.in_flight,
            buckets,
            count: s.totals.latency.count,
            rss_bytes: s.system.rss_bytes,
            interval: None,
        }
    }
}

/// Interval counts per bucket (the last entry is `+Inf`) between two cumulative bucket sets.
pub fn bucket_deltas(older: Option<&Sample>, newer: &Sample) -> Vec<u64> {
    let base = |i: usize| older.map_or(0, |o| o.buckets[i]);
    let cumulative: Vec<u64> = (newer.buckets.iter().enumerate())
        .map(|(i, &cum)| cum.saturating_sub(base(i)))
        .collect();
    per_bucket(
        &cumulative,
        newer.count.saturating_sub(older.map_or(0, |o| o.count)),
    )
}

/// The `q` quantile (ms) of per-bucket counts, interpolated inside its bucket as Prometheus'
/// `histogram_quantile` does; the `+Inf` bucket answers with the highest finite bound.
pub fn quantile(counts: &[u64], q: f64) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = q * total as f64;
    let mut seen = 0.0;
    for (i, &c) in counts.iter().enumerate() {
        let next = seen + c as f64;
        if c > 0 && next >= rank {
            let Some(&upper) = BUCKET_BOUNDS_MS.get(i) else {
                return BUCKET_BOUNDS_MS.last().copied();
            };
            let lower = if i == 0 { 0.0 } else { BUCKET_BOUNDS_MS[i - 1] };
            return Some(lower + (upper - lower) * ((rank - seen) / c as f64).clamp(0.0, 1.0));
        }
        seen = next;
    }
    BUCKET_BOUNDS_MS.last().copied()
}

/// Samples of one server run, oldest first, bounded by [`MAX_SAMPLES`] and [`MAX_WINDOW_MS`].
#[derive(Debug, Clone, Default)]
pub struct History {
    samples: VecDeque<Sample>,
    /// (pid, started_at_ms) of the server the samples belong to.
    server: Option<(u32, u64)>,
}

impl History {
    /// Record a snapshot. Returns false (and keeps nothing) when it is not newer than the last
    /// sample. A different server (restart) or counters going backwards start a new history.
    pub fn push(&mut self, snap: &Snapshot) -> bool {
        let id = (snap.server.pid, snap.server.started_at_ms);
        let mut sample = Sample::of(snap);
        if self.server != Some(id) || self.last().is_some_and(|l| sample.calls < l.calls) {
            self.samples.clear();
            self.server = Some(id);
        }
        if let Some(prev) = self.last() {
            if sample.t_ms <= prev.t_ms {
                return false;
            }
            let secs = (sample.t_ms - prev.t_ms) as f64 / 1000.0;
            let calls = sample.calls.saturating_sub(prev.calls);
            let errors = sample.errors.saturating_sub(prev.errors);
            let counts = bucket_deltas(Some(prev), &sample);
            sample.interval = Some(Interval {
                calls_per_sec: calls as f64 / secs,
                error_pct: (calls > 0).then(|| 100.0 * errors.min(calls) as f64 / calls as f64),
                p50_ms: quantile(&counts, 0.50),
                p90_ms: quantile(&counts, 0.90),
                p99_ms: quantile(&counts, 0.99),
            });
        }
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

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    pub fn last(&self) -> Option<&Sample> {
        self.samples.back()
    }

    /// Samples with `end - span < t <= end`, oldest first.
    pub fn window(&self, end_ms: u64, span_ms: u64) -> impl Iterator<Item = &Sample> {
        let start = end_ms.saturating_sub(span_ms);
        let from = self.samples.partition_point(|s| s.t_ms <= start);
        self.samples
            .range(from..)
            .take_while(move |s| s.t_ms <= end_ms)
    }

    /// The last sample at or before `t_ms`.
    pub fn at_or_before(&self, t_ms: u64) -> Option<&Sample> {
        let n = self.samples.partition_point(|s| s.t_ms <= t_ms);
        n.checked_sub(1).and_then(|i| self.samples.get(i))
    }

    /// Where counting over the window starts: the last sample at or before its start, else
    /// (a window longer than the history) the oldest sample in it.
    pub fn window_base(&self, end_ms: u64, span_ms: u64) -> Option<&Sample> {
        self.at_or_before(end_ms.saturating_sub(span_ms))
            .or_else(|| self.window(end_ms, span_ms).next())
    }

    /// Median gap between the recent samples (ms); 1000 until there are two.
    pub fn typical_interval_ms(&self) -> u64 {
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
    pub fn binned(
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
            let i = (((s.t_ms - start - 1) as u128 * bins as u128) / span_ms as u128) as usize;
            let (acc, n) = &mut acc[i.min(bins - 1)];
            *acc = match (max, *n) {
                (true, 0) => v,
                (true, _) => acc.max(v),
                (false, _) => *acc + v,
            };
            *n += 1;
        }
        acc.into_iter()
            .map(|(sum, n)| (n > 0).then(|| if max { sum } else { sum / n as f64 }))
            .collect()
    }

    /// How many bins suit a window drawn `width` cells wide: one per cell at most, and no more
    /// than the samples expected in the window (so a short window has no holes).
    pub fn bins_for(&self, span_ms: u64, width: u16) -> usize {
        let expected = span_ms.div_ceil(self.typical_interval_ms()).max(1) as usize;
        expected.min(width as usize)
    }

    /// Least-squares slope of RSS over the window, in MB per hour; none until the window holds
    /// [`SLOPE_MIN_SAMPLES`] samples over [`SLOPE_MIN_SPAN_MS`] (a slope over a few seconds is noise).
    pub fn rss_slope_mb_per_hour(&self, end_ms: u64, span_ms: u64) -> Option<f64> {
        let pts: Vec<(f64, f64)> = self
            .window(end_ms, span_ms)
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
pub fn least_squares_slope(pts: &[(f64, f64)]) -> Option<f64> {
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
#[path = "history_tests.rs"]
mod tests;
