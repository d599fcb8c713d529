//! What `--find-ceiling` found, as the JSON report carries it and as text for people. A leaf of
//! the load module: plain data.
use std::fmt::Write;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The search's answer and how it got there.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CeilingReport {
    /// The highest constant arrival rate that held within the limits; None when even the lowest
    /// rate tried did not.
    pub calls_per_s: Option<f64>,
    /// The p99 limit a step had to meet (from the intended send time: open loop).
    pub max_p99_ms: f64,
    /// The error-rate limit a step had to meet.
    pub max_error_rate: f64,
    /// How long each step sent at its rate.
    pub step_secs: f64,
    /// Every step, in the order run.
    pub steps: Vec<CeilingStep>,
}

/// One constant-rate step of the search.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct CeilingStep {
    /// `probe` (the doubling or halving ladder), `bisect`, or `recheck` (a second try at a rate
    /// that just broke the limits; the rate counts as broken only if this one breaks them too).
    pub phase: String,
    /// The arrival rate sent, calls per second.
    pub rate: f64,
    /// Calls finished.
    pub calls: u64,
    /// Share of them that failed.
    pub error_rate: f64,
    /// p99 latency from each call's intended send time, ms.
    pub p99_ms: f64,
    /// Planned sends never made (the generator's in-flight cap was full to the end).
    pub unsent: u64,
    /// Whether the step stayed within the limits.
    pub ok: bool,
}

impl CeilingStep {
    /// One line for people, e.g. "probe   160.0 calls/s  p99 104.2 ms  0.00% errors  ok".
    pub fn line(&self) -> String {
        let mut s = format!(
            "{:<7} {:>9.1} calls/s  p99 {:>8.1} ms  {:.2}% errors",
            self.phase,
            self.rate,
            self.p99_ms,
            self.error_rate * 100.0
        );
        if self.unsent > 0 {
            let _ = write!(s, "  {} unsent", self.unsent);
        }
        s.push_str(if self.ok { "  ok" } else { "  over the limit" });
        s
    }
}

impl CeilingReport {
    /// The answer line.
    pub fn answer(&self) -> String {
        match self.calls_per_s {
            Some(rate) => format!(
                "ceiling    {rate:.1} calls/s (p99 ≤ {:.0} ms, errors ≤ {:.2}%, {} steps of {}s)",
                self.max_p99_ms,
                self.max_error_rate * 100.0,
                self.steps.len(),
                self.step_secs
            ),
            None => format!(
                "ceiling    none: even {:.1} calls/s broke the limits (p99 ≤ {:.0} ms, errors ≤ {:.2}%)",
                self.steps
                    .iter()
                    .map(|s| s.rate)
                    .fold(f64::INFINITY, f64::min),
                self.max_p99_ms,
                self.max_error_rate * 100.0
            ),
        }
    }

    /// The steps and the answer, for the text report.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (i, step) in self.steps.iter().enumerate() {
            let _ = writeln!(out, "  step {:>2}    {}", i + 1, step.line());
        }
        let _ = writeln!(out, "  {}", self.answer());
        out
    }
}
