//! Streamable HTTP at `/mcp` (rmcp's tower service under axum, served by zen's own accept loop),
//! with the MCP spec's Origin check, a body limit, capped sessions, loopback-only binding
//! unless `--allow-remote`, and a bearer token.
pub(crate) mod accept;
mod body_deadline;
mod direct;
mod gate;
mod json;
mod modern;
mod replies;
mod sessions;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::handler::SessionHandler;
use super::server::Server;
use crate::client_log::SessionLogs;
use crate::protocol::headers::Guard;
use crate::serve::answer::Answerer;
use crate::tools::TransportInfo;
use accept::ConnLimits;
use direct::Direct;
use gate::Gate;
use modern::Modern;
use sessions::SessionClock;

/// After the drain, how long connections may take to write their last replies, and then to
/// close once their SSE streams are ended.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Check the bind address against `--allow-remote` and the token before binding.
pub(crate) fn check_bind(addr: SocketAddr, allow_remote: bool, token: Option<&str>) -> Result<()> {
    if !addr.ip().is_loopback() && !allow_remote {
        bail!(
            "refusing to serve HTTP on {addr}: it is not a loopback address. Pass --allow-remote \
             and set ZEN_AUTH_TOKEN to expose zen beyond this machine"
        );
    }
    if allow_remote && token.is_none_or(str::is_empty) {
        bail!("--allow-remote needs a bearer token: set ZEN_AUTH_TOKEN (or --auth-token)");
    }
    Ok(())
}

/// Serve MCP over HTTP on `listener` until `shutdown`, then drain in-flight calls.
pub(crate) async fn serve(
    listener: TcpListener,
    server: Arc<Server>,
    shutdown: CancellationToken,
) -> Result<()> {
    let cfg = &server.context.config;
    let local = listener.local_addr()?;
    let endpoint = format!("http://{local}/mcp");
    server.context.set_transport(TransportInfo {
        kind: "http",
        endpoint: Some(endpoint.clone()),
    });
    let sessions_token = CancellationToken::new();
    let sessions = Arc::new(session_manager());
    let clock = Arc::new(SessionClock::new(
        cfg.bounds.session_idle,
        server.context.clone(),
    ));
    let logs = Arc::new(SessionLogs::default());
    tokio::spawn(
        clock
            .clone()
            .reap(sessions.clone(), logs.clone(), sessions_token.child_token()),
    );
    let router = router(
        &server,
        (sessions, logs),
        clock,
        sessions_token.child_token(),
    );
    let limits = ConnLimits::of(&cfg.bounds, cfg.bounds.max_connections).fit_to_descriptors();
    tracing::info!(%endpoint, max_connections = limits.max, "serving MCP over streamable HTTP");
    let stop = CancellationToken::new();
    let on_close = accept::counted(&server.context);
    let accepting = tokio::spawn(accept::run(
        listener,
        router,
        limits,
        on_close,
        stop.clone(),
    ));
    shutdown.cancelled().await;
    tracing::info!("shutdown requested: finishing in-flight calls");
    let drain_timeout = cfg.transport.drain_timeout;
    server
        .drain(tokio::time::Instant::now() + drain_timeout)
        .await;
    stop.cancel();
    let connections = accepting.await.context("the HTTP accept loop failed")?;
    // Replies still being written get a moment; then open SSE streams are ended.
    if tokio::time::timeout(CLOSE_GRACE, connections.wait())
        .await
        .is_err()
    {
        sessions_token.cancel();
        let _ = tokio::time::timeout(CLOSE_GRACE, connections.wait()).await;
    }
    sessions_token.cancel();
    Ok(())
}

/// rmcp's in-memory sessions, with its idle timer off: zen's [`SessionClock`] closes them
/// after ZEN_SESSION_IDLE, counting the tools/calls rmcp never sees.
fn session_manager() -> LocalSessionManager {
    let mut manager = LocalSessionManager::default();
    manager.session_config.keep_alive = None;
    manager
}

/// `/mcp`: rmcp's service behind zen's gate (and the bearer check when a token is set).
fn router(
    server: &Arc<Server>,
    (sessions, logs): (Arc<LocalSessionManager>, Arc<SessionLogs>),
    clock: Arc<SessionClock>,
    cancel: CancellationToken,
) -> axum::Router {
    let cfg = &server.context.config;
    let origins: Vec<String> = crate::protocol::headers::LOOPBACK_ORIGINS
        .iter()
        .map(std::string::ToString::to_string)
        .chain(
            cfg.transport
                .allowed_origins
                .iter()
                .filter(|o| !o.is_empty())
                .cloned(),
        )
        .collect();
    let stateless = cfg.transport.http_stateless;
    let mut config = StreamableHttpServerConfig::default()
        .with_cancellation_token(cancel)
        .with_allowed_origins(origins.clone())
        .with_max_request_body_bytes(cfg.transport.max_message_bytes)
        // Stateless: rmcp serves each request on its own, one reply as JSON (SSE only when a
        // tool notifies first), whatever protocol revision the client speaks.
        .with_legacy_session_mode(!stateless)
        .with_json_response(stateless);
    if cfg.transport.allow_remote {
        // Remote clients use whatever host name reaches us; the bearer token guards access.
        config = config.disable_allowed_hosts();
    }
    let host = SessionHandler::new(server.clone()).with_session_logs(logs.clone());
    let service = StreamableHttpService::new(move || Ok(host.clone()), sessions.clone(), config);
    let answerer = Arc::new(Answerer::new(server.clone()));
    let any_host = cfg.transport.allow_remote;
    let gate = Arc::new(Gate {
        server: server.clone(),
        sessions,
        max_sessions: cfg.bounds.max_sessions,
        max_body: cfg.transport.max_message_bytes,
        json_replies: !cfg.transport.sse_replies,
        direct: Direct::new(answerer.clone(), any_host, logs),
        modern: Modern {
            guard: Guard::new(&origins, any_host),
            answerer,
        },
        stateless,
        clock,
    });
    let mut router = axum::Router::new()
        .nest_service("/mcp", service)
        .layer(middleware::from_fn_with_state(gate, gate::gate));
    if let Some(token) = cfg.transport.auth_token.clone().filter(|t| !t.is_empty()) {
        router = router.layer(middleware::from_fn_with_state(
            Arc::new(token),
            require_bearer,
        ));
    }
    router
}

/// Reject requests without `Authorization: Bearer <token>`.
async fn require_bearer(
    State(token): State<Arc<String>>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented {
        Some(p) if constant_time_eq(p.as_bytes(), token.as_bytes()) => next.run(request).await,
        _ => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "zen: missing or wrong bearer token (Authorization: Bearer <ZEN_AUTH_TOKEN>)\n",
        )
            .into_response(),
    }
}

/// Compare without an early exit, so timing does not reveal how much of a token matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_binds_need_the_flag_and_a_token() {
        let public: SocketAddr = "0.0.0.0:8931".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8931".parse().unwrap();
        assert!(check_bind(local, false, None).is_ok());
        assert!(
            check_bind(public, false, Some("t"))
                .unwrap_err()
                .to_string()
                .contains("--allow-remote")
        );
        assert!(
            check_bind(public, true, None)
                .unwrap_err()
                .to_string()
                .contains("ZEN_AUTH_TOKEN")
        );
        assert!(check_bind(public, true, Some("t")).is_ok());
        assert!(constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd"));
    }
}
