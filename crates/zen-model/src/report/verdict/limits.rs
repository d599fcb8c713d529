//! The three limits a run is judged by (error rate, p99, throughput), on the whole run or on one
//! part of it: an operation (`--max-p99 tools/call=300ms`, a scenario's
//! `[thresholds.operations."tools/call"]`) or a tool (`--max-p99 tool:chat=1s`,
//! `[thresholds.tools.chat]`), judged on that part's own calls, failures and histogram.
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Check, Measured, Thresholds};
use crate::report::ToolReport;

/// Limits on a set of calls: the whole run's, or one operation's or tool's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Limits {
    /// Fail when more than this share of these calls fail (0.0 to 1.0).
    pub max_error_rate: Option<f64>,
    /// Fail when these calls' p99 latency is above this, ms.
    pub max_p99_ms: Option<f64>,
    /// Fail when fewer than this many of these calls finish per second of the run.
    pub min_throughput: Option<f64>,
}

impl Limits {
    /// No limit set.
    pub fn is_empty(&self) -> bool {
        *self == Limits::default()
    }
}

/// The parts of a run the scoped limits judge, as the report carries them.
#[derive(Debug, Clone, Copy)]
pub struct Parts<'a> {
    /// Per operation, by method.
    pub operations: &'a BTreeMap<String, ToolReport>,
    /// Per tool, by name.
    pub tools: &'a BTreeMap<String, ToolReport>,
    /// The run's wall time, for each part's throughput.
    pub elapsed_secs: f64,
}

/// The scope a tool's checks are named by: `tool:NAME` (an operation's is its method).
pub fn tool_scope(name: &str) -> String {
    format!("tool:{name}")
}

/// Each limit set, checked against what was measured.
pub(crate) fn checks(limits: &Limits, m: Measured) -> Vec<Check> {
    let Measured {
        error_rate,
        p99_ms,
        throughput,
        ..
    } = m;
    let mut checks = Vec::new();
    if let Some(max) = limits.max_error_rate {
        checks.push(Check::measured(
            "error_rate",
            max,
            error_rate,
            error_rate <= max,
            format!(
                "error rate {:.2}% (max {:.2}%)",
                error_rate * 100.0,
                max * 100.0
            ),
        ));
    }
    if let Some(max) = limits.max_p99_ms {
        checks.push(Check::measured(
            "p99_ms",
            max,
            p99_ms,
            p99_ms <= max,
            format!("p99 {p99_ms:.1} ms (max {max:.1} ms)"),
        ));
    }
    if let Some(min) = limits.min_throughput {
        checks.push(Check::measured(
            "throughput_per_sec",
            min,
            throughput,
            throughput >= min,
            format!("throughput {throughput:.1}/s (min {min:.1}/s)"),
        ));
    }
    checks
}

/// Every operation's and tool's limits, each on its own calls; a part with limits that made no
/// call fails (a limit on nothing would pass unseen).
pub(crate) fn judge_parts(t: &Thresholds, parts: &Parts<'_>) -> Vec<Check> {
    let ops = (t.operations.iter()).map(|(op, l)| (op.clone(), l, parts.operations.get(op)));
    let tools = (t.tools.iter()).map(|(tool, l)| (tool_scope(tool), l, parts.tools.get(tool)));
    let mut checks = Vec::new();
    for (scope, limits, part) in ops.chain(tools) {
        match part.filter(|p| p.calls > 0) {
            None => checks.push(Check::named("calls", false, "no call finished").within(&scope)),
            Some(part) => {
                let m = Measured {
                    calls: part.calls,
                    error_rate: crate::snapshot::error_rate(part.failed, part.calls),
                    p99_ms: part.latency.p99_ms,
                    throughput: part.calls as f64 / parts.elapsed_secs.max(1e-9),
                };
                checks.extend(checks_within(limits, m, &scope));
            }
        }
    }
    checks
}

fn checks_within(limits: &Limits, m: Measured, scope: &str) -> Vec<Check> {
    (checks(limits, m).into_iter())
        .map(|c| c.within(scope))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::LatencyReport;
    use crate::report::verdict::{Status, judge_all};

    fn part(ok: u64, failed: u64, ms: u64) -> ToolReport {
        let mut h = crate::hdr::new_histogram();
        for _ in 0..ok + failed {
            h.record(ms * 1000).unwrap();
        }
        ToolReport {
            calls: ok + failed,
            ok,
            failed,
            latency: LatencyReport::from_histogram(&h),
        }
    }

    #[test]
    fn each_operation_and_tool_is_judged_on_its_own_calls() {
        let mut t = Thresholds {
            max_p99_ms: Some(1000.0),
            ..Thresholds::default()
        };
        let limit = |p99: f64| Limits {
            max_p99_ms: Some(p99),
            ..Limits::default()
        };
        t.operations.insert("tools/call".into(), limit(300.0));
        t.operations.insert("ping".into(), limit(300.0));
        t.tools.insert("chat".into(), limit(300.0));
        t.tools.insert("echo".into(), limit(300.0));
        let operations = BTreeMap::from([
            ("tools/call".to_string(), part(10, 0, 500)),
            ("ping".to_string(), part(10, 0, 5)),
        ]);
        let tools = BTreeMap::from([("chat".to_string(), part(10, 0, 500))]);
        let parts = Parts {
            operations: &operations,
            tools: &tools,
            elapsed_secs: 1.0,
        };
        let m = Measured {
            calls: 20,
            error_rate: 0.0,
            p99_ms: 500.0,
            throughput: 20.0,
        };
        let v = judge_all(&t, m, &parts);
        assert_eq!(v.status, Status::Fail);
        let names: Vec<(&str, bool)> = (v.checks.iter()).map(|c| (c.name.as_str(), c.ok)).collect();
        assert_eq!(
            names,
            [
                ("p99_ms", true),
                ("ping:p99_ms", true),
                ("tools/call:p99_ms", false),
                ("tool:chat:p99_ms", false),
                ("tool:echo:calls", false),
            ]
        );
        assert_eq!(v.checks[2].scope.as_deref(), Some("tools/call"));
        assert!(
            v.checks[2].text.starts_with("tools/call: p99 5"),
            "{:?}",
            v.checks[2]
        );
        assert_eq!(v.checks[4].text, "tool:echo: no call finished");
        // A run-wide check carries no scope in its JSON; a scoped one does.
        let json = serde_json::to_value(&v.checks).unwrap();
        assert!(json[0].get("scope").is_none());
        assert_eq!(json[3]["scope"], "tool:chat");
    }
}
