//! The one verdict type of stress and soak runs: a typed status with serde names, the checks
//! that decided it, and how it maps to the process exit code.
use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::exit::ExitOutcome;

pub mod limits;

pub use limits::{Limits, Parts};

/// What a run's checks add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every check held.
    Pass,
    /// At least one check failed.
    Fail,
    /// The run could not reach a verdict (too short, too few samples).
    Inconclusive,
    /// The run did not run its course: stopped early (q, Ctrl-C) or its target died.
    Incomplete,
}

impl Status {
    /// Both verdicts together: an incomplete run stays incomplete, inconclusive stays
    /// inconclusive, otherwise any failure fails.
    pub fn and(self, other: Status) -> Status {
        use Status::{Fail, Incomplete, Inconclusive, Pass};
        match (self, other) {
            (Incomplete, _) | (_, Incomplete) => Incomplete,
            (Inconclusive, _) | (_, Inconclusive) => Inconclusive,
            (Fail, _) | (_, Fail) => Fail,
            (Pass, Pass) => Pass,
        }
    }

    /// The exit outcome this verdict gives the process.
    pub fn exit_outcome(self) -> ExitOutcome {
        match self {
            Status::Pass => ExitOutcome::Success,
            Status::Fail => ExitOutcome::VerdictFailed,
            Status::Inconclusive => ExitOutcome::Inconclusive,
            Status::Incomplete => ExitOutcome::Incomplete,
        }
    }

    /// The serde name: `pass`, `fail`, `inconclusive` or `incomplete`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Inconclusive => "inconclusive",
            Status::Incomplete => "incomplete",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One checked condition, as data: what was checked, against what limit, what was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Check {
    /// What was checked: `error_rate`, `p99_ms`, `throughput_per_sec`, `calls`, `completed`, …
    pub name: String,
    /// The limit (absent for a condition without a number).
    pub limit: Option<f64>,
    /// The measured value (absent for a condition without a number).
    pub observed: Option<f64>,
    /// The condition held.
    pub ok: bool,
    /// The same, for people: the measured value and the limit in words.
    pub text: String,
    /// The operation (`tools/call`) or tool (`tool:chat`) whose calls alone were checked;
    /// absent for a check of the whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl Check {
    /// A named condition without numbers.
    pub fn named(name: &str, ok: bool, text: impl Into<String>) -> Self {
        Check {
            name: name.to_string(),
            limit: None,
            observed: None,
            ok,
            text: text.into(),
            scope: None,
        }
    }

    /// A measured value against its limit.
    pub fn measured(name: &str, limit: f64, observed: f64, ok: bool, text: String) -> Self {
        Check {
            name: name.to_string(),
            limit: Some(limit),
            observed: Some(observed),
            ok,
            text,
            scope: None,
        }
    }

    /// The same check made on one operation's or tool's calls alone: its name and text say
    /// which (`tools/call:p99_ms`, "tools/call: p99 …").
    #[must_use]
    pub fn within(self, scope: &str) -> Self {
        Check {
            name: format!("{scope}:{}", self.name),
            text: format!("{scope}: {}", self.text),
            scope: Some(scope.to_string()),
            ..self
        }
    }

    /// The line the text report prints: `ok   …` or `FAIL …`.
    pub fn line(&self) -> String {
        format!("{} {}", if self.ok { "ok  " } else { "FAIL" }, self.text)
    }
}

/// The pass/fail limits of a run (from flags or the scenario's `[thresholds]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Thresholds {
    /// Fail when more than this share of calls fail (0.0 to 1.0).
    pub max_error_rate: Option<f64>,
    /// Fail when p99 latency is above this, ms.
    pub max_p99_ms: Option<f64>,
    /// Fail when throughput is below this, calls per second.
    pub min_throughput: Option<f64>,
    /// Limits on one operation's calls alone, by method (`tools/call`, `resources/read`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub operations: BTreeMap<String, Limits>,
    /// Limits on one tool's calls alone, by tool name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tools: BTreeMap<String, Limits>,
}

impl Thresholds {
    /// The limits on the whole run.
    pub fn whole_run(&self) -> Limits {
        Limits {
            max_error_rate: self.max_error_rate,
            max_p99_ms: self.max_p99_ms,
            min_throughput: self.min_throughput,
        }
    }

    /// Set the limits on the whole run.
    pub fn set_whole_run(&mut self, limits: &Limits) {
        self.max_error_rate = limits.max_error_rate;
        self.max_p99_ms = limits.max_p99_ms;
        self.min_throughput = limits.min_throughput;
    }
}

/// The verdict of a run, as the reports carry it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Verdict {
    /// What the checks add up to: `pass`, `fail`, `inconclusive` or `incomplete`.
    pub status: Status,
    /// Each threshold checked: name, limit, observed value, whether it held.
    pub checks: Vec<Check>,
    /// The checks that failed.
    pub failures: Vec<String>,
}

impl Verdict {
    /// A verdict from checks: pass when every one held.
    pub fn from_checks(checks: &[Check]) -> Self {
        let mut verdict = Verdict {
            status: Status::Pass,
            checks: Vec::new(),
            failures: Vec::new(),
        };
        verdict.add(Status::Pass, checks);
        verdict
    }

    /// Fold in another judgement (soak's memory verdict): its status and its checks.
    pub fn add(&mut self, status: Status, checks: &[Check]) {
        let failed = checks.iter().any(|c| !c.ok);
        let status = if failed {
            status.and(Status::Fail)
        } else {
            status
        };
        self.status = self.status.and(status);
        self.failures
            .extend(checks.iter().filter(|c| !c.ok).map(|c| c.text.clone()));
        self.checks.extend(checks.iter().cloned());
    }

    /// The run did not run its course (`why`: stopped early, or the target died): never a
    /// pass, whatever the figures measured until then say.
    pub fn incomplete(&mut self, why: &str) {
        self.status = Status::Incomplete;
        self.failures.push(why.to_string());
        self.checks.push(Check::named("completed", false, why));
    }
}

/// What a run measured, as the thresholds judge it.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// Calls finished.
    pub calls: u64,
    /// Failed / finished.
    pub error_rate: f64,
    /// Latency p99 in ms.
    pub p99_ms: f64,
    /// Calls per second.
    pub throughput: f64,
}

/// Judge the run-wide thresholds against what was measured.
pub fn judge(t: &Thresholds, m: Measured) -> Verdict {
    let mut checks = Vec::new();
    if m.calls == 0 {
        checks.push(Check::named("calls", false, "no call finished"));
    }
    checks.extend(limits::checks(&t.whole_run(), m));
    Verdict::from_checks(&checks)
}

/// Judge every threshold: the run-wide ones on `m`, then each operation's and each tool's on
/// its own calls in `parts`.
pub fn judge_all(t: &Thresholds, m: Measured, parts: &Parts<'_>) -> Verdict {
    let mut verdict = judge(t, m);
    verdict.add(Status::Pass, &limits::judge_parts(t, parts));
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_combine_inconclusive_first_then_fail() {
        use Status::*;
        assert_eq!(Pass.and(Pass), Pass);
        assert_eq!(Pass.and(Fail), Fail);
        assert_eq!(Fail.and(Inconclusive), Inconclusive);
        assert_eq!(
            serde_json::to_string(&Inconclusive).unwrap(),
            "\"inconclusive\""
        );
    }

    #[test]
    fn a_failed_check_fails_the_verdict_and_is_listed() {
        let mut v = Verdict::from_checks(&[Check::named("p99_ms", true, "p99 1 ms (max 2 ms)")]);
        assert_eq!(v.status, Status::Pass);
        v.add(
            Status::Pass,
            &[Check::named(
                "memory_slope_mb_per_hour",
                false,
                "slope +9 MB/h (max 5)",
            )],
        );
        assert_eq!(v.status, Status::Fail);
        assert_eq!(v.failures, vec!["slope +9 MB/h (max 5)".to_string()]);
        assert!(v.checks[1].line().starts_with("FAIL"));
    }

    #[test]
    fn regression_an_incomplete_run_is_never_a_pass_and_exits_non_zero() {
        let mut v = Verdict::from_checks(&[Check::named("p99_ms", true, "p99 1 ms (max 2 ms)")]);
        v.incomplete("stopped early (Ctrl-C) after 3.0 s");
        assert_eq!(v.status, Status::Incomplete);
        assert_ne!(v.status.exit_outcome().exit_code(), 0);
        assert_eq!(Status::Pass.and(Status::Incomplete), Status::Incomplete);
        assert_eq!(
            serde_json::to_value(Status::Incomplete).unwrap(),
            "incomplete"
        );
    }

    #[test]
    fn regression_checks_are_data_with_name_limit_and_observed_value() {
        let t = Thresholds {
            max_p99_ms: Some(300.0),
            ..Default::default()
        };
        let m = Measured {
            calls: 10,
            error_rate: 0.0,
            p99_ms: 412.5,
            throughput: 1.0,
        };
        let v = judge(&t, m);
        let json = serde_json::to_value(&v.checks[0]).unwrap();
        assert_eq!(json["name"], "p99_ms");
        assert_eq!(json["limit"], 300.0);
        assert_eq!(json["observed"], 412.5);
        assert_eq!(json["ok"], false);
        assert_eq!(v.status, Status::Fail);
    }
}
