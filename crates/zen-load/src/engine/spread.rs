//! Several instances as one target (`zen stress --url A --url B …`), or several MCP revisions
//! on one (`--protocol 2026-07-28,2025-11-25`): which part each session belongs to, and each
//! part's share of the calls for the report.
use std::sync::Mutex;

use hdrhistogram::Histogram;

use zen_model::hdr::new_histogram;
use zen_model::report::TargetShare;
use zen_model::snapshot::LatencySummary;

/// One instance's calls, as the load generator saw them.
#[derive(Debug, Clone)]
struct Tally {
    /// Calls answered without error.
    ok: u64,
    /// Calls that failed, any kind.
    failed: u64,
    /// Their latency in µs (fixed size whatever the call count).
    latency_us: Histogram<u64>,
}

/// Per-instance tallies of one run; sessions map to instances by index.
#[derive(Debug)]
pub(crate) struct Spread {
    /// Each instance's label (its URL).
    labels: Vec<String>,
    /// Session index → instance index.
    session_instance: Vec<usize>,
    /// One tally per instance.
    tallies: Mutex<Vec<Tally>>,
}

impl Spread {
    /// `session_instance[i]`: the instance of session `i`, an index into `labels`.
    pub(crate) fn new(labels: Vec<String>, session_instance: Vec<usize>) -> Self {
        let tally = Tally {
            ok: 0,
            failed: 0,
            latency_us: new_histogram(),
        };
        Spread {
            tallies: Mutex::new(vec![tally; labels.len()]),
            labels,
            session_instance,
        }
    }

    /// A call on session `session` ended.
    pub(crate) fn record(&self, session: usize, ok: bool, latency_us: u64) {
        let Some(&instance) = self.session_instance.get(session) else {
            return;
        };
        let mut tallies = self
            .tallies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tally = &mut tallies[instance];
        if ok {
            tally.ok += 1;
        } else {
            tally.failed += 1;
        }
        tally.latency_us.saturating_record(latency_us.max(1));
    }

    /// Each part's share; empty for a single one (the totals already say it all).
    pub(crate) fn shares(&self, elapsed_secs: f64) -> Vec<TargetShare> {
        if self.labels.len() < 2 {
            return Vec::new();
        }
        let tallies = self
            .tallies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (self.labels.iter().zip(tallies.iter()).enumerate())
            .map(|(i, (label, t))| {
                let latency = LatencySummary::from_histogram(&t.latency_us);
                TargetShare {
                    label: label.clone(),
                    sessions: self.session_instance.iter().filter(|s| **s == i).count() as u32,
                    ok: t.ok,
                    failed: t.failed,
                    throughput_per_sec: (t.ok + t.failed) as f64 / elapsed_secs.max(1e-9),
                    p50_ms: latency.p50_ms,
                    p99_ms: latency.p99_ms,
                }
            })
            .collect()
    }
}

/// Labels and a session → label index for `per_session` labels (the distinct ones in order).
pub(crate) fn group(per_session: &[String]) -> Spread {
    let mut labels: Vec<String> = Vec::new();
    let index = per_session
        .iter()
        .map(|label| {
            labels.iter().position(|l| l == label).unwrap_or_else(|| {
                labels.push(label.clone());
                labels.len() - 1
            })
        })
        .collect();
    Spread::new(labels, index)
}

/// Sessions for `urls`: at least one per instance, spread round robin.
pub(crate) fn sessions_for(urls: &[String], sessions: u32) -> Vec<usize> {
    let total = (sessions as usize).max(urls.len());
    (0..total).map(|i| i % urls.len().max(1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_spread_round_robin_with_one_per_instance_at_least() {
        let urls = vec!["a".to_string(), "b".to_string()];
        assert_eq!(sessions_for(&urls, 1), vec![0, 1]);
        assert_eq!(sessions_for(&urls, 5), vec![0, 1, 0, 1, 0]);
        let spread = Spread::new(urls, sessions_for(&["a".into(), "b".into()], 3));
        spread.record(0, true, 1000);
        spread.record(1, false, 2000);
        spread.record(2, true, 3000);
        let shares = spread.shares(1.0);
        assert_eq!((shares[0].ok, shares[0].sessions), (2, 2));
        assert_eq!((shares[1].failed, shares[1].sessions), (1, 1));
    }
}
