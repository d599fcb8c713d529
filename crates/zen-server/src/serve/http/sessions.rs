//! When HTTP sessions were last used, and the closing of idle ones (ZEN_SESSION_IDLE). rmcp's
//! own idle timer restarts only on messages through its session worker, which the direct
//! tools/call path ([`super::direct`]) skips: a session busy with direct calls would be
//! closed under its client. So zen keeps the clock: the gate touches a session on every request
//! naming it, and a reaper closes sessions idle past the limit through rmcp's session manager.
//!
//! At ZEN_MAX_SESSIONS a newcomer is not simply refused (one local process sending 10 000
//! `initialize`s used to lock every other client out until the reaper ran): zen first closes
//! the least recently used session that never sent a request (after its `initialize`) and has
//! been quiet for [`UNUSED_GRACE`], else the least recently used session quiet for
//! [`USED_GRACE`] (or ZEN_SESSION_IDLE, if shorter). Only when every session was used within
//! those is the newcomer refused.
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::transport::streamable_http_server::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::client_log::SessionLogs;
use crate::tools::ToolContext;

/// How often the reaper looks, as a fraction of the idle limit: a session closes between 1 and
/// 1.25 times ZEN_SESSION_IDLE after its last request.
const CHECKS_PER_IDLE: u32 = 4;

/// A session that never sent a request may be closed for a newcomer once quiet this long (its
/// client is given the time to send its first call).
const UNUSED_GRACE: Duration = Duration::from_secs(1);

/// A session that sent requests may be closed for a newcomer once quiet this long.
const USED_GRACE: Duration = Duration::from_secs(60);

/// One session's use.
#[derive(Clone, Copy)]
struct Use {
    /// The last request that named it (or its opening).
    at: Instant,
    /// Whether it sent a request (not a notification) after its `initialize`.
    used: bool,
}

/// Last use per open session; entries leave with their sessions, so it is bounded by
/// ZEN_MAX_SESSIONS.
pub(super) struct SessionClock {
    /// Session id → its last use.
    last_used: Mutex<HashMap<Arc<str>, Use>>,
    /// ZEN_SESSION_IDLE.
    idle: Duration,
    /// Where the sessions zen closes are counted (nothing closed goes uncounted).
    context: Arc<ToolContext>,
}

impl SessionClock {
    pub(super) fn new(idle: Duration, context: Arc<ToolContext>) -> Self {
        SessionClock {
            last_used: Mutex::new(HashMap::new()),
            idle,
            context,
        }
    }

    fn uses(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Use>> {
        self.last_used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A request named `session` now (called only for sessions rmcp has); `request` when it
    /// was a request rather than a notification.
    pub(super) fn touch(&self, session: &Arc<str>, request: bool) {
        let now = Instant::now();
        let mut uses = self.uses();
        let usage = uses.entry(session.clone()).or_insert(Use {
            at: now,
            used: false,
        });
        usage.at = now;
        usage.used |= request;
    }

    /// rmcp opened `session` for an `initialize` now.
    pub(super) fn opened(&self, session: &str) {
        let now = Instant::now();
        self.uses().insert(
            Arc::from(session),
            Use {
                at: now,
                used: false,
            },
        );
    }

    /// At ZEN_MAX_SESSIONS: close the session a newcomer may take the place of (see the module
    /// doc); false when none may be closed.
    pub(super) async fn make_room(&self, sessions: &LocalSessionManager) -> bool {
        let open: Vec<Arc<str>> = sessions.sessions.read().await.keys().cloned().collect();
        let victim = {
            let now = Instant::now();
            let used_grace = USED_GRACE.min(self.idle);
            let mut uses = self.uses();
            open.into_iter()
                .filter_map(|id| {
                    // A session opened past the gate starts its clock now.
                    let usage = *uses.entry(id.clone()).or_insert(Use {
                        at: now,
                        used: false,
                    });
                    let quiet = now.duration_since(usage.at);
                    let grace = if usage.used { used_grace } else { UNUSED_GRACE };
                    (quiet >= grace).then_some((usage.used, usage.at, id))
                })
                .min()
                .map(|(used, _, id)| {
                    uses.remove(&id);
                    (used, id)
                })
        };
        let Some((used, id)) = victim else {
            return false;
        };
        self.context.metrics.count_evicted_session();
        // Debug: a flood would otherwise write a line per initialize.
        tracing::debug!(
            session = %id,
            used,
            "ZEN_MAX_SESSIONS reached: closing the least recently used quiet session for a \
             new client"
        );
        if let Err(err) = sessions.close_session(&id).await {
            tracing::debug!(%err, "the session was already closed");
        }
        true
    }

    /// Close idle sessions until `stop`; forget the log levels of sessions gone.
    pub(super) async fn reap(
        self: Arc<Self>,
        sessions: Arc<LocalSessionManager>,
        logs: Arc<SessionLogs>,
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
                self.context.metrics.count_idle_session_closed();
                if let Err(err) = sessions.close_session(&id).await {
                    tracing::debug!(%err, "the idle session was already closed");
                }
            }
            let open: HashSet<Arc<str>> = sessions.sessions.read().await.keys().cloned().collect();
            logs.retain(&open);
        }
    }

    /// Sessions idle past the limit (forgotten here); sessions rmcp no longer has are
    /// forgotten, and ones never seen start their clock now.
    async fn idle_sessions(&self, sessions: &LocalSessionManager) -> Vec<Arc<str>> {
        let open: HashSet<Arc<str>> = sessions.sessions.read().await.keys().cloned().collect();
        let now = Instant::now();
        let mut last_used = self.uses();
        last_used.retain(|id, _| open.contains(id));
        let mut idle = Vec::new();
        for id in open {
            let at = last_used
                .entry(id.clone())
                .or_insert(Use {
                    at: now,
                    used: false,
                })
                .at;
            if now.duration_since(at) >= self.idle {
                last_used.remove(&id);
                idle.push(id);
            }
        }
        idle
    }
}
