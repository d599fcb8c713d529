//! The merged time series: each run's per-second points lined up on one wall-clock grid.
use std::collections::BTreeMap;

use zen_model::report::series::{MAX_POINTS, Point, Series};

/// The series on one wall-clock grid: each run's points fall in the slot their middle is in
/// (slots as wide as the widest input's sampling interval); counts add, in-flight adds (the runs load
/// at once), percentiles of a slot keep the larger (exact ones are in the histograms), and the
/// server's gauges add too unless every run drove the same URL (then the larger, as one server
/// seen twice).
pub(super) fn merge_series(runs: &[&[Point]], one_server: bool, start_ms: f64) -> Vec<Point> {
    let width = runs
        .iter()
        .map(|series| nominal_interval(series))
        .fold(zen_model::report::series::INTERVAL.as_secs_f64(), f64::max);
    let mut slots: BTreeMap<u64, Point> = BTreeMap::new();
    for series in runs {
        // One run's points in a slot first (its own gauges are one reading), then across runs.
        let mut own: BTreeMap<u64, Point> = BTreeMap::new();
        for p in *series {
            // By the interval's middle: a run's ticks a hair either side of a slot's edge
            // still fall one to a slot.
            let at = p.unix_ms.map_or(0.0, |ms| ms as f64 - start_ms) / 1000.0 + p.secs / 2.0;
            let slot = (at.max(0.0) / width) as u64;
            own.entry(slot)
                .and_modify(|into| *into = into.merge(p))
                .or_insert_with(|| p.clone());
        }
        for (slot, p) in own {
            slots
                .entry(slot)
                .and_modify(|into| *into = across(into, &p, one_server))
                .or_insert(p);
        }
    }
    let mut series = Series::new(MAX_POINTS);
    let last = slots.keys().next_back().copied();
    for (slot, mut p) in slots {
        p.t = slot as f64 * width;
        p.unix_ms = Some((start_ms + p.t * 1000.0) as u64);
        if Some(slot) != last {
            p.secs = width;
        }
        series.push(p);
    }
    series.points
}

/// The run's sampling interval: 1 s, doubled each time the series was halved (the middle
/// point's length, rounded to a power of two: the first and last intervals may be short).
fn nominal_interval(series: &[Point]) -> f64 {
    let base = zen_model::report::series::INTERVAL.as_secs_f64();
    let Some(middle) = series.get(series.len() / 2) else {
        return base;
    };
    let doublings = (middle.secs / base).max(1.0).log2().round();
    base * 2f64.powf(doublings)
}

/// Two runs' points of the same slot.
fn across(a: &Point, b: &Point, one_server: bool) -> Point {
    let gauge = |x: Option<u64>, y: Option<u64>| match (x, y) {
        (Some(x), Some(y)) if one_server => Some(x.max(y)),
        (Some(x), Some(y)) => Some(x.saturating_add(y)),
        (x, y) => x.or(y),
    };
    let mut pools = a.pools_in_use.clone();
    if let Some(theirs) = &b.pools_in_use {
        let ours = pools.get_or_insert_with(BTreeMap::new);
        for (name, n) in theirs {
            let v = gauge(ours.get(name).copied(), Some(*n));
            ours.insert(name.clone(), v.unwrap_or(0));
        }
    }
    Point {
        t: a.t,
        unix_ms: a.unix_ms,
        secs: a.secs.max(b.secs),
        calls: a.calls.saturating_add(b.calls),
        errors: a.errors.saturating_add(b.errors),
        p50_ms: a.p50_ms.max(b.p50_ms),
        p99_ms: a.p99_ms.max(b.p99_ms),
        in_flight: a.in_flight.saturating_add(b.in_flight),
        pools_in_use: pools,
        queued: gauge(a.queued, b.queued),
        rss_bytes: gauge(a.rss_bytes, b.rss_bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(unix_ms: u64, calls: u64, in_flight: u64) -> Point {
        Point {
            t: 0.0,
            unix_ms: Some(unix_ms),
            secs: 1.0,
            calls,
            errors: 0,
            p50_ms: calls as f64,
            p99_ms: calls as f64,
            in_flight,
            pools_in_use: None,
            queued: None,
            rss_bytes: Some(100),
        }
    }

    #[test]
    fn series_of_runs_started_at_different_times_line_up_by_the_wall_clock() {
        // Run B started 1.3 s after run A: B's first second lies in A's second one.
        let mut a = zen_model::report::series::Series::new(100);
        let mut b = zen_model::report::series::Series::new(100);
        for i in 0..3 {
            a.push(point(10_000 + i * 1000, 10, 4));
            b.push(point(11_300 + i * 1000, 1, 2));
        }
        let merged = merge_series(&[&a.points, &b.points], false, 10_000.0);
        let calls: Vec<u64> = merged.iter().map(|p| p.calls).collect();
        assert_eq!(calls, [10, 11, 11, 1]);
        let in_flight: Vec<u64> = merged.iter().map(|p| p.in_flight).collect();
        assert_eq!(in_flight, [4, 6, 6, 2]);
        // Two spawned servers: their memory adds up; one server seen twice: it does not.
        assert_eq!(merged[1].rss_bytes, Some(200));
        assert_eq!(merged[2].unix_ms, Some(12_000));
        assert_eq!(merged[2].t, 2.0);
        let shared = merge_series(&[&a.points, &b.points], true, 10_000.0);
        assert_eq!(shared[1].rss_bytes, Some(100));
        assert_eq!(shared[1].calls, 11);
    }
}
