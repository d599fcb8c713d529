//! Load scenarios: TOML files holding the target, the load model, the tool mix with arguments
//! and the pass/fail thresholds. Unknown keys and bad values are errors naming the file, the
//! key and what was expected. Command-line flags override scenario values.
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::plan::de::opt_duration;
use crate::plan::op::Op;

/// A scenario file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name for reports.
    pub name: Option<String>,
    /// What the scenario checks, for people.
    #[allow(
        dead_code,
        reason = "a scenario may describe itself; zen reads it only to accept the key"
    )]
    pub description: Option<String>,
    /// `[target]`: which server to drive.
    #[serde(default)]
    pub target: TargetSection,
    /// `[load]`: the load model.
    #[serde(default)]
    pub load: LoadSection,
    /// The calls to make, picked by weight; default: zen's chat with a short prompt.
    #[serde(default)]
    pub calls: Vec<CallSpec>,
    /// `[thresholds]`: the pass/fail limits, on the whole run and per operation and tool.
    #[serde(default)]
    pub thresholds: crate::plan::thresholds::ScenarioThresholds,
    /// `[[stages]]`: the load over time (concurrency, or calls/s with `[load] open_loop`).
    #[serde(default)]
    pub stages: Vec<crate::engine::stages::Stage>,
}

/// Which server to drive.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSection {
    /// An MCP server command to spawn over stdio.
    pub stdio: Option<String>,
    /// A streamable HTTP endpoint.
    pub url: Option<String>,
    /// Environment for a spawned target.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The MCP revision to speak (`"auto"`, `"2026-07-28"`, …), or a list of them spread over
    /// the sessions.
    #[serde(default, deserialize_with = "protocols")]
    pub protocol: Vec<crate::target::protocol::Protocol>,
    /// Headers sent with every request to a `url` target (`-H` wins by name).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The environment variable holding a bearer token (`--bearer-token-env` wins).
    pub bearer_token_env: Option<String>,
    /// HTTPS: a PEM file of certificates to trust besides the system's.
    pub cacert: Option<std::path::PathBuf>,
    /// HTTPS: accept any certificate, unverified.
    #[serde(default)]
    pub insecure: bool,
    /// The HTTP transport: `streamable-http` (default), `sse` or `auto`.
    pub transport: Option<crate::target::http::transport::Transport>,
}

/// One protocol choice or a list of them.
fn protocols<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<crate::target::protocol::Protocol>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        One(String),
        Many(Vec<String>),
    }
    let texts = match Raw::deserialize(d)? {
        Raw::One(text) => vec![text],
        Raw::Many(texts) => texts,
    };
    texts
        .iter()
        .map(|t| crate::target::protocol::Protocol::parse(t).map_err(serde::de::Error::custom))
        .collect()
}

/// The load model.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadSection {
    /// Closed loop: calls kept in flight at once.
    pub concurrency: Option<u32>,
    /// Closed loop: calls to make in all.
    pub requests: Option<u64>,
    /// Run for this long instead of a call count (seconds, or text such as `30s`).
    #[serde(default, deserialize_with = "opt_duration")]
    pub duration: Option<Duration>,
    /// Open loop: calls started per second.
    pub rate: Option<f64>,
    /// Open loop: most calls outstanding at once.
    pub max_in_flight: Option<u32>,
    /// MCP sessions to spread the calls over.
    pub sessions: Option<u32>,
    /// Per-call timeout (seconds, or text such as `60s`).
    #[serde(default, deserialize_with = "opt_duration")]
    pub timeout: Option<Duration>,
    /// With `[[stages]]`: their targets are calls per second (open loop), not calls in flight.
    #[serde(default)]
    pub open_loop: bool,
    /// Every call from a new client (`--churn`).
    #[serde(default)]
    pub churn: bool,
}

/// One kind of call in the mix.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallSpec {
    /// The operation [default: tools/call].
    #[serde(default)]
    pub op: crate::plan::op::Op,
    /// Tool name (tools/call).
    #[serde(default)]
    pub tool: String,
    /// resources/read: the resource's URI, or `random` (one of the target's resources/list,
    /// picked per call).
    pub uri: Option<String>,
    /// prompts/get: the prompt's name (its arguments are `args`).
    pub prompt: Option<String>,
    /// resources/read `random`: the URIs to pick from, listed from the target before load.
    #[serde(skip)]
    pub uris: Vec<String>,
    /// Arguments (a TOML table → a JSON object).
    #[serde(default)]
    pub args: Map<String, Value>,
    /// Relative share of the mix.
    #[serde(default = "one")]
    pub weight: u32,
    /// Share of these calls that continue a recent conversation (passing back a
    /// `continuation_id` the server returned) instead of starting a new one.
    #[serde(default)]
    pub continue_ratio: f64,
    /// Most follow-up turns one conversation gets before it is retired.
    #[serde(default = "ten")]
    pub max_chain: u32,
    /// A chain of steps: the Nth follow-up on a conversation sends `args` with `steps[N-1]`
    /// merged over them (e.g. step_number 2, then 3 with next_step_required false), so a
    /// workflow tool is driven step by step. Empty: every follow-up sends `args`.
    #[serde(default)]
    pub steps: Vec<Map<String, Value>>,
}

fn one() -> u32 {
    1
}
fn ten() -> u32 {
    10
}

impl CallSpec {
    /// What the report calls this kind of call: the tool for tools/call, else the operation.
    pub fn label(&self) -> String {
        match self.op {
            Op::ToolsCall => self.tool.clone(),
            op => op.method().to_string(),
        }
    }

    /// The keys this call's operation needs are there, and no others.
    pub fn check_op(&self) -> Result<()> {
        let op = self.op;
        match op {
            Op::ToolsCall if self.tool.trim().is_empty() => bail!("tool: expected a tool name"),
            Op::ResourcesRead if self.uri.as_deref().is_none_or(str::is_empty) => {
                bail!(
                    "resources/read needs uri: a resource URI, or \"random\" (one of the target's, per call)"
                )
            }
            Op::PromptsGet if self.prompt.as_deref().is_none_or(str::is_empty) => {
                bail!("prompts/get needs prompt: the prompt's name (its arguments go in args)")
            }
            Op::Complete
                if !self.args.contains_key("ref") || !self.args.contains_key("argument") =>
            {
                bail!(
                    "completion/complete needs args with its params: ref and argument, e.g. \
                 {{ ref = {{ type = \"ref/prompt\", name = \"p\" }}, argument = {{ name = \"a\", value = \"x\" }} }}"
                )
            }
            _ => {}
        }
        if op != Op::ToolsCall && !self.tool.is_empty() {
            bail!("tool applies to tools/call, not {op}");
        }
        if op != Op::ToolsCall && (self.continue_ratio > 0.0 || !self.steps.is_empty()) {
            bail!("continue_ratio and steps apply to tools/call, not {op}");
        }
        if op != Op::ResourcesRead && self.uri.is_some() {
            bail!("uri applies to resources/read, not {op}");
        }
        if op != Op::PromptsGet && self.prompt.is_some() {
            bail!("prompt applies to prompts/get, not {op}");
        }
        Ok(())
    }

    /// zen's chat with a short prompt: the default call.
    pub fn default_chat() -> Self {
        let mut args = Map::new();
        args.insert(
            "prompt".into(),
            Value::String("Reply with one short sentence: is this server fast?".into()),
        );
        CallSpec {
            op: crate::plan::op::Op::ToolsCall,
            uri: None,
            prompt: None,
            uris: Vec::new(),
            tool: "chat".into(),
            args,
            weight: 1,
            continue_ratio: 0.0,
            max_chain: 10,
            steps: Vec::new(),
        }
    }
}

impl Scenario {
    /// Read and check a scenario file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read scenario {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("scenario {}", path.display()))
    }

    /// Parse and check scenario text.
    pub fn parse(text: &str) -> Result<Self> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        scenario.check()?;
        Ok(scenario)
    }

    fn check(&self) -> Result<()> {
        if self.target.stdio.is_some() && self.target.url.is_some() {
            bail!("[target]: set stdio or url, not both");
        }
        for (i, call) in self.calls.iter().enumerate() {
            call.check_op()
                .map_err(|e| anyhow::anyhow!("[[calls]] #{}: {e}", i + 1))?;
            let at = format!("[[calls]] #{} ({})", i + 1, call.label());
            if call.weight == 0 {
                bail!("{at}: weight: expected 1 or more");
            }
            if !(0.0..=1.0).contains(&call.continue_ratio) {
                bail!("{at}: continue_ratio: expected a number from 0.0 to 1.0");
            }
            if !call.steps.is_empty()
                && (call.continue_ratio == 0.0 || call.max_chain as usize > call.steps.len())
            {
                bail!(
                    "{at}: steps: a chain of {} steps needs continue_ratio above 0 and max_chain \
                     at most {} (one follow-up per step)",
                    call.steps.len(),
                    call.steps.len()
                );
            }
        }
        if !self.stages.is_empty() {
            crate::engine::stages::check(&self.stages).context("[[stages]]")?;
        }
        if self.load.open_loop && self.stages.is_empty() {
            bail!(
                "[load] open_loop applies to [[stages]]; for a constant open loop set [load] rate"
            );
        }
        self.thresholds.check()?;
        if let Some(r) = self.load.rate
            && !(r > 0.0 && r.is_finite())
        {
            bail!("[load] rate: expected calls per second above 0, got {r}");
        }
        for (key, v) in [
            ("concurrency", self.load.concurrency.map(u64::from)),
            ("requests", self.load.requests),
            ("max_in_flight", self.load.max_in_flight.map(u64::from)),
            ("sessions", self.load.sessions.map(u64::from)),
        ] {
            if v == Some(0) {
                bail!("[load] {key}: expected 1 or more");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_chain_of_steps_needs_continuations_and_room_for_its_steps() {
        // (tests/it/stress.rs checks that every shipped scenario parses.)
        let bad =
            "[[calls]]\ntool = \"debug\"\ncontinue_ratio = 0.5\nsteps = [{ step_number = 2 }]\n";
        let err = Scenario::parse(bad).unwrap_err().to_string();
        assert!(err.contains("steps: a chain of 1 steps needs"), "{err}");
    }

    use super::*;

    #[test]
    fn a_full_scenario_parses() {
        let s = Scenario::parse(
            r#"
            name = "x"
            [target]
            env = { ZEN_SIM_LATENCY_MS = "200" }
            [load]
            concurrency = 30
            duration = "1m"
            timeout = 5
            [[calls]]
            tool = "chat"
            args = { prompt = "hi", temperature = 0.5 }
            weight = 3
            continue_ratio = 0.5
            [thresholds]
            max_error_rate = 0.01
            max_p99 = "750ms"
            "#,
        )
        .unwrap();
        assert_eq!(s.load.duration, Some(Duration::from_secs(60)));
        assert_eq!(s.load.timeout, Some(Duration::from_secs(5)));
        assert_eq!(s.calls[0].args["temperature"], 0.5);
        assert_eq!(s.thresholds.max_p99, Some(Duration::from_millis(750)));
    }

    #[test]
    fn errors_name_the_key_and_what_was_expected() {
        let err = |t: &str| format!("{:#}", Scenario::parse(t).unwrap_err());
        assert!(err("[load]\nconcurency = 3").contains("unknown field `concurency`"));
        assert!(err("[load]\nconcurrency = \"lots\"").contains("concurrency"));
        assert!(err("[load]\nduration = \"soon\"").contains("'soon' is not a duration"));
        assert!(
            err("[thresholds]\nmax_error_rate = 2.0")
                .contains("max_error_rate: expected a number from 0.0 to 1.0")
        );
        assert!(
            err("[[calls]]\ntool = \"chat\"\nweight = 0").contains("weight: expected 1 or more")
        );
        assert!(err("[target]\nstdio = \"a\"\nurl = \"b\"").contains("not both"));
    }
}
