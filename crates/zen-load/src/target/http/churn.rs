//! `--churn`: every call from a client the server has never seen. A legacy session is started
//! afresh (`initialize`, `notifications/initialized`) and ended after its one call; a
//! 2026-07-28 one probes `server/discover` again as a new client identity. The handshake counts
//! in the call's latency, the way a new client sees it, and is also reported apart.
use std::sync::atomic::{AtomicU64, Ordering};

use rmcp::model::Implementation;

use super::session::HttpSession;
use crate::target::outcome::CallError;
use crate::target::protocol::Protocol;

/// Numbers each churned client, so every identity is new to the server.
static CLIENTS: AtomicU64 = AtomicU64::new(0);

/// A client identity never used before.
pub(crate) fn new_client() -> Implementation {
    let n = CLIENTS.fetch_add(1, Ordering::Relaxed);
    Implementation::new(format!("zen-load-churn-{n}"), zen_model::VERSION)
}

impl HttpSession {
    /// A new session on the same endpoint, pool and revision, as a client never seen before.
    pub(crate) async fn fresh(&self) -> Result<HttpSession, CallError> {
        let me = new_client();
        let protocol =
            zen_model::mcp::known(&self.protocol).map_or(Protocol::Auto, Protocol::Pinned);
        let session =
            HttpSession::connect(&self.pool, &self.uri.to_string(), protocol, &me).await?;
        if let Some(headers) = self.tool_headers() {
            session.use_tool_headers(headers);
        }
        Ok(session)
    }
}
