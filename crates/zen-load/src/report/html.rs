//! `zen report html`: one self-contained page (inline CSS and SVG, no script, no network) with
//! the run's charts: latency percentiles, throughput and errors, in flight and the server's
//! pools over time, the latency distribution (the text report's buckets), and the verdict table.
use std::fmt::Write;

use super::svg::{Frame, Line, bar_chart, escape, line_chart};
use zen_model::report::series::Point;
use zen_model::report::{LatencyReport, Report};

/// Chart ids, in page order (the browser test checks each is rendered).
pub const CHART_IDS: [&str; 4] = [
    "chart-latency",
    "chart-throughput",
    "chart-in-flight",
    "chart-distribution",
];

/// Intervals shorter than this (the last, partial one) would make a noisy rate: left out of
/// the per-second charts (their calls are in every total).
const MIN_RATE_SECS: f64 = 0.25;

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:1040px;\
color:#111;background:#fff}h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}\
.sub{color:#555}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;\
padding:4px 10px;text-align:right}th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}\
.pass{color:#15803d;font-weight:600}.fail{color:#b91c1c;font-weight:600}\
.verdict{font-size:18px;margin:10px 0}#verdict td:last-child{text-align:left}svg.chart{width:100%;height:auto;display:block;margin:8px 0}\
.title{font-size:15px;font-weight:600}.axis{font-size:12px;fill:#444}.tick{font-size:11px;fill:#555}\
.legend{font-size:12px}.grid{stroke:#eee}.axisline{stroke:#888}\
pre{white-space:pre-wrap;overflow-wrap:anywhere}";

/// The whole page.
pub fn page(r: &Report) -> String {
    let mut out = String::new();
    let title = format!(
        "zen {}: {} {} ({})",
        r.command, r.target.server_name, r.target.server_version, r.target.label
    );
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{}</title>\
         <style>{STYLE}</style></head><body><h1>{}</h1><p class=\"sub\">{}</p>",
        escape(&title),
        escape(&title),
        escape(&subtitle(r))
    );
    verdict(&mut out, r);
    summary(&mut out, r);
    out.push_str("<h2>Over time</h2>");
    out.push_str(&latency_chart(&r.series));
    out.push_str(&throughput_chart(&r.series));
    out.push_str(&in_flight_chart(&r.series));
    if let Some(soak) = &r.soak {
        out.push_str(&super::memory_chart::memory_chart(soak));
    }
    out.push_str("<h2>Latency distribution</h2>");
    out.push_str(&distribution_chart(&r.latency));
    let _ = writeln!(
        out,
        "<h2>Text report</h2><pre>{}</pre></body></html>",
        escape(&super::render::render(r))
    );
    out
}

fn subtitle(r: &Report) -> String {
    let load = &r.load;
    let model = match load.model.as_str() {
        "open" => format!("open loop, {:.1} calls/s", load.rate_per_sec.unwrap_or(0.0)),
        _ => format!("closed loop, concurrency {}", load.concurrency.unwrap_or(0)),
    };
    let scenario = r.scenario.as_deref().map(|s| format!(", scenario {s}"));
    format!(
        "{model}{}; {:.1} s; zen {}{}",
        scenario.unwrap_or_default(),
        r.elapsed_secs,
        r.zen_version,
        r.ended_early
            .as_deref()
            .map(|w| format!("; ended early: {w}"))
            .unwrap_or_default()
    )
}

fn verdict(out: &mut String, r: &Report) {
    let status = r.verdict.status;
    let class = if status == zen_model::report::verdict::Status::Pass {
        "pass"
    } else {
        "fail"
    };
    let _ = write!(
        out,
        "<p class=\"verdict\">Verdict: <span class=\"{class}\">{}</span></p>\
         <table id=\"verdict\"><tr><th>check</th><th>limit</th><th>observed</th><th>result</th><th>detail</th></tr>",
        status.as_str().to_uppercase()
    );
    let num = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.4}"));
    for c in &r.verdict.checks {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            escape(&c.name),
            num(c.limit),
            num(c.observed),
            if c.ok { "pass" } else { "fail" },
            if c.ok { "ok" } else { "FAIL" },
            escape(&c.text)
        );
    }
    out.push_str("</table>");
}

fn summary(out: &mut String, r: &Report) {
    let c = &r.calls;
    let _ = write!(
        out,
        "<h2>Summary</h2><table id=\"summary\"><tr><th></th><th>calls</th><th>failed</th>\
         <th>error rate</th><th>calls/s</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th>\
         <th>p99.9 ms</th><th>max ms</th></tr>"
    );
    let row =
        |out: &mut String, name: &str, calls: u64, failed: u64, rate: f64, l: &LatencyReport| {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{calls}</td><td>{failed}</td><td>{:.2}%</td><td>{rate:.1}</td>\
             <td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td></tr>",
                escape(name),
                zen_model::snapshot::error_rate(failed, calls) * 100.0,
                l.p50_ms,
                l.p90_ms,
                l.p99_ms,
                l.p999_ms,
                l.max_ms
            );
        };
    // An open loop's headline latency is from each call's intended send time; the tools' rows
    // are from the send, so that one is a row too, and each row says which it is.
    let overall = if r.latency_uncorrected.is_some() {
        "overall, from the schedule"
    } else {
        "overall"
    };
    row(
        out,
        overall,
        c.total,
        c.failed,
        r.throughput_per_sec,
        &r.latency,
    );
    if let Some(sent) = &r.latency_uncorrected {
        let name = "overall, from the send";
        row(out, name, c.total, c.failed, r.throughput_per_sec, sent);
    }
    let secs = r.elapsed_secs.max(1e-9);
    for (name, t) in &r.tools {
        let tool = format!("tool {name}");
        row(
            out,
            &tool,
            t.calls,
            t.failed,
            t.calls as f64 / secs,
            &t.latency,
        );
    }
    // Per operation, when the run made others than tools/call (issue 28).
    let other_ops = r.operations.keys().any(|op| op != "tools/call");
    for (op, t) in r.operations.iter().filter(|_| other_ops) {
        let name = format!("op {op}");
        let rate = t.calls as f64 / secs;
        row(out, &name, t.calls, t.failed, rate, &t.latency);
    }
    out.push_str("</table>");
}

/// (end of the interval in seconds, value) for each point.
fn over_time(series: &[Point], value: impl Fn(&Point) -> Option<f64>) -> Vec<(f64, f64)> {
    series
        .iter()
        .filter_map(|p| value(p).map(|v| (p.t + p.secs, v)))
        .collect()
}

fn latency_chart(series: &[Point]) -> String {
    let busy = |p: &Point, v: f64| (p.calls > 0).then_some(v);
    let lines = [
        Line {
            name: "p50".into(),
            points: over_time(series, |p| busy(p, p.p50_ms)),
        },
        Line {
            name: "p99".into(),
            points: over_time(series, |p| busy(p, p.p99_ms)),
        },
    ];
    let frame = Frame {
        id: CHART_IDS[0],
        title: "Latency percentiles per interval",
        x_label: "seconds into the run",
        y_label: "ms",
    };
    line_chart(&frame, &lines)
}

fn throughput_chart(series: &[Point]) -> String {
    let rate = |n: u64, p: &Point| (p.secs >= MIN_RATE_SECS).then(|| n as f64 / p.secs);
    let lines = [
        Line {
            name: "calls/s".into(),
            points: over_time(series, |p| rate(p.calls, p)),
        },
        Line {
            name: "errors/s".into(),
            points: over_time(series, |p| rate(p.errors, p)),
        },
    ];
    let frame = Frame {
        id: CHART_IDS[1],
        title: "Throughput and errors",
        x_label: "seconds into the run",
        y_label: "per second",
    };
    line_chart(&frame, &lines)
}

fn in_flight_chart(series: &[Point]) -> String {
    let mut lines = vec![Line {
        name: "in flight".into(),
        points: over_time(series, |p| Some(p.in_flight as f64)),
    }];
    let mut pools: Vec<&String> = series
        .iter()
        .filter_map(|p| p.pools_in_use.as_ref())
        .flat_map(|m| m.keys())
        .collect();
    pools.sort();
    pools.dedup();
    for pool in pools {
        lines.push(Line {
            name: format!("pool {pool} in use"),
            points: over_time(series, |p| {
                p.pools_in_use.as_ref()?.get(pool).map(|n| *n as f64)
            }),
        });
    }
    if series.iter().any(|p| p.queued.is_some()) {
        lines.push(Line {
            name: "queued".into(),
            points: over_time(series, |p| p.queued.map(|n| n as f64)),
        });
    }
    let frame = Frame {
        id: CHART_IDS[2],
        title: "In flight, and the server's pools (zen targets)",
        x_label: "seconds into the run",
        y_label: "calls",
    };
    line_chart(&frame, &lines)
}

fn distribution_chart(latency: &LatencyReport) -> String {
    let frame = Frame {
        id: CHART_IDS[3],
        title: "Calls by latency (the text report's buckets)",
        x_label: "latency (upper bound of each bar)",
        y_label: "calls",
    };
    // The same bars as the text report below, count for count.
    let bars: Vec<(String, f64)> = super::buckets::bars(latency)
        .into_iter()
        .map(|b| (b.label, b.count as f64))
        .collect();
    bar_chart(&frame, &bars)
}
