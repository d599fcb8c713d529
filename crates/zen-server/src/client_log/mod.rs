//! zen's own warnings, sent to the MCP client as `notifications/message`
//! (`2025-11-25/server/utilities/logging`). What zen writes to stderr reaches few users: Claude
//! Desktop keeps a server's stderr in a log file. A client that asks for messages (a 2025
//! session's `logging/setLevel`, a 2026-07-28 request's `_meta` logLevel, see
//! [`crate::protocol::logging`]) gets instead:
//! - the start-up warnings (a DEFAULT_MODEL zen cannot serve, keys of providers zen lacks, tools
//!   DISABLED_TOOLS names that do not exist), once per session, when it sets a level that
//!   includes them;
//! - the warnings and errors raised while serving its own calls (a provider unreachable, a
//!   retry, the circuit breaker opening): [`layer::ClientLogLayer`] forwards every WARN+ event
//!   raised inside a call's span to that call's [`CallLog`], which the transport drains onto
//!   the call's stream (stdio: before its reply; HTTP: the reply becomes an SSE stream).
//!
//! Only messages at or above the level go out, at most [`limit::BURST`] at once and
//! [`limit::PER_SECOND`] a second per session; what is dropped is counted (the snapshot's
//! `protocol.dropped_log_messages`) and the client is told how many before the next message.
mod layer;
mod limit;
mod sessions;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

use tokio::sync::mpsc;

pub(crate) use layer::call_span;
pub use layer::{CALL_TARGET, ClientLogLayer};
pub(crate) use sessions::SessionLogs;

use crate::protocol::logging::{Level, Note};
use limit::Bucket;

/// Messages of one call waiting for its transport; past this they are dropped and counted.
const QUEUE: usize = 64;

/// `level` before a client set one.
const UNSET: u8 = u8::MAX;

/// Messages dropped by every session's rate limit or full queue since start.
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Log messages zen dropped rather than flood a client with (for the snapshot).
pub(crate) fn dropped_total() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// What one client asked for: a 2025 session's (stdio connection, HTTP session) or a single
/// 2026-07-28 request's.
pub(crate) struct SessionLog {
    /// The level asked for, as its index in `LEVELS` ([`UNSET`]: none, nothing is sent).
    level: AtomicU8,
    /// The session's rate limit.
    bucket: std::sync::Mutex<Bucket>,
    /// Messages dropped since the last one sent: the client is told before the next.
    dropped: AtomicU64,
    /// The start-up warnings were sent (once per session).
    startup_sent: AtomicBool,
}

impl Default for SessionLog {
    fn default() -> Self {
        SessionLog {
            level: AtomicU8::new(UNSET),
            bucket: std::sync::Mutex::new(Bucket::new(std::time::Instant::now())),
            dropped: AtomicU64::new(0),
            startup_sent: AtomicBool::new(false),
        }
    }
}

impl SessionLog {
    /// A request's own, at `level`.
    pub(crate) fn with_level(level: Level) -> Arc<SessionLog> {
        let log = SessionLog::default();
        log.set_level(level);
        Arc::new(log)
    }

    /// `logging/setLevel`.
    pub(crate) fn set_level(&self, level: Level) {
        self.level.store(level as u8, Ordering::Relaxed);
    }

    /// The level asked for, if any.
    pub(crate) fn level(&self) -> Option<Level> {
        Level::from_index(self.level.load(Ordering::Relaxed))
    }

    /// The start-up warnings the level includes, the first time it includes any; else none.
    pub(crate) fn startup_notes(&self, warnings: &[Note]) -> Vec<Note> {
        let Some(level) = self.level() else {
            return Vec::new();
        };
        let notes: Vec<Note> = (warnings.iter())
            .filter(|n| n.level >= level)
            .cloned()
            .collect();
        if notes.is_empty() || self.startup_sent.swap(true, Ordering::Relaxed) {
            return Vec::new();
        }
        notes
    }

    /// What may go out for `note` now: nothing (below the level, or over the rate limit:
    /// counted), or the note, after one saying how many were dropped before it.
    fn admit(&self, note: Note) -> Vec<Note> {
        if self.level().is_none_or(|level| note.level < level) {
            return Vec::new();
        }
        let allowed = (self.bucket.lock())
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take(std::time::Instant::now());
        if !allowed {
            self.count_dropped();
            return Vec::new();
        }
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        let mut out = Vec::with_capacity(2);
        if dropped > 0 {
            out.push(Note {
                level: Level::Warning,
                logger: "zen::client_log".into(),
                data: format!(
                    "zen dropped {dropped} log messages for this client (more than {} a \
                     second); the full log is on zen's stderr",
                    limit::PER_SECOND
                ),
            });
        }
        out.push(note);
        out
    }

    fn count_dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

/// Where one call's messages go: its client's choice, and the queue its transport drains.
pub(crate) struct CallLog {
    /// The level and rate limit of the client that made the call.
    session: Arc<SessionLog>,
    /// The call's stream (bounded: a full queue drops and counts).
    tx: mpsc::Sender<Note>,
}

impl CallLog {
    /// A call's log for `session`, and the receiver its transport drains.
    pub(crate) fn new(session: Arc<SessionLog>) -> (Arc<CallLog>, mpsc::Receiver<Note>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (Arc::new(CallLog { session, tx }), rx)
    }

    /// Another call's log into the same queue (stdio: one connection, one stream).
    pub(crate) fn sharing(session: Arc<SessionLog>, tx: mpsc::Sender<Note>) -> Arc<CallLog> {
        Arc::new(CallLog { session, tx })
    }

    /// Send `note` if the client's level and rate limit let it through.
    pub(crate) fn forward(&self, note: Note) {
        for note in self.session.admit(note) {
            if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(note) {
                self.session.count_dropped();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(level: Level) -> Note {
        Note {
            level,
            logger: "zen::test".into(),
            data: "x".into(),
        }
    }

    #[test]
    fn only_messages_at_or_above_the_level_go_out_and_nothing_before_a_level_is_set() {
        let session = Arc::new(SessionLog::default());
        let (log, mut rx) = CallLog::new(session.clone());
        log.forward(note(Level::Error));
        assert!(rx.try_recv().is_err(), "no level set: nothing is sent");
        session.set_level(Level::Error);
        log.forward(note(Level::Warning));
        assert!(rx.try_recv().is_err(), "warning is below error");
        log.forward(note(Level::Critical));
        assert_eq!(rx.try_recv().unwrap().level, Level::Critical);
    }

    #[test]
    fn start_up_warnings_go_once_when_the_level_includes_them() {
        let warnings = [note(Level::Warning)];
        let session = SessionLog::default();
        assert!(session.startup_notes(&warnings).is_empty());
        session.set_level(Level::Error);
        assert!(session.startup_notes(&warnings).is_empty());
        session.set_level(Level::Info);
        assert_eq!(session.startup_notes(&warnings).len(), 1);
        assert!(session.startup_notes(&warnings).is_empty(), "once");
    }

    #[test]
    fn a_flood_is_cut_to_the_burst_and_the_next_message_says_how_many_were_dropped() {
        let session = SessionLog::with_level(Level::Debug);
        let (log, mut rx) = CallLog::new(session.clone());
        for _ in 0..(limit::BURST + 30) {
            log.forward(note(Level::Warning));
        }
        let mut got = 0;
        while rx.try_recv().is_ok() {
            got += 1;
        }
        assert!(got <= limit::BURST + 1, "{got}");
        let dropped = session.dropped.load(Ordering::Relaxed);
        assert!(dropped >= 29, "{dropped}");
        assert!(dropped_total() >= dropped);
        // Once the bucket refills, the client learns of the drop first.
        (session.bucket.lock().unwrap()).refill_for_test();
        log.forward(note(Level::Warning));
        let told = rx.try_recv().unwrap();
        assert!(
            told.data
                .contains(&format!("dropped {dropped} log messages"))
        );
        assert_eq!(rx.try_recv().unwrap().data, "x");
    }
}
