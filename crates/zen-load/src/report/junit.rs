//! `zen report junit`: a JUnit XML file for CI dashboards, one test case per threshold check
//! (a `failure` element when it did not hold), with the text report as the suite's output.
use std::collections::BTreeMap;
use std::fmt::Write;

use zen_model::report::Report;
use zen_model::report::verdict::Check;

/// The JUnit XML of a report.
pub fn xml(report: &Report) -> String {
    let checks = cases(report);
    let failures = checks.iter().filter(|(_, c)| !c.ok).count();
    let suite = format!("zen {}: {}", report.command, report.target.label);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let time = format!("{:.3}", report.elapsed_secs);
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{time}\">",
        attr(&format!("zen {}", report.command)),
        checks.len(),
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{time}\">",
        attr(&suite),
        checks.len(),
    );
    out.push_str("    <properties>\n");
    for (name, value) in properties(report) {
        let _ = writeln!(
            out,
            "      <property name=\"{}\" value=\"{}\"/>",
            attr(name),
            attr(&value)
        );
    }
    out.push_str("    </properties>\n");
    let class = format!("zen.{}", report.command);
    for (name, check) in &checks {
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
            attr(&class),
            attr(name)
        );
        if check.ok {
            out.push_str("/>\n");
            continue;
        }
        let _ = writeln!(
            out,
            ">\n      <failure message=\"{}\" type=\"threshold\">{}</failure>\n    </testcase>",
            attr(&check.text),
            text(&detail(check))
        );
    }
    let _ = writeln!(
        out,
        "    <system-out><![CDATA[{}]]></system-out>",
        clean(&super::render::render(report)).replace("]]>", "]]]]><![CDATA[>")
    );
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Test cases with names unique within the suite (names stay stable from run to run, so CI
/// dashboards can follow one threshold over time: the figures go in the failure message).
fn cases(report: &Report) -> Vec<(String, Check)> {
    let mut checks = report.verdict.checks.clone();
    if checks.is_empty() {
        // No threshold was set: the verdict itself is the one case.
        let ok = report.verdict.status == zen_model::report::verdict::Status::Pass;
        checks.push(Check::named("verdict", ok, report.verdict.status.as_str()));
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    checks
        .into_iter()
        .map(|check| {
            let n = seen.entry(check.name.clone()).or_default();
            *n += 1;
            let name = match *n {
                1 => check.name.clone(),
                n => format!("{} #{n}", check.name),
            };
            (name, check)
        })
        .collect()
}

/// The headline figures, as suite properties.
fn properties(r: &Report) -> Vec<(&'static str, String)> {
    vec![
        ("verdict", r.verdict.status.as_str().to_string()),
        ("calls", r.calls.total.to_string()),
        ("error_rate", r.calls.error_rate.to_string()),
        ("throughput_per_sec", format!("{:.3}", r.throughput_per_sec)),
        ("p50_ms", format!("{:.3}", r.latency.p50_ms)),
        ("p99_ms", format!("{:.3}", r.latency.p99_ms)),
        ("zen_version", r.zen_version.clone()),
    ]
}

fn detail(check: &Check) -> String {
    match (check.observed, check.limit) {
        (Some(observed), Some(limit)) => {
            format!("{}: observed {observed}, limit {limit}", check.text)
        }
        _ => check.text.clone(),
    }
}

/// Only the characters XML 1.0 allows (error messages from a server may hold anything).
fn clean(s: &str) -> String {
    s.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
        })
        .collect()
}

/// Escaped for element text.
fn text(s: &str) -> String {
    clean(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Escaped for an attribute value.
fn attr(s: &str) -> String {
    text(s).replace('"', "&quot;").replace('\n', "&#10;")
}
