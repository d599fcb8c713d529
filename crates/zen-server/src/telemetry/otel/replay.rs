//! Metrics read from the one `Snapshot`: every figure OpenTelemetry exports is the snapshot's.
//! Each read replays what changed since the previous one into the SDK's instruments (the calls
//! a latency histogram gained, a counter's increase, a gauge's value), so nothing is recorded on
//! the call path and nothing keeps a second count.
use std::collections::BTreeMap;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Gauge, Histogram, Meter};
use tokio_util::sync::CancellationToken;

use zen_model::hdr::decode as decode_histogram;
use zen_model::snapshot::{CallStats, LatencySummary, Snapshot, latency_between};

use super::Source;

/// Semantic-convention boundaries (seconds) for MCP and GenAI operation durations.
const DURATION_BOUNDS_S: [f64; 14] = [
    0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];
/// Semantic-convention boundaries for `gen_ai.client.token.usage`.
const TOKEN_BOUNDS: [f64; 14] = [
    1.0,
    4.0,
    16.0,
    64.0,
    256.0,
    1024.0,
    4096.0,
    16384.0,
    65536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
    67_108_864.0,
];

/// Read the snapshot every `every` until `stop`, then once more, so the last export at exit
/// carries the last calls.
pub async fn run(meter: Meter, source: Source, every: Duration, stop: CancellationToken) {
    let mut replay = Replay::new(&meter);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = tokio::select! {
            () = stop.cancelled() => true,
            _ = tick.tick() => false,
        };
        replay.read(source.snapshot());
        if stopping {
            return;
        }
    }
}

/// The instruments, and the snapshot they were last brought up to.
struct Replay {
    /// mcp.server.operation.duration, per tool.
    tool_duration: Histogram<f64>,
    /// gen_ai.client.operation.duration, per provider and model.
    provider_duration: Histogram<f64>,
    /// gen_ai.client.token.usage, per provider, model and token type.
    token_usage: Histogram<u64>,
    /// zen.pool.queue.wait.duration, per pool.
    queue_wait: Histogram<f64>,
    /// Increasing counts (errors, rejections, retries, evictions, dropped spans).
    counters: std::collections::BTreeMap<&'static str, Counter<u64>>,
    /// Values now (pool use, breaker state, store size, memory).
    gauges: std::collections::BTreeMap<&'static str, Gauge<u64>>,
    /// What was replayed so far.
    prev: Option<Snapshot>,
}

/// Counters: name, unit, description.
const COUNTERS: [(&str, &str, &str); 5] = [
    ("zen.pool.rejected", "{call}", "Calls turned away by a pool"),
    (
        "zen.provider.retries",
        "{attempt}",
        "Provider attempts retried",
    ),
    (
        "zen.breaker.opened",
        "{event}",
        "Times a provider's breaker opened",
    ),
    (
        "zen.store.evictions",
        "{thread}",
        "Conversations evicted, by cause",
    ),
    (
        "zen.otel.spans.dropped",
        "{span}",
        "Spans dropped: export queue full",
    ),
];

/// Gauges: name, unit, description.
const GAUGES: [(&str, &str, &str); 8] = [
    ("zen.pool.in_use", "{permit}", "Permits held now"),
    (
        "zen.pool.waiting",
        "{call}",
        "Calls queued for a permit now",
    ),
    ("zen.pool.limit", "{permit}", "Pool size"),
    (
        "zen.breaker.state",
        "1",
        "1 for the breaker's current state",
    ),
    ("zen.store.threads", "{thread}", "Conversations stored"),
    ("zen.store.bytes", "By", "Conversation bytes stored"),
    ("zen.store.budget", "By", "Conversation store budget"),
    ("zen.process.memory.rss", "By", "Resident memory of zen"),
];

fn kv(key: &'static str, value: impl Into<opentelemetry::Value>) -> KeyValue {
    KeyValue::new(key, value)
}

impl Replay {
    fn new(meter: &Meter) -> Self {
        let seconds = |name: &'static str, about: &'static str| {
            (meter.f64_histogram(name).with_unit("s"))
                .with_description(about)
                .with_boundaries(DURATION_BOUNDS_S.to_vec())
                .build()
        };
        Replay {
            tool_duration: seconds("mcp.server.operation.duration", "MCP tools/call duration"),
            provider_duration: seconds("gen_ai.client.operation.duration", "Provider requests"),
            queue_wait: seconds("zen.pool.queue.wait.duration", "Time waiting for a permit"),
            token_usage: (meter.u64_histogram("gen_ai.client.token.usage"))
                .with_unit("{token}")
                .with_description("Tokens per provider request")
                .with_boundaries(TOKEN_BOUNDS.to_vec())
                .build(),
            counters: (COUNTERS.iter())
                .map(|(n, u, d)| {
                    (
                        *n,
                        meter
                            .u64_counter(*n)
                            .with_unit(*u)
                            .with_description(*d)
                            .build(),
                    )
                })
                .collect(),
            gauges: (GAUGES.iter())
                .map(|(n, u, d)| {
                    (
                        *n,
                        meter
                            .u64_gauge(*n)
                            .with_unit(*u)
                            .with_description(*d)
                            .build(),
                    )
                })
                .collect(),
            prev: None,
        }
    }

    /// Bring the instruments up to `snap`.
    fn read(&mut self, snap: Snapshot) {
        let prev = self.prev.take();
        let prev = prev.as_ref();
        for (tool, stats) in &snap.tools {
            let attrs = [
                kv("mcp.method.name", "tools/call"),
                kv("gen_ai.tool.name", tool.clone()),
                kv("gen_ai.operation.name", "execute_tool"),
            ];
            let before = prev.and_then(|p| p.tools.get(tool));
            replay_calls(&self.tool_duration, before, stats, &attrs);
        }
        self.models(&snap, prev);
        for (name, stats) in &snap.providers {
            let before = prev.and_then(|p| p.providers.get(name));
            let provider = [kv("gen_ai.provider.name", name.clone())];
            let retries = before.map_or(0, |b| b.retries_total);
            self.add(
                "zen.provider.retries",
                stats.retries_total.saturating_sub(retries),
                &provider,
            );
            let opened = before.map_or(0, |b| b.breaker.opened_total);
            self.add(
                "zen.breaker.opened",
                stats.breaker.opened_total.saturating_sub(opened),
                &provider,
            );
        }
        self.tokens(&snap, prev);
        self.pools_and_store(&snap, prev);
        self.gauges(&snap);
        self.prev = Some(snap);
    }

    /// gen_ai.client.operation.duration from the per-model histograms (the per-provider ones
    /// hold the same requests, without the model).
    fn models(&self, snap: &Snapshot, prev: Option<&Snapshot>) {
        for m in &snap.model_latency {
            let before = prev.and_then(|p| {
                (p.model_latency.iter()).find(|o| o.provider == m.provider && o.model == m.model)
            });
            if before.is_some_and(|b| b.calls == m.calls) || m.calls == 0 {
                continue;
            }
            let attrs = [
                kv("gen_ai.provider.name", m.provider.clone()),
                kv("gen_ai.request.model", m.model.clone()),
                kv("gen_ai.operation.name", "chat"),
            ];
            let old = before.map(|b| (b.hdr.as_str(), &b.failed_hdr));
            let now = (m.hdr.as_str(), &m.failed_hdr);
            replay_split(&self.provider_duration, old, now, &attrs);
        }
    }

    fn tokens(&self, snap: &Snapshot, prev: Option<&Snapshot>) {
        for t in &snap.tokens {
            let before = prev.and_then(|p| {
                (p.tokens.iter()).find(|o| o.provider == t.provider && o.model == t.model)
            });
            for (kind, now, was) in [
                (
                    "input",
                    &t.prompt_per_call,
                    before.map(|b| &b.prompt_per_call),
                ),
                (
                    "output",
                    &t.completion_per_call,
                    before.map(|b| &b.completion_per_call),
                ),
            ] {
                let attrs = [
                    kv("gen_ai.provider.name", t.provider.clone()),
                    kv("gen_ai.request.model", t.model.clone()),
                    kv("gen_ai.operation.name", "chat"),
                    kv("gen_ai.token.type", kind),
                ];
                let Some(new) = added(was.map(String::as_str), now) else {
                    continue;
                };
                for v in new.iter_recorded() {
                    for _ in 0..v.count_at_value() {
                        self.token_usage.record(v.value_iterated_to(), &attrs);
                    }
                }
            }
        }
    }

    fn pools_and_store(&self, snap: &Snapshot, prev: Option<&Snapshot>) {
        for pool in &snap.pools {
            let attrs = [kv("zen.pool.name", pool.name.clone())];
            let before = prev.and_then(|p| p.pools.iter().find(|o| o.name == pool.name));
            replay_latency(
                &self.queue_wait,
                before.map(|b| &b.queue_wait),
                &pool.queue_wait,
                &attrs,
            );
            let rejected = before.map_or(0, |b| b.rejected_total);
            self.add(
                "zen.pool.rejected",
                pool.rejected_total.saturating_sub(rejected),
                &attrs,
            );
        }
        let (now, was) = (
            &snap.conversations.evictions,
            prev.map(|p| &p.conversations.evictions),
        );
        for (cause, n, old) in [
            ("pressure", now.pressure, was.map_or(0, |w| w.pressure)),
            ("expiry", now.expiry, was.map_or(0, |w| w.expiry)),
            ("oversize", now.oversize, was.map_or(0, |w| w.oversize)),
        ] {
            self.add(
                "zen.store.evictions",
                n.saturating_sub(old),
                &[kv("zen.eviction.cause", cause)],
            );
        }
        let dropped = |s: Option<&Snapshot>| {
            s.and_then(|s| s.otel.as_ref())
                .map_or(0, |o| o.spans_dropped)
        };
        self.add(
            "zen.otel.spans.dropped",
            dropped(Some(snap)).saturating_sub(dropped(prev)),
            &[],
        );
    }

    /// Values now: pools, breakers, store, memory.
    fn gauges(&self, snap: &Snapshot) {
        for pool in &snap.pools {
            let attrs = [kv("zen.pool.name", pool.name.clone())];
            self.set("zen.pool.in_use", pool.in_use, &attrs);
            self.set("zen.pool.waiting", pool.waiting, &attrs);
            self.set("zen.pool.limit", pool.limit.into(), &attrs);
        }
        for (name, p) in &snap.providers {
            for state in zen_model::snapshot::BreakerState::ALL {
                let attrs = [
                    kv("gen_ai.provider.name", name.clone()),
                    kv("zen.breaker.state", state.as_str()),
                ];
                self.set(
                    "zen.breaker.state",
                    u64::from(p.breaker.state == state),
                    &attrs,
                );
            }
        }
        let store = &snap.conversations;
        let attrs = [kv("zen.store.kind", store.kind.clone())];
        self.set("zen.store.threads", store.threads, &attrs);
        self.set("zen.store.bytes", store.bytes, &attrs);
        self.set("zen.store.budget", store.budget_bytes, &attrs);
        self.set("zen.process.memory.rss", snap.system.rss_bytes, &[]);
    }

    fn add(&self, name: &str, by: u64, attrs: &[KeyValue]) {
        // A zero still reports the series, so a collector sees every error kind from the start.
        self.counters[name].add(by, attrs);
    }

    fn set(&self, name: &str, value: u64, attrs: &[KeyValue]) {
        self.gauges[name].record(value, attrs);
    }
}

/// Record into `into` the calls `now` holds beyond `before`: the failed ones with their
/// error.type, the rest without.
fn replay_calls(
    into: &Histogram<f64>,
    before: Option<&CallStats>,
    now: &CallStats,
    attrs: &[KeyValue],
) {
    let count = now.latency.count;
    if before.is_some_and(|b| b.latency.count == count) || count == 0 {
        return;
    }
    let old = before.map(|b| (b.latency.hdr.as_str(), &b.failed_hdr));
    replay_split(into, old, (&now.latency.hdr, &now.failed_hdr), attrs);
}

/// An encoded histogram of all calls, and one per error kind of the failed ones.
type Split<'a> = (&'a str, &'a BTreeMap<String, String>);

/// Record into `into` the calls in `now` beyond `before`, the failed ones with their error.type.
fn replay_split(into: &Histogram<f64>, before: Option<Split>, now: Split, attrs: &[KeyValue]) {
    let Some(mut ok) = added(before.map(|b| b.0), now.0) else {
        return;
    };
    for (kind, hdr) in now.1 {
        let earlier = before.and_then(|b| b.1.get(kind)).map(String::as_str);
        let Some(failed) = added(earlier, hdr) else {
            continue;
        };
        let _ = ok.subtract(&failed);
        let mut with_error = attrs.to_vec();
        with_error.push(kv("error.type", kind.clone()));
        record_seconds(into, &failed, &with_error);
    }
    record_seconds(into, &ok, attrs);
}

/// The values encoded in `now` beyond those in `before` (none: all of `now`); None when a side
/// does not decode or `before` is not a prefix of `now`.
fn added(before: Option<&str>, now: &str) -> Option<hdrhistogram::Histogram<u64>> {
    let mut h = decode_histogram(now).ok()?;
    if let Some(b) = before {
        h.subtract(decode_histogram(b).ok()?).ok()?;
    }
    Some(h)
}

/// Record into `into` (seconds) the calls `now` holds beyond `before`.
fn replay_latency(
    into: &Histogram<f64>,
    before: Option<&LatencySummary>,
    now: &LatencySummary,
    attrs: &[KeyValue],
) {
    if before.is_some_and(|b| b.count == now.count) || now.count == 0 {
        return;
    }
    if let Some(added) = latency_between(before, now) {
        record_seconds(into, &added, attrs);
    }
}

/// Every call in `h` (µs) into `into`, in seconds.
fn record_seconds(into: &Histogram<f64>, h: &hdrhistogram::Histogram<u64>, attrs: &[KeyValue]) {
    for v in h.iter_recorded() {
        let seconds = v.value_iterated_to() as f64 / 1e6;
        for _ in 0..v.count_at_value() {
            into.record(seconds, attrs);
        }
    }
}
