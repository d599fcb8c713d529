//! The telemetry listener `zen serve` opens on loopback whatever its transport:
//! `GET /snapshot` (the Snapshot as JSON) and `GET /metrics` (Prometheus text rendered from the
//! same Snapshot), announced in a discovery file so `zen top` and `zen soak` can find it.
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Result, bail};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub mod otel;
pub(crate) mod prometheus;

use crate::config::BoundsConfig;
use crate::serve::http::accept::{self, ConnLimits, OnClose};
use zen_model::snapshot::SnapshotSource;
use zen_os::discovery::{self, Discovery, DiscoveryInfo};

/// Telemetry connections open at once: a dashboard, a scraper or two, a soak run. Part of the
/// descriptors the MCP listener's cap keeps back.
const MAX_CONNECTIONS: usize = 32;

/// The figures telemetry serves: whatever can produce a snapshot (the server, in zen serve).
pub type Source = Arc<dyn SnapshotSource>;

/// A running telemetry listener; dropping it removes the discovery file.
pub struct Telemetry {
    /// Removed on drop (and so on exit).
    _discovery: Option<Discovery>,
}

/// Open the listener on `addr` (loopback only) and write the discovery file in `runtime_dir`
/// (or the default runtime directory).
pub(crate) async fn start(
    addr: SocketAddr,
    runtime_dir: Option<&std::path::Path>,
    source: Source,
    guard: (&BoundsConfig, OnClose),
    shutdown: &CancellationToken,
) -> Result<Telemetry> {
    if !addr.ip().is_loopback() {
        bail!(
            "--telemetry {addr} is not a loopback address: the telemetry listener only serves this machine"
        );
    }
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        let why = crate::config::listen_error(addr, &e, "--telemetry", "ZEN_TELEMETRY");
        anyhow::anyhow!("the telemetry listener: {why}")
    })?;
    let addr = listener.local_addr()?;
    let server = source.snapshot().server;
    let router = router(source);
    // The MCP listener's accept loop: header, body and idle timeouts and a connection cap, so
    // half-sent requests cannot pile up in the descriptor table both listeners share.
    let (bounds, on_close) = guard;
    let limits = ConnLimits::of(bounds, MAX_CONNECTIONS);
    tokio::spawn(accept::run(
        listener,
        router,
        limits,
        on_close,
        shutdown.clone(),
    ));
    let info = DiscoveryInfo {
        pid: server.pid,
        telemetry_url: format!("http://{addr}"),
        transport: server.transport,
        endpoint: server.endpoint,
        version: server.version,
        started_at_ms: server.started_at_ms,
    };
    let dir = discovery::runtime_dir(runtime_dir);
    let discovery = match Discovery::write(&dir, &info) {
        Ok(d) => Some(d),
        Err(err) => {
            tracing::warn!(
                "no discovery file ({err:#}); `zen top --url {}` still works",
                info.telemetry_url
            );
            None
        }
    };
    tracing::info!(url = %info.telemetry_url, "telemetry: /snapshot and /metrics");
    Ok(Telemetry {
        _discovery: discovery,
    })
}

/// The telemetry routes.
pub fn router(source: Source) -> axum::Router {
    axum::Router::new()
        .route("/", get(index))
        .route("/snapshot", get(snapshot))
        .route("/metrics", get(metrics))
        .with_state(source)
}

async fn index() -> &'static str {
    "zen telemetry: GET /snapshot (JSON), GET /metrics (Prometheus text)\n"
}

async fn snapshot(State(source): State<Source>) -> impl IntoResponse {
    axum::Json(source.snapshot())
}

async fn metrics(State(source): State<Source>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, prometheus::CONTENT_TYPE)],
        prometheus::render(&source.snapshot()),
    )
}
