//! One load run from start to report, shared by stress and soak: connect to the target, read
//! zen's snapshot before, drive the engine with a progress bar, read the snapshot after, close
//! the target, and build the report.
pub(crate) mod live;
pub(crate) mod progress;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tokio_util::sync::CancellationToken;

use zen_model::report::series::{MAX_POINTS, Series};
use zen_model::report::soak::SoakReport;
use zen_model::report::verdict::{Measured, Parts, judge_all};
use zen_model::report::{
    CallCounts, Generator, LatencyReport, LoadReport, Report, ServerSide, TargetReport,
};
use zen_model::snapshot::Snapshot;

use crate::engine::recorder::{Recorder, op_reports, tool_reports};
use crate::engine::spread::Spread;
use crate::engine::{self, Model, sampler};
use crate::plan::settings::RunSettings;
use crate::target::Target;
pub use live::Dashboard;

/// Before a run: `--tui` needs a terminal on stdout.
pub(crate) fn check_terminal(tui: bool) -> Result<()> {
    use std::io::IsTerminal;
    anyhow::ensure!(
        !tui || std::io::stdout().is_terminal(),
        "--tui needs a terminal on stdout; drop --tui (or use --json) when piping"
    );
    Ok(())
}

/// How a run shows itself while it goes.
pub(crate) enum Ui {
    /// A progress bar on stderr (when it is a terminal), with an optional extra line.
    Progress(Option<Arc<std::sync::Mutex<String>>>),
    /// The `zen top` dashboard, drawn by the hook the binary passed in.
    Dashboard(Dashboard),
    /// Nothing at all (`--quiet`).
    Quiet,
}

/// A connected run, ready to load.
pub(crate) struct Run {
    /// `stress` or `soak`.
    pub command: &'static str,
    pub settings: RunSettings,
    pub target: Target,
    pub recorder: Arc<Recorder>,
    /// Fired by Ctrl-C (or a caller): stop sending, report what was measured.
    pub stop: CancellationToken,
    /// zen's snapshot before the load.
    before: Option<Snapshot>,
    /// zen's snapshot after the load, when a step search took it already (else read at finish).
    after: Option<Snapshot>,
    /// The per-second time series, filled while the load runs.
    series: Arc<std::sync::Mutex<Series>>,
    /// When the run was ready to load (after any `--start-at` wait), by the wall clock.
    started: std::time::SystemTime,
}

impl Run {
    /// Connect to the target and get ready. `shutdown` (Ctrl-C) from here on ends the run early.
    pub(crate) async fn start(
        command: &'static str,
        settings: RunSettings,
        shutdown: &CancellationToken,
    ) -> Result<Self> {
        let target = Target::connect(
            &settings.target,
            &settings.env,
            settings.sessions,
            settings.plan.model.in_flight(),
            settings.startup_timeout,
            &settings.protocols,
            (&settings.access, settings.transport),
        )
        .await?;
        // Nothing is sent before the calls are known to fit the target's tools.
        let calls = &settings.plan.calls;
        if let Err(e) = crate::target::preflight::check(&target.tools, &target.dropped, calls) {
            target.close().await;
            return Err(e);
        }
        let mut settings = settings;
        if let Err(e) = random_uris(&target, &mut settings.plan.calls).await {
            target.close().await;
            return Err(e);
        }
        let before = target.snapshot().await;
        // Shards start together: wait for the agreed instant, which must not have passed
        // while connecting.
        if let Some(at) = settings.start_at {
            let wait = match crate::plan::shard::until(at) {
                Ok(wait) => wait,
                Err(e) => {
                    target.close().await;
                    return Err(e.context("the target took too long to connect"));
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = shutdown.cancelled() => {}
            }
        }
        let open = matches!(settings.plan.model, Model::Open { .. });
        let stop = shutdown.child_token();
        Ok(Run {
            command,
            recorder: Arc::new(
                Recorder::for_kinds(&kinds(&settings), open)
                    .with_spread(Spread::new(
                        target.instances.clone(),
                        target.session_instance.clone(),
                    ))
                    .with_protocols(crate::engine::spread::group(&target.protocols)),
            ),
            settings,
            target,
            stop,
            before,
            after: None,
            series: Arc::new(std::sync::Mutex::new(Series::new(MAX_POINTS))),
            started: std::time::SystemTime::now(),
        })
    }

    /// Start a fresh step of a search with `model`: new recorder, series and before-snapshot
    /// on the same target.
    pub(crate) async fn begin_step(&mut self, model: Model) {
        self.settings.plan.model = model;
        let open = matches!(model, Model::Open { .. });
        self.recorder = Arc::new(Recorder::for_kinds(&kinds(&self.settings), open));
        self.series = Arc::new(std::sync::Mutex::new(Series::new(MAX_POINTS)));
        self.before = self.target.snapshot().await;
        self.after = None;
    }

    /// What the step just driven measured, kept whole so it can become the report.
    pub(crate) async fn end_step(&mut self, elapsed: Duration, cpu_secs: f64) -> Step {
        if self.recorder.lost().is_none() {
            self.after = self.target.snapshot().await;
        }
        Step {
            model: self.settings.plan.model,
            recorder: self.recorder.clone(),
            series: self.series.clone(),
            before: self.before.clone(),
            after: self.after.clone(),
            elapsed,
            cpu_secs,
        }
    }

    /// Make a step kept by `end_step` the one the report describes. Returns its (wall time,
    /// generator CPU secs) for `finish`.
    pub(crate) fn restore(&mut self, step: Step) -> (Duration, f64) {
        self.settings.plan.model = step.model;
        self.recorder = step.recorder;
        self.series = step.series;
        self.before = step.before;
        self.after = step.after;
        (step.elapsed, step.cpu_secs)
    }

    /// Drive the load to its end (or until stopped, or the target dies). Returns (wall time,
    /// generator CPU secs).
    pub(crate) async fn drive(&self, ui: Ui) -> (Duration, f64) {
        let cpu_before = zen_os::process::cpu_secs();
        let done = CancellationToken::new();
        let watchdog = crate::engine::watchdog::spawn(
            self.target.peers(),
            self.recorder.clone(),
            self.stop.clone(),
            done.clone(),
        );
        let sampler = sampler::sample(
            self.recorder.clone(),
            &self.target,
            self.series.clone(),
            done.clone(),
        );
        let load = async {
            let elapsed = self.load(ui).await;
            done.cancel();
            elapsed
        };
        let (elapsed, ()) = tokio::join!(load, sampler);
        let _ = watchdog.await;
        (elapsed, zen_os::process::cpu_secs() - cpu_before)
    }

    /// The engine, shown by the chosen UI.
    async fn load(&self, ui: Ui) -> Duration {
        let load = engine::run(
            self.settings.plan.clone(),
            self.target.peers(),
            self.recorder.clone(),
            self.stop.clone(),
        );
        match ui {
            Ui::Progress(extra) => {
                let done = CancellationToken::new();
                let bar = crate::run::progress::spawn(
                    self.settings.plan.model,
                    self.recorder.clone(),
                    done.clone(),
                    extra,
                );
                let elapsed = load.await;
                done.cancel();
                if let Some(bar) = bar {
                    let _ = bar.await;
                }
                elapsed
            }
            Ui::Quiet => load.await,
            Ui::Dashboard(dashboard) => {
                live::with_dashboard(self.live(), &dashboard, self.planned_duration(), load).await
            }
        }
    }

    /// Why the run ended before its plan did, if it did: the target died, or it was stopped.
    fn ended_early(&self, elapsed: Duration) -> Option<String> {
        if let Some((at, why)) = self.recorder.lost() {
            return Some(format!("target died after {at:.1} s: {why}"));
        }
        self.stop.is_cancelled().then(|| {
            format!(
                "stopped early (q or Ctrl-C) after {:.1} s",
                elapsed.as_secs_f64()
            )
        })
    }

    /// The run's planned length, when it is time-bound.
    pub(crate) fn planned_duration(&self) -> Option<Duration> {
        self.settings.plan.model.duration()
    }

    /// zen's snapshot now (None for other servers).
    /// The parts of this run the dashboard reads.
    fn live(&self) -> live::LiveRun<'_> {
        live::LiveRun {
            command: self.command,
            target: &self.target,
            recorder: &self.recorder,
            stop: &self.stop,
        }
    }

    pub(crate) async fn snapshot(&self) -> Option<Snapshot> {
        self.target.snapshot().await
    }

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
            (Some(before), Some(after)) => Some(ServerSide::between(before, after, total)),
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

/// `resources/read` of `random`: the URIs the target lists, to pick from per call.
async fn random_uris(target: &Target, calls: &mut [crate::plan::scenario::CallSpec]) -> Result<()> {
    if !calls.iter().any(|c| c.uri.as_deref() == Some("random")) {
        return Ok(());
    }
    let listed = tokio::time::timeout(Duration::from_secs(30), target.sessions[0].resource_uris())
        .await
        .map_err(|_| anyhow::anyhow!("resources/list did not answer within 30s"))?
        .map_err(|e| {
            anyhow::anyhow!("resources/read random needs the target's resources/list: {e}")
        })?;
    anyhow::ensure!(
        !listed.is_empty(),
        "resources/read random: the target lists no resources (give one with --uri, or the \
         scenario's uri)"
    );
    for call in calls
        .iter_mut()
        .filter(|c| c.uri.as_deref() == Some("random"))
    {
        call.uris.clone_from(&listed);
    }
    Ok(())
}

/// Each call kind's label (tool, or method) and operation, in the plan's order.
fn kinds(settings: &RunSettings) -> Vec<(String, crate::plan::op::Op)> {
    (settings.plan.calls.iter())
        .map(|c| (c.label(), c.op))
        .collect()
}

/// What `--protocol` asked for, as the report names it.
fn requested(protocols: &[crate::target::protocol::Protocol]) -> String {
    if protocols.is_empty() {
        return "auto".to_string();
    }
    let names: Vec<String> = protocols.iter().map(ToString::to_string).collect();
    names.join(",")
}

/// One step of a search, as driven: enough to build the report from it later.
pub(crate) struct Step {
    /// The step's load model (its rate).
    pub model: Model,
    /// The step's measurements.
    pub recorder: Arc<Recorder>,
    /// The step's per-second series.
    series: Arc<std::sync::Mutex<Series>>,
    /// zen's snapshot before the step (None for other servers).
    before: Option<Snapshot>,
    /// zen's snapshot after the step (None for other servers).
    after: Option<Snapshot>,
    /// The step's wall time.
    elapsed: Duration,
    /// The generator's CPU over the step, seconds.
    cpu_secs: f64,
}

/// Print the report (JSON or text) to stdout.
pub(crate) fn print(report: &Report, json: bool) -> Result<()> {
    use std::io::Write;
    let text = if json {
        let mut s = serde_json::to_string_pretty(report)?;
        s.push('\n');
        s
    } else {
        // Coloured for a terminal; anstream strips the colour for pipes, files and NO_COLOR.
        let text = crate::report::render::render(report);
        crate::report::render::paint(&crate::report::terminal::safe(&text))
    };
    let mut out = anstream::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// `--quiet`: only the verdict line (JSON output is unaffected: it goes to programs).
pub(crate) fn print_verdict(report: &Report) -> Result<()> {
    use std::io::Write;
    let line = crate::report::render::verdict_line(report);
    let line = crate::report::render::paint(&crate::report::terminal::safe(&line));
    let mut out = anstream::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}
