//! `zen stress --tui` / `zen soak --tui`: the run drives `zen top`'s dashboard. A zen target
//! feeds its own snapshot; any other server is shown from the client's side (a Snapshot built
//! from the run's recorder). Quitting the dashboard stops the run, which then reports as partial.
use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::engine::recorder::Recorder;
use crate::engine::recorder::{ErrorKind, Recorded};
use crate::target::Target;
use zen_model::clock::unix_ms;
use zen_model::feed::{Connection, Feed, RunStatus};
use zen_model::snapshot::{
    CallStats, ErrorCounts, LatencySummary, LimitsStats, ProtocolStats, Rates, ServerInfo,
    Snapshot, StoreStats,
};

/// How often the dashboard gets a new snapshot.
const FEED_EVERY: Duration = Duration::from_secs(1);

/// What the dashboard reads of a run: its parts, not the run itself (the run drives this).
pub(crate) struct LiveRun<'a> {
    /// `stress` or `soak`, for the title.
    pub command: &'a str,
    /// The target: its snapshot when it is zen, its identity otherwise.
    pub target: &'a Target,
    /// The client's side of the figures.
    pub recorder: &'a Recorder,
    /// Cancelled when the user quits the dashboard, to end the load.
    pub stop: &'a tokio_util::sync::CancellationToken,
}

/// The dashboard, as the binary hands it to a run: draw `feed` under `title` until the user quits
/// or the token is cancelled. (`zen_top::run_dashboard`; the load engine does not depend on it.)
pub type Dashboard = Arc<
    dyn Fn(
            watch::Receiver<Feed>,
            String,
            CancellationToken,
        ) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>
        + Send
        + Sync,
>;

/// Run `load` while the dashboard shows it; returns what `load` returns.
pub(crate) async fn with_dashboard<T>(
    run: LiveRun<'_>,
    dashboard: &Dashboard,
    total: Option<Duration>,
    load: impl Future<Output = T>,
) -> T {
    let (tx, rx) = watch::channel(Feed::default());
    let title = format!("zen {} · {}", run.command, run.target.label);
    let started = Instant::now();
    let feeder = async {
        let mut tick = tokio::time::interval(FEED_EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = tx.closed() => {
                    run.stop.cancel(); // the user quit the dashboard
                    return;
                }
            }
            let snapshot = match run.target.snapshot().await {
                Some(s) => Some(s),
                None => Some(client_snapshot(&run, started)),
            };
            let recorded_ok = run.recorder.ok.load(std::sync::atomic::Ordering::Relaxed);
            let failed = run
                .recorder
                .failed
                .load(std::sync::atomic::Ordering::Relaxed);
            let _ = tx.send(Feed {
                snapshot,
                connection: Connection::Connected,
                run: Some(RunStatus {
                    elapsed: started.elapsed(),
                    total,
                    ok: recorded_ok,
                    failed,
                }),
                instances: Vec::new(),
            });
        }
    };
    let dashboard = async {
        if let Err(err) = dashboard(rx, title, run.stop.clone()).await {
            tracing::warn!("dashboard: {err:#}");
        }
        run.stop.cancel();
    };
    // The load decides the end: when it is done, the feeder and dashboard are dropped with it.
    // If the user quits first, the stop token is cancelled and the load winds down.
    let mut load = std::pin::pin!(load);
    tokio::select! {
        out = &mut load => return out,
        _ = async { tokio::join!(feeder, dashboard) } => {}
    }
    load.await
}

fn call_stats(
    ok: u64,
    failed: u64,
    errors: ErrorCounts,
    latency: LatencySummary,
    in_flight: u64,
    peak: u64,
) -> CallStats {
    let total = ok + failed;
    CallStats {
        total_operations: total,
        total_errors: failed,
        error_rate: zen_model::snapshot::error_rate(failed, total),
        average_duration_ms: latency.mean_ms,
        in_flight,
        peak_in_flight: peak,
        errors,
        latency,
        rates: Rates::default(),
        failed_hdr: BTreeMap::default(),
    }
}

/// The run's own figures as a Snapshot, for servers that have none. Client-side error kinds map
/// onto the snapshot's: JSON-RPC and tool errors and calls that wanted input → tool_error,
/// transport failures → provider_error, timeouts → timeout.
pub(crate) fn client_snapshot(run: &LiveRun<'_>, started: Instant) -> Snapshot {
    let r: Recorded = run.recorder.recorded();
    let count = |k: ErrorKind| {
        r.errors
            .iter()
            .find(|(kind, _)| *kind == k)
            .map_or(0, |(_, b)| b.count)
    };
    let errors = ErrorCounts {
        tool_error: count(ErrorKind::JsonRpc)
            + count(ErrorKind::Tool)
            + count(ErrorKind::InputRequired),
        provider_error: count(ErrorKind::Transport),
        timeout: count(ErrorKind::Timeout),
        rejected: 0,
    };
    let in_flight = run
        .recorder
        .in_flight
        .load(std::sync::atomic::Ordering::Relaxed);
    let tools: BTreeMap<String, CallStats> = crate::engine::recorder::tool_reports(&r)
        .into_iter()
        .map(|(name, t)| {
            let hist = r.tools.iter().filter(|(n, ..)| *n == name).fold(
                zen_model::hdr::new_histogram(),
                |mut acc, (_, h, ..)| {
                    let _ = acc.add(h);
                    acc
                },
            );
            let stats = call_stats(
                t.ok,
                t.failed,
                ErrorCounts::default(),
                LatencySummary::from_histogram(&hist),
                0,
                0,
            );
            (name, stats)
        })
        .collect();
    let system = run
        .target
        .pid
        .and_then(zen_os::process::sample)
        .map(|p| zen_model::snapshot::SystemStats {
            memory_usage_mb: zen_model::snapshot::mib(p.rss_bytes),
            rss_bytes: p.rss_bytes,
            cpu_percent: 0.0,
            threads: p.threads.unwrap_or(0),
            uptime_minutes: started.elapsed().as_secs_f64() / 60.0,
            ..Default::default()
        })
        .unwrap_or_default();
    Snapshot {
        server: ServerInfo {
            name: run.target.server.name.clone(),
            version: run.target.server.version.clone(),
            pid: run.target.pid.unwrap_or(0),
            transport: run.target.kind.to_string(),
            endpoint: Some(run.target.label.clone()),
            started_at_ms: unix_ms().saturating_sub(started.elapsed().as_millis() as u64),
            uptime_secs: started.elapsed().as_secs_f64(),
            draining: false,
        },
        taken_at_ms: unix_ms(),
        totals: call_stats(
            r.ok,
            r.failed,
            errors,
            LatencySummary::from_histogram(&r.latency_us),
            in_flight,
            r.peak_in_flight,
        ),
        tools,
        providers: BTreeMap::new(),
        pools: Vec::new(),
        system,
        conversations: StoreStats::default(),
        protocol: ProtocolStats::default(),
        tokens: Vec::new(),
        model_latency: Vec::new(),
        limits: LimitsStats::default(),
        otel: None,
        bounded: Vec::new(),
    }
}
