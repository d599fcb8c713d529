//! The soak verdict in words: the checks' lines and the reading's one-sentence summary
//! ("RSS flat at 47.0 MiB for the last 6m 12s (slope +0.1 MiB/h); one step of +14.9 MiB at
//! 2m 31s, at the store's first cleanup").
use std::fmt::Write;
use std::time::Duration;

use super::curve::{Basis, Reading};
use super::outcome::{Decision, Load, MIN_SAMPLES, Undecided};
use zen_model::report::soak::{PartProjection, SoakStep, SoakWindow};
use zen_model::report::verdict::{Check, Status};

/// Steps listed by name at most; the rest are counted.
const LISTED_STEPS: usize = 5;

/// A duration as people read it: `2m 31s` under ten minutes, `12m` and `1h 5m` above.
pub(crate) fn span(secs: f64) -> String {
    let whole = if secs >= 600.0 {
        (secs / 60.0).round() * 60.0
    } else {
        secs.round()
    };
    humantime::format_duration(Duration::from_secs(whole.max(0.0) as u64)).to_string()
}

/// MiB as a byte amount with its sign: `+14.9 MiB`, `-2 MiB`.
fn signed(mb: f64) -> String {
    let sign = if mb < 0.0 { "-" } else { "+" };
    format!("{sign}{}", amount(mb.abs()))
}

/// MiB as a byte amount: `16 MiB`, `3.1 MiB`.
fn amount(mb: f64) -> String {
    zen_model::units::bytes((mb.max(0.0) * 1_048_576.0) as u64)
}

/// The checks when the run is too short, or too sparse, to read a curve.
pub(crate) fn too_few_samples(run_secs: f64, warmup_secs: f64, samples: u64) -> Vec<Check> {
    let mut checks = Vec::new();
    if run_secs <= warmup_secs {
        checks.push(Check::measured(
            "run_secs_past_warmup",
            warmup_secs,
            run_secs,
            false,
            format!("the run ({run_secs:.0}s) was not longer than its warm-up ({warmup_secs:.0}s)"),
        ));
    }
    checks.push(Check::measured(
        "samples_after_warmup",
        MIN_SAMPLES as f64,
        samples as f64,
        false,
        format!(
            "only {samples} samples after the warm-up; {MIN_SAMPLES} are needed (run longer or \
             sample more often with --sample-interval)"
        ),
    ));
    checks
}

/// The load gate's line.
pub(crate) fn load_check(load: Load, min_ok: u64) -> Check {
    let total = load.ok + load.failed;
    let rate = zen_model::snapshot::error_rate(load.failed, total);
    let (ok, text) = if total == 0 {
        (
            false,
            "no call finished: a soak judges memory under load, and there was none".to_string(),
        )
    } else if load.ok < min_ok {
        (
            false,
            format!(
                "{} calls succeeded ({} failed); a soak needs at least {min_ok}: memory under no \
                 load proves nothing",
                load.ok, load.failed
            ),
        )
    } else if rate > load.max_error_rate {
        (
            false,
            format!(
                "{:.2}% of calls failed (max {:.2}%, --max-error-rate): memory under failing \
                 load proves little",
                rate * 100.0,
                load.max_error_rate * 100.0
            ),
        )
    } else {
        (true, format!("{} calls succeeded under load", load.ok))
    };
    Check::measured("calls_ok", min_ok as f64, load.ok as f64, ok, text)
}

/// The projection's check, and the reason a run could not decide.
pub(crate) fn memory_checks(
    decision: &Decision,
    projection: &[PartProjection],
    total: f64,
    margin: f64,
    limit: f64,
) -> Vec<Check> {
    let parts: Vec<String> = projection.iter().map(part).collect();
    let mut checks = vec![Check::measured(
        "memory_growth_mb_per_hour",
        limit,
        total,
        decision.status != Status::Fail,
        format!(
            "projected growth over one hour {} ± {} (max {}): {}",
            signed(total),
            amount(margin),
            amount(limit),
            parts.join(", ")
        ),
    )];
    if let Some(why) = &decision.undecided {
        let run = span(decision.decide_with_secs.unwrap_or(0.0));
        checks.push(Check::named(
            "memory_decided",
            false,
            undecided(why, total, margin, limit, &run),
        ));
    }
    checks
}

/// One part of the projection: `the SQLite store's page cache +12.9 MiB (3.1 of 16 MiB)`.
fn part(p: &PartProjection) -> String {
    match p.cap_mb {
        Some(cap) => format!(
            "{} {} ({} of {})",
            p.name,
            signed(p.growth_mb),
            amount(p.now_mb),
            amount(cap)
        ),
        None => format!("{} {}", p.name, signed(p.growth_mb)),
    }
}

fn undecided(why: &Undecided, total: f64, margin: f64, limit: f64, run: &str) -> String {
    match why {
        Undecided::RoseAtEnd { at_secs, height_mb } => format!(
            "cannot decide yet: memory rose {} at {}, too near the end to tell a plateau from \
             more growth: run at least {run} (--duration)",
            signed(*height_mb),
            span(*at_secs)
        ),
        Undecided::Slowing => format!(
            "cannot decide yet: memory grows past the limit but ever more slowly, as a cache \
             filling to its size does: run at least {run} (--duration) to see where it levels off"
        ),
        Undecided::Filling(p) => format!(
            "cannot decide yet: {} is at {} of its {} cap ({}), filling {:+.1} MiB/h, and reaches \
             it in about {}; what memory does after that decides: run at least {run} (--duration)",
            p.name,
            amount(p.now_mb),
            amount(p.cap_mb.unwrap_or(0.0)),
            p.bounded_by.as_deref().unwrap_or("a setting"),
            p.slope_mb_per_hour,
            span(p.full_in_secs.unwrap_or(0.0))
        ),
        Undecided::Straddles => format!(
            "cannot decide: the projected growth {} ± {} straddles the {} limit: run at least \
             {run} (--duration)",
            signed(total),
            amount(margin),
            amount(limit)
        ),
    }
}

/// Is the judged curve flat over the window (its slope within its error, or under 1 MiB/h)?
fn flat(w: &SoakWindow) -> bool {
    w.slope_mb_per_hour.abs() <= w.slope_margin_mb_per_hour.max(1.0)
}

/// The curve's shape in one word, as the report names it.
pub(crate) fn shape(read: &Reading, w: &SoakWindow) -> &'static str {
    match read.basis {
        Basis::Staircase => "staircase",
        Basis::StepAtEnd => "step_at_end",
        _ if read.slowing => "slowing",
        _ if flat(w) && read.rises().next().is_some() => "plateau",
        _ if flat(w) => "flat",
        _ if w.slope_mb_per_hour > 0.0 => "growth",
        _ => "decline",
    }
}

/// Why the deciding window is the one it is.
pub(crate) fn why(basis: Basis, w: &SoakWindow) -> String {
    let length = span(w.end_secs - w.start_secs);
    match basis {
        Basis::Whole => format!("the whole {length} after the warm-up: one trend throughout"),
        Basis::AfterSteps => format!("the last {length}, after the last step"),
        Basis::AfterBend => format!("the last {length}, after the trend changed"),
        Basis::Staircase => {
            format!("the whole {length} after the warm-up: its steps keep coming")
        }
        Basis::LastHalf => format!("the last {length} (the last half)"),
        Basis::StepAtEnd => format!("the last {length}, after a rise near the end"),
    }
}

/// The reading in one sentence.
pub(crate) fn summary(
    read: &Reading,
    w: &SoakWindow,
    steps: &[SoakStep],
    zen: bool,
    run_secs: f64,
) -> String {
    let length = span(w.end_secs - w.start_secs);
    let phrase = match read.basis {
        Basis::Whole | Basis::Staircase => format!("over the {length} after the warm-up"),
        Basis::LastHalf => format!("over the last {length}"),
        _ => format!("for the last {length}"),
    };
    let rss_flat = w.rss_slope_mb_per_hour.abs() <= w.slope_margin_mb_per_hour.max(1.0);
    let mut out = if rss_flat {
        format!(
            "RSS flat at {:.1} MiB {phrase} (slope {:+.1} MiB/h)",
            w.rss_mean_mb, w.rss_slope_mb_per_hour
        )
    } else {
        format!(
            "RSS {} {:+.1} MiB/h {phrase} (mean {:.1} MiB)",
            if w.rss_slope_mb_per_hour > 0.0 {
                "growing"
            } else {
                "falling"
            },
            w.rss_slope_mb_per_hour,
            w.rss_mean_mb
        )
    };
    if zen {
        let _ = write!(
            out,
            "; without its bounded parts {:+.1} ± {:.1} MiB/h",
            w.slope_mb_per_hour, w.slope_margin_mb_per_hour
        );
    }
    out.push_str(&steps_phrase(
        steps,
        read.basis == Basis::Staircase,
        run_secs,
    ));
    out
}

/// "; one step of +14.9 MiB at 2m 31s, at the store's first cleanup", or the list of them.
fn steps_phrase(steps: &[SoakStep], repeating: bool, run_secs: f64) -> String {
    let one = |s: &SoakStep| {
        let cause = s
            .cause
            .as_deref()
            .map(|c| format!(", at {c}"))
            .unwrap_or_default();
        format!("{} at {}{cause}", signed(s.height_mb), span(s.at_secs))
    };
    match steps {
        [] => String::new(),
        [s] => format!("; one step of {}", one(s)),
        many => {
            let listed: Vec<String> = many.iter().take(LISTED_STEPS).map(one).collect();
            let more = many.len().saturating_sub(LISTED_STEPS);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            let tail = if repeating {
                format!(
                    ": they keep coming, about one every {}",
                    span(mean_gap(many, run_secs))
                )
            } else {
                String::new()
            };
            format!("; {} steps: {}{more}{tail}", many.len(), listed.join(", "))
        }
    }
}

/// Mean time between steps, seconds.
fn mean_gap(steps: &[SoakStep], run_secs: f64) -> f64 {
    match (steps.first(), steps.last()) {
        (Some(a), Some(b)) if steps.len() > 1 => (b.at_secs - a.at_secs) / (steps.len() - 1) as f64,
        _ => run_secs,
    }
}
