//! The levels HTTP sessions set, by session id. Entries leave with their sessions (the session
//! reaper prunes the table to the sessions rmcp still has), so the table is bounded by
//! ZEN_MAX_SESSIONS.
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::SessionLog;

/// Session id → what that session asked for.
#[derive(Default)]
pub(crate) struct SessionLogs {
    /// The sessions that set a level.
    by_session: Mutex<HashMap<Arc<str>, Arc<SessionLog>>>,
    /// Some session ever asked for log messages: until then a call's look-up is one load, not
    /// a lock (it runs on every direct tools/call).
    any: AtomicBool,
}

impl SessionLogs {
    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Arc<SessionLog>>> {
        self.by_session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The session's log, made on first use (call only for a session rmcp has).
    pub(crate) fn of(&self, session: &str) -> Arc<SessionLog> {
        let mut table = self.table();
        if let Some(log) = table.get(session) {
            return log.clone();
        }
        self.any.store(true, Ordering::Relaxed);
        let log = Arc::new(SessionLog::default());
        table.insert(Arc::from(session), log.clone());
        log
    }

    /// The session's log if it set a level.
    pub(crate) fn get(&self, session: &str) -> Option<Arc<SessionLog>> {
        if !self.any.load(Ordering::Relaxed) {
            return None;
        }
        (self.table().get(session).cloned()).filter(|log| log.level().is_some())
    }

    /// Forget the sessions that are no longer open.
    pub(crate) fn retain(&self, open: &HashSet<Arc<str>>) {
        self.table().retain(|id, _| open.contains(id));
    }
}
