use super::*;
use crate::soak::synthetic::{Shape, series};

#[test]
fn a_straight_line_is_one_stretch_judged_whole() {
    let (xs, ys) = series(
        600.0,
        2.0,
        0.2,
        &Shape::Line {
            start: 30.0,
            per_hour: 120.0,
        },
    );
    let r = read(&xs, &ys);
    assert_eq!(r.basis, Basis::Whole, "{:?}", r.segments);
    assert!(r.steps.is_empty(), "{:?}", r.steps);
    assert!((r.fit.slope - 120.0).abs() < 10.0, "{:?}", r.fit);
    assert!(!r.slowing);
}

#[test]
fn a_single_step_then_flat_is_judged_after_the_step() {
    let shape = Shape::Steps {
        start: 32.0,
        at: vec![150.0],
        height: 14.9,
    };
    let (xs, ys) = series(600.0, 2.0, 0.2, &shape);
    let r = read(&xs, &ys);
    assert_eq!(r.basis, Basis::AfterSteps, "{:?}", r.segments);
    assert_eq!(r.steps.len(), 1, "{:?}", r.steps);
    let step = r.steps[0];
    assert!((step.height - 14.9).abs() < 0.5, "{step:?}");
    assert!((step.at * 3600.0 - 150.0).abs() < 6.0, "{step:?}");
    assert!(r.fit.slope.abs() < r.fit.margin().max(1.0), "{:?}", r.fit);
    assert!((r.fit.mean - 46.9).abs() < 0.2);
}

#[test]
fn a_step_spread_over_a_minute_is_one_step() {
    let shape = Shape::Ramp {
        start: 32.0,
        from: 150.0,
        secs: 40.0,
        height: 15.0,
    };
    let (xs, ys) = series(600.0, 2.0, 0.1, &shape);
    let r = read(&xs, &ys);
    assert_eq!(r.basis, Basis::AfterSteps, "{:?}", r.segments);
    assert_eq!(r.rises().count(), 1, "{:?}", r.steps);
    assert!((r.steps[0].height - 15.0).abs() < 1.0, "{:?}", r.steps);
}

#[test]
fn steps_that_keep_coming_are_a_staircase_judged_whole() {
    let at = (1..=8).map(|i| f64::from(i) * 60.0 + 10.0).collect();
    let shape = Shape::Steps {
        start: 30.0,
        at,
        height: 3.0,
    };
    let (xs, ys) = series(540.0, 1.0, 0.1, &shape);
    let r = read(&xs, &ys);
    assert_eq!(r.basis, Basis::Staircase, "{:?} {:?}", r.segments, r.steps);
    assert!(r.rises().count() >= 4, "{:?}", r.steps);
    // 3 MiB a minute: 180 MiB an hour on average.
    assert!((r.fit.slope - 180.0).abs() < 30.0, "{:?}", r.fit);
}

#[test]
fn noise_around_a_flat_line_finds_nothing() {
    let (xs, ys) = series(
        600.0,
        2.0,
        0.5,
        &Shape::Line {
            start: 40.0,
            per_hour: 0.0,
        },
    );
    let r = read(&xs, &ys);
    assert_eq!(r.basis, Basis::Whole, "{:?}", r.segments);
    assert!(r.steps.is_empty());
    assert!(r.fit.slope.abs() < r.fit.margin(), "{:?}", r.fit);
    assert!((r.noise - 0.5).abs() < 0.25, "noise {}", r.noise);
}

#[test]
fn a_filling_cache_levelling_off_is_judged_on_its_plateau() {
    let shape = Shape::Fill {
        start: 20.0,
        cap: 16.0,
        secs: 200.0,
    };
    let (xs, ys) = series(600.0, 2.0, 0.05, &shape);
    let r = read(&xs, &ys);
    assert!(
        matches!(r.basis, Basis::AfterBend | Basis::AfterSteps),
        "{:?}",
        r.basis
    );
    assert!(r.fit.slope.abs() < 5.0, "{:?}", r.fit);
}

#[test]
fn a_curve_bending_over_is_slowing() {
    let shape = Shape::Saturating {
        start: 20.0,
        cap: 30.0,
        tau_secs: 300.0,
    };
    let (xs, ys) = series(300.0, 1.0, 0.02, &shape);
    let r = read(&xs, &ys);
    assert!(
        r.slowing || r.basis != Basis::Whole,
        "{:?} {:?}",
        r.basis,
        r.fit
    );
}

#[test]
fn a_step_just_before_the_end_cannot_be_judged_yet() {
    let shape = Shape::Steps {
        start: 30.0,
        at: vec![560.0],
        height: 10.0,
    };
    let (xs, ys) = series(600.0, 2.0, 0.1, &shape);
    let r = read(&xs, &ys);
    assert_eq!(r.basis, Basis::StepAtEnd, "{:?} {:?}", r.segments, r.steps);
}

#[test]
fn the_memory_kept_drops_transient_peaks_and_keeps_steps_and_slopes() {
    // 2 s apart: the running minimum spans 20 s, 10 points.
    let mut ys = vec![30.0; 100];
    ys[20..23].fill(35.0);
    ys[60..].fill(40.0);
    let low = kept(&ys, 2.0);
    assert_eq!(
        low.len(),
        91,
        "the last 9, whose window is cut short, are left out"
    );
    assert!(
        low[..60].iter().all(|&y| y == 30.0),
        "the peak is gone: {low:?}"
    );
    assert!(
        low[60..].iter().all(|&y| y == 40.0),
        "the step stays, at its place"
    );
    let line: Vec<f64> = (0..100).map(|i| 30.0 + 0.5 * f64::from(i)).collect();
    assert_eq!(
        kept(&line, 2.0),
        line[..91],
        "a rising line is its own minimum"
    );
    // Never more than a tenth of the curve, however sparse the samples.
    assert_eq!(kept(&ys, 0.1).len(), 91);
    assert_eq!(kept(&ys[..30], 60.0).len(), 30);
}
