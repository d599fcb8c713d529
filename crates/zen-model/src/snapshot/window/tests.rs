use proptest::prelude::*;

use super::*;
use crate::hdr::{decode, new_histogram};

fn summary(values: &[u64]) -> LatencySummary {
    let mut h = new_histogram();
    for &v in values {
        h.record(v).unwrap();
    }
    LatencySummary::from_histogram(&h)
}

/// The nearest-rank quantile of raw values, as HdrHistogram defines it.
fn raw_quantile(sorted: &[u64], q: f64) -> u64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
    sorted[rank - 1]
}

#[test]
fn encoding_round_trips_and_an_empty_histogram_is_an_empty_string() {
    let s = summary(&[1, 250, 250, 99_000, 3_000_000]);
    let back = decode(&s.hdr).unwrap();
    assert_eq!(back.len(), 5);
    assert_eq!(back.max(), decode(&s.hdr).unwrap().max());
    assert_eq!(summary(&[]).hdr, "");
    assert!(decode("").unwrap().is_empty());
    assert!(decode("not base64!").is_err());
}

#[test]
fn a_window_never_reports_above_its_own_max() {
    // A fast window after a slow past: interpolating inside fixed buckets put p99 at the
    // bucket's upper bound; the exact window says what the calls took.
    let before = summary(&[2_000_000; 10]);
    let mut all = vec![2_000_000; 10];
    all.extend([1_100, 1_200, 1_300]);
    let after = summary(&all);
    let w = WindowLatency::between(Some(&before), &after).unwrap();
    assert_eq!(w.count, 3);
    assert!(w.p99_ms <= w.max_ms && w.max_ms < 1.31, "{w:?}");
    assert!(WindowLatency::between(Some(&after), &after).is_none());
    assert!(
        between(Some(&after), &before).is_none(),
        "a reset is no window"
    );
}

proptest! {
    #[test]
    fn window_quantiles_are_the_quantiles_of_the_windows_calls(
        earlier in proptest::collection::vec(1u64..5_000_000, 0..200),
        window in proptest::collection::vec(1u64..5_000_000, 1..300),
        q in 0.01f64..1.0,
    ) {
        let before = summary(&earlier);
        let after = summary(&[earlier.clone(), window.clone()].concat());
        // Through the snapshot's JSON, as zen top receives it.
        let json = |s: &LatencySummary| serde_json::from_str::<LatencySummary>(&serde_json::to_string(s).unwrap()).unwrap();
        let h = between(Some(&json(&before)), &json(&after)).unwrap();
        let mut sorted = window.clone();
        sorted.sort_unstable();
        let raw = raw_quantile(&sorted, q);
        prop_assert_eq!(h.len(), window.len() as u64);
        // Equal within the histogram's precision: the same value class as the raw quantile.
        prop_assert_eq!(h.value_at_quantile(q), h.highest_equivalent(raw));
        prop_assert!(h.equivalent(h.max(), *sorted.last().unwrap()));
        prop_assert!(h.value_at_quantile(q) <= h.max());
    }
}
