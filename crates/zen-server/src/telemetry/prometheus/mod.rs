//! `/metrics`: the Snapshot in Prometheus text exposition (0.0.4), encoded by prometheus-client
//! from a collector that reads the snapshot at scrape time (no second set of counters).
mod families;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use families::{
    limits_families, memory_families, otel_families, protocol_families, token_counters,
};
use zen_model::snapshot::{
    BUCKET_BOUNDS_MS, BreakerState, CallStats, LatencySummary, PoolStats, Snapshot, WatchdogState,
    per_bucket,
};

/// Content type of the Prometheus text format.
pub(crate) const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Render a snapshot as Prometheus text.
pub(crate) fn render(snapshot: &Snapshot) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(SnapshotCollector(snapshot.clone())));
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
    out
}

#[derive(Debug)]
struct SnapshotCollector(Snapshot);

pub(super) type Labels<'a> = Vec<(&'a str, &'a str)>;

pub(super) fn counter(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[(Labels, u64)],
) -> std::fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, v) in rows {
        m.encode_family(labels)?
            .encode_counter::<NoLabelSet, _, u64>(v, None)?;
    }
    Ok(())
}

pub(super) fn gauge(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[(Labels, f64)],
) -> std::fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, v) in rows {
        m.encode_family(labels)?.encode_gauge(v)?;
    }
    Ok(())
}

fn histogram(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[(Labels, &LatencySummary)],
) -> std::fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Histogram)?;
    for (labels, s) in rows {
        // The encoder accumulates, so hand it per-bucket counts.
        let buckets: Vec<(f64, u64)> = BUCKET_BOUNDS_MS
            .iter()
            .zip(per_bucket(&s.buckets, s.count))
            .map(|(bound, own)| (bound / 1000.0, own))
            .collect();
        let sum_seconds = s.mean_ms * s.count as f64 / 1000.0;
        m.encode_family(labels)?.encode_histogram::<NoLabelSet>(
            sum_seconds,
            s.count,
            &buckets,
            None,
        )?;
    }
    Ok(())
}

fn outcome_rows<'a>(key: &'a str, name: &'a str, c: &CallStats) -> Vec<(Labels<'a>, u64)> {
    let e = &c.errors;
    let ok = c.total_operations - c.total_errors;
    [
        ("ok", ok),
        ("tool_error", e.tool_error),
        ("provider_error", e.provider_error),
        ("timeout", e.timeout),
        ("rejected", e.rejected),
    ]
    .into_iter()
    .map(|(outcome, v)| (vec![(key, name), ("outcome", outcome)], v))
    .collect()
}

impl Collector for SnapshotCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> std::fmt::Result {
        let s = &self.0;
        encode_tools(&mut enc, s)?;
        encode_providers(&mut enc, s)?;
        encode_pools(&mut enc, s)?;
        encode_process(&mut enc, s)?;
        encode_conversations(&mut enc, s)?;
        protocol_families(&mut enc, &s.protocol)?;
        limits_families(&mut enc, &s.limits)?;
        memory_families(&mut enc, s)?;
        if let Some(otel) = &s.otel {
            otel_families(&mut enc, otel)?;
        }
        Ok(())
    }
}

/// Per tool: calls by outcome, in flight, latency.
fn encode_tools(enc: &mut DescriptorEncoder, s: &Snapshot) -> std::fmt::Result {
    let tools: Vec<_> = s.tools.iter().collect();
    let calls: Vec<_> = tools
        .iter()
        .flat_map(|(t, c)| outcome_rows("tool", t, c))
        .collect();
    counter(
        enc,
        "zen_tool_calls",
        "Tool calls finished, by outcome.",
        &calls,
    )?;
    let rows: Vec<_> = tools
        .iter()
        .map(|(t, c)| (vec![("tool", t.as_str())], c.in_flight as f64))
        .collect();
    gauge(enc, "zen_tool_in_flight", "Tool calls running now.", &rows)?;
    let rows: Vec<_> = tools
        .iter()
        .map(|(t, c)| (vec![("tool", t.as_str())], &c.latency))
        .collect();
    histogram(
        enc,
        "zen_tool_duration_seconds",
        "Tool call latency.",
        &rows,
    )?;
    Ok(())
}

/// Per provider: requests, tokens, in flight, latency, retries, breaker.
fn encode_providers(enc: &mut DescriptorEncoder, s: &Snapshot) -> std::fmt::Result {
    let providers: Vec<_> = s.providers.iter().collect();
    let calls: Vec<_> = providers
        .iter()
        .flat_map(|(p, st)| outcome_rows("provider", p, &st.calls))
        .collect();
    counter(
        enc,
        "zen_provider_calls",
        "Provider requests finished (retries inside), by outcome.",
        &calls,
    )?;
    token_counters(enc, &s.tokens)?;
    let rows: Vec<_> = providers
        .iter()
        .map(|(p, st)| (vec![("provider", p.as_str())], st.calls.in_flight as f64))
        .collect();
    gauge(
        enc,
        "zen_provider_in_flight",
        "Provider requests running now.",
        &rows,
    )?;
    let rows: Vec<_> = providers
        .iter()
        .map(|(p, st)| (vec![("provider", p.as_str())], &st.calls.latency))
        .collect();
    histogram(
        enc,
        "zen_provider_duration_seconds",
        "Provider request latency, retries included.",
        &rows,
    )?;
    let rows: Vec<_> = providers
        .iter()
        .map(|(p, st)| (vec![("provider", p.as_str())], st.retries_total))
        .collect();
    counter(
        enc,
        "zen_provider_retries",
        "Provider attempts retried after a retryable failure.",
        &rows,
    )?;
    let rows: Vec<_> = providers
        .iter()
        .map(|(p, st)| (vec![("provider", p.as_str())], st.breaker.opened_total))
        .collect();
    counter(
        enc,
        "zen_breaker_opened",
        "Times a provider's circuit breaker opened.",
        &rows,
    )?;
    let rows: Vec<_> = providers
        .iter()
        .flat_map(|(p, st)| {
            BreakerState::ALL.iter().map(move |state| {
                (
                    vec![("provider", p.as_str()), ("state", state.as_str())],
                    f64::from(u8::from(st.breaker.state == *state)),
                )
            })
        })
        .collect();
    gauge(
        enc,
        "zen_breaker_state",
        "1 for the breaker's current state.",
        &rows,
    )?;
    Ok(())
}

/// The global and provider pools: permits, waits, rejections.
fn encode_pools(enc: &mut DescriptorEncoder, s: &Snapshot) -> std::fmt::Result {
    let pools = &s.pools;
    for (name, help, value) in [
        (
            "zen_pool_limit",
            "Permits in the pool.",
            (|p: &PoolStats| f64::from(p.limit)) as fn(&_) -> f64,
        ),
        ("zen_pool_in_use", "Permits held now.", |p| p.in_use as f64),
        ("zen_pool_waiting", "Calls waiting for a permit now.", |p| {
            p.waiting as f64
        }),
        (
            "zen_pool_peak_in_use",
            "Most permits ever held at once.",
            |p| p.peak_in_use as f64,
        ),
    ] {
        let rows: Vec<_> = pools
            .iter()
            .map(|p| (vec![("pool", p.name.as_str())], value(p)))
            .collect();
        gauge(enc, name, help, &rows)?;
    }
    let rows: Vec<_> = pools
        .iter()
        .map(|p| (vec![("pool", p.name.as_str())], p.acquired_total))
        .collect();
    counter(enc, "zen_pool_acquired", "Permits handed out.", &rows)?;
    let rows: Vec<_> = pools
        .iter()
        .flat_map(|p| {
            [
                (
                    vec![("pool", p.name.as_str()), ("reason", "queue_timeout")],
                    p.rejected_total - p.rejected_shutting_down,
                ),
                (
                    vec![("pool", p.name.as_str()), ("reason", "shutting_down")],
                    p.rejected_shutting_down,
                ),
            ]
        })
        .collect();
    counter(enc, "zen_rejected", "Calls turned away by a pool.", &rows)?;
    let rows: Vec<_> = pools
        .iter()
        .map(|p| (vec![("pool", p.name.as_str())], &p.queue_wait))
        .collect();
    histogram(
        enc,
        "zen_pool_queue_wait_seconds",
        "Time spent waiting for a permit.",
        &rows,
    )?;
    Ok(())
}

/// zen serve itself: memory, CPU, threads, uptime.
fn encode_process(enc: &mut DescriptorEncoder, s: &Snapshot) -> std::fmt::Result {
    let sys = &s.system;
    gauge(
        enc,
        "zen_process_resident_memory_bytes",
        "Resident memory of zen serve.",
        &[(vec![], sys.rss_bytes as f64)],
    )?;
    gauge(
        enc,
        "zen_process_cpu_percent",
        "CPU use, percent of one core.",
        &[(vec![], sys.cpu_percent)],
    )?;
    gauge(
        enc,
        "zen_process_threads",
        "Threads of zen serve.",
        &[(vec![], sys.threads as f64)],
    )?;
    gauge(
        enc,
        "zen_uptime_seconds",
        "Seconds since zen serve started.",
        &[(vec![], s.server.uptime_secs)],
    )?;
    Ok(())
}

/// The conversation store: threads, bytes, budget, evictions, watchdog.
fn encode_conversations(enc: &mut DescriptorEncoder, s: &Snapshot) -> std::fmt::Result {
    let c = &s.conversations;
    gauge(
        enc,
        "zen_conversations",
        "Conversation threads stored.",
        &[(vec![], c.threads as f64)],
    )?;
    gauge(
        enc,
        "zen_conversation_bytes",
        "Bytes of all stored threads.",
        &[(vec![], c.bytes as f64)],
    )?;
    gauge(
        enc,
        "zen_conversation_budget_bytes",
        "The conversation byte budget.",
        &[(vec![], c.budget_bytes as f64)],
    )?;
    gauge(
        enc,
        "zen_conversation_store_info",
        "The conversation store's backend (always 1; the kind is the label).",
        &[(vec![("kind", c.kind.as_str())], 1.0)],
    )?;
    gauge(
        enc,
        "zen_conversation_file_bytes",
        "The conversation store's files on disk (0 for the memory store).",
        &[(vec![], c.file_bytes.unwrap_or(0) as f64)],
    )?;
    gauge(
        enc,
        "zen_conversation_cache_bytes",
        "Memory the conversation store uses as a cache.",
        &[(vec![], c.cache_bytes as f64)],
    )?;
    let ev = &c.evictions;
    let rows = [
        (vec![("cause", "pressure")], ev.pressure),
        (vec![("cause", "expiry")], ev.expiry),
        (vec![("cause", "oversize")], ev.oversize),
    ];
    counter(
        enc,
        "zen_conversation_evictions",
        "Threads evicted (oversize: turns dropped), by cause.",
        &rows,
    )?;
    let w = c.watchdog.state;
    let rows = [
        (
            vec![("state", "ok")],
            f64::from(u8::from(w == WatchdogState::Ok)),
        ),
        (
            vec![("state", "warning")],
            f64::from(u8::from(w == WatchdogState::Warning)),
        ),
        (
            vec![("state", "refusing")],
            f64::from(u8::from(w == WatchdogState::Refusing)),
        ),
    ];
    gauge(
        enc,
        "zen_watchdog_state",
        "1 for the memory watchdog's current state.",
        &rows,
    )?;
    let wd = &c.watchdog;
    let rows = [
        (vec![("action", "refused")], wd.refused_threads_total),
        (
            vec![("action", "pressure_elsewhere")],
            wd.pressure_elsewhere_total,
        ),
    ];
    counter(
        enc,
        "zen_watchdog_events",
        "Watchdog events: new threads refused, and RSS over the limit with conversations not the cause.",
        &rows,
    )?;
    Ok(())
}
