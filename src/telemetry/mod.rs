//! The telemetry listener `zen serve` opens on loopback whatever its transport:
//! `GET /snapshot` (the Snapshot as JSON) and `GET /metrics` (Prometheus text rendered from the
//! same Snapshot), announced in a discovery file so `zen top` and `zen soak` can find it.
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub mod discovery;
pub mod prometheus;

use crate::serve::App;
use discovery::{Discovery, DiscoveryInfo};

/// A running telemetry listener; dropping it removes the discovery file.
pub struct Telemetry {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Removed on drop (and so on exit).
    _discovery: Option<Discovery>,
}

/// Open the listener (unless --no-telemetry) and write the discovery file.
pub async fn start(app: &Arc<App>, shutdown: &CancellationToken) -> Result<Option<Telemetry>> {
    let cfg = &app.config.transport;
    if cfg.no_telemetry {
        return Ok(None);
    }
    if !cfg.telemetry.ip().is_loopback() {
        bail!(
            "--telemetry {} is not a loopback address: the telemetry listener only serves this machine",
            cfg.telemetry
        );
    }
    let listener = TcpListener::bind(cfg.telemetry)
        .await
        .with_context(|| format!("cannot open the telemetry listener on {}", cfg.telemetry))?;
    let addr = listener.local_addr()?;
    let router = router(app.clone());
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
        if let Err(err) = served {
            tracing::warn!(%err, "telemetry listener stopped");
        }
    });
    let server = app.server_info();
    let info = DiscoveryInfo {
        pid: server.pid,
        telemetry_url: format!("http://{addr}"),
        transport: server.transport,
        endpoint: server.endpoint,
        version: server.version,
        started_at_ms: server.started_at_ms,
    };
    let dir = discovery::runtime_dir(cfg.runtime_dir.as_deref());
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
    Ok(Some(Telemetry {
        addr,
        _discovery: discovery,
    }))
}

/// The telemetry routes.
pub fn router(app: Arc<App>) -> axum::Router {
    axum::Router::new()
        .route("/", get(index))
        .route("/snapshot", get(snapshot))
        .route("/metrics", get(metrics))
        .with_state(app)
}

async fn index() -> &'static str {
    "zen telemetry: GET /snapshot (JSON), GET /metrics (Prometheus text)\n"
}

async fn snapshot(State(app): State<Arc<App>>) -> impl IntoResponse {
    axum::Json(app.snapshot())
}

async fn metrics(State(app): State<Arc<App>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, prometheus::CONTENT_TYPE)],
        prometheus::render(&app.snapshot()),
    )
}
