//! Command-line flags merged over a scenario file into one run's settings (flags win), with
//! the defaults of `zen stress` and `zen soak`.
use std::time::Duration;

use anyhow::{Result, bail};

use crate::args::{LoadArgs, TargetArgs};
use crate::engine::{Model, Plan, Stop};
use crate::plan::op::Op;
use crate::plan::scenario::Scenario;
use crate::plan::shard::Shard;
use crate::target::TargetSpec;
use zen_model::report::verdict::Thresholds;
use zen_model::report::{LoadReport, StageReport};

pub use crate::plan::model::{DEFAULT_MAX_IN_FLIGHT, Defaults};

/// One run, fully specified.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// The scenario's name (or its file's name without the extension), if one was used.
    pub scenario: Option<String>,
    /// Which server to drive.
    pub target: TargetSpec,
    /// Environment for a spawned target: the scenario's, `--env` pairs over it (none for `--url`).
    pub env: Vec<(String, String)>,
    /// MCP sessions to spread the calls over.
    pub sessions: u32,
    /// The MCP revisions the sessions speak, round robin (`--protocol`; empty: auto).
    pub protocols: Vec<crate::target::protocol::Protocol>,
    /// How long the target may take to start and answer initialize and tools/list.
    pub startup_timeout: Duration,
    /// The load model, per-call timeout and call mix.
    pub plan: Plan,
    /// The pass/fail limits from the scenario (`zen stress` lays its flags over them).
    pub thresholds: Thresholds,
    /// Credentials and TLS trust for an HTTP target (`-H`, `--bearer-token-env`, `--cacert`,
    /// `--insecure`, or the scenario's `[target]` keys).
    pub(crate) access: std::sync::Arc<crate::target::access::Access>,
    /// The HTTP transport of a `--url` target.
    pub(crate) transport: crate::target::http::transport::Transport,
    /// `--shard I/N`: this generator's part of one test on N.
    pub shard: Option<Shard>,
    /// `--start-at`: when the load starts (after connecting).
    pub start_at: Option<std::time::SystemTime>,
}

const DEFAULT_TIMEOUT: Duration = Duration::from_mins(1);

impl RunSettings {
    /// Merge flags over the scenario (if any) over the defaults.
    pub fn merge(target: &TargetArgs, load: &LoadArgs, defaults: Defaults) -> Result<Self> {
        let scenario = match &load.scenario {
            Some(path) => Scenario::load(path)?,
            None => Scenario::default(),
        };
        let s = &scenario.load;
        let target_spec = crate::plan::target::spec(target, &scenario)?;
        let env = crate::plan::target::env(target, &scenario, &target_spec)?;
        for (flag, key, given, from_scenario) in [
            ("--duration", "duration", load.duration, s.duration),
            ("--timeout", "timeout", load.timeout, s.timeout),
        ] {
            let source = match (given, from_scenario) {
                (Some(d), _) if d.is_zero() => Some(format!("{flag} 0")),
                (None, Some(d)) if d.is_zero() => Some(format!("the scenario's [load] {key} = 0")),
                _ => None,
            };
            if let Some(source) = source {
                bail!("{source} leaves no time for a single call: give it a length, e.g. 30s");
            }
        }

        let (model, shape) = crate::plan::model::model(load, &scenario, defaults)?;

        let calls = crate::plan::calls::calls(load, &scenario)?;
        let access = crate::plan::target::access(target, &scenario, &target_spec)?;
        if let Some(at) = load.start_at {
            crate::plan::shard::until(at)?;
        }
        let model = match load.shard {
            Some(shard) => {
                if shape.is_some() && matches!(model, Model::Closed { .. }) {
                    bail!(
                        "--shard with closed-loop stages is not supported: shard an open loop \
                         (--stages … --rate), or a constant concurrency"
                    );
                }
                shard.split(model)?
            }
            None => model,
        };
        let churn = load.churn || s.churn;
        let transport = target
            .transport
            .or(scenario.target.transport)
            .unwrap_or_default();
        if !matches!(target_spec, TargetSpec::Url(_)) {
            if churn {
                bail!(
                    "--churn needs an HTTP target (--url): over stdio a new client is a new \
                     server process"
                );
            }
            if transport != crate::target::http::transport::Transport::default() {
                bail!("--transport applies to --url targets");
            }
        }
        let thresholds = scenario.thresholds.to_report();
        let kinds: Vec<(Op, &str)> = calls.iter().map(|c| (c.op, c.tool.as_str())).collect();
        crate::plan::thresholds::check_scopes(&thresholds, &kinds)
            .map_err(|e| e.context("the scenario's [thresholds]"))?;
        Ok(RunSettings {
            scenario: scenario.name.clone().or_else(|| {
                load.scenario
                    .as_ref()
                    .and_then(|p| p.file_stem())
                    .map(|s| s.to_string_lossy().into_owned())
            }),
            target: target_spec,
            env,
            sessions: match load.shard {
                Some(shard) => {
                    (shard.part(u64::from(load.sessions.or(s.sessions).unwrap_or(1))) as u32).max(1)
                }
                None => load.sessions.or(s.sessions).unwrap_or(1),
            },
            protocols: if target.protocol.is_empty() {
                scenario.target.protocol.clone()
            } else {
                target.protocol.clone()
            },
            startup_timeout: load
                .startup_timeout
                .unwrap_or(crate::target::DEFAULT_STARTUP_TIMEOUT),
            plan: Plan {
                model,
                timeout: load.timeout.or(s.timeout).unwrap_or(DEFAULT_TIMEOUT),
                calls,
                seed: rand::random(),
                shape,
                churn,
                shard: load.shard.map(|s| (s.index, s.count)),
            },
            thresholds,
            access,
            transport,
            shard: load.shard,
            start_at: load.start_at,
        })
    }

    /// The load section of a report.
    pub fn load_report(&self) -> LoadReport {
        let (model, concurrency, requests, rate, max_in_flight, duration) = match self.plan.model {
            Model::Closed { concurrency, stop } => match stop {
                Stop::Requests(n) => ("closed", Some(concurrency), Some(n), None, None, None),
                Stop::Duration(d) => (
                    "closed",
                    Some(concurrency),
                    None,
                    None,
                    None,
                    Some(d.as_secs_f64()),
                ),
            },
            Model::Open {
                rate,
                duration,
                max_in_flight,
            } => (
                "open",
                None,
                None,
                // A shard sends its share of the schedule.
                Some(rate / f64::from(self.shard.map_or(1, |s| s.count))),
                Some(max_in_flight),
                Some(duration.as_secs_f64()),
            ),
        };
        LoadReport {
            model: model.to_string(),
            concurrency,
            requests,
            rate_per_sec: rate,
            max_in_flight,
            duration_secs: duration,
            sessions: self.sessions,
            timeout_secs: self.plan.timeout.as_secs_f64(),
            stages: self.plan.shape.as_ref().map(|p| {
                p.stages()
                    .into_iter()
                    .map(|(duration_secs, target)| StageReport {
                        duration_secs,
                        target,
                    })
                    .collect()
            }),
        }
    }
}
