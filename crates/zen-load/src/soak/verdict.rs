//! The soak verdict: a least-squares line through RSS samples taken after the warm-up, kept as
//! running sums (no sample list), judged against the allowed growth per hour.
use zen_model::report::soak::TrendReport;
use zen_model::report::verdict::{Check, Status};

/// Samples needed after the warm-up for any verdict.
pub const MIN_SAMPLES: u64 = 20;

/// A running least-squares fit of y (MB) against x (hours).
#[derive(Debug, Clone, Default)]
pub struct Trend {
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
    pub fn add(&mut self, hours: f64, mb: f64) {
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
    pub fn samples(&self) -> u64 {
        self.n
    }

    /// MB per hour.
    pub fn slope(&self) -> Option<f64> {
        let n = self.n as f64;
        let denominator = n * self.sxx - self.sx * self.sx;
        (self.n >= 2 && denominator > 0.0).then(|| (n * self.sxy - self.sx * self.sy) / denominator)
    }

    /// How well the line fits (1 = a straight line); `None` when RSS did not vary at all.
    pub fn r_squared(&self) -> Option<f64> {
        let n = self.n as f64;
        let vx = n * self.sxx - self.sx * self.sx;
        let vy = n * self.syy - self.sy * self.sy;
        let cov = n * self.sxy - self.sx * self.sy;
        // Relative threshold: a flat series leaves only rounding noise in vy.
        let flat = vy <= 1e-12 * (n * self.syy).max(1.0);
        (self.n >= 2 && vx > 0.0 && !flat).then(|| (cov * cov / (vx * vy)).clamp(0.0, 1.0))
    }

    /// The fit as the report shows it: first, last and peak, growth, slope and fit quality.
    pub fn report(&self) -> TrendReport {
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

/// Judge the target's trend: pass when the slope and the growth per hour are both within
/// `max_growth_mb`; too few samples or a run no longer than its warm-up is inconclusive.
pub fn judge(
    target: &TrendReport,
    max_growth_mb: f64,
    run_secs: f64,
    warmup_secs: f64,
) -> (Status, Vec<Check>) {
    let mut reasons = Vec::new();
    if run_secs <= warmup_secs {
        reasons.push(Check::measured(
            "run_secs_past_warmup",
            warmup_secs,
            run_secs,
            false,
            format!("the run ({run_secs:.0}s) was not longer than its warm-up ({warmup_secs:.0}s)"),
        ));
    }
    if target.samples < MIN_SAMPLES {
        reasons.push(Check::measured(
            "samples_after_warmup",
            MIN_SAMPLES as f64,
            target.samples as f64,
            false,
            format!(
                "only {} samples after the warm-up; {MIN_SAMPLES} are needed (run longer or sample more often with --sample-interval)",
                target.samples
            ),
        ));
    }
    if !reasons.is_empty() {
        return (Status::Inconclusive, reasons);
    }
    let slope = target.slope_mb_per_hour.unwrap_or(0.0);
    let per_hour = target.growth_per_hour_mb.unwrap_or(0.0);
    for (name, what, value) in [
        ("memory_slope_mb_per_hour", "slope", slope),
        (
            "memory_growth_mb_per_hour",
            "growth over one hour",
            per_hour,
        ),
    ] {
        reasons.push(Check::measured(
            name,
            max_growth_mb,
            value,
            value <= max_growth_mb,
            format!("{what} {value:+.2} MB/h (max {max_growth_mb} MB/h)"),
        ));
    }
    let status = if reasons.iter().all(|c| c.ok) {
        Status::Pass
    } else {
        Status::Fail
    };
    (status, reasons)
}

/// When zen fails the verdict mostly because its conversation store is still filling toward its
/// budget, say so: that growth is bounded, and a smaller budget judges the rest of zen.
pub fn store_filling_note(
    status: Status,
    target: &TrendReport,
    conversations: Option<&TrendReport>,
    peak_and_budget: Option<(u64, u64)>,
    we_started_it: bool,
) -> Option<String> {
    let store = conversations?.slope_mb_per_hour?;
    let rss = target.slope_mb_per_hour?;
    let (peak, budget) = peak_and_budget?;
    (status == Status::Fail && store > 0.0 && store >= rss / 2.0 && peak < budget).then(|| {
        format!(
            "note: {store:+.1} of the {rss:+.1} MB/h is zen's conversation store filling toward its \
             {:.0} MB budget ({:.0} MB so far); it stops at the budget or when conversations \
             expire (CONVERSATION_TIMEOUT_HOURS). To judge the rest of zen, {}",
            zen_model::snapshot::mib(budget),
            zen_model::snapshot::mib(peak),
            if we_started_it {
                "rerun with a small budget, e.g. --env CONVERSATION_MEMORY_LIMIT_MB=8"
            } else {
                "restart the server with a small budget (CONVERSATION_MEMORY_LIMIT_MB=8) and rerun"
            }
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_a_line_and_judges_it() {
        let mut t = Trend::default();
        for i in 0..30 {
            let h = f64::from(i) / 60.0; // a sample a minute
            t.add(h, 100.0 + 120.0 * h);
        }
        let r = t.report();
        assert!((r.slope_mb_per_hour.unwrap() - 120.0).abs() < 1e-6);
        assert!((r.r_squared.unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(judge(&r, 50.0, 1800.0, 60.0).0, Status::Fail);
        let mut flat = Trend::default();
        for i in 0..30 {
            flat.add(f64::from(i) / 60.0, 40.0);
        }
        let r = flat.report();
        assert!(r.slope_mb_per_hour.unwrap().abs() < 1e-9);
        assert_eq!(r.r_squared, None);
        assert_eq!(judge(&r, 50.0, 1800.0, 60.0).0, Status::Pass);
        let (status, reasons) = judge(&r, 50.0, 30.0, 60.0);
        assert_eq!(status, Status::Inconclusive);
        assert!(reasons[0].text.contains("warm-up"));
    }

    #[test]
    fn a_fail_driven_by_a_filling_store_gets_a_note_and_a_full_store_does_not() {
        let line = |slope: f64| {
            let mut t = Trend::default();
            for i in 0..30 {
                t.add(f64::from(i) / 60.0, 10.0 + slope * f64::from(i) / 60.0);
            }
            t.report()
        };
        let (rss, store) = (line(220.0), line(144.0));
        let note = store_filling_note(
            Status::Fail,
            &rss,
            Some(&store),
            Some((150 << 20, 512 << 20)),
            true,
        );
        assert!(
            note.unwrap()
                .contains("--env CONVERSATION_MEMORY_LIMIT_MB=8")
        );
        let remote = store_filling_note(
            Status::Fail,
            &rss,
            Some(&store),
            Some((1, 512 << 20)),
            false,
        );
        assert!(remote.unwrap().contains("restart the server"));
        assert!(
            store_filling_note(
                Status::Fail,
                &rss,
                Some(&store),
                Some((512 << 20, 512 << 20)),
                true
            )
            .is_none()
        );
        assert!(
            store_filling_note(Status::Pass, &rss, Some(&store), Some((1, 512 << 20)), true)
                .is_none()
        );
        assert!(
            store_filling_note(
                Status::Fail,
                &rss,
                Some(&line(10.0)),
                Some((1, 512 << 20)),
                true
            )
            .is_none()
        );
        assert!(store_filling_note(Status::Fail, &rss, None, None, true).is_none());
    }
}
