//! The run's time series: one point per second (calls, errors, p50/p99 of that second, calls in
//! flight, and for a zen target its pools, queue and RSS), bounded in size: past
//! `MAX_POINTS` neighbouring points are merged pairwise, so a day-long soak still fits.
use std::collections::BTreeMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::snapshot::Snapshot;

/// Most points a report keeps; past it, pairs are merged (the interval doubles).
pub const MAX_POINTS: usize = 1200;
/// One point per this much of the run, to begin with.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// One interval of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Point {
    /// Start of the interval, seconds since the load began.
    pub t: f64,
    /// Start of the interval on the wall clock, ms since the Unix epoch: runs made in parallel
    /// (other machines, other processes) line up by it when merged. Absent in older reports.
    #[serde(default)]
    pub unix_ms: Option<u64>,
    /// Length of the interval in seconds (grows when the series is downsampled).
    pub secs: f64,
    /// Calls finished in the interval.
    pub calls: u64,
    /// Of which failed.
    pub errors: u64,
    /// Median latency of the calls finished in the interval, ms (0 when none did).
    pub p50_ms: f64,
    /// 99th percentile latency of the calls finished in the interval, ms.
    pub p99_ms: f64,
    /// Calls in flight at the end of the interval (the larger one after downsampling).
    pub in_flight: u64,
    /// zen targets: calls holding a permit, per pool, at the end of the interval.
    pub pools_in_use: Option<BTreeMap<String, u64>>,
    /// zen targets: calls waiting for any pool at the end of the interval.
    pub queued: Option<u64>,
    /// zen targets: the server's resident memory at the end of the interval, bytes.
    pub rss_bytes: Option<u64>,
}

impl Point {
    /// Two neighbouring points as one: counts add, gauges and percentiles keep the larger
    /// (the exact percentiles of the whole run are in the full histograms).
    pub fn merge(&self, next: &Point) -> Point {
        let max_opt = |a: Option<u64>, b: Option<u64>| a.max(b);
        Point {
            t: self.t,
            unix_ms: self.unix_ms,
            secs: self.secs + next.secs,
            calls: self.calls.saturating_add(next.calls),
            errors: self.errors.saturating_add(next.errors),
            p50_ms: self.p50_ms.max(next.p50_ms),
            p99_ms: self.p99_ms.max(next.p99_ms),
            in_flight: self.in_flight.max(next.in_flight),
            pools_in_use: next.pools_in_use.clone().or(self.pools_in_use.clone()),
            queued: max_opt(self.queued, next.queued),
            rss_bytes: max_opt(self.rss_bytes, next.rss_bytes),
        }
    }

    /// The figures zen's snapshot adds to a point.
    pub fn with_server(mut self, snapshot: Option<&Snapshot>) -> Point {
        if let Some(s) = snapshot {
            let pools = s.pools.iter().map(|p| (p.name.clone(), p.in_use));
            self.pools_in_use = Some(pools.collect());
            self.queued = Some(s.pools.iter().map(|p| p.waiting).sum());
            self.rss_bytes = Some(s.system.rss_bytes);
        }
        self
    }
}

/// A bounded series of points.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// The points, oldest first.
    pub points: Vec<Point>,
    /// Most points kept.
    pub max_points: usize,
}

impl Series {
    /// An empty series that keeps at most `max_points` points (2 at least).
    pub fn new(max_points: usize) -> Self {
        Series {
            points: Vec::new(),
            max_points: max_points.max(2),
        }
    }

    /// Append a point; halve the series (merging neighbours) when it is full.
    pub fn push(&mut self, point: Point) {
        self.points.push(point);
        if self.points.len() > self.max_points {
            self.points = self
                .points
                .chunks(2)
                .map(|pair| match pair {
                    [a, b] => a.merge(b),
                    [a] => a.clone(),
                    _ => unreachable!("chunks of two"),
                })
                .collect();
        }
    }
}

/// A series read from a file, bounded as a run writes it: past [`MAX_POINTS`], neighbouring
/// points merge pairwise while they are read, so a long series in a file (zen's own never
/// have more) costs no more memory than a run's.
pub fn bounded<'de, D>(deserializer: D) -> Result<Vec<Point>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Bounded;
    impl<'de> serde::de::Visitor<'de> for Bounded {
        type Value = Vec<Point>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of series points")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Vec<Point>, A::Error> {
            let mut series = Series::new(MAX_POINTS);
            while let Some(point) = seq.next_element()? {
                series.push(point);
            }
            Ok(series.points)
        }
    }
    deserializer.deserialize_seq(Bounded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(t: f64, calls: u64) -> Point {
        Point {
            t,
            unix_ms: Some(1_000_000 + (t * 1000.0) as u64),
            secs: 1.0,
            calls,
            errors: 0,
            p50_ms: t,
            p99_ms: t,
            in_flight: calls,
            pools_in_use: None,
            queued: None,
            rss_bytes: None,
        }
    }

    #[test]
    fn a_long_series_read_from_json_is_merged_as_it_is_read() {
        #[derive(Deserialize)]
        struct Holder {
            #[serde(deserialize_with = "bounded")]
            series: Vec<Point>,
        }
        let points: Vec<Point> = (0..5000).map(|i| point(f64::from(i), 2)).collect();
        let json = serde_json::json!({ "series": points }).to_string();
        let read: Holder = serde_json::from_str(&json).unwrap();
        assert!(read.series.len() <= MAX_POINTS, "{}", read.series.len());
        assert_eq!(read.series.iter().map(|p| p.calls).sum::<u64>(), 10_000);
    }

    #[test]
    fn a_long_series_stays_bounded_and_keeps_every_call() {
        let mut s = Series::new(100);
        for i in 0..10_000 {
            s.push(point(f64::from(i), 3));
        }
        assert!(s.points.len() <= 100, "{}", s.points.len());
        assert_eq!(s.points.iter().map(|p| p.calls).sum::<u64>(), 30_000);
        let secs: f64 = s.points.iter().map(|p| p.secs).sum();
        assert_eq!(secs, 10_000.0);
        assert!(s.points.windows(2).all(|w| w[0].t < w[1].t));
    }
}
