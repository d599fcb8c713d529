//! The one verdict type of stress and soak runs: a typed status with serde names, the checks
//! that decided it, and how it maps to the process exit code.
use std::fmt;

use rmcp::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};

use crate::exit::ExitOutcome;

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
}

impl Status {
    /// Both verdicts together: inconclusive stays inconclusive, otherwise any failure fails.
    pub fn and(self, other: Status) -> Status {
        use Status::*;
        match (self, other) {
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
        }
    }

    /// The serde name: `pass`, `fail` or `inconclusive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Inconclusive => "inconclusive",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One checked condition: whether it held and what was measured against what limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The condition held.
    pub ok: bool,
    /// The measured value and the limit, for people.
    pub text: String,
}

impl Check {
    pub fn new(ok: bool, text: impl Into<String>) -> Self {
        Check {
            ok,
            text: text.into(),
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
    pub max_error_rate: Option<f64>,
    pub max_p99_ms: Option<f64>,
    pub min_throughput: Option<f64>,
}

/// The verdict of a run, as the reports carry it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Verdict {
    pub status: Status,
    /// Each threshold checked, with the measured value.
    pub checks: Vec<String>,
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
        self.checks.extend(checks.iter().map(Check::line));
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

/// Judge the thresholds against what was measured.
pub fn judge(t: &Thresholds, m: Measured) -> Verdict {
    let Measured {
        calls,
        error_rate,
        p99_ms,
        throughput,
    } = m;
    let mut checks = Vec::new();
    if calls == 0 {
        checks.push(Check::new(false, "no call finished"));
    }
    if let Some(max) = t.max_error_rate {
        checks.push(Check::new(
            error_rate <= max,
            format!(
                "error rate {:.2}% (max {:.2}%)",
                error_rate * 100.0,
                max * 100.0
            ),
        ));
    }
    if let Some(max) = t.max_p99_ms {
        checks.push(Check::new(
            p99_ms <= max,
            format!("p99 {p99_ms:.1} ms (max {max:.1} ms)"),
        ));
    }
    if let Some(min) = t.min_throughput {
        checks.push(Check::new(
            throughput >= min,
            format!("throughput {throughput:.1}/s (min {min:.1}/s)"),
        ));
    }
    Verdict::from_checks(&checks)
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
        let mut v = Verdict::from_checks(&[Check::new(true, "p99 1 ms (max 2 ms)")]);
        assert_eq!(v.status, Status::Pass);
        v.add(Status::Pass, &[Check::new(false, "slope +9 MB/h (max 5)")]);
        assert_eq!(v.status, Status::Fail);
        assert_eq!(v.failures, vec!["slope +9 MB/h (max 5)".to_string()]);
        assert!(v.checks[1].starts_with("FAIL"));
    }
}
