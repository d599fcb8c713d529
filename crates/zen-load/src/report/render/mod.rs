//! The human-readable report.
use std::fmt::Write;

use zen_model::report::{LatencyReport, Report};

use zen_model::units::bytes;

mod parts;
mod soak;

fn latency_line(l: &LatencyReport) -> String {
    let line = format!(
        "p50 {:.1} ms  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}  (mean {:.1})",
        l.p50_ms, l.p90_ms, l.p99_ms, l.p999_ms, l.max_ms, l.mean_ms
    );
    // With fewer than 1/(1-q) calls the q-th percentile is simply the slowest call: say so.
    let first_at_max = match l.count {
        0 | 1000.. => return line,
        1..10 => "p90",
        10..100 => "p99",
        100..1000 => "p99.9",
    };
    format!(
        "{line}\n             only {} calls: {first_at_max} and above are the slowest call",
        l.count
    )
}

/// A small bar chart of the distribution (the bars the HTML page draws too).
fn histogram(out: &mut String, l: &LatencyReport) {
    let bars = super::buckets::bars(l);
    let top = bars.iter().map(|b| b.count).max().unwrap_or(1).max(1);
    for bar in &bars {
        let width = (bar.count * 30).div_ceil(top) as usize;
        let _ = writeln!(
            out,
            "  {:>12} {:<30} {}",
            bar.label,
            "█".repeat(width),
            bar.count
        );
    }
}

/// Render the report for a terminal.
pub(crate) fn render(r: &Report) -> String {
    let mut out = String::new();
    let w = &mut out;
    let load = &r.load;
    let stages = load.stages.as_ref().map(|stages| {
        let list: Vec<String> = stages
            .iter()
            .map(|s| format!("{}s:{}", s.duration_secs, s.target))
            .collect();
        list.join(",")
    });
    let model = match (load.model.as_str(), stages) {
        ("open", Some(stages)) => format!("open loop, stages {stages} calls/s"),
        (_, Some(stages)) => format!("closed loop, stages {stages} in flight"),
        ("open", None) => format!(
            "open loop, {:.1} calls/s for {:.0}s (max {} in flight)",
            load.rate_per_sec.unwrap_or(0.0),
            load.duration_secs.unwrap_or(0.0),
            load.max_in_flight.unwrap_or(0)
        ),
        _ => format!("closed loop, concurrency {}", load.concurrency.unwrap_or(0)),
    };
    let _ = writeln!(
        w,
        "zen {}{}: {} {} ({}) via {}",
        r.command,
        if r.partial { " (INCOMPLETE)" } else { "" },
        r.target.server_name,
        r.target.server_version,
        r.target.label,
        model,
    );
    if let Some(why) = &r.ended_early {
        let _ = writeln!(w, "  ended      {why}");
    }
    if !r.target.protocol.is_empty() {
        let asked = match r.target.protocol_requested.as_str() {
            "" => String::new(),
            asked if asked == r.target.protocol => String::new(),
            asked => format!(" (asked: {asked})"),
        };
        let spoken = if r.target.protocol == "mixed" {
            let mut each: Vec<&str> = Vec::new();
            for p in &r.target.session_protocols {
                if !each.contains(&p.as_str()) {
                    each.push(p);
                }
            }
            each.join(" and ")
        } else {
            r.target.protocol.clone()
        };
        let _ = writeln!(w, "  protocol   MCP {spoken}{asked}");
    }
    if let Some(name) = &r.scenario {
        let _ = writeln!(w, "  scenario   {name}");
    }
    let c = &r.calls;
    let _ = writeln!(
        w,
        "  calls      {} ok, {} failed of {} ({:.2}% errors){}{}",
        c.ok,
        c.failed,
        c.total,
        c.error_rate * 100.0,
        if c.late + c.unsent > 0 {
            format!("; {} sent late, {} never sent", c.late, c.unsent)
        } else {
            String::new()
        },
        if c.aborted > 0 {
            format!("; {} cut off by the stop", c.aborted)
        } else {
            String::new()
        },
    );
    let _ = writeln!(
        w,
        "  throughput {:.1} calls/s over {:.3} s, {} sessions, peak {} in flight",
        r.throughput_per_sec, r.elapsed_secs, load.sessions, c.peak_in_flight
    );
    let _ = writeln!(w, "  latency    {}", latency_line(&r.latency));
    if let Some(u) = &r.latency_uncorrected {
        let _ = writeln!(w, "  (from send) {}", latency_line(u));
        let _ = writeln!(
            w,
            "             the first line is measured from each call's intended send time"
        );
    }
    histogram(w, &r.latency);
    parts::rows(w, r);
    for (what, shares) in [("target  ", &r.targets), ("protocol", &r.protocols)] {
        for t in shares {
            let _ = writeln!(
                w,
                "  {what}   {} ({} sessions): {} ok, {} failed; {:.1} calls/s; p50 {:.1} ms  p99 {:.1} ms",
                t.label, t.sessions, t.ok, t.failed, t.throughput_per_sec, t.p50_ms, t.p99_ms
            );
        }
    }
    let failing: Vec<_> = r.errors.iter().filter(|(_, b)| b.count > 0).collect();
    if failing.is_empty() {
        let _ = writeln!(w, "  errors     none");
    }
    for (kind, bucket) in failing {
        let _ = writeln!(w, "  errors     {kind}: {}", bucket.count);
        for sample in &bucket.samples {
            let _ = writeln!(w, "               e.g. {}", sample.replace('\n', " "));
        }
    }
    if let Some(s) = &r.server {
        super::server_lines::write(w, r, s);
    }
    let g = &r.generator;
    let _ = writeln!(
        w,
        "  generator  CPU {:.2} s ({:.1} µs per call), RSS {}",
        g.cpu_secs,
        g.cpu_us_per_call,
        bytes(g.rss_bytes)
    );
    if let Some(soak) = &r.soak {
        soak::soak_lines(w, soak);
    }
    if let Some(ceiling) = &r.ceiling {
        let _ = writeln!(w, "  (the figures above are the step at the ceiling)");
        w.push_str(&ceiling.render());
    }
    for check in &r.verdict.checks {
        let _ = writeln!(w, "  check      {}", check.line());
    }
    let _ = writeln!(w, "  verdict    {}", status_word(r));
    out
}

/// PASS, FAIL, INCOMPLETE or INCONCLUSIVE.
fn status_word(r: &Report) -> String {
    r.verdict.status.as_str().to_uppercase()
}

/// The one line `--quiet` prints: the verdict and the figures that decided it, e.g.
/// "verdict PASS: 30 calls, 0.00% errors, p99 205.1 ms, 145.2 calls/s".
pub(crate) fn verdict_line(r: &Report) -> String {
    let mut line = format!(
        "verdict {}: {} calls, {:.2}% errors, p99 {:.1} ms, {:.1} calls/s",
        status_word(r),
        r.calls.total,
        r.calls.error_rate * 100.0,
        r.latency.p99_ms,
        r.throughput_per_sec
    );
    if let Some(c) = &r.ceiling {
        match c.calls_per_s {
            Some(rate) => {
                let _ = write!(line, "; ceiling {rate:.1} calls/s");
            }
            None => line.push_str("; no ceiling found"),
        }
    }
    if let Some(why) = &r.ended_early {
        let _ = write!(line, " ({why})");
    }
    line
}

/// Colour the verdict and the checks of a rendered report: PASS and ok green, FAIL red,
/// INCOMPLETE and INCONCLUSIVE yellow. Always ANSI; the writer decides whether it shows.
pub(crate) fn paint(text: &str) -> String {
    use anstyle::{AnsiColor, Style};
    let style = |c: AnsiColor| Style::new().fg_color(Some(c.into())).bold();
    let words = [
        ("INCONCLUSIVE", style(AnsiColor::Yellow)),
        ("INCOMPLETE", style(AnsiColor::Yellow)),
        ("PASS", style(AnsiColor::Green)),
        ("FAIL", style(AnsiColor::Red)),
        ("ok", style(AnsiColor::Green)),
    ];
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        // Only the verdict and check lines (and the title's "(INCOMPLETE)") carry a status word.
        let marked = ["verdict ", "  verdict ", "  check      "]
            .iter()
            .find(|p| line.starts_with(**p))
            .map(|p| p.len())
            .or_else(|| {
                line.starts_with("zen ")
                    .then(|| line.find("(INCOMPLETE)").map(|i| i + 1))
                    .flatten()
            });
        let painted = marked.and_then(|at| {
            let rest = line[at..].trim_start();
            let at = line.len() - rest.len();
            words
                .iter()
                .find(|(w, _)| rest.starts_with(w))
                .map(|(w, s)| format!("{}{s}{w}{s:#}{}", &line[..at], &line[at + w.len()..]))
        });
        out.push_str(painted.as_deref().unwrap_or(line));
    }
    out
}
