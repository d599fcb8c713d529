//! Streamable HTTP at `/mcp` (rmcp's tower service under axum), with the MCP spec's Origin
//! check, a body limit, loopback-only binding unless `--allow-remote`, and a bearer token.
use std::net::SocketAddr;
use std::sync::Arc;

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
use crate::tools::TransportInfo;

/// Browser origins that are always allowed: pages served from this machine.
const LOOPBACK_ORIGINS: [&str; 3] = ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"];

/// Check the bind address against `--allow-remote` and the token before binding.
pub fn check_bind(addr: SocketAddr, allow_remote: bool, token: Option<&str>) -> Result<()> {
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
pub async fn serve(
    listener: TcpListener,
    server: Arc<Server>,
    shutdown: CancellationToken,
) -> Result<()> {
    let cfg = &server.context.config.transport;
    let local = listener.local_addr()?;
    let endpoint = format!("http://{local}/mcp");
    server.context.set_transport(TransportInfo {
        kind: "http",
        endpoint: Some(endpoint.clone()),
    });
    let sessions = CancellationToken::new();
    let origins: Vec<String> = LOOPBACK_ORIGINS
        .iter()
        .map(|o| o.to_string())
        .chain(
            cfg.allowed_origins
                .iter()
                .filter(|o| !o.is_empty())
                .cloned(),
        )
        .collect();
    let mut config = StreamableHttpServerConfig::default()
        .with_cancellation_token(sessions.child_token())
        .with_allowed_origins(origins)
        .with_max_request_body_bytes(cfg.max_message_bytes);
    if cfg.allow_remote {
        // Remote clients use whatever host name reaches us; the bearer token guards access.
        config = config.disable_allowed_hosts();
    }
    let host = SessionHandler::new(server.clone());
    let service = StreamableHttpService::new(
        move || Ok(host.clone()),
        LocalSessionManager::default().into(),
        config,
    );
    let mut router = axum::Router::new().nest_service("/mcp", service);
    if let Some(token) = cfg.auth_token.clone().filter(|t| !t.is_empty()) {
        router = router.layer(middleware::from_fn_with_state(
            Arc::new(token),
            require_bearer,
        ));
    }
    tracing::info!(%endpoint, "serving MCP over streamable HTTP");
    let drain_server = server.clone();
    let drain_timeout = cfg.drain_timeout;
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown.cancelled().await;
            tracing::info!("shutdown requested: finishing in-flight calls");
            drain_server
                .drain(tokio::time::Instant::now() + drain_timeout)
                .await;
            // Ends open SSE streams so the server can stop.
            sessions.cancel();
        })
        .await
        .context("HTTP server failed")
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
