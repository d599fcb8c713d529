//! Command-line flags merged over a scenario file into one run's settings (flags win), with
//! the defaults of `zen stress` and `zen soak`.
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

use crate::args::{LoadArgs, TargetArgs};
use crate::engine::stages::{Profile, parse_stages};
use crate::engine::{Model, Plan, Stop};
use crate::plan::op::Op;
use crate::plan::scenario::{CallSpec, LoadSection, Scenario};
use crate::plan::shard::Shard;
use crate::target::TargetSpec;
use crate::target::access::{Access, AccessAsked};
use zen_model::report::verdict::Thresholds;
use zen_model::report::{LoadReport, StageReport};

/// Defaults that differ between stress and soak.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    /// Closed-loop concurrency when nothing sets it.
    pub concurrency: u32,
    /// Run length when nothing sets one (soak); `None`: a call count (stress).
    pub duration: Option<Duration>,
}

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
/// Open loop: calls outstanding at once unless --max-in-flight says otherwise.
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 1024;

impl RunSettings {
    /// Merge flags over the scenario (if any) over the defaults.
    pub fn merge(target: &TargetArgs, load: &LoadArgs, defaults: Defaults) -> Result<Self> {
        let scenario = match &load.scenario {
            Some(path) => Scenario::load(path)?,
            None => Scenario::default(),
        };
        let s = &scenario.load;
        let target_spec = match (
            &target.stdio,
            &target.url[..],
            &scenario.target.stdio,
            &scenario.target.url,
        ) {
            (Some(cmd), _, _, _) => TargetSpec::Stdio(cmd.clone()),
            (_, [_, ..], _, _) => TargetSpec::Url(target.url.clone()),
            (_, _, Some(cmd), _) => TargetSpec::Stdio(cmd.clone()),
            (_, _, _, Some(url)) => TargetSpec::Url(vec![url.clone()]),
            _ => TargetSpec::SpawnSelf,
        };
        if let TargetSpec::Url(urls) = &target_spec
            && let Some(url) =
                (urls.iter()).find(|u| !(u.starts_with("http://") || u.starts_with("https://")))
        {
            bail!(
                "--url '{url}' is not an http:// or https:// URL (e.g. http://127.0.0.1:8931/mcp)"
            );
        }
        let mut env: Vec<(String, String)> = match &target_spec {
            // A server already running keeps the environment it was started with; a scenario
            // written for a spawned zen still drives it, so its env is set aside, not an error.
            TargetSpec::Url(urls) => {
                let url = urls.join(", ");
                if let Some((key, _)) = target.env.first() {
                    bail!(
                        "--env {key}=… would be ignored: {url} is a server that is already \
                         running, so set its environment where you start it (--env is for a \
                         spawned target)"
                    );
                }
                if !scenario.target.env.is_empty() {
                    tracing::warn!(
                        %url,
                        "the scenario's [target] env applies to a spawned target; ignored for --url"
                    );
                }
                Vec::new()
            }
            _ => scenario.target.env.clone().into_iter().collect(),
        };
        for (k, v) in &target.env {
            env.retain(|(key, _)| key != k);
            env.push((k.clone(), v.clone()));
        }
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

        let (model, shape) = match shape(load, &scenario)? {
            Some((profile, open)) => (staged_model(&profile, open, load, s)?, Some(profile)),
            None => (constant_model(load, s, defaults)?, None),
        };

        let calls = match (&load.tool, &load.args) {
            _ if !load.op.is_empty() => op_calls(load)?,
            (None, None) if !scenario.calls.is_empty() => scenario.calls.clone(),
            (None, None) => vec![CallSpec::default_chat()],
            (tool, args) => {
                let mut spec = CallSpec::default_chat();
                if let Some(tool) = tool {
                    spec.tool.clone_from(tool);
                    spec.args = Map::new();
                }
                if let Some(json) = args {
                    spec.args = parse_args(json)?;
                }
                vec![spec]
            }
        };
        let access = access(target, &scenario, &target_spec)?;
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
        let t = &scenario.thresholds;
        let max_error_rate = t.max_error_rate;
        let thresholds = Thresholds {
            max_error_rate,
            max_p99_ms: t.max_p99.map(|d| d.as_secs_f64() * 1000.0),
            min_throughput: t.min_throughput,
        };
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

/// The load model without stages: closed (concurrency, count or duration) or open (`--rate`).
fn constant_model(load: &LoadArgs, s: &LoadSection, defaults: Defaults) -> Result<Model> {
    let rate = match load.rate {
        Some(Some(rate)) => Some(rate),
        Some(None) => bail!(
            "--rate without a value goes with --stages; give calls per second, e.g. --rate 100"
        ),
        None => s.rate,
    };
    let duration = load.duration.or(s.duration);
    let requests = load.requests.or(s.requests);
    let concurrency = load.concurrency.or(s.concurrency);
    Ok(if let Some(rate) = rate {
        if !(rate > 0.0 && rate.is_finite()) {
            bail!("--rate {rate}: expected calls per second above 0");
        }
        if requests.is_some() || concurrency.is_some() {
            bail!(
                "--rate is an open loop: use it with --duration and --max-in-flight, not --requests or --concurrency"
            );
        }
        let duration = duration.or(defaults.duration).context(
            "--rate needs --duration (how long to keep the schedule going), e.g. --rate 100 --duration 30s",
        )?;
        Model::Open {
            rate,
            duration,
            max_in_flight: load
                .max_in_flight
                .or(s.max_in_flight)
                .unwrap_or(DEFAULT_MAX_IN_FLIGHT),
        }
    } else {
        if load.max_in_flight.is_some() {
            bail!(
                "--max-in-flight applies to the open loop (--rate); in a closed loop use --concurrency"
            );
        }
        let concurrency = concurrency.unwrap_or(defaults.concurrency);
        let stop = match (requests, duration) {
            (Some(_), Some(_)) if load.requests.is_some() && load.duration.is_some() => {
                bail!("give --requests or --duration, not both")
            }
            // A flag beats the scenario's other stop condition.
            (Some(n), Some(d)) => {
                if load.duration.is_some() {
                    Stop::Duration(d)
                } else {
                    Stop::Requests(n)
                }
            }
            (Some(n), None) => Stop::Requests(n),
            (None, Some(d)) => Stop::Duration(d),
            (None, None) => match defaults.duration {
                Some(d) => Stop::Duration(d),
                None => Stop::Requests(u64::from(concurrency)),
            },
        };
        // No more callers than calls: the report's concurrency is what really ran.
        let concurrency = match stop {
            Stop::Requests(n) => concurrency.min(u32::try_from(n).unwrap_or(u32::MAX)),
            Stop::Duration(_) => concurrency,
        };
        Model::Closed { concurrency, stop }
    })
}

/// The stages to run, if any, and whether their targets are rates (open loop).
fn shape(load: &LoadArgs, scenario: &Scenario) -> Result<Option<(Profile, bool)>> {
    let stages = match &load.stages {
        Some(text) => parse_stages(text).map_err(|e| anyhow::anyhow!("--stages: {e}"))?,
        // A flag that sets the load model beats the scenario's stages.
        None if !scenario.stages.is_empty()
            && load.concurrency.is_none()
            && load.requests.is_none()
            && load.duration.is_none()
            && !matches!(load.rate, Some(Some(_))) =>
        {
            scenario.stages.clone()
        }
        None => return Ok(None),
    };
    let open = match load.rate {
        Some(Some(rate)) => bail!(
            "--rate {rate} with --stages: the stage targets are the rates; give --rate without a value"
        ),
        Some(None) => true,
        None => scenario.load.open_loop,
    };
    Ok(Some((Profile::from_stages(&stages), open)))
}

/// The model that holds a shape: its peak and its total length.
fn staged_model(profile: &Profile, open: bool, load: &LoadArgs, s: &LoadSection) -> Result<Model> {
    let duration = profile.duration();
    if open {
        return Ok(Model::Open {
            rate: profile.peak(),
            duration,
            max_in_flight: load
                .max_in_flight
                .or(s.max_in_flight)
                .unwrap_or(DEFAULT_MAX_IN_FLIGHT),
        });
    }
    if load.max_in_flight.is_some() {
        bail!(
            "--max-in-flight applies to the open loop (--stages … --rate); closed-loop stages set the calls in flight"
        );
    }
    Ok(Model::Closed {
        concurrency: (profile.peak().ceil() as u32).max(1),
        stop: Stop::Duration(duration),
    })
}

fn parse_args(json: &str) -> Result<Map<String, Value>> {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => {
            bail!("--args must be a JSON object like '{{\"prompt\": \"hi\"}}', not {other}")
        }
        Err(e) => bail!("--args is not valid JSON ({e}); e.g. --args '{{\"prompt\": \"hi\"}}'"),
    }
}

/// The access flags over the scenario's `[target]` keys, checked and read (only an HTTP target
/// takes them).
fn access(
    target: &TargetArgs,
    scenario: &Scenario,
    spec: &TargetSpec,
) -> Result<std::sync::Arc<Access>> {
    let st = &scenario.target;
    let mut headers: Vec<(String, String)> = (st.headers.iter())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (name, value) in &target.headers {
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        headers.push((name.clone(), value.clone()));
    }
    let asked = AccessAsked {
        headers,
        bearer_token_env: target
            .bearer_token_env
            .clone()
            .or_else(|| st.bearer_token_env.clone()),
        cacert: target.cacert.clone().or_else(|| st.cacert.clone()),
        insecure: target.insecure || st.insecure,
    };
    if !asked.is_empty() && !matches!(spec, TargetSpec::Url(_)) {
        bail!(
            "headers, --bearer-token-env, --cacert and --insecure are for an HTTP target \
             (--url); a stdio server is a process of yours and takes its credentials from \
             --env"
        );
    }
    Ok(std::sync::Arc::new(Access::build(&asked)?))
}

/// `--op` (repeatable): one call kind per operation, an equal share each, with `--tool`,
/// `--args`, `--uri` and `--prompt` for the operations that take them.
fn op_calls(load: &LoadArgs) -> Result<Vec<CallSpec>> {
    let args = match &load.args {
        Some(json) => parse_args(json)?,
        None => Map::new(),
    };
    let mut calls = Vec::new();
    for op in &load.op {
        let mut spec = CallSpec::default_chat();
        spec.op = *op;
        match op {
            Op::ToolsCall => {
                if let Some(tool) = &load.tool {
                    spec.tool.clone_from(tool);
                    spec.args.clone_from(&args);
                } else if load.args.is_some() {
                    spec.args.clone_from(&args);
                }
            }
            Op::PromptsGet | Op::Complete => {
                spec.tool.clear();
                spec.args.clone_from(&args);
            }
            _ => {
                spec.tool.clear();
                spec.args = Map::new();
            }
        }
        if *op == Op::ResourcesRead {
            spec.uri = Some(load.uri.clone().unwrap_or_else(|| "random".to_string()));
        }
        if *op == Op::PromptsGet {
            spec.prompt.clone_from(&load.prompt);
        }
        spec.check_op().map_err(|e| {
            anyhow::anyhow!(
                "--op {op}: {e} (flags: --tool, --args, --uri, --prompt; a mix with its own \
                 arguments per operation goes in a scenario's [[calls]])"
            )
        })?;
        calls.push(spec);
    }
    if load.uri.is_some() && !load.op.contains(&Op::ResourcesRead) {
        bail!("--uri goes with --op resources/read");
    }
    if load.prompt.is_some() && !load.op.contains(&Op::PromptsGet) {
        bail!("--prompt goes with --op prompts/get");
    }
    Ok(calls)
}
