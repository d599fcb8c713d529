//! Reading a memory curve: where its trend changes (binary segmentation into straight stretches,
//! each cut paid for by a penalty on the noise), which of those changes are steps, and which
//! stretch decides the verdict — the last one when it is long enough and the steps before it
//! have stopped, the whole run when they keep coming, the last half when the end is too short.
//! Pure: hours and MiB in, a reading out.
use super::fit::{Fit, Prefix};

/// Stretches at most: enough for a staircase of a few steps, few enough that noise is not one.
const MAX_SEGMENTS: usize = 10;
/// A cut must explain this many times the noise variance, per ln(n) (three parameters: the new
/// line's two and the cut's place, doubled for the noise's own wandering).
const PENALTY: f64 = 8.0;
/// Smallest step named, MiB, whatever the noise (allocator granularity).
const MIN_STEP_MB: f64 = 0.25;
/// A step is at least this many noise deviations high.
const STEP_NOISE: f64 = 6.0;
/// Noise never reads below a page (RSS moves in 4 KiB pages).
const MIN_NOISE_MB: f64 = 4.0 / 1024.0;
/// A rise that falls back within this long is a transient peak (a cache refilled to its size,
/// then emptied and its pages handed back), not memory kept, seconds.
pub(crate) const TRANSIENT_SECS: f64 = 20.0;

/// One straight stretch of the curve.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment {
    /// First point.
    pub start: usize,
    /// One past the last point.
    pub end: usize,
    /// The line through it.
    pub fit: Fit,
}

/// A jump in level between two stretches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Jump {
    /// The first point after the jump.
    pub index: usize,
    /// When, hours.
    pub at: f64,
    /// MiB (negative: a drop).
    pub height: f64,
}

/// Which window decides, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Basis {
    /// No change of trend: the whole curve after the warm-up is one line.
    Whole,
    /// The last stretch, after its rise(s) stopped.
    AfterSteps,
    /// The last stretch, after a change of slope (no jump).
    AfterBend,
    /// Steps that keep coming: the whole curve, so its average rate is judged.
    Staircase,
    /// The last stretch is too short to judge: the last half.
    LastHalf,
    /// A rise into a last stretch too short to tell what follows it (a plateau or more).
    StepAtEnd,
}

/// What the curve says.
#[derive(Debug, Clone)]
pub(crate) struct Reading {
    /// The straight stretches found, in order.
    pub segments: Vec<Segment>,
    /// Jumps in level, rises and drops, in order.
    pub steps: Vec<Jump>,
    /// The deciding window, points start..end.
    pub window: (usize, usize),
    /// Why that window.
    pub basis: Basis,
    /// The line through the deciding window.
    pub fit: Fit,
    /// Growth slowing inside the window (its second half's slope well under its first's):
    /// possibly a bounded part levelling off.
    pub slowing: bool,
    /// The curve's noise, MiB (robust standard deviation).
    pub noise: f64,
}

impl Reading {
    /// Rises (jumps up), in order.
    pub(crate) fn rises(&self) -> impl Iterator<Item = &Jump> {
        self.steps.iter().filter(|s| s.height > 0.0)
    }
}

/// Read the curve (`xs` hours ascending, `ys` MiB; at least 3 points), its noise measured on
/// it.
#[cfg(test)]
pub(crate) fn read(xs: &[f64], ys: &[f64]) -> Reading {
    read_with_noise(xs, ys, noise(ys))
}

/// Read the curve with its noise measured elsewhere: on the raw samples of a curve given here
/// as the memory [`kept`] (whose running minimum hides the noise it still wanders by).
pub(crate) fn read_with_noise(xs: &[f64], ys: &[f64], noise: f64) -> Reading {
    let n = xs.len().min(ys.len());
    let (xs, ys) = (&xs[..n], &ys[..n]);
    let prefix = Prefix::new(xs, ys);
    let segments = segment(&prefix, noise);
    let floor = (STEP_NOISE * noise).max(MIN_STEP_MB);
    let steps = jumps(&segments, xs, floor);
    let (window, basis) = choose(&segments, &steps, xs, floor);
    let fit = prefix.fit(window.0, window.1);
    Reading {
        slowing: slowing(&prefix, window) || bent_over(&segments, basis),
        segments,
        steps,
        window,
        basis,
        fit,
        noise,
    }
}

/// The memory kept, not its transient peaks: at each point, the lowest value over it and the
/// `k - 1` after it (a peak that falls back within them is gone; a step that stays is kept, at
/// its time; a leak keeps its slope). The last `k - 1` points, whose window would be cut short,
/// are left out. Points spaced `spacing` seconds: `k` covers [`TRANSIENT_SECS`], at most a tenth
/// of the curve.
pub(crate) fn kept(ys: &[f64], spacing: f64) -> Vec<f64> {
    let by_time = if spacing > 0.0 {
        (TRANSIENT_SECS / spacing).ceil() as usize
    } else {
        1
    };
    let k = by_time.min(ys.len() / 10).max(1);
    ys.windows(k)
        .map(|w| w.iter().copied().fold(f64::INFINITY, f64::min))
        .collect()
}

/// The noise of a curve that may trend and jump: the median absolute deviation of differences
/// a few points apart (trend and steps move only a few of them), as a standard deviation.
pub(crate) fn noise(ys: &[f64]) -> f64 {
    let lag = (ys.len() / 40).max(1);
    let diffs: Vec<f64> = ys.windows(lag + 1).map(|w| w[lag] - w[0]).collect();
    let Some(mid) = median(&diffs) else {
        return MIN_NOISE_MB;
    };
    let deviations: Vec<f64> = diffs.iter().map(|d| (d - mid).abs()).collect();
    let mad = median(&deviations).unwrap_or(0.0);
    (1.4826 * mad / std::f64::consts::SQRT_2).max(MIN_NOISE_MB)
}

fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len().is_multiple_of(2) {
        f64::midpoint(v[m - 1], v[m])
    } else {
        v[m]
    })
}

/// Binary segmentation: cut the stretch whose best cut explains the most, while a cut explains
/// more than the penalty.
fn segment(prefix: &Prefix, noise: f64) -> Vec<Segment> {
    let n = prefix.len();
    let min_len = (n / 30).max(5);
    let penalty = PENALTY * noise * noise * (n.max(2) as f64).ln();
    let mut cuts: Vec<(usize, usize)> = vec![(0, n)];
    while cuts.len() < MAX_SEGMENTS {
        let best = (cuts.iter().enumerate())
            .filter(|(_, (a, b))| b - a >= 2 * min_len)
            .flat_map(|(i, &(a, b))| {
                let whole = prefix.sse(a, b);
                (a + min_len..=b - min_len)
                    .map(move |k| (i, k, whole - prefix.sse(a, k) - prefix.sse(k, b)))
            })
            .max_by(|x, y| x.2.total_cmp(&y.2));
        match best {
            Some((i, k, gain)) if gain > penalty => {
                let (a, b) = cuts[i];
                cuts.splice(i..=i, [(a, k), (k, b)]);
            }
            _ => break,
        }
    }
    cuts.into_iter()
        .map(|(start, end)| Segment {
            start,
            end,
            fit: prefix.fit(start, end),
        })
        .collect()
}

/// The jumps in level between steady stretches, each at least `floor` MiB. A stretch is steady
/// unless it is short and moves the level by a step's worth: such stretches (a rise spread over
/// a few samples, perhaps cut in two) are the jump between the steady ones around them.
fn jumps(segments: &[Segment], xs: &[f64], floor: f64) -> Vec<Jump> {
    let total = (xs.last().unwrap_or(&0.0) - xs.first().unwrap_or(&0.0)).max(f64::EPSILON);
    let last = segments.len().saturating_sub(1);
    let steady = |i: usize, s: &Segment| {
        i == 0
            || i == last
            || s.fit.hours() > 0.1 * total
            || (s.fit.slope * s.fit.hours()).abs() < floor
    };
    let mut out = Vec::new();
    let mut a = 0;
    for (b, after) in segments.iter().enumerate().skip(1) {
        if !steady(b, after) {
            continue;
        }
        let before = &segments[a];
        let (t0, t1) = (xs[before.end - 1], xs[after.start]);
        let (at, height) = if b == a + 1 {
            let at = f64::midpoint(t0, t1);
            (at, after.fit.at(at) - before.fit.at(at))
        } else {
            (f64::midpoint(t0, t1), after.fit.at(t1) - before.fit.at(t0))
        };
        if height.abs() >= floor {
            out.push(Jump {
                index: segments[a + 1].start,
                at,
                height,
            });
        }
        a = b;
    }
    out
}

/// The deciding window and why (see the module's comment).
fn choose(segments: &[Segment], steps: &[Jump], xs: &[f64], floor: f64) -> ((usize, usize), Basis) {
    let n = xs.len();
    let last = segments.last().map_or((0, n), |s| (s.start, s.end));
    if segments.len() <= 1 {
        return ((0, n), Basis::Whole);
    }
    let rises: Vec<&Jump> = steps.iter().filter(|s| s.height > 0.0).collect();
    if rises.len() >= 2 {
        let times: Vec<f64> = rises.iter().map(|r| r.at).collect();
        let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        let spacing = median(&gaps).unwrap_or(0.0);
        let quiet = xs[n - 1] - times[times.len() - 1];
        if quiet < 2.0 * spacing {
            return ((0, n), Basis::Staircase);
        }
    }
    let long_enough = last.1 - last.0 >= (n / 4).max(10);
    if !long_enough {
        // The curve rose into a short last stretch: too soon to tell what follows.
        // A rise, not the same growth going on: most of it is above where the stretch before
        // was heading (a leak's slope wavers from stretch to stretch; a step does not).
        let (before, end) = (&segments[segments.len() - 2], &segments[segments.len() - 1]);
        let rose = end.fit.at(xs[n - 1]) - before.fit.at(xs[end.start - 1]);
        let above = end.fit.at(xs[n - 1]) - before.fit.at(xs[n - 1]);
        if above >= floor && above >= rose / 2.0 {
            return (last, Basis::StepAtEnd);
        }
        return ((n / 2, n), Basis::LastHalf);
    }
    let basis = if rises.is_empty() {
        Basis::AfterBend
    } else {
        Basis::AfterSteps
    };
    (last, basis)
}

/// Is growth slowing inside the window: its second half's slope under half its first's, by
/// more than their errors?
fn slowing(prefix: &Prefix, (a, b): (usize, usize)) -> bool {
    if b - a < 12 {
        return false;
    }
    let mid = a + (b - a) / 2;
    let (first, second) = (prefix.fit(a, mid), prefix.fit(mid, b));
    let error = first.se_slope.hypot(second.se_slope);
    first.slope > 0.0
        && second.slope < first.slope / 2.0
        && first.slope - second.slope > 3.0 * error
}

/// Did the curve bend over, stretch after stretch (no jumps between): still rising, every
/// stretch no faster than the one before, the last at under half the first's rate, as a cache
/// nearing its size does?
fn bent_over(segments: &[Segment], basis: Basis) -> bool {
    let slopes: Vec<f64> = segments.iter().map(|s| s.fit.slope).collect();
    let (Some(&first), Some(&last)) = (slopes.first(), slopes.last()) else {
        return false;
    };
    basis == Basis::AfterBend
        && last > 0.0
        && first >= 2.0 * last
        && slopes.windows(2).all(|w| w[1] <= 1.1 * w[0])
}

#[cfg(test)]
mod tests;
