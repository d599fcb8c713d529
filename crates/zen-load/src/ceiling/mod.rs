//! `zen stress --find-ceiling`: the highest constant arrival rate the target sustains within a
//! p99 limit and an error-rate limit. Open loop, so latency is measured from each call's intended
//! send time and a server falling behind shows it. A ladder doubles the rate from a start rate
//! until a step breaks the limits (or halves it until one holds), then bisection narrows the gap
//! between the last rate that held and the first that did not. Every step is kept; the report
//! is the step at the answer.
use std::time::Duration;

use crate::engine::Model;
use crate::run::{Run, Step, Ui};
use zen_model::report::Report;
use zen_model::report::ceiling::{CeilingReport, CeilingStep};

/// Doublings (or halvings) at most before the ladder gives up.
const MAX_PROBES: usize = 16;
/// Halvings at most when the start rate already breaks the limits.
const MAX_DESCENT: usize = 5;
/// Bisection stops when the rate that failed is within this share above the one that held.
const PRECISION: f64 = 0.10;
/// Bisection steps at most.
const MAX_BISECT: usize = 6;

/// The limits and pace of a search.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Search {
    /// First rate tried, calls per second.
    pub start_rate: f64,
    /// How long each step sends at its rate.
    pub step: Duration,
    /// A step holds when its p99 (from the intended send time) is at most this.
    pub max_p99_ms: f64,
    /// … and its error rate at most this.
    pub max_error_rate: f64,
    /// Generator cap on calls outstanding in a step.
    pub max_in_flight: u32,
}

/// Search on a connected run, printing each step to stderr unless `quiet`; the report is the
/// step at the ceiling (or the first step when none held), with `ceiling` filled in.
pub(crate) async fn find(mut run: Run, search: Search, quiet: bool) -> Report {
    let mut kept: Vec<(CeilingStep, Step)> = Vec::new();
    let answer = {
        let kept = &mut kept;
        let run = &mut run;
        bisect(search.start_rate, async |rate, phase| {
            let ok = run_step(run, kept, rate, phase, &search, quiet).await?;
            if ok {
                return Some(true);
            }
            // One stall on a busy machine must not set the ceiling: a rate counts as broken
            // only when a second step at it breaks the limits too.
            run_step(run, kept, rate, "recheck", &search, quiet).await
        })
        .await
    };
    let steps: Vec<CeilingStep> = kept.iter().map(|(s, _)| s.clone()).collect();
    // The report describes the step at the answer, else the first step run.
    let shown = kept
        .iter()
        .position(|(s, _)| s.ok && Some(s.rate) == answer)
        .unwrap_or(0);
    let (elapsed, cpu) = match kept.into_iter().nth(shown) {
        Some((_, step)) => run.restore(step),
        None => (Duration::ZERO, 0.0),
    };
    let mut report = run.finish(elapsed, cpu, None).await;
    report.ceiling = Some(CeilingReport {
        calls_per_s: answer,
        max_p99_ms: search.max_p99_ms,
        max_error_rate: search.max_error_rate,
        step_secs: search.step.as_secs_f64(),
        steps,
    });
    report
}

/// Run one step at `rate`, print and keep it; whether it held (None: stopped or target died).
async fn run_step(
    run: &mut Run,
    kept: &mut Vec<(CeilingStep, Step)>,
    rate: f64,
    phase: &'static str,
    search: &Search,
    quiet: bool,
) -> Option<bool> {
    if run.stop.is_cancelled() {
        return None;
    }
    run.begin_step(Model::Open {
        rate,
        duration: search.step,
        max_in_flight: search.max_in_flight,
    })
    .await;
    let (elapsed, cpu) = run
        .drive(if quiet { Ui::Quiet } else { Ui::Progress(None) })
        .await;
    let step = run.end_step(elapsed, cpu).await;
    let judged = judge(&step, phase, rate, search);
    // Stopped or died mid-step: the step is kept but says nothing about the rate.
    let interrupted = run.stop.is_cancelled() || step.recorder.lost().is_some();
    if !quiet && !interrupted {
        eprintln!("step {:>2}  {}", kept.len() + 1, judged.line());
    }
    let ok = judged.ok;
    kept.push((judged, step));
    (!interrupted).then_some(ok)
}

/// A step against the limits.
fn judge(step: &Step, phase: &str, rate: f64, search: &Search) -> CeilingStep {
    let recorded = step.recorder.recorded();
    let total = recorded.ok + recorded.failed;
    let p99_ms = recorded
        .corrected_us
        .as_ref()
        .unwrap_or(&recorded.latency_us)
        .value_at_quantile(0.99) as f64
        / 1000.0;
    let error_rate = zen_model::snapshot::error_rate(recorded.failed, total);
    CeilingStep {
        phase: phase.to_string(),
        rate,
        calls: total,
        error_rate,
        p99_ms,
        unsent: recorded.unsent,
        ok: total > 0
            && recorded.unsent == 0
            && p99_ms <= search.max_p99_ms
            && error_rate <= search.max_error_rate,
    }
}

/// The search itself, over any `probe(rate, phase)` that says whether a rate held (None: stop,
/// the run was interrupted). Returns the highest rate that held, if any did.
pub(crate) async fn bisect(
    start: f64,
    mut probe: impl AsyncFnMut(f64, &'static str) -> Option<bool>,
) -> Option<f64> {
    let (mut held, mut broke) = (None::<f64>, None::<f64>);
    let mut rate = start;
    for _ in 0..MAX_PROBES {
        if probe(rate, "probe").await? {
            held = Some(rate);
            if broke.is_some() {
                break;
            }
            rate *= 2.0;
        } else {
            broke = Some(rate);
            if held.is_some() {
                break;
            }
            // Even the start rate broke: halve, a few times at most.
            if (start / rate) >= 2f64.powi(MAX_DESCENT as i32) {
                return None;
            }
            rate /= 2.0;
        }
    }
    let (mut lo, mut hi) = (held?, broke?);
    // When the first rate held after halving, `hi` is above it already; when the ladder ran
    // out without breaking, there is nothing to bisect.
    for _ in 0..MAX_BISECT {
        if hi <= lo * (1.0 + PRECISION) {
            break;
        }
        let mid = f64::midpoint(lo, hi);
        if probe(mid, "bisect").await? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn search_with_capacity(start: f64, capacity: f64) -> (Option<f64>, Vec<f64>) {
        let mut tried = Vec::new();
        let answer = bisect(start, |rate, _| {
            tried.push(rate);
            async move { Some(rate <= capacity) }
        })
        .await;
        (answer, tried)
    }

    #[tokio::test]
    async fn the_search_lands_within_the_precision_below_the_capacity() {
        let (answer, tried) = search_with_capacity(10.0, 200.0).await;
        let answer = answer.unwrap();
        assert!(
            (200.0 / (1.0 + PRECISION)..=200.0).contains(&answer),
            "{answer} {tried:?}"
        );
        assert_eq!(&tried[..6], &[10.0, 20.0, 40.0, 80.0, 160.0, 320.0]);
        assert!(tried.len() <= 6 + MAX_BISECT);
    }

    #[tokio::test]
    async fn a_start_rate_above_the_capacity_halves_down_then_bisects() {
        let (answer, tried) = search_with_capacity(100.0, 30.0).await;
        let answer = answer.unwrap();
        assert!((27.0..=30.0).contains(&answer), "{answer} {tried:?}");
        assert_eq!(&tried[..3], &[100.0, 50.0, 25.0]);
    }

    #[tokio::test]
    async fn no_rate_holds_gives_none_after_a_bounded_descent() {
        let (answer, tried) = search_with_capacity(100.0, 0.5).await;
        assert_eq!(answer, None);
        assert!(tried.len() <= MAX_DESCENT + 1, "{tried:?}");
    }

    #[tokio::test]
    async fn an_interrupted_search_stops_at_once() {
        let mut n = 0;
        let answer = bisect(10.0, |_, _| {
            n += 1;
            async move { if n < 3 { Some(true) } else { None } }
        })
        .await;
        assert_eq!(answer, None);
        assert_eq!(n, 3);
    }
}
