//! The end of a run: read the server's side, close the target, and build the report from what
//! the recorder, the series and the two snapshots hold.
use std::collections::BTreeMap;
use std::time::Duration;

use zen_model::report::soak::SoakReport;
use zen_model::report::verdict::{Measured, Parts, judge_all};
use zen_model::report::{
    CallCounts, Generator, LatencyReport, LoadReport, Report, ServerSide, ServerTime, TargetReport,
};

use crate::engine::recorder::{op_reports, tool_reports};
use crate::run::Run;

impl Run {
    /// Read the server's side, close the target and build the report.
    pub(crate) async fn finish(
        mut self,
        elapsed: Duration,
        cpu_secs: f64,
        soak: Option<SoakReport>,
    ) -> Report {
        let ended_early = self.ended_early(elapsed);
        let after = match (self.recorder.lost(), self.after.take()) {
            (_, Some(after)) => Some(after),
            (Some(_), None) => None,
            (None, None) => self.target.snapshot().await,
        };
        let partial = ended_early.is_some();
        let recorded = self.recorder.recorded();
        let total = recorded.ok + recorded.failed;
        let calls = CallCounts {
            total,
            ok: recorded.ok,
            failed: recorded.failed,
            error_rate: zen_model::snapshot::error_rate(recorded.failed, total),
            late: recorded.late,
            unsent: recorded.unsent,
            aborted: recorded.aborted,
            peak_in_flight: recorded.peak_in_flight,
        };
        let secs = elapsed.as_secs_f64().max(1e-9);
        let throughput = total as f64 / secs;
        // Open loop: the honest figure is from the intended send time.
        let (latency, uncorrected) = match &recorded.corrected_us {
            Some(corrected) => (
                LatencyReport::from_histogram(corrected),
                Some(LatencyReport::from_histogram(&recorded.latency_us)),
            ),
            None => (LatencyReport::from_histogram(&recorded.latency_us), None),
        };
        let (tools, operations) = (tool_reports(&recorded), op_reports(&recorded));
        let mut verdict = judge_all(
            &self.settings.thresholds,
            Measured {
                calls: calls.total,
                error_rate: calls.error_rate,
                p99_ms: latency.p99_ms,
                throughput,
            },
            &Parts {
                operations: &operations,
                tools: &tools,
                elapsed_secs: secs,
            },
        );
        if let Some(why) = &ended_early {
            verdict.incomplete(why);
        }
        let errors: BTreeMap<String, _> = recorded
            .errors
            .iter()
            .map(|(k, b)| (k.label().to_string(), b.clone()))
            .collect();
        let server = match (&self.before, &after) {
            (Some(before), Some(after)) => Some(ServerSide {
                time_in_server: ServerTime::between(before, after, tools.keys()),
                ..ServerSide::between(before, after, total)
            }),
            _ => None,
        };
        let generator = Generator {
            cpu_secs,
            cpu_us_per_call: if total == 0 {
                0.0
            } else {
                cpu_secs * 1e6 / total as f64
            },
            rss_bytes: zen_os::process::sample(std::process::id()).map_or(0, |s| s.rss_bytes),
        };
        let target = TargetReport {
            kind: self.target.kind.to_string(),
            label: self.target.label.clone(),
            server_name: self.target.server.name.clone(),
            server_version: self.target.server.version.clone(),
            pid: self.target.pid.or(after.as_ref().map(|s| s.server.pid)),
            protocol: match &self.target.protocols[..] {
                [first, rest @ ..] if rest.iter().all(|p| p == first) => first.clone(),
                _ => "mixed".to_string(),
            },
            protocol_requested: requested(&self.settings.protocols),
            session_protocols: self.target.protocols.clone(),
            headers: self.settings.access.header_names(),
        };
        let report = Report {
            schema_version: 1,
            command: self.command.to_string(),
            zen_version: zen_model::VERSION.to_string(),
            scenario: self.settings.scenario.clone(),
            partial,
            ended_early,
            target,
            load: LoadReport {
                sessions: self.target.sessions.len() as u32,
                ..self.settings.load_report()
            },
            elapsed_secs: elapsed.as_secs_f64(),
            calls,
            throughput_per_sec: throughput,
            latency,
            latency_uncorrected: uncorrected,
            tools,
            operations,
            shard: self.settings.shard.map(|s| zen_model::report::ShardReport {
                index: s.index,
                count: s.count,
                start_at_unix_ms: self.settings.start_at.map(crate::plan::shard::unix_ms),
                started_unix_ms: crate::plan::shard::unix_ms(self.started),
            }),
            handshake: recorded
                .handshake_us
                .as_ref()
                .map(LatencyReport::from_histogram),
            targets: (self.recorder.spread.as_ref())
                .map_or_else(Vec::new, |s| s.shares(elapsed.as_secs_f64())),
            protocols: (self.recorder.by_protocol.as_ref())
                .map_or_else(Vec::new, |s| s.shares(elapsed.as_secs_f64())),
            errors,
            server,
            generator,
            thresholds: self.settings.thresholds.clone(),
            verdict,
            soak,
            ceiling: None,
            series: self
                .series
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .points
                .clone(),
        };
        self.target.close().await;
        report
    }
}

/// What `--protocol` asked for, as the report names it.
fn requested(protocols: &[crate::target::protocol::Protocol]) -> String {
    if protocols.is_empty() {
        return "auto".to_string();
    }
    let names: Vec<String> = protocols.iter().map(ToString::to_string).collect();
    names.join(",")
}
