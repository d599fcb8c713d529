//! Pass/fail limits from the scenario's `[thresholds]` and the flags laid over them: on the
//! whole run (`--max-p99 500ms`, `max_p99 = "500ms"`), on one operation's calls
//! (`--max-p99 tools/call=300ms`, `[thresholds.operations."tools/call"]`) or on one tool's
//! (`--max-p99 tool:chat=1s`, `[thresholds.tools.chat]`). The three limits keep their names at
//! every scope; a scope names an operation zen sends, or a tool the run calls.
use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Result, bail};
use serde::Deserialize;

use crate::plan::de::opt_duration;
use crate::plan::op::Op;
use zen_model::report::verdict::{Limits, Thresholds};

/// A scenario's `[thresholds]`: the run-wide limits, and per operation and per tool.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScenarioThresholds {
    /// Most failed calls allowed, as a share (0.0 to 1.0).
    pub max_error_rate: Option<f64>,
    /// Highest p99 latency allowed.
    #[serde(default, deserialize_with = "opt_duration")]
    pub max_p99: Option<Duration>,
    /// Lowest throughput allowed, calls per second.
    pub min_throughput: Option<f64>,
    /// `[thresholds.operations."resources/read"]`: limits on one operation's calls alone.
    #[serde(default)]
    pub operations: BTreeMap<Op, ScenarioLimits>,
    /// `[thresholds.tools.chat]`: limits on one tool's calls alone.
    #[serde(default)]
    pub tools: BTreeMap<String, ScenarioLimits>,
}

/// One operation's or tool's limits in a scenario: the run-wide keys, on its calls alone.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScenarioLimits {
    /// Most of its calls allowed to fail, as a share (0.0 to 1.0).
    pub max_error_rate: Option<f64>,
    /// Highest p99 latency of its calls.
    #[serde(default, deserialize_with = "opt_duration")]
    pub max_p99: Option<Duration>,
    /// Fewest of its calls per second of the run.
    pub min_throughput: Option<f64>,
}

impl ScenarioLimits {
    fn limits(&self) -> Limits {
        Limits {
            max_error_rate: self.max_error_rate,
            max_p99_ms: self.max_p99.map(|d| d.as_secs_f64() * 1000.0),
            min_throughput: self.min_throughput,
        }
    }
}

impl ScenarioThresholds {
    /// The limits as the report carries them.
    pub(crate) fn to_report(&self) -> Thresholds {
        let global = ScenarioLimits {
            max_error_rate: self.max_error_rate,
            max_p99: self.max_p99,
            min_throughput: self.min_throughput,
        }
        .limits();
        Thresholds {
            max_error_rate: global.max_error_rate,
            max_p99_ms: global.max_p99_ms,
            min_throughput: global.min_throughput,
            operations: (self.operations.iter())
                .map(|(op, l)| (op.method().to_string(), l.limits()))
                .collect(),
            tools: (self.tools.iter())
                .map(|(tool, l)| (tool.clone(), l.limits()))
                .collect(),
        }
    }

    /// Error rates are shares.
    pub(crate) fn check(&self) -> Result<()> {
        let scoped = (self.operations.iter())
            .map(|(op, l)| (format!(".operations.\"{op}\""), l.max_error_rate))
            .chain((self.tools.iter()).map(|(t, l)| (format!(".tools.{t}"), l.max_error_rate)));
        for (at, rate) in [(String::new(), self.max_error_rate)]
            .into_iter()
            .chain(scoped)
        {
            if let Some(r) = rate
                && !(0.0..=1.0).contains(&r)
            {
                bail!(
                    "[thresholds{at}] max_error_rate: expected a number from 0.0 to 1.0, got {r}"
                );
            }
        }
        Ok(())
    }
}

/// What a scoped limit applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole run.
    Run,
    /// One operation's calls.
    Op(Op),
    /// One tool's calls.
    Tool(String),
}

/// A limit flag's value: `VALUE`, `OP=VALUE` or `tool:NAME=VALUE`.
#[derive(Debug, Clone, PartialEq)]
pub struct Scoped<T> {
    /// What it applies to.
    pub scope: Scope,
    /// The limit.
    pub value: T,
}

/// Split `[SCOPE=]VALUE` and read the scope (an unknown operation is an error listing them).
fn scoped<T>(text: &str, value: impl Fn(&str) -> Result<T, String>) -> Result<Scoped<T>, String> {
    let Some((scope, rest)) = text.rsplit_once('=') else {
        return Ok(Scoped {
            scope: Scope::Run,
            value: value(text)?,
        });
    };
    let scope =
        match scope.trim().strip_prefix("tool:") {
            Some(tool) if !tool.trim().is_empty() => Scope::Tool(tool.trim().to_string()),
            Some(_) => return Err("tool: needs the tool's name, e.g. tool:chat=1s".into()),
            None => Scope::Op(Op::parse(scope).map_err(|e| {
                format!("{e} (or tool:NAME for one tool's calls, e.g. tool:chat=…)")
            })?),
        };
    Ok(Scoped {
        scope,
        value: value(rest)?,
    })
}

/// `--max-p99 [SCOPE=]DURATION`.
pub(crate) fn parse_max_p99(text: &str) -> Result<Scoped<Duration>, String> {
    scoped(text, |v| zen_model::units::parse_duration(v.trim()))
}

/// `--max-error-rate [SCOPE=]RATE`, 0.0 to 1.0.
pub(crate) fn parse_max_error_rate(text: &str) -> Result<Scoped<f64>, String> {
    scoped(text, |v| match v.trim().parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("'{v}': expected a share of calls from 0.0 to 1.0")),
    })
}

/// `--min-throughput [SCOPE=]PER_SEC`.
pub(crate) fn parse_min_throughput(text: &str) -> Result<Scoped<f64>, String> {
    scoped(text, |v| match v.trim().parse::<f64>() {
        Ok(r) if r >= 0.0 && r.is_finite() => Ok(r),
        _ => Err(format!("'{v}': expected calls per second, 0 or more")),
    })
}

/// The threshold flags as given, to lay over the scenario's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Flags<'a> {
    /// `--max-error-rate`.
    pub max_error_rate: &'a [Scoped<f64>],
    /// `--max-p99`.
    pub max_p99: &'a [Scoped<Duration>],
    /// `--min-throughput`.
    pub min_throughput: &'a [Scoped<f64>],
}

/// Lay the flags over the scenario's limits (a flag wins at its scope); one scope twice in one
/// flag is an error.
pub(crate) fn lay(t: &mut Thresholds, flags: Flags<'_>) -> Result<()> {
    type Field = fn(&mut Limits) -> &mut Option<f64>;
    type Given = Vec<(Scope, f64)>;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let values = |v: &[Scoped<f64>]| -> Vec<(Scope, f64)> {
        v.iter().map(|s| (s.scope.clone(), s.value)).collect()
    };
    let p99: Vec<(Scope, f64)> = (flags.max_p99.iter())
        .map(|s| (s.scope.clone(), ms(s.value)))
        .collect();
    let each: [(&str, Given, Field); 3] = [
        ("--max-error-rate", values(flags.max_error_rate), |l| {
            &mut l.max_error_rate
        }),
        ("--max-p99", p99, |l| &mut l.max_p99_ms),
        ("--min-throughput", values(flags.min_throughput), |l| {
            &mut l.min_throughput
        }),
    ];
    for (flag, values, field) in each {
        for (i, (scope, value)) in values.iter().enumerate() {
            if values[..i].iter().any(|(s, _)| s == scope) {
                bail!("{flag} is given twice for {}: give it once", name(scope));
            }
            match scope {
                Scope::Run => {
                    let mut whole = t.whole_run();
                    *field(&mut whole) = Some(*value);
                    t.set_whole_run(&whole);
                }
                Scope::Op(op) => {
                    *field(t.operations.entry(op.method().to_string()).or_default()) = Some(*value);
                }
                Scope::Tool(tool) => {
                    *field(t.tools.entry(tool.clone()).or_default()) = Some(*value);
                }
            }
        }
    }
    Ok(())
}

fn name(scope: &Scope) -> String {
    match scope {
        Scope::Run => "the whole run".into(),
        Scope::Op(op) => op.method().into(),
        Scope::Tool(tool) => format!("tool:{tool}"),
    }
}

/// Every scoped limit names a part of this run: an operation it makes, a tool it calls (a
/// limit on calls never made would judge nothing).
/// `calls`: each kind of call's operation and tool (empty but for tools/call).
pub(crate) fn check_scopes(t: &Thresholds, calls: &[(Op, &str)]) -> Result<()> {
    let ops: Vec<&str> = calls.iter().map(|(op, _)| op.method()).collect();
    let tools: Vec<&str> = (calls.iter())
        .filter(|(op, _)| *op == Op::ToolsCall)
        .map(|(_, tool)| *tool)
        .collect();
    let list = |names: &[&str]| {
        let mut names = names.to_vec();
        names.sort_unstable();
        names.dedup();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    if let Some(op) = t.operations.keys().find(|op| !ops.contains(&op.as_str())) {
        bail!(
            "a threshold on {op}: this run makes no {op} calls (its operations: {}); add it \
             with --op {op} or the scenario's [[calls]]",
            list(&ops)
        );
    }
    if let Some(tool) = t.tools.keys().find(|t| !tools.contains(&t.as_str())) {
        bail!(
            "a threshold on tool:{tool}: this run calls no tool {tool} (its tools: {})",
            list(&tools)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_flags_name_an_operation_or_a_tool() {
        let p = parse_max_p99("tools/call=300ms").unwrap();
        assert_eq!(p.scope, Scope::Op(Op::ToolsCall));
        assert_eq!(p.value, Duration::from_millis(300));
        assert_eq!(parse_max_p99("500ms").unwrap().scope, Scope::Run);
        let tool = parse_max_error_rate("tool:chat=0.05").unwrap();
        assert_eq!(tool.scope, Scope::Tool("chat".into()));
        let err = parse_max_p99("tools/cal=1s").unwrap_err();
        assert!(err.contains("'tools/cal' is not an operation") && err.contains("ping"));
        assert!(err.contains("tool:NAME"), "{err}");
        assert!(parse_max_error_rate("ping=2").is_err());
        assert!(parse_min_throughput("ping=-1").is_err());
    }

    #[test]
    fn flags_win_at_their_scope_and_a_scope_twice_is_refused() {
        let mut t = Thresholds {
            max_p99_ms: Some(900.0),
            ..Thresholds::default()
        };
        let p99 = [
            parse_max_p99("tools/call=300ms").unwrap(),
            parse_max_p99("500ms").unwrap(),
        ];
        let rate = [parse_max_error_rate("tool:chat=0.5").unwrap()];
        let flags = Flags {
            max_error_rate: &rate,
            max_p99: &p99,
            min_throughput: &[],
        };
        lay(&mut t, flags).unwrap();
        assert_eq!(t.max_p99_ms, Some(500.0));
        assert_eq!(t.operations["tools/call"].max_p99_ms, Some(300.0));
        assert_eq!(t.tools["chat"].max_error_rate, Some(0.5));
        let twice = [p99[0].clone(), p99[0].clone()];
        let err = lay(
            &mut t,
            Flags {
                max_p99: &twice,
                ..flags
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("twice for tools/call"), "{err}");
        let calls = [(Op::ToolsCall, "chat")];
        check_scopes(&t, &calls).unwrap();
        t.operations.insert("ping".into(), Limits::default());
        let err = check_scopes(&t, &calls).unwrap_err().to_string();
        assert!(
            err.contains("no ping calls (its operations: tools/call)"),
            "{err}"
        );
    }
}
