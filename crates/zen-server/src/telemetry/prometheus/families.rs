//! Families rendered from optional parts of the snapshot: tokens, the shared provider limits
//! (only when they are on Redis), and the OpenTelemetry exporter's own figures (only when export
//! is on); the protocol's refusals and closed connections; the memory's bounded parts.
use prometheus_client::encoding::DescriptorEncoder;

use super::{counter, gauge};
use zen_model::snapshot::{
    BoundedPart, ClusterPoolStats, LimitsStats, OtelStats, ProtocolStats, Snapshot, TokenStats,
};

/// `zen_tokens_total{provider,model,type}`: prompt and completion tokens as providers reported.
pub(super) fn token_counters(
    enc: &mut DescriptorEncoder,
    tokens: &[TokenStats],
) -> std::fmt::Result {
    let rows: Vec<_> = (tokens.iter())
        .flat_map(|t| {
            let labels = |kind| {
                vec![
                    ("provider", t.provider.as_str()),
                    ("model", t.model.as_str()),
                    ("type", kind),
                ]
            };
            [
                (labels("prompt"), t.prompt_tokens),
                (labels("completion"), t.completion_tokens),
            ]
        })
        .collect();
    counter(
        enc,
        "zen_tokens",
        "Tokens used, as the providers reported them: prompt (sent) and completion (received).",
        &rows,
    )
}

/// `zen_otel_spans_total{outcome}`, `zen_otel_spans_queued`, `zen_otel_metric_exports_total`:
/// what the OpenTelemetry exporter sent, and what it dropped rather than slow a call.
pub(super) fn otel_families(enc: &mut DescriptorEncoder, o: &OtelStats) -> std::fmt::Result {
    let rows = [
        (vec![("outcome", "exported")], o.spans_exported),
        (vec![("outcome", "dropped")], o.spans_dropped),
        (vec![("outcome", "failed")], o.spans_failed),
    ];
    counter(
        enc,
        "zen_otel_spans",
        "Spans ended: exported, dropped (queue full) or in a failed export.",
        &rows,
    )?;
    gauge(
        enc,
        "zen_otel_spans_queued",
        "Spans waiting for export now.",
        &[(vec![], o.spans_queued as f64)],
    )?;
    let rows = [
        (vec![("outcome", "ok")], o.metric_exports),
        (vec![("outcome", "failed")], o.metric_exports_failed),
    ];
    counter(
        enc,
        "zen_otel_metric_exports",
        "OTLP metric exports, by outcome.",
        &rows,
    )
}

/// The provider limits shared on Redis: health, refusals, lost leases, and per provider the
/// leases held and calls queued across every instance. Nothing for local limits (the pools
/// families already say it all).
pub(super) fn limits_families(enc: &mut DescriptorEncoder, l: &LimitsStats) -> std::fmt::Result {
    if l.backend == "local" {
        return Ok(());
    }
    gauge(
        enc,
        "zen_limits_healthy",
        "1 while the shared provider limits' Redis answers; 0 while calls are refused (they fail closed).",
        &[(
            vec![("backend", l.backend.as_str())],
            f64::from(u8::from(l.healthy)),
        )],
    )?;
    let rows = [
        (vec![("reason", "unavailable")], l.unavailable_total),
        (vec![("reason", "lease_lost")], l.leases_lost_total),
    ];
    counter(
        enc,
        "zen_limits_failures",
        "Provider calls refused because Redis could not be reached, and leases lost while their call ran.",
        &rows,
    )?;
    for (name, help, value) in [
        (
            "zen_cluster_limit",
            "The provider limit this instance enforces against the cluster's leases.",
            (|p: &ClusterPoolStats| f64::from(p.limit)) as fn(&_) -> f64,
        ),
        (
            "zen_cluster_leases_held",
            "Leases held by every instance together.",
            |p| p.held as f64,
        ),
        (
            "zen_cluster_leases_held_here",
            "Of the cluster's leases, those this instance holds.",
            |p| p.held_here as f64,
        ),
        (
            "zen_cluster_waiting",
            "Calls queued for a lease on every instance together.",
            |p| p.waiting as f64,
        ),
    ] {
        let rows: Vec<_> = (l.providers.iter())
            .map(|p| (vec![("provider", p.name.as_str())], value(p)))
            .collect();
        gauge(enc, name, help, &rows)?;
    }
    Ok(())
}

/// Messages that never became a tool call, and connections zen closed itself.
pub(super) fn protocol_families(
    enc: &mut DescriptorEncoder,
    p: &ProtocolStats,
) -> std::fmt::Result {
    let rows = [
        (vec![("kind", "malformed")], p.malformed_messages),
        (vec![("kind", "oversized")], p.oversized_messages),
        (vec![("kind", "unknown_tool")], p.unknown_tools),
        (vec![("kind", "reply_dropped")], p.dropped_replies),
        (vec![("kind", "session_refused")], p.refused_sessions),
    ];
    counter(
        enc,
        "zen_bad_messages",
        "Messages that never became a tool call.",
        &rows,
    )?;
    counter(
        enc,
        "zen_log_messages_dropped",
        "Log messages for clients (notifications/message) dropped by a session's rate limit.",
        &[(vec![], p.dropped_log_messages)],
    )?;
    let sessions = [
        (vec![("reason", "evicted")], p.evicted_sessions),
        (vec![("reason", "idle")], p.idle_sessions_closed),
    ];
    counter(
        enc,
        "zen_http_sessions_closed",
        "HTTP sessions zen closed itself: the least recently used quiet one at ZEN_MAX_SESSIONS for a new client, or one idle past ZEN_SESSION_IDLE.",
        &sessions,
    )?;
    let closes = [
        (vec![("reason", "header_timeout")], p.header_timeouts),
        (vec![("reason", "idle")], p.idle_closes),
        (vec![("reason", "body_timeout")], p.body_timeouts),
    ];
    counter(
        enc,
        "zen_http_connections_closed",
        "HTTP connections zen closed itself: headers slower than ZEN_HEADER_TIMEOUT, a body slower than ZEN_BODY_TIMEOUT, or idle past ZEN_HTTP_IDLE_TIMEOUT.",
        &closes,
    )
}

fn part(p: &BoundedPart) -> Vec<(&str, &str)> {
    vec![("part", p.key.as_str())]
}

/// `zen_memory_bounded_bytes{part}` and `zen_memory_bounded_cap_bytes{part}`: the parts of the
/// process's memory a setting bounds, each with its cap; `zen_heap_bytes{state}`: what the C
/// allocator holds in use and keeps freed (resident, in no use); `zen_sqlite_memory_bytes`.
pub(super) fn memory_families(enc: &mut DescriptorEncoder, s: &Snapshot) -> std::fmt::Result {
    let sizes: Vec<_> = (s.bounded.iter())
        .map(|p| (part(p), p.bytes as f64))
        .collect();
    gauge(
        enc,
        "zen_memory_bounded_bytes",
        "A bounded part of zen's memory (store cache, conversations in memory, histograms).",
        &sizes,
    )?;
    let caps: Vec<_> = (s.bounded.iter())
        .map(|p| (part(p), p.cap_bytes as f64))
        .collect();
    gauge(
        enc,
        "zen_memory_bounded_cap_bytes",
        "The most a bounded part of zen's memory can reach.",
        &caps,
    )?;
    let sys = &s.system;
    gauge(
        enc,
        "zen_heap_bytes",
        "The C allocator's bytes: in use, and freed but kept (resident, in no use).",
        &[
            (vec![("state", "in_use")], sys.heap_in_use_bytes as f64),
            (vec![("state", "free")], sys.heap_free_bytes as f64),
        ],
    )?;
    gauge(
        enc,
        "zen_sqlite_memory_bytes",
        "Every byte SQLite holds in zen serve (page caches, schemas, statements).",
        &[(vec![], sys.sqlite_bytes as f64)],
    )
}
