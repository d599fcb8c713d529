use super::*;
use crate::fixtures::{self, Timeline};

fn snap_at(tl: &mut Timeline, t_ms: u64) -> Snapshot {
    tl.snap.taken_at_ms = t_ms;
    tl.snap.clone()
}

#[test]
fn history_is_capped_in_samples_whatever_the_feed_rate() {
    let mut tl = Timeline::new();
    let mut h = History::default();
    // Ten a second, faster than zen top ever polls: the sample cap binds before the hour does.
    for i in 0..(MAX_SAMPLES as u64 + 1000) {
        assert!(h.push(&snap_at(&mut tl, fixtures::T0 + 100 * (i + 1))));
        assert!(h.len() <= MAX_SAMPLES);
    }
    assert_eq!(h.len(), MAX_SAMPLES);
    assert_eq!(
        h.last().unwrap().t_ms,
        fixtures::T0 + 100 * (MAX_SAMPLES as u64 + 1000)
    );
}

#[test]
fn history_keeps_only_the_longest_window() {
    let mut tl = Timeline::new();
    let mut h = History::default();
    for i in 0..7200 {
        h.push(&snap_at(&mut tl, fixtures::T0 + 1000 * (i + 1)));
    }
    let newest = h.last().unwrap().t_ms;
    let oldest = h.window(newest, u64::MAX).next().unwrap().t_ms;
    assert_eq!(newest - oldest, MAX_WINDOW_MS);
    assert_eq!(h.len(), 3601);
}

#[test]
fn duplicates_are_ignored_and_a_restarted_server_starts_a_new_history() {
    let mut tl = Timeline::new();
    let mut h = History::default();
    assert!(h.push(&tl.tick(1000)));
    tl.calls("chat", 5, 0, 10.0);
    let second = tl.tick(1000);
    assert!(h.push(&second));
    assert!(
        !h.push(&second),
        "the same snapshot again is not a new sample"
    );
    let mut older = second.clone();
    older.taken_at_ms -= 500;
    assert!(!h.push(&older), "an older snapshot is not recorded");
    assert_eq!(h.len(), 2);
    let mut restarted = Timeline::new();
    restarted.snap.server.pid = 99;
    assert!(h.push(&restarted.tick(3000)));
    assert_eq!(h.len(), 1, "a new pid means a new server");
    assert!(h.last().unwrap().interval.is_none());
    // Same identity but counters going backwards: also a fresh start.
    let mut h = History::default();
    h.push(&second);
    let mut reset = second.clone();
    reset.taken_at_ms += 1000;
    reset.totals.total_operations = 0;
    assert!(h.push(&reset));
    assert_eq!(h.len(), 1);
}

#[test]
fn interval_rates_and_percentiles_come_from_counter_deltas() {
    let mut tl = Timeline::new();
    let mut h = History::default();
    tl.calls("chat", 100, 0, 1000.0); // before the first sample: not in the interval
    h.push(&tl.tick(1000));
    tl.calls("chat", 15, 5, 20.0);
    h.push(&tl.tick(2000));
    let i = h.last().unwrap().interval.unwrap();
    assert_eq!(i.calls_per_sec, 10.0);
    assert_eq!(i.error_pct, Some(25.0));
    // 20 calls between 12 and 28 ms, after 100 calls near 1 s: the interval's percentiles are
    // its own calls', exactly (interpolating in fixed buckets put p99 at the bucket's bound).
    let (p50, p99) = (i.p50_ms.unwrap(), i.p99_ms.unwrap());
    assert!((12.0..=28.1).contains(&p50), "{p50}");
    assert!((p50..=28.1).contains(&p99), "{p99}");
    h.push(&tl.tick(1000));
    let idle = h.last().unwrap().interval.unwrap();
    assert_eq!(
        (idle.calls_per_sec, idle.error_pct, idle.p50_ms),
        (0.0, None, None)
    );
}

#[test]
fn window_buckets_and_figures_count_only_the_windows_calls() {
    let mut tl = Timeline::new();
    tl.calls("chat", 10, 0, 2000.0);
    let mut h = History::default();
    h.push(&tl.tick(1000));
    tl.calls("chat", 10, 0, 2.0);
    h.push(&tl.tick(1000));
    let (older, newer) = (h.at_or_before(fixtures::T0 + 1000), h.last().unwrap());
    let counts = bucket_deltas(older, newer);
    assert_eq!(counts.iter().sum::<u64>(), 10);
    // 1.2 to 2.8 ms: all ten in (1, 5] ms, none from the slow past.
    assert_eq!(counts[1] + counts[2], 10, "{counts:?}");
    let w = window_latency(older, newer).unwrap();
    assert!(w.p99_ms <= w.max_ms && w.max_ms < 2.81, "{w:?}");
    assert_eq!(window_latency(Some(newer), newer), None);
}

#[test]
fn binning_averages_or_takes_the_max_and_leaves_gaps() {
    let mut tl = Timeline::new();
    let mut h = History::default();
    for (t, rss) in [(1000, 10), (2000, 20), (3000, 30), (6000, 60)] {
        tl.snap.system.rss_bytes = rss;
        h.push(&snap_at(&mut tl, t));
    }
    let rss = |s: &Sample| Some(s.rss_bytes as f64);
    // Window (0, 6000] in three 2 s bins: {1000, 2000} {3000} {6000}; (4000, 6000] is the last.
    assert_eq!(
        h.binned(6000, 6000, 3, false, rss),
        vec![Some(15.0), Some(30.0), Some(60.0)]
    );
    assert_eq!(
        h.binned(6000, 6000, 3, true, rss),
        vec![Some(20.0), Some(30.0), Some(60.0)]
    );
    assert_eq!(
        h.binned(6000, 6000, 6, false, rss),
        vec![Some(10.0), Some(20.0), Some(30.0), None, None, Some(60.0)]
    );
    assert_eq!(
        h.binned(6000, 6000, 0, false, rss),
        Vec::<Option<f64>>::new()
    );
    assert_eq!(h.typical_interval_ms(), 1000);
    assert_eq!(h.bins_for(60_000, 200), 60);
    assert_eq!(h.bins_for(60_000, 40), 40);
}

#[test]
fn rss_slope_is_least_squares_in_mb_per_hour() {
    let mut tl = Timeline::new();
    let mut h = History::default();
    for i in 0..120u64 {
        // 1 MB a minute, with ±0.25 MB of alternating noise.
        let noise = if i % 2 == 0 { 262_144 } else { 0 };
        tl.snap.system.rss_bytes = 100 * 1_048_576 + i * 1_048_576 / 60 + noise;
        h.push(&snap_at(&mut tl, fixtures::T0 + 1000 * (i + 1)));
    }
    let end = fixtures::T0 + 120_000;
    let slope = h.rss_slope_mb_per_hour(end, 120_000).unwrap();
    assert!((slope - 60.0).abs() < 1.0, "{slope}");
    // Too short a stretch for a slope: 15 s, or 9 samples.
    assert_eq!(h.rss_slope_mb_per_hour(end, 15_000), None);
    assert_eq!(h.rss_slope_mb_per_hour(fixtures::T0 + 69_000, 30_000), None);
    assert!(
        h.rss_slope_mb_per_hour(fixtures::T0 + 90_000, 30_000)
            .is_some()
    );
    // Within the server's first minute (start-up allocation) there is no slope at all.
    assert_eq!(h.rss_slope_mb_per_hour(fixtures::T0 + 59_000, 59_000), None);
    assert_eq!(least_squares_slope(&[(1.0, 5.0)]), None);
    assert_eq!(least_squares_slope(&[(1.0, 5.0), (1.0, 6.0)]), None);
}
