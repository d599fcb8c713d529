//! The verdict on synthetic series: each shape the issue names, judged end to end.
use super::*;
use crate::soak::synthetic::{Noise, Shape};

const WARMUP: f64 = 60.0;
const LIMIT: f64 = 50.0;

fn healthy() -> Load {
    Load {
        ok: 100_000,
        failed: 0,
        max_error_rate: 0.01,
    }
}

/// `secs` of samples every `every` s: RSS = `rss(t)` plus noise; for zen, a page cache of
/// `cache(t)` MiB (capped at 16) inside that RSS and histograms of 2 MiB.
fn run(secs: f64, every: f64, sigma: f64, rss: &Shape, cache: Option<&Shape>) -> Vec<Point> {
    let mut noise = Noise::new(7);
    (0..(secs / every) as usize)
        .map(|i| {
            let t = i as f64 * every;
            let c = cache.map(|c| c.at(t).min(16.0));
            Point {
                t,
                target: rss.at(t) + c.unwrap_or(0.0) + sigma * noise.normal(),
                generator: 14.0,
                parts: c.map(|c| vec![c, 2.0]).unwrap_or_default(),
                ok: i as u64 * 100,
                failed: 0,
                weight: 1,
            }
        })
        .collect()
}

fn zen_parts() -> (Vec<String>, Vec<BoundedPart>) {
    let part = |key: &str, cap_mb: u64| BoundedPart {
        key: key.into(),
        name: format!("the {key}"),
        bytes: 0,
        cap_bytes: cap_mb << 20,
        bounded_by: "a setting".into(),
    };
    (
        vec!["store_cache".into(), "histograms".into()],
        vec![part("store_cache", 16), part("histograms", 80)],
    )
}

fn judge_points(points: &[Point], zen: bool, load: Load, events: &[Event]) -> Judgement {
    let (keys, parts) = if zen { zen_parts() } else { (vec![], vec![]) };
    let run_secs = points.last().map_or(0.0, |p| p.t);
    judge(&Inputs {
        points,
        part_keys: &keys,
        parts: &parts,
        events,
        warmup_secs: WARMUP,
        run_secs,
        interval_secs: points.get(1).map_or(1.0, |p| p.t),
        limit_mb: LIMIT,
        load,
    })
}

fn lines(j: &Judgement) -> String {
    let mut out: Vec<String> = j.checks.iter().map(Check::line).collect();
    out.extend(j.reading.as_ref().map(|r| r.summary.clone()));
    out.join("\n")
}

#[test]
fn a_straight_leak_fails_with_its_rate() {
    let points = run(
        600.0,
        2.0,
        0.3,
        &Shape::Line {
            start: 30.0,
            per_hour: 200.0,
        },
        None,
    );
    let j = judge_points(&points, false, healthy(), &[]);
    assert_eq!(j.status, Status::Fail, "{}", lines(&j));
    let r = j.reading.unwrap();
    assert_eq!(r.shape, "growth");
    assert!((r.projected_growth_mb - 200.0).abs() < 20.0, "{r:?}");
    assert!(r.deciding_why.contains("whole"), "{}", r.deciding_why);
}

#[test]
fn a_single_step_then_flat_passes_and_names_the_plateau_and_its_cause() {
    let shape = Shape::Steps {
        start: 32.1,
        at: vec![151.0],
        height: 14.9,
    };
    let points = run(600.0, 2.0, 0.2, &shape, None);
    let events = [Event {
        t_secs: 149.0,
        what: "the store's first cleanup".into(),
    }];
    let j = judge_points(&points, false, healthy(), &events);
    assert_eq!(j.status, Status::Pass, "{}", lines(&j));
    let r = j.reading.unwrap();
    assert_eq!(r.shape, "plateau");
    assert_eq!(r.steps.len(), 1);
    assert_eq!(
        r.steps[0].cause.as_deref(),
        Some("the store's first cleanup")
    );
    assert!(
        r.summary
            .starts_with("RSS flat at 47.0 MiB for the last 7m"),
        "{}",
        r.summary
    );
    let step = " at 2m 31s, at the store's first cleanup";
    assert!(r.summary.contains(step), "{}", r.summary);
    assert!((r.steps[0].height_mb - 14.9).abs() < 0.3, "{}", r.summary);
}

#[test]
fn a_repeating_staircase_fails() {
    let at = (1..=9).map(|i| f64::from(i) * 60.0 + 20.0).collect();
    let shape = Shape::Steps {
        start: 30.0,
        at,
        height: 2.0,
    };
    let points = run(600.0, 1.0, 0.1, &shape, None);
    let j = judge_points(&points, false, healthy(), &[]);
    assert_eq!(j.status, Status::Fail, "{}", lines(&j));
    let r = j.reading.unwrap();
    assert_eq!(r.shape, "staircase");
    assert!(r.summary.contains("they keep coming"), "{}", r.summary);
}

#[test]
fn noise_around_a_flat_line_passes() {
    for sigma in [0.05, 0.5, 2.0] {
        let points = run(
            600.0,
            2.0,
            sigma,
            &Shape::Line {
                start: 40.0,
                per_hour: 0.0,
            },
            None,
        );
        let j = judge_points(&points, false, healthy(), &[]);
        assert_eq!(j.status, Status::Pass, "σ {sigma}: {}", lines(&j));
        assert_eq!(j.reading.unwrap().shape, "flat");
    }
}

#[test]
fn transient_peaks_over_a_flat_line_pass() {
    // zen's store at its budget: SQLite's cache refills to its size for a few seconds, then
    // empties and the allocator hands the pages back; RSS returns to where it was each time.
    let flat = Shape::Line {
        start: 33.5,
        per_hour: 0.0,
    };
    let mut points = run(600.0, 2.0, 0.05, &flat, None);
    for (i, p) in points.iter_mut().enumerate() {
        if i % 25 < 3 && p.t > 100.0 {
            p.target += 5.0;
        }
    }
    let j = judge_points(&points, false, healthy(), &[]);
    assert_eq!(j.status, Status::Pass, "{}", lines(&j));
    let r = j.reading.unwrap();
    assert!(r.steps.is_empty(), "{}", r.summary);
    assert!(r.summary.starts_with("RSS flat at"), "{}", r.summary);
}

#[test]
fn a_bounded_cache_filling_is_never_a_fail() {
    // zen's page cache filling at 200 MiB/h through a one-minute run: far from its 16 MiB cap.
    let filling = Shape::Line {
        start: 0.0,
        per_hour: 200.0,
    };
    let base = Shape::Line {
        start: 23.5,
        per_hour: 0.0,
    };
    let points = run(60.0, 0.75, 0.2, &base, Some(&filling));
    let (keys, parts) = zen_parts();
    // A one-minute run's warm-up is 15 s.
    let j = judge(&Inputs {
        points: &points,
        part_keys: &keys,
        parts: &parts,
        events: &[],
        warmup_secs: 15.0,
        run_secs: 60.0,
        interval_secs: 0.75,
        limit_mb: LIMIT,
        load: healthy(),
    });
    assert_eq!(j.status, Status::Inconclusive, "{}", lines(&j));
    let text = lines(&j);
    assert!(text.contains("is at 3.3 MiB of its 16 MiB cap"), "{text}");
    assert!(text.contains("run at least"), "{text}");
    // The same cache past its cap, over ten minutes: a pass.
    let points = run(600.0, 2.0, 0.2, &base, Some(&filling));
    let j = judge_points(&points, true, healthy(), &[]);
    assert_eq!(j.status, Status::Pass, "{}", lines(&j));
    // The same growth without knowing it is a cache, judged by the curve alone: it fills
    // past the warm-up and levels off, so the plateau decides.
    let mut alone = run(600.0, 2.0, 0.2, &base, Some(&filling));
    for p in &mut alone {
        p.parts.clear();
    }
    let j = judge_points(&alone, false, healthy(), &[]);
    assert_ne!(j.status, Status::Fail, "{}", lines(&j));
}

#[test]
fn a_curve_levelling_off_is_not_a_fail() {
    let shape = Shape::Saturating {
        start: 20.0,
        cap: 30.0,
        tau_secs: 400.0,
    };
    let points = run(600.0, 1.0, 0.02, &shape, None);
    let j = judge_points(&points, false, healthy(), &[]);
    assert_ne!(j.status, Status::Fail, "{}", lines(&j));
}

#[test]
fn a_rise_at_the_very_end_is_inconclusive_with_a_length_that_would_decide() {
    let shape = Shape::Steps {
        start: 30.0,
        at: vec![570.0],
        height: 10.0,
    };
    let points = run(600.0, 2.0, 0.1, &shape, None);
    let j = judge_points(&points, false, healthy(), &[]);
    assert_eq!(j.status, Status::Inconclusive, "{}", lines(&j));
    let r = j.reading.unwrap();
    assert!(r.decide_with_secs.unwrap() > 600.0, "{r:?}");
    // A rise too small to matter against the limit (0.4 MiB of 50) is no reason to run longer.
    let small = Shape::Steps {
        start: 30.0,
        at: vec![570.0],
        height: 0.4,
    };
    let j = judge_points(&run(600.0, 2.0, 0.02, &small, None), false, healthy(), &[]);
    assert_eq!(j.status, Status::Pass, "{}", lines(&j));
}

#[test]
fn all_failed_load_is_never_a_pass() {
    let points = run(
        600.0,
        2.0,
        0.1,
        &Shape::Line {
            start: 30.0,
            per_hour: 0.0,
        },
        None,
    );
    let all_failed = Load {
        ok: 0,
        failed: 28,
        max_error_rate: 1.0,
    };
    let j = judge_points(&points, false, all_failed, &[]);
    assert_eq!(j.status, Status::Fail, "{}", lines(&j));
    assert!(
        lines(&j).contains("0 calls succeeded (28 failed)"),
        "{}",
        lines(&j)
    );
    let mostly_failed = Load {
        ok: 1000,
        failed: 1000,
        max_error_rate: 0.01,
    };
    let j = judge_points(&points, false, mostly_failed, &[]);
    assert_eq!(j.status, Status::Fail, "{}", lines(&j));
    assert!(
        lines(&j).contains("50.00% of calls failed"),
        "{}",
        lines(&j)
    );
    let none = Load {
        ok: 0,
        failed: 0,
        max_error_rate: 0.01,
    };
    let j = judge_points(&points, false, none, &[]);
    assert_eq!(j.status, Status::Inconclusive, "{}", lines(&j));
    // Even when too short to read: still not a pass.
    let j = judge_points(&points[..10], false, all_failed, &[]);
    assert_eq!(j.status, Status::Fail, "{}", lines(&j));
}

#[test]
fn too_few_samples_is_inconclusive() {
    let points = run(
        80.0,
        2.0,
        0.1,
        &Shape::Line {
            start: 30.0,
            per_hour: 0.0,
        },
        None,
    );
    let j = judge_points(&points, false, healthy(), &[]);
    assert_eq!(j.status, Status::Inconclusive, "{}", lines(&j));
    assert!(
        lines(&j).contains("only 10 samples after the warm-up"),
        "{}",
        lines(&j)
    );
}

#[test]
fn a_trend_keeps_its_running_fit() {
    let mut t = Trend::default();
    for i in 0..30 {
        let h = f64::from(i) / 60.0;
        t.add(h, 100.0 + 120.0 * h);
    }
    let r = t.report();
    assert!((r.slope_mb_per_hour.unwrap() - 120.0).abs() < 1e-6);
    assert!((r.r_squared.unwrap() - 1.0).abs() < 1e-9);
}
