//! The `metrics` tool: by default a summary a person reads in ten seconds (per tool calls, errors,
//! p50/p99; pools; providers; the busiest models' p50/p99; the store; memory) in well under
//! 3 000 bytes; with `{"detail": true}` the full snapshot, which is what `zen stress` and
//! `zen soak` read.
use std::fmt::Write;

use async_trait::async_trait;
use rmcp::model::{JsonObject, ToolAnnotations};
use rmcp::schemars::{self, JsonSchema};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Tool, ToolContext, ToolError, ToolReply, parse_args, read_only_local, schema_of};
use zen_model::snapshot::{LatencySummary, Snapshot, SnapshotSource, mib};

/// `metrics` arguments.
#[derive(Debug, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetricsArgs {
    /// true: the full snapshot (every counter, percentile and histogram) instead of the summary.
    #[serde(default)]
    pub detail: bool,
}

/// The metrics tool.
pub(crate) struct MetricsTool;

#[async_trait]
impl Tool for MetricsTool {
    fn name(&self) -> &'static str {
        "metrics"
    }

    fn description(&self) -> &'static str {
        "zen's live figures, summarised: per-tool calls, errors and p50/p99, pools, \
         providers, the conversation store and memory. {\"detail\": true} returns the \
         full snapshot (every counter, percentile and histogram)."
    }

    fn input_schema(&self) -> JsonObject {
        schema_of::<MetricsArgs>()
    }

    fn output_schema(&self) -> JsonObject {
        // zen's own tool, read by zen stress and zen soak as the snapshot itself: no status
        // or content fields are added to it.
        let schema = json!({"type": "object"});
        schema.as_object().cloned().unwrap_or_default()
    }

    fn annotations(&self) -> ToolAnnotations {
        read_only_local("Live metrics")
    }

    /// The instrument panel must answer while the pool is saturated (that is when people
    /// look), and must not count itself in the figures it reports: it holds no provider and
    /// takes microseconds, so it skips the global pool.
    fn needs_global_permit(&self) -> bool {
        false
    }

    async fn call(
        &self,
        ctx: &ToolContext,
        arguments: Option<JsonObject>,
    ) -> Result<ToolReply, ToolError> {
        Ok(reply(&ctx.snapshot(), &parse_args("metrics", arguments)?))
    }
}

/// The tool's reply for a snapshot.
pub(crate) fn reply(snapshot: &Snapshot, args: &MetricsArgs) -> ToolReply {
    if args.detail {
        let value = serde_json::to_value(snapshot).unwrap_or_default();
        return ToolReply {
            text: serde_json::to_string_pretty(&value).unwrap_or_default(),
            structured: Some(value),
        };
    }
    ToolReply {
        text: summary_text(snapshot),
        structured: Some(summary_json(snapshot)),
    }
}

/// The summary for people: one line per tool, pool and provider, then store and memory.
pub(crate) fn summary_text(s: &Snapshot) -> String {
    let t = &s.totals;
    let mut out = format!(
        "{} {} · up {:.0} min · {} calls, {} errors ({:.1}%)\n",
        s.server.name,
        s.server.version,
        s.server.uptime_secs / 60.0,
        t.total_operations,
        t.total_errors,
        100.0 * t.error_rate
    );
    let _ = writeln!(out, "tool        calls  errors    p50 ms    p99 ms");
    for (name, c) in &s.tools {
        let _ = writeln!(
            out,
            "{name:<10} {:>6} {:>7} {:>9.1} {:>9.1}",
            c.total_operations, c.total_errors, c.latency.p50_ms, c.latency.p99_ms
        );
    }
    for p in &s.pools {
        let _ = writeln!(
            out,
            "pool {}: {}/{} in use, {} waiting, {} rejected, wait p99 {:.1} ms",
            p.name, p.in_use, p.limit, p.waiting, p.rejected_total, p.queue_wait.p99_ms
        );
    }
    for (name, p) in &s.providers {
        let (prompt, completion) = provider_tokens(s, name);
        let _ = writeln!(
            out,
            "provider {name}: {} calls, {} errors, {} retries, breaker {}, p99 {:.1} ms, tokens {prompt} in {completion} out",
            p.calls.total_operations,
            p.calls.total_errors,
            p.retries_total,
            p.breaker.state.as_str(),
            p.calls.latency.p99_ms
        );
    }
    for m in busiest_models(s) {
        let _ = writeln!(
            out,
            "model {}/{}: {} calls, p50 {:.1} ms, p99 {:.1} ms",
            m.provider, m.model, m.calls, m.p50_ms, m.p99_ms
        );
    }
    let c = &s.conversations;
    let _ = writeln!(
        out,
        "store: {} conversations, {:.1} of {:.0} MiB ({:.0}%), {} evicted",
        c.threads,
        mib(c.bytes),
        mib(c.budget_bytes),
        100.0 * c.utilisation,
        c.evictions.pressure + c.evictions.expiry + c.evictions.oversize
    );
    let _ = writeln!(
        out,
        "memory: RSS {:.1} MiB (watchdog {}), cpu {:.0}%",
        mib(s.system.rss_bytes),
        watchdog(s),
        s.system.cpu_percent
    );
    out.push_str("Everything else: call metrics with {\"detail\": true}.\n");
    out
}

/// The same summary for programs.
pub(crate) fn summary_json(s: &Snapshot) -> Value {
    let tools: serde_json::Map<String, Value> = (s.tools.iter())
        .map(|(name, c)| {
            let v = json!({"calls": c.total_operations, "errors": c.total_errors,
                "p50_ms": c.latency.p50_ms, "p99_ms": c.latency.p99_ms});
            (name.clone(), v)
        })
        .collect();
    let pools: Vec<Value> = (s.pools.iter())
        .map(|p| {
            json!({"name": p.name, "in_use": p.in_use, "limit": p.limit,
            "waiting": p.waiting, "rejected": p.rejected_total})
        })
        .collect();
    let providers: serde_json::Map<String, Value> = (s.providers.iter())
        .map(|(name, p)| {
            let (prompt, completion) = provider_tokens(s, name);
            let v = json!({"calls": p.calls.total_operations, "errors": p.calls.total_errors,
                "retries": p.retries_total, "breaker": p.breaker.state.as_str(),
                "prompt_tokens": prompt, "completion_tokens": completion});
            (name.clone(), v)
        })
        .collect();
    let models: Vec<Value> = (busiest_models(s).into_iter())
        .map(|m| {
            json!({"provider": m.provider, "model": m.model, "calls": m.calls,
                "p50_ms": m.p50_ms, "p99_ms": m.p99_ms})
        })
        .collect();
    let c = &s.conversations;
    json!({
        "uptime_secs": s.server.uptime_secs,
        "calls": s.totals.total_operations,
        "errors": s.totals.total_errors,
        "tools": tools,
        "pools": pools,
        "providers": providers,
        "models": models,
        "store": {"threads": c.threads, "bytes": c.bytes, "budget_bytes": c.budget_bytes},
        "memory": {"rss_bytes": s.system.rss_bytes, "cpu_percent": s.system.cpu_percent,
            "watchdog": watchdog(s)},
        "detail": "call metrics with {\"detail\": true} for the full snapshot",
    })
}

/// Most models the summary lists (the snapshot keeps up to 64; the summary stays short).
const SUMMARY_MODELS: usize = 8;

/// One model's request latency, as the summary shows it.
struct ModelLine<'a> {
    provider: &'a str,
    model: &'a str,
    calls: u64,
    p50_ms: f64,
    p99_ms: f64,
}

/// The models with the most provider requests, with their p50 and p99 (all outcomes).
fn busiest_models(s: &Snapshot) -> Vec<ModelLine<'_>> {
    let mut models: Vec<_> = s.model_latency.iter().filter(|m| m.calls > 0).collect();
    models.sort_by_key(|m| std::cmp::Reverse(m.calls));
    (models.into_iter().take(SUMMARY_MODELS))
        .map(|m| {
            // The same percentiles as every other latency in the snapshot.
            let latency = zen_model::hdr::decode(&m.hdr)
                .map(|h| LatencySummary::from_histogram(&h))
                .unwrap_or_default();
            ModelLine {
                provider: &m.provider,
                model: &m.model,
                calls: m.calls,
                p50_ms: latency.p50_ms,
                p99_ms: latency.p99_ms,
            }
        })
        .collect()
}

/// The watchdog state as its lower-case name (`ok`, `warning`, `refusing`).
fn watchdog(s: &Snapshot) -> String {
    format!("{:?}", s.conversations.watchdog.state).to_lowercase()
}

/// (prompt, completion) tokens of one provider, all its models.
fn provider_tokens(s: &Snapshot, provider: &str) -> (u64, u64) {
    let mine: Vec<_> = (s.tokens.iter())
        .filter(|t| t.provider == provider)
        .cloned()
        .collect();
    zen_model::snapshot::token_totals(&mine)
}
