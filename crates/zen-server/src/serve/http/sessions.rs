//! When HTTP sessions were last used, and the closing of idle ones (ZEN_SESSION_IDLE). rmcp's
//! own idle timer restarts only on messages through its session worker, which the direct
//! tools/call path ([`super::direct`]) skips: a session busy with direct calls would be
//! closed under its client. So zen keeps the clock: the gate touches a session on every request
//! naming it, and a reaper closes sessions idle past the limit through rmcp's session manager.
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::transport::streamable_http_server::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How often the reaper looks, as a fraction of the idle limit: a session closes between 1 and
/// 1.25 times ZEN_SESSION_IDLE after its last request.
const CHECKS_PER_IDLE: u32 = 4;

/// Last use per open session; entries leave with their sessions, so it is bounded by
/// ZEN_MAX_SESSIONS.
pub(super) struct SessionClock {
    /// Session id → last request that named it.
    last_used: Mutex<HashMap<Arc<str>, Instant>>,
    /// ZEN_SESSION_IDLE.
    idle: Duration,
}

impl SessionClock {
    pub(super) fn new(idle: Duration) -> Self {
        SessionClock {
            last_used: Mutex::new(HashMap::new()),
            idle,
        }
    }

    /// A request named `session` now (called only for sessions rmcp has).
    pub(super) fn touch(&self, session: &Arc<str>) {
        let now = Instant::now();
        let mut last_used = self
            .last_used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match last_used.get_mut(session) {
            Some(at) => *at = now,
            None => {
                last_used.insert(session.clone(), now);
            }
        }
    }

    /// Close idle sessions until `stop`.
    pub(super) async fn reap(
        self: Arc<Self>,
        sessions: Arc<LocalSessionManager>,
        stop: CancellationToken,
    ) {
        let period = (self.idle / CHECKS_PER_IDLE).max(Duration::from_millis(10));
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            for id in self.idle_sessions(&sessions).await {
                tracing::debug!(session = %id, "closing an idle HTTP session (ZEN_SESSION_IDLE)");
                if let Err(err) = sessions.close_session(&id).await {
                    tracing::debug!(%err, "the idle session was already closed");
                }
            }
        }
    }

    /// Sessions idle past the limit (forgotten here); sessions rmcp no longer has are
    /// forgotten, and ones never seen start their clock now.
    async fn idle_sessions(&self, sessions: &LocalSessionManager) -> Vec<Arc<str>> {
        let open: HashSet<Arc<str>> = sessions.sessions.read().await.keys().cloned().collect();
        let now = Instant::now();
        let mut last_used = self
            .last_used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        last_used.retain(|id, _| open.contains(id));
        let mut idle = Vec::new();
        for id in open {
            let at = *last_used.entry(id.clone()).or_insert(now);
            if now.duration_since(at) >= self.idle {
                last_used.remove(&id);
                idle.push(id);
            }
        }
        idle
    }
}
