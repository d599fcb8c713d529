//! The `version` tool: zen's version, uptime and a configuration summary, as a few lines a
//! person reads at a glance; programs read the same figures in `structuredContent`.
use std::sync::OnceLock;

use async_trait::async_trait;
use rmcp::model::{JsonObject, ToolAnnotations};
use serde_json::{Map, Value, json};

use super::{
    NoArgs, Tool, ToolContext, ToolError, ToolReply, empty_schema, parse_args, read_only_local,
    reply,
};

/// The version tool.
#[derive(Default)]
pub(crate) struct Version {
    /// What the reply says that never changes, built on the first call: the settings and
    /// providers are fixed for the life of the server, and `version` is the call load tests
    /// repeat (its cost is the host's per-call overhead).
    fixed: OnceLock<Fixed>,
}

/// The parts of `version`'s reply fixed for the life of the server.
struct Fixed {
    /// `structuredContent` without the members that change (`content`, `uptime_secs`,
    /// `transport`), cloned into each reply.
    structured: Map<String, Value>,
    /// The reply's lines after the first (the configuration).
    lines: String,
    /// This process's id (`std::process::id` is a system call each time).
    pid: u32,
}

impl Fixed {
    fn new(ctx: &ToolContext) -> Fixed {
        let config = config(ctx);
        let lines = config_lines(&config);
        // The members every structured reply has (`content` is set per call).
        let mut structured = match reply::structured("success", "", Value::Null) {
            Value::Object(members) => members,
            _ => Map::new(),
        };
        structured.insert("name".into(), "zen".into());
        structured.insert("version".into(), zen_model::VERSION.into());
        let pid = std::process::id();
        structured.insert("pid".into(), pid.into());
        structured.insert("config".into(), config);
        Fixed {
            structured,
            lines,
            pid,
        }
    }
}

#[async_trait]
impl Tool for Version {
    fn name(&self) -> &'static str {
        "version"
    }

    fn description(&self) -> &'static str {
        "zen's version, uptime and configuration summary (no network access)."
    }

    fn input_schema(&self) -> JsonObject {
        empty_schema()
    }

    fn output_schema(&self) -> JsonObject {
        reply::output_schema(json!({
            "name": {"type": "string"},
            "version": {"type": "string"},
            "uptime_secs": {"type": "number"},
            "pid": {"type": "integer"},
            "transport": {"type": "string"},
            "config": {"type": "object"},
        }))
    }

    fn annotations(&self) -> ToolAnnotations {
        read_only_local("Version")
    }

    async fn call(
        &self,
        ctx: &ToolContext,
        arguments: Option<JsonObject>,
    ) -> Result<ToolReply, ToolError> {
        parse_args::<NoArgs>("version", arguments)?;
        let fixed = self.fixed.get_or_init(|| Fixed::new(ctx));
        let uptime_secs = ctx.metrics.uptime().as_secs_f64();
        let transport = ctx.transport_kind();
        let first = first_line(zen_model::VERSION, uptime_secs, fixed.pid, transport);
        let mut text = String::with_capacity(first.len() + 1 + fixed.lines.len());
        text.push_str(&first);
        text.push('\n');
        text.push_str(&fixed.lines);
        let mut structured = fixed.structured.clone();
        structured.insert("content".into(), Value::String(text.clone()));
        structured.insert("uptime_secs".into(), uptime_secs.into());
        structured.insert("transport".into(), transport.into());
        Ok(ToolReply {
            text,
            structured: Some(Value::Object(structured)),
        })
    }
}

/// The configuration summary `version` shows.
fn config(ctx: &ToolContext) -> Value {
    let c = &ctx.config;
    json!({
            "default_model": c.providers.default_model,
            "providers": ctx.registry.providers().iter().map(|p| p.name()).collect::<Vec<_>>(),
            "max_concurrent_requests": c.limits.max_concurrent_requests,
            "queue_timeout_secs": c.limits.queue_timeout.as_secs_f64(),
            "max_retries": c.providers.max_retries,
            "conversation_timeout_hours": c.memory.conversation_timeout_hours,
            "max_conversation_turns": c.memory.max_conversation_turns,
            "conversation_memory_limit_mb": c.memory.conversation_memory_limit_mb,
            "memory_limit_mb": c.memory.memory_limit_mb,
            "telemetry": !c.transport.no_telemetry,
    })
}

/// The reply's text: what a person asks `version` for, one line each.
#[cfg(test)]
fn summary(v: &Value) -> String {
    let pid = v["pid"].as_u64().unwrap_or(0) as u32;
    let uptime_secs = v["uptime_secs"].as_f64().unwrap_or(0.0);
    let first = first_line(text(&v["version"]), uptime_secs, pid, text(&v["transport"]));
    format!("{first}\n{}", config_lines(&v["config"]))
}

/// The reply's first line: who answers and for how long it has run.
fn first_line(version: &str, uptime_secs: f64, pid: u32, transport: &str) -> String {
    format!(
        "zen {version} — up {}, pid {pid}, serving over {transport}",
        uptime(uptime_secs)
    )
}

/// The reply's other lines: the configuration (`c`, the data's `config`).
fn config_lines(c: &Value) -> String {
    let providers: Vec<&str> = (c["providers"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    let queue_secs = c["queue_timeout_secs"].as_f64().unwrap_or(0.0);
    let queue = if queue_secs > 0.0 {
        let wait = std::time::Duration::from_secs_f64(queue_secs);
        format!(
            "waits at most {} for a slot",
            zen_model::units::seconds(wait)
        )
    } else {
        "waits for a slot without limit".to_string()
    };
    let telemetry = if c["telemetry"] == true {
        "on (/snapshot and /metrics on the telemetry listener)"
    } else {
        "off"
    };
    format!(
        "Default model: {}; providers: {}\n\
         Calls: {} at once (MAX_CONCURRENT_REQUESTS); a call {queue}; {} attempts per provider \
         request\n\
         Conversations: kept {} h after their last turn, up to {} turns each, {} MB in all; \
         memory limit {} MB\n\
         Telemetry: {telemetry}",
        text(&c["default_model"]),
        providers.join(", "),
        num(&c["max_concurrent_requests"]),
        num(&c["max_retries"]),
        num(&c["conversation_timeout_hours"]),
        num(&c["max_conversation_turns"]),
        num(&c["conversation_memory_limit_mb"]),
        num(&c["memory_limit_mb"]),
    )
}

/// A JSON string without its quotes.
fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// A JSON number as a person writes it: `3`, not `3.0`.
fn num(value: &Value) -> String {
    value
        .as_f64()
        .map_or_else(|| "?".to_string(), |n| n.to_string())
}

/// A time span as a person says it: `42 s`, `12 min`, `3 h 5 min`, `2 d 4 h`.
fn uptime(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_short_lines_without_raw_fractions() {
        let value = json!({
            "name": "zen", "version": "1.2.3", "uptime_secs": 0.658_026_955, "pid": 42,
            "transport": "stdio",
            "config": {"default_model": "auto", "providers": ["simulated", "openai"],
                "max_concurrent_requests": 50, "queue_timeout_secs": 60.0, "max_retries": 3,
                "conversation_timeout_hours": 3.0, "max_conversation_turns": 50,
                "conversation_memory_limit_mb": 512.0, "memory_limit_mb": 2048.0,
                "telemetry": true},
        });
        let text = summary(&value);
        assert!(
            text.starts_with("zen 1.2.3 — up 0 s, pid 42, serving over stdio\n"),
            "{text}"
        );
        assert!(text.contains("providers: simulated, openai"), "{text}");
        assert!(text.contains("waits at most 60 s for a slot"), "{text}");
        assert!(
            text.contains("kept 3 h after") && text.contains("512 MB in all"),
            "{text}"
        );
        assert!(!text.contains("0.658"), "{text}");
        assert!(text.lines().all(|l| l.chars().count() <= 120), "{text}");
        assert_eq!(uptime(3.0 * 3600.0 + 125.0), "3 h 2 min");
        assert_eq!(uptime(2.0 * 86_400.0 + 7200.0), "2 d 2 h");
    }
}
