//! The soak verdict. No verdict without load (too few successful calls, or too many failed,
//! is a FAIL; no call at all is INCONCLUSIVE). Then the curve is read (curve.rs): the window
//! that decides, the steps; for zen, each bounded part is projected to its cap and only the
//! rest of the process is extrapolated (project.rs). FAIL only for growth the projection says
//! crosses the limit by more than its error; INCONCLUSIVE, with the run length that would
//! decide, when the run cannot tell; PASS otherwise.
use super::curve::{self, Basis, Reading};
use super::fit::{Fit, Prefix};
use super::outcome::{Decision, Load, MIN_OK_CALLS, MIN_SAMPLES, Undecided};
use super::project::project;
use super::series::Point;
use super::words;
use zen_model::report::soak::{CurveReading, PartProjection, SoakStep, SoakWindow, TrendReport};
use zen_model::report::verdict::{Check, Status};
use zen_model::snapshot::BoundedPart;

/// A filling part leaves a run undecided when the room it has left is at least this share of
/// the limit (5 MiB of the default 50).
const MATERIAL_SHARE: f64 = 0.1;
/// A rise at the end under this share of the limit cannot matter (0.5 MiB of the default 50).
const NEGLIGIBLE_SHARE: f64 = 0.01;
/// The longest run a suggestion names, seconds (a day): past it, the answer is "no run will".
const LONGEST_SUGGESTION: f64 = 86_400.0;

/// Something zen did during the run that may explain a step ("the store's first cleanup").
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    /// Seconds into the run.
    pub t_secs: f64,
    /// What happened.
    pub what: String,
}

/// Everything the verdict reads.
pub(crate) struct Inputs<'a> {
    /// Every memory sample, warm-up included.
    pub points: &'a [Point],
    /// The bounded parts' keys, in the order of each point's parts.
    pub part_keys: &'a [String],
    /// zen's bounded parts as its last snapshot named them (empty for other targets).
    pub parts: &'a [BoundedPart],
    /// What zen did, for naming steps.
    pub events: &'a [Event],
    /// Samples before this are not judged.
    pub warmup_secs: f64,
    /// The run's length.
    pub run_secs: f64,
    /// Time between samples.
    pub interval_secs: f64,
    /// The growth allowed over one hour, MiB.
    pub limit_mb: f64,
    /// How the calls went.
    pub load: Load,
}

/// The verdict with its checks and how the curve was read.
pub(crate) struct Judgement {
    /// PASS, FAIL or INCONCLUSIVE.
    pub status: Status,
    /// The checks behind it, in order.
    pub checks: Vec<Check>,
    /// The reading (none with too few samples to read).
    pub reading: Option<CurveReading>,
}

/// Judge a soak.
pub(crate) fn judge(inputs: &Inputs) -> Judgement {
    let (load_status, mut checks) = judge_load(inputs.load);
    let judged: Vec<Point> = (inputs.points.iter())
        .filter(|p| p.t >= inputs.warmup_secs)
        .cloned()
        .collect();
    let samples: u64 = judged.iter().map(|p| u64::from(p.weight)).sum();
    if inputs.run_secs <= inputs.warmup_secs || samples < MIN_SAMPLES || judged.len() < 3 {
        checks.extend(words::too_few_samples(
            inputs.run_secs,
            inputs.warmup_secs,
            samples,
        ));
        // A failing load fails even a run too short to read.
        let status = match load_status {
            Status::Fail => Status::Fail,
            _ => Status::Inconclusive,
        };
        return Judgement {
            status,
            checks,
            reading: None,
        };
    }
    let (status, memory_checks, reading) = judge_memory(inputs, &judged);
    checks.extend(memory_checks);
    // No verdict without load: a failing load fails whatever memory did.
    let status = match load_status {
        Status::Pass => status,
        other => other,
    };
    Judgement {
        status,
        checks,
        reading: Some(reading),
    }
}

/// The load gate: no calls is inconclusive; too few successes or too many failures fail.
fn judge_load(load: Load) -> (Status, Vec<Check>) {
    let total = load.ok + load.failed;
    let rate = zen_model::snapshot::error_rate(load.failed, total);
    let check = words::load_check(load, MIN_OK_CALLS);
    let status = if total == 0 {
        Status::Inconclusive
    } else if load.ok < MIN_OK_CALLS || rate > load.max_error_rate {
        Status::Fail
    } else {
        Status::Pass
    };
    (status, vec![check])
}

/// Read the judged curve, project it, and decide.
fn judge_memory(inputs: &Inputs, judged: &[Point]) -> (Status, Vec<Check>, CurveReading) {
    let zen = !inputs.parts.is_empty();
    let xs: Vec<f64> = judged.iter().map(|p| p.t / 3600.0).collect();
    // Judged on the memory kept: a peak that comes back down within seconds is not growth.
    let spacing = (judged[judged.len() - 1].t - judged[0].t) / (judged.len() - 1) as f64;
    let raw: Vec<f64> = (judged.iter())
        .map(|p| if zen { p.rest() } else { p.target })
        .collect();
    let curve = curve::kept(&raw, spacing);
    let mut read = curve::read_with_noise(&xs[..curve.len()], &curve, curve::noise(&raw));
    // A rise at the very end too small to matter against the limit is no reason to run longer:
    // the last half, rise included, decides.
    let last_rise = read.rises().last().map_or(0.0, |r| r.height);
    if read.basis == Basis::StepAtEnd && last_rise < NEGLIGIBLE_SHARE * inputs.limit_mb {
        read.window = (curve.len() / 2, curve.len());
        read.basis = Basis::LastHalf;
        read.fit = Prefix::new(&xs[..curve.len()], &curve).fit(read.window.0, read.window.1);
    }
    // A window ending at the last point kept ends at the last sample: the parts, RSS and the
    // report see the whole end of the run.
    if read.window.1 == curve.len() {
        read.window.1 = judged.len();
    }
    // The slope's error from the samples as they are: the running minimum is smoother than
    // the memory it follows, and its residuals would claim a precision the run does not have.
    let raw_fit = Prefix::new(&xs, &raw).fit(read.window.0, read.window.1);
    read.fit.se_slope = read.fit.se_slope.max(raw_fit.se_slope);
    let rss: Vec<f64> = judged.iter().map(|p| p.target).collect();
    let rss_fit = Prefix::new(&xs, &rss).fit(read.window.0, read.window.1);
    let projection = project(
        judged,
        read.window,
        inputs.part_keys,
        inputs.parts,
        &read.fit,
    );
    let total: f64 = projection.iter().map(|p| p.growth_mb).sum();
    let margin = read.fit.margin();
    let decision = decide(inputs, &read, &projection, total, margin);
    let steps = name_steps(&read, inputs);
    let window = window(&read.fit, &rss_fit, read.window, judged);
    let summary = words::summary(&read, &window, &steps, zen, inputs.run_secs);
    let checks = words::memory_checks(&decision, &projection, total, margin, inputs.limit_mb);
    let reading = CurveReading {
        curve: if zen {
            "rss minus bounded parts"
        } else {
            "rss"
        }
        .to_string(),
        shape: words::shape(&read, &window).to_string(),
        deciding_why: words::why(read.basis, &window),
        deciding: window,
        noise_mb: read.noise,
        steps,
        projection,
        projected_growth_mb: total,
        projected_margin_mb: margin,
        decide_with_secs: decision.decide_with_secs,
        summary,
    };
    (decision.status, checks, reading)
}

fn decide(
    inputs: &Inputs,
    read: &Reading,
    projection: &[PartProjection],
    total: f64,
    margin: f64,
) -> Decision {
    let run = inputs.run_secs;
    let undecided = |why: Undecided, secs: f64| Decision {
        status: Status::Inconclusive,
        undecided: Some(why),
        decide_with_secs: Some(round_up(secs.clamp(run, LONGEST_SUGGESTION))),
    };
    let decided = |status| Decision {
        status,
        undecided: None,
        decide_with_secs: None,
    };
    if read.basis == Basis::StepAtEnd {
        let rise = read.rises().last().copied();
        let at = rise.map_or(read.fit.span.0, |r| r.at) * 3600.0;
        let height = rise.map_or(0.0, |r| r.height);
        let judged = at - inputs.warmup_secs;
        let secs = at + (judged / 2.0).max(120.0);
        return undecided(
            Undecided::RoseAtEnd {
                at_secs: at,
                height_mb: height,
            },
            secs,
        );
    }
    let limit = inputs.limit_mb;
    if total - margin > limit {
        if read.slowing {
            return undecided(Undecided::Slowing, 2.0 * run);
        }
        return decided(Status::Fail);
    }
    // A part still filling, with room left that matters against the limit: what memory does
    // once it is full (its cleanups, its evictions) is not seen yet.
    let matters = |p: &&PartProjection| {
        let room = p.cap_mb.unwrap_or(0.0) - p.now_mb;
        p.full_in_secs.is_some() && room >= MATERIAL_SHARE * limit
    };
    let filling = (projection.iter()).filter(matters).max_by(|a, b| {
        let secs = |p: &PartProjection| p.full_in_secs.unwrap_or(0.0);
        secs(a).total_cmp(&secs(b))
    });
    if let Some(part) = filling {
        let full_at = run + part.full_in_secs.unwrap_or(0.0);
        return undecided(Undecided::Filling(part.clone()), 1.5 * full_at + 60.0);
    }
    if total + margin <= limit {
        return decided(Status::Pass);
    }
    // The slope's error shrinks as the window's length to the power 3/2 (more samples, over a
    // longer span): the length at which the margin fits between the projection and the limit.
    let window_secs = read.fit.hours() * 3600.0;
    let gap = (limit - total).abs().max(1e-9);
    let needed = window_secs * (margin / gap).powf(2.0 / 3.0);
    undecided(Undecided::Straddles, run + (needed - window_secs).max(60.0))
}

/// Whole seconds up to ten minutes, whole minutes above.
fn round_up(secs: f64) -> f64 {
    if secs <= 600.0 {
        secs.ceil()
    } else {
        (secs / 60.0).ceil() * 60.0
    }
}

/// The steps found, with what zen was doing when they happened.
fn name_steps(read: &Reading, inputs: &Inputs) -> Vec<SoakStep> {
    let span = read
        .fit
        .hours()
        .max(read.segments.last().map_or(0.0, |s| s.fit.span.1))
        * 3600.0;
    let near = (3.0 * inputs.interval_secs).max(0.05 * span).max(10.0);
    (read.steps.iter())
        .map(|s| {
            let at = s.at * 3600.0;
            let cause = (inputs.events.iter())
                .filter(|e| (e.t_secs - at).abs() <= near)
                .min_by(|a, b| (a.t_secs - at).abs().total_cmp(&(b.t_secs - at).abs()))
                .map(|e| e.what.clone());
            SoakStep {
                at_secs: at,
                height_mb: s.height,
                cause,
            }
        })
        .collect()
}

/// The deciding window as the report shows it.
fn window(curve: &Fit, rss: &Fit, (a, b): (usize, usize), judged: &[Point]) -> SoakWindow {
    SoakWindow {
        start_secs: judged[a].t,
        end_secs: judged[b - 1].t,
        samples: judged[a..b].iter().map(|p| u64::from(p.weight)).sum(),
        mean_mb: curve.mean,
        slope_mb_per_hour: curve.slope,
        slope_margin_mb_per_hour: curve.margin(),
        r_squared: curve.r_squared,
        rss_mean_mb: rss.mean,
        rss_slope_mb_per_hour: rss.slope,
    }
}

/// A running least-squares fit of y (MiB) against x (hours), kept as sums (no sample list):
/// the report's trend of a whole series after the warm-up, and the progress line's slope.
#[derive(Debug, Clone, Default)]
pub(crate) struct Trend {
    n: u64,
    sx: f64,
    sy: f64,
    sxx: f64,
    sxy: f64,
    syy: f64,
    first: Option<(f64, f64)>,
    last: Option<(f64, f64)>,
    peak: f64,
}

impl Trend {
    /// Add a sample: `mb` MiB of RSS at `hours` into the run.
    pub(crate) fn add(&mut self, hours: f64, mb: f64) {
        self.n += 1;
        self.sx += hours;
        self.sy += mb;
        self.sxx += hours * hours;
        self.sxy += hours * mb;
        self.syy += mb * mb;
        self.first.get_or_insert((hours, mb));
        self.last = Some((hours, mb));
        self.peak = self.peak.max(mb);
    }

    /// Samples added so far.
    pub(crate) fn samples(&self) -> u64 {
        self.n
    }

    /// MiB per hour.
    pub(crate) fn slope(&self) -> Option<f64> {
        let n = self.n as f64;
        let denominator = n * self.sxx - self.sx * self.sx;
        (self.n >= 2 && denominator > 0.0).then(|| (n * self.sxy - self.sx * self.sy) / denominator)
    }

    /// How well the line fits (1 = a straight line); `None` when RSS did not vary at all.
    pub(crate) fn r_squared(&self) -> Option<f64> {
        let n = self.n as f64;
        let vx = n * self.sxx - self.sx * self.sx;
        let vy = n * self.syy - self.sy * self.sy;
        let cov = n * self.sxy - self.sx * self.sy;
        // Relative threshold: a flat series leaves only rounding noise in vy.
        let flat = vy <= 1e-12 * (n * self.syy).max(1.0);
        (self.n >= 2 && vx > 0.0 && !flat).then(|| (cov * cov / (vx * vy)).clamp(0.0, 1.0))
    }

    /// The fit as the report shows it: first, last and peak, growth, slope and fit quality.
    pub(crate) fn report(&self) -> TrendReport {
        let (x0, y0) = self.first.unwrap_or_default();
        let (x1, y1) = self.last.unwrap_or_default();
        let span = x1 - x0;
        let growth = y1 - y0;
        TrendReport {
            samples: self.n,
            start_mb: y0,
            end_mb: y1,
            peak_mb: self.peak,
            growth_mb: growth,
            span_hours: span,
            growth_per_hour_mb: (span > 0.0).then(|| growth / span),
            slope_mb_per_hour: self.slope(),
            r_squared: self.r_squared(),
        }
    }
}

#[cfg(test)]
mod tests;
