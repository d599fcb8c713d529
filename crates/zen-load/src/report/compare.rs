//! `zen report compare`: two runs side by side, overall and per tool (throughput, p50, p99,
//! error rate), and whether NEW is worse than BASE beyond a tolerance. Every latency row is one
//! measure, from each call's send to its reply (the measure the per-tool figures have); an
//! open-loop run's latency from the intended send time is a row of its own, named so.
use std::fmt::Write;

use zen_model::report::{LatencyReport, Report};

/// An error rate must also rise by more than this (0.1 percentage point) to count as worse:
/// against a BASE of 0 errors any one failure would otherwise be "infinitely" worse.
pub const ERROR_RATE_SLACK: f64 = 0.001;

/// Which way is better for a figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Better {
    /// A larger figure is better (throughput).
    Higher,
    /// A smaller figure is better (latency, error rate).
    Lower,
}

/// One figure of both runs.
#[derive(Debug, Clone)]
pub struct Row {
    /// `throughput/s`, `p50 ms`, `p99 ms`, `p99 ms sched` or `error rate`.
    pub figure: &'static str,
    /// The figure in the BASE run.
    pub base: f64,
    /// The figure in the NEW run.
    pub new: f64,
    /// NEW is worse than BASE beyond the tolerance.
    pub worse: bool,
}

/// The rows of one scope: overall, or one tool.
#[derive(Debug, Clone)]
pub struct Section {
    /// `overall` or `tool NAME`.
    pub scope: String,
    /// One row per figure.
    pub rows: Vec<Row>,
}

/// Both runs compared.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The share a figure may worsen by.
    pub tolerance: f64,
    /// Overall first, then one per tool both runs have.
    pub sections: Vec<Section>,
    /// Things to know that are not figures: tools in one run only, incomplete runs.
    pub notes: Vec<String>,
}

impl Comparison {
    /// True when any figure of NEW is worse than BASE beyond the tolerance.
    pub fn worse(&self) -> bool {
        self.sections.iter().flat_map(|s| &s.rows).any(|r| r.worse)
    }

    /// The side-by-side table.
    pub fn render(&self, base_name: &str, new_name: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "zen report compare (tolerance {})\n  BASE {base_name}\n  NEW  {new_name}",
            percent(self.tolerance)
        );
        let _ = writeln!(
            out,
            "  latency: p50 and p99 from each call's send to its reply, in every row{}",
            if self
                .sections
                .iter()
                .flat_map(|s| &s.rows)
                .any(|r| r.figure == SCHEDULED)
            {
                "; p99 sched from each call's intended send time (open loop)"
            } else {
                ""
            }
        );
        let _ = writeln!(
            out,
            "\n  {:<16} {:>12} {:>12} {:>10}",
            "", "BASE", "NEW", "change"
        );
        for section in &self.sections {
            let _ = writeln!(out, "  {}", section.scope);
            for row in &section.rows {
                let (base, new) = if row.figure == "error rate" {
                    (pct(row.base), pct(row.new))
                } else {
                    (fmt_num(row.base), fmt_num(row.new))
                };
                let _ = writeln!(
                    out,
                    "    {:<14} {base:>12} {new:>12} {:>10}{}",
                    row.figure,
                    change(row),
                    if row.worse { "  WORSE" } else { "" }
                );
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "  note: {note}");
        }
        let worse = self
            .sections
            .iter()
            .flat_map(|s| &s.rows)
            .filter(|r| r.worse)
            .count();
        let tolerance = percent(self.tolerance);
        let _ = if worse > 0 {
            writeln!(
                out,
                "  verdict    NEW is WORSE than BASE beyond {tolerance} ({worse} figure(s))"
            )
        } else {
            writeln!(out, "  verdict    NEW is within {tolerance} of BASE")
        };
        out
    }
}

/// The row of the open-loop latency from the intended send time.
const SCHEDULED: &str = "p99 ms sched";

/// A run's latency from each call's send to its reply: an open loop's headline latency is from
/// the intended send time, and its send-to-reply figure is kept beside it.
fn from_send(r: &Report) -> &LatencyReport {
    r.latency_uncorrected.as_ref().unwrap_or(&r.latency)
}

/// Compare NEW against BASE.
pub fn compare(base: &Report, new: &Report, tolerance: f64) -> Comparison {
    let mut overall = rows(
        (base.throughput_per_sec, new.throughput_per_sec),
        (from_send(base), from_send(new)),
        (base.calls.error_rate, new.calls.error_rate),
        tolerance,
    );
    // Both open loops: their latency from the schedule too, as its own row.
    if base.latency_uncorrected.is_some() && new.latency_uncorrected.is_some() {
        let (b, n) = (base.latency.p99_ms, new.latency.p99_ms);
        overall.insert(
            3,
            Row {
                figure: SCHEDULED,
                base: b,
                new: n,
                worse: worse(b, n, Better::Lower, tolerance),
            },
        );
    }
    let mut sections = vec![Section {
        scope: "overall".into(),
        rows: overall,
    }];
    let mut notes = Vec::new();
    for (name, b) in &base.tools {
        let Some(n) = new.tools.get(name) else {
            notes.push(format!("tool {name} is in BASE only"));
            continue;
        };
        let rate = |calls: u64, r: &Report| calls as f64 / r.elapsed_secs.max(1e-9);
        let errors = |failed: u64, calls: u64| zen_model::snapshot::error_rate(failed, calls);
        sections.push(Section {
            scope: format!("tool {name}"),
            rows: rows(
                (rate(b.calls, base), rate(n.calls, new)),
                (&b.latency, &n.latency),
                (errors(b.failed, b.calls), errors(n.failed, n.calls)),
                tolerance,
            ),
        });
    }
    for name in new.tools.keys().filter(|t| !base.tools.contains_key(*t)) {
        notes.push(format!("tool {name} is in NEW only"));
    }
    for (which, r) in [("BASE", base), ("NEW", new)] {
        if r.partial {
            let why = r.ended_early.as_deref().unwrap_or("ended early");
            notes.push(format!("{which} is an incomplete run ({why})"));
        }
    }
    Comparison {
        tolerance,
        sections,
        notes,
    }
}

fn rows(
    throughput: (f64, f64),
    latency: (&LatencyReport, &LatencyReport),
    error_rate: (f64, f64),
    tolerance: f64,
) -> Vec<Row> {
    let row = |figure, (base, new): (f64, f64), better| Row {
        figure,
        base,
        new,
        worse: worse(base, new, better, tolerance),
    };
    let (eb, en) = error_rate;
    vec![
        row("throughput/s", throughput, Better::Higher),
        row(
            "p50 ms",
            (latency.0.p50_ms, latency.1.p50_ms),
            Better::Lower,
        ),
        row(
            "p99 ms",
            (latency.0.p99_ms, latency.1.p99_ms),
            Better::Lower,
        ),
        Row {
            figure: "error rate",
            base: eb,
            new: en,
            worse: worse(eb, en, Better::Lower, tolerance) && en - eb > ERROR_RATE_SLACK,
        },
    ]
}

/// NEW is worse than BASE by more than the tolerance (a share of BASE).
pub fn worse(base: f64, new: f64, better: Better, tolerance: f64) -> bool {
    match better {
        Better::Higher => new < base * (1.0 - tolerance),
        Better::Lower => new > base * (1.0 + tolerance),
    }
}

fn change(row: &Row) -> String {
    if row.figure == "error rate" {
        return format!("{:+.2} pt", (row.new - row.base) * 100.0);
    }
    if row.base == 0.0 {
        return if row.new == 0.0 {
            "0%".into()
        } else {
            "n/a".into()
        };
    }
    format!("{:+.1}%", (row.new / row.base - 1.0) * 100.0)
}

/// A tolerance as people write it: `10%`, `2.5%`.
fn percent(share: f64) -> String {
    let text = format!("{:.2}", share * 100.0);
    format!("{}%", text.trim_end_matches('0').trim_end_matches('.'))
}

fn pct(share: f64) -> String {
    format!("{:.2}%", share * 100.0)
}

/// Three significant figures, at least one decimal.
fn fmt_num(v: f64) -> String {
    match v.abs() {
        a if a >= 100.0 => format!("{v:.1}"),
        a if a >= 1.0 => format!("{v:.2}"),
        _ => format!("{v:.3}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worse_means_beyond_the_tolerance_in_the_bad_direction() {
        assert!(!worse(100.0, 91.0, Better::Higher, 0.1));
        assert!(worse(100.0, 89.0, Better::Higher, 0.1));
        assert!(!worse(10.0, 10.9, Better::Lower, 0.1));
        assert!(worse(10.0, 11.1, Better::Lower, 0.1));
        assert!(!worse(10.0, 1.0, Better::Lower, 0.0));
    }

    #[test]
    fn every_latency_row_is_from_send_to_reply_and_the_schedule_has_its_own_row() {
        let closed: Report = serde_json::from_str(include_str!("testdata/report.json")).unwrap();
        // An open loop whose headline latency (from the schedule) is far above its send-to-reply
        // figure, which equals the closed run's: the overall p99 row must not see a change.
        let mut open = closed.clone();
        open.latency_uncorrected = Some(closed.latency.clone());
        open.latency.p99_ms = closed.latency.p99_ms * 10.0;
        let c = compare(&closed, &open, 0.1);
        let p99 = |c: &Comparison, figure: &str| {
            c.sections[0]
                .rows
                .iter()
                .find(|r| r.figure == figure)
                .map(|r| (r.base, r.new))
        };
        assert_eq!(
            p99(&c, "p99 ms"),
            Some((closed.latency.p99_ms, closed.latency.p99_ms))
        );
        assert_eq!(
            p99(&c, SCHEDULED),
            None,
            "only when both runs are open loops"
        );
        let both = compare(&open, &open, 0.1);
        assert!(p99(&both, SCHEDULED).is_some());
        let text = both.render("a", "b");
        assert!(
            text.contains("from each call's send to its reply, in every row"),
            "{text}"
        );
        assert!(
            text.contains("p99 sched from each call's intended send time"),
            "{text}"
        );
    }
}
