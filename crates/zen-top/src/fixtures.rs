//! Test fixtures: deterministic timelines of snapshots shaped like a real zen serve's, and the
//! dashboard states the view tests draw (empty, steady, saturated, failing, disconnected…).
use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::state::State;
use zen_model::feed::{Connection, Feed, Instance, RunStatus};
use zen_model::hdr::new_histogram;
use zen_model::snapshot::{
    BreakerState, BreakerStats, CallStats, Cause, CleanupInfo, ClusterPoolStats, Evictions,
    LatencySummary, LimitsStats, PoolStats, ProtocolStats, ProviderStats, ServerInfo, Snapshot,
    StoreStats, SystemStats, TokenStats, WatchdogState, WatchdogStats,
};

/// The fixture server's start (Unix ms).
pub(crate) const T0: u64 = 1_795_000_000_000;
pub(crate) const TITLE: &str = "zen top · http://127.0.0.1:40123";
const MB: u64 = 1_048_576;

/// Builds successive snapshots of one server: record calls, then `tick` the clock.
pub(crate) struct Timeline {
    pub snap: Snapshot,
    hist: BTreeMap<String, Histogram<u64>>,
    total: Histogram<u64>,
    seq: u64,
}

pub(crate) fn pool(name: &str, limit: u32, in_use: u64) -> PoolStats {
    PoolStats {
        name: name.into(),
        limit,
        in_use,
        waiting: 0,
        peak_in_use: in_use,
        peak_waiting: 0,
        acquired_total: 0,
        rejected_total: 0,
        rejected_shutting_down: 0,
        queue_wait: LatencySummary {
            buckets: vec![0; 16],
            ..Default::default()
        },
    }
}

pub(crate) fn provider(state: BreakerState, failures: u32, opened: u64) -> ProviderStats {
    ProviderStats {
        calls: CallStats::default(),
        retries_total: 0,
        breaker: BreakerStats {
            state,
            consecutive_failures: failures,
            failure_threshold: 5,
            open_for_secs: 60.0,
            opened_total: opened,
            transitions_total: opened * 2,
            short_circuited_total: 0,
        },
    }
}

impl Timeline {
    pub(crate) fn new() -> Self {
        let tools = ["chat", "listmodels", "metrics", "version"];
        let snap = Snapshot {
            server: ServerInfo {
                name: "zen".into(),
                version: "0.1.0".into(),
                pid: 4242,
                transport: "http".into(),
                endpoint: Some("http://127.0.0.1:8931/mcp".into()),
                started_at_ms: T0,
                uptime_secs: 0.0,
                draining: false,
            },
            taken_at_ms: T0,
            totals: CallStats::default(),
            tools: tools
                .iter()
                .map(|t| (t.to_string(), CallStats::default()))
                .collect(),
            providers: [(
                "simulated".to_string(),
                provider(BreakerState::Closed, 0, 0),
            )]
            .into(),
            pools: vec![pool("global", 50, 0), pool("simulated", 32, 0)],
            system: SystemStats {
                rss_bytes: 24 * MB,
                threads: 6,
                ..Default::default()
            },
            conversations: StoreStats {
                kind: "sqlite".to_string(),
                resident_bytes: 2 * MB,
                file_bytes: Some(40 * MB),
                cache_bytes: 2 * MB,
                location: None,
                threads: 0,
                bytes: 0,
                budget_bytes: 512 * MB,
                utilisation: 0.0,
                threshold: 0.8,
                thread_max_bytes: 51 * MB,
                peak_bytes: 0,
                evictions: Evictions::default(),
                cleanups_total: 0,
                last_cleanup: None,
                watchdog: WatchdogStats {
                    state: WatchdogState::Ok,
                    rss_bytes: 24 * MB,
                    limit_bytes: 2048 * MB,
                    refused_threads_total: 0,
                    pressure_elsewhere_total: 0,
                },
            },
            protocol: ProtocolStats::default(),
            tokens: Vec::new(),
            model_latency: Vec::new(),
            limits: LimitsStats::default(),
            otel: None,
            bounded: Vec::new(),
        };
        let hist = tools
            .iter()
            .map(|t| (t.to_string(), new_histogram()))
            .collect();
        Timeline {
            snap,
            hist,
            total: new_histogram(),
            seq: 0,
        }
    }

    /// Record `ok + errors` finished calls of `tool` with latencies spread around `lat_ms`
    /// (every 50th one five times slower); errors split over provider errors, timeouts and
    /// tool errors.
    pub(crate) fn calls(&mut self, tool: &str, ok: u64, errors: u64, lat_ms: f64) {
        let h = self.hist.entry(tool.into()).or_insert_with(new_histogram);
        for _ in 0..ok + errors {
            self.seq += 1;
            let spread = 0.6 + 0.8 * ((self.seq * 7919) % 1000) as f64 / 1000.0;
            let tail = if self.seq.is_multiple_of(50) {
                5.0
            } else {
                1.0
            };
            let us = (lat_ms * 1000.0 * spread * tail).max(1.0) as u64;
            h.record(us).unwrap();
            self.total.record(us).unwrap();
        }
        let stats = self.snap.tools.entry(tool.into()).or_default();
        stats.total_operations += ok + errors;
        stats.total_errors += errors;
        let provider = errors / 2;
        let timeout = errors / 4;
        stats.errors.provider_error += provider;
        stats.errors.timeout += timeout;
        stats.errors.tool_error += errors - provider - timeout;
    }

    /// Advance the clock, recompute the per-tool and total figures, return the snapshot.
    pub(crate) fn tick(&mut self, dt_ms: u64) -> Snapshot {
        let s = &mut self.snap;
        s.taken_at_ms += dt_ms;
        s.server.uptime_secs = (s.taken_at_ms - T0) as f64 / 1000.0;
        s.system.uptime_minutes = s.server.uptime_secs / 60.0;
        let mut totals = CallStats::default();
        for (name, stats) in &mut s.tools {
            let h = &self.hist[name];
            stats.latency = LatencySummary::from_histogram(h);
            stats.average_duration_ms = stats.latency.mean_ms;
            stats.error_rate =
                zen_model::snapshot::error_rate(stats.total_errors, stats.total_operations);
            stats.peak_in_flight = stats.peak_in_flight.max(stats.in_flight);
            totals.total_operations += stats.total_operations;
            totals.total_errors += stats.total_errors;
            totals.in_flight += stats.in_flight;
            totals.errors.tool_error += stats.errors.tool_error;
            totals.errors.provider_error += stats.errors.provider_error;
            totals.errors.timeout += stats.errors.timeout;
            totals.errors.rejected += stats.errors.rejected;
        }
        totals.latency = LatencySummary::from_histogram(&self.total);
        totals.average_duration_ms = totals.latency.mean_ms;
        totals.error_rate =
            zen_model::snapshot::error_rate(totals.total_errors, totals.total_operations);
        totals.peak_in_flight = s.totals.peak_in_flight.max(totals.in_flight);
        s.totals = totals;
        s.conversations.utilisation =
            zen_model::snapshot::error_rate(s.conversations.bytes, s.conversations.budget_bytes);
        s.conversations.peak_bytes = s.conversations.peak_bytes.max(s.conversations.bytes);
        s.conversations.watchdog.rss_bytes = s.system.rss_bytes;
        s.system.memory_usage_mb = s.system.rss_bytes as f64 / MB as f64;
        s.clone()
    }
}

/// A dashboard state fed `snaps` over a healthy connection, then `connection`.
pub(crate) fn state_of(snaps: Vec<Snapshot>, connection: Connection) -> State {
    let mut state = State::new(TITLE);
    let mut feed = Feed {
        connection: Connection::Connected,
        ..Feed::default()
    };
    for snap in snaps {
        feed.snapshot = Some(snap);
        state.ingest(&feed);
    }
    feed.connection = connection;
    state.ingest(&feed);
    state
}

/// A server up for a few seconds that has had no calls.
pub(crate) fn empty() -> State {
    let mut tl = Timeline::new();
    let snaps = (0..10).map(|_| tl.tick(1000)).collect();
    state_of(snaps, Connection::Connected)
}

/// 90 seconds of steady traffic with a few errors, memory creeping up.
pub(crate) fn steady_timeline() -> Vec<Snapshot> {
    let mut tl = Timeline::new();
    tl.tick(5_000);
    (0..90u64)
        .map(|i| {
            tl.calls("chat", 18 + (i * 7) % 9, u64::from(i % 10 == 0), 200.0);
            if i % 5 == 0 {
                tl.calls("listmodels", 1, 0, 2.0);
            }
            if i % 10 == 0 {
                tl.calls("metrics", 1, 0, 0.3);
            }
            tl.snap.tools.get_mut("chat").unwrap().in_flight = 4;
            tl.snap.pools[0].in_use = 4;
            tl.snap.pools[0].peak_in_use = 9;
            tl.snap.pools[1].in_use = 4;
            tl.snap.pools[1].peak_in_use = 9;
            tl.snap.system.rss_bytes = 24 * MB + i * 4096;
            tl.snap.system.cpu_percent = 3.0;
            tl.snap.conversations.threads = 120 + i;
            tl.snap.conversations.bytes = (120 + i) * 3000;
            tl.snap.tokens = vec![TokenStats {
                provider: "simulated".into(),
                model: "simulated".into(),
                prompt_tokens: 1200 * (i + 1),
                completion_tokens: 130 * (i + 1),
                ..Default::default()
            }];
            tl.tick(1000)
        })
        .collect()
}

pub(crate) fn steady() -> State {
    state_of(steady_timeline(), Connection::Connected)
}

/// Every permit taken and callers queueing: pools full, latency climbing, rejections.
pub(crate) fn saturated() -> State {
    let mut tl = Timeline::new();
    tl.tick(5_000);
    let snaps = (0..60u64)
        .map(|i| {
            tl.calls("chat", 40 + i % 7, i / 20, 200.0 + 25.0 * i as f64);
            let full = i >= 20;
            let chat = tl.snap.tools.get_mut("chat").unwrap();
            chat.in_flight = if full { 50 } else { 10 + 2 * i };
            let g = &mut tl.snap.pools[0];
            g.in_use = if full { 50 } else { 10 + 2 * i };
            g.peak_in_use = g.peak_in_use.max(g.in_use);
            g.waiting = if full { 37 } else { 0 };
            g.peak_waiting = if full { 41 } else { 0 };
            g.rejected_total = i.saturating_sub(40);
            g.queue_wait.p99_ms = if full { 1200.0 } else { 0.4 };
            let p = &mut tl.snap.pools[1];
            p.in_use = if full { 32 } else { 10 + i };
            p.peak_in_use = p.peak_in_use.max(p.in_use);
            p.waiting = if full { 18 } else { 0 };
            p.rejected_total = i.saturating_sub(50);
            p.queue_wait.p99_ms = if full { 850.0 } else { 0.2 };
            tl.snap.system.rss_bytes = 30 * MB + i * 64 * 1024;
            tl.snap.conversations.threads = 800 + 10 * i;
            tl.snap.conversations.bytes = (800 + 10 * i) * 4000;
            tl.tick(1000)
        })
        .collect();
    state_of(snaps, Connection::Connected)
}

/// A failing provider: 40% errors, its breaker open, memory under pressure.
pub(crate) fn high_errors() -> State {
    let mut tl = Timeline::new();
    tl.snap
        .providers
        .insert("openai".into(), provider(BreakerState::Closed, 0, 0));
    tl.snap.pools.push(pool("openai", 16, 0));
    tl.tick(65_000); // past the slope's warm-up: the leak shows as a slope
    let snaps = (0..60u64)
        .map(|i| {
            let errors = if i < 20 { 1 } else { 12 };
            tl.calls("chat", 18, errors, 150.0);
            tl.calls("listmodels", 2, 0, 3.0);
            tl.snap.tools.get_mut("chat").unwrap().in_flight = 2;
            if i >= 30 {
                tl.snap
                    .providers
                    .insert("openai".into(), provider(BreakerState::Open, 5, 3));
            }
            let c = &mut tl.snap.conversations;
            c.threads = 4000;
            c.bytes = 400 * MB + i * 64 * 1024;
            c.evictions = Evictions {
                pressure: 342 + i,
                expiry: 12,
                oversize: 3,
            };
            c.cleanups_total = 7;
            c.last_cleanup = Some(CleanupInfo {
                at_ms: T0 + 50_000,
                duration_ms: 3.1,
                cause: Cause::Pressure,
                evicted: 120,
            });
            c.watchdog.state = WatchdogState::Warning;
            c.watchdog.refused_threads_total = 0;
            c.watchdog.limit_bytes = 600 * MB;
            tl.snap.system.rss_bytes = 500 * MB + i * 256 * 1024;
            tl.tick(1000)
        })
        .collect();
    state_of(snaps, Connection::Connected)
}

/// Steady history, then the server stopped answering.
pub(crate) fn disconnected() -> State {
    state_of(
        steady_timeline(),
        Connection::Disconnected {
            reason: "cannot connect".into(),
        },
    )
}

/// Nothing heard yet.
pub(crate) fn connecting() -> State {
    State::new(TITLE)
}

/// Steady, fed by a load run (`zen stress --tui`).
pub(crate) fn with_run() -> State {
    let mut state = steady();
    state.ingest(&Feed {
        snapshot: state.latest.clone(),
        connection: Connection::Connected,
        run: Some(RunStatus {
            elapsed: std::time::Duration::from_secs(42),
            total: Some(std::time::Duration::from_secs(120)),
            ok: 1234,
            failed: 17,
        }),
        instances: Vec::new(),
    });
    state
}

/// Two instances on one Redis with shared limits, the second unreachable.
pub(crate) fn cluster() -> State {
    let mut state = steady();
    let mut snap = state.latest.clone().expect("steady has a snapshot");
    snap.limits = LimitsStats {
        backend: "redis".into(),
        location: Some("redis://10.0.0.5:6379/".into()),
        lease_secs: 30.0,
        providers: vec![ClusterPoolStats {
            name: "simulated".into(),
            limit: 32,
            held: 20,
            waiting: 3,
            held_here: 12,
        }],
        ..LimitsStats::default()
    };
    let mut other = snap.clone();
    other.server.pid = 4343;
    let instances = vec![
        Instance {
            url: "http://127.0.0.1:40123".into(),
            connection: Connection::Connected,
            snapshot: Some(snap.clone()),
        },
        Instance {
            url: "http://10.0.0.7:40123".into(),
            connection: Connection::Disconnected {
                reason: "cannot connect".into(),
            },
            snapshot: Some(other),
        },
    ];
    state.ingest(&Feed {
        snapshot: Some(snap.clone()),
        connection: Connection::Connected,
        run: None,
        instances,
    });
    state.latest = Some(snap); // same instant as steady's: shown, not recorded again
    state
}
