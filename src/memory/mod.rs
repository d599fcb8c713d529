//! The memory manager: conversation threads in a store with a byte budget, expiry and cleanup,
//! and a watchdog on the process's RSS. The store sits behind a small trait: the in-process
//! store is the default; a shared store (Redis) can implement the same trait later.
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::snapshot::{StoreStats, WatchdogState, WatchdogStats, mib as mb};
use uuid::Uuid;

pub mod in_process;
pub mod monitor;

pub use in_process::InProcessStore;

/// One turn of a conversation: only what was said, never the rebuilt history (zen-mcp-server
/// stored the expanded history as a new turn, doubling each thread per turn).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Turn {
    /// `user` or `assistant`.
    pub role: String,
    /// The user's own prompt, or the model's reply.
    pub content: String,
    /// The tool that made the turn.
    pub tool: String,
    /// The model that replied (assistant turns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Unix ms.
    pub timestamp_ms: u64,
    /// Absolute paths of files the turn brought in (their content is read when history is rebuilt).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

impl Turn {
    /// Give back spare capacity before the turn is kept for hours: a reply built by pushes can
    /// hold up to twice its length, which RSS shows but the byte accounting would not.
    pub fn compact(mut self) -> Self {
        self.role.shrink_to_fit();
        self.content.shrink_to_fit();
        self.tool.shrink_to_fit();
        if let Some(model) = self.model.as_mut() {
            model.shrink_to_fit();
        }
        self.files.iter_mut().for_each(String::shrink_to_fit);
        self.files.shrink_to_fit();
        self
    }
}

/// A conversation thread, as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Thread {
    pub id: Uuid,
    pub created_ms: u64,
    pub updated_ms: u64,
    /// Turns ever made, including ones dropped to fit ZEN_THREAD_MAX_BYTES (counts toward
    /// MAX_CONVERSATION_TURNS).
    pub turn_count: u32,
    /// Oldest turns dropped from storage to keep the thread under its share.
    pub dropped_turns: u32,
    /// Stored turns, oldest first.
    pub turns: Vec<Turn>,
}

/// What an append did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AppendReport {
    /// False when the new turns alone are over ZEN_THREAD_MAX_BYTES: they were not stored and
    /// the thread (if it existed) was left as it was.
    pub stored: bool,
    /// Turns ever made in the thread after this append.
    pub turn_count: u32,
    /// Oldest turns this append dropped to keep the thread under ZEN_THREAD_MAX_BYTES.
    pub dropped_turns: u32,
    /// The thread's stored size after the append (0 if there is no such thread).
    pub thread_bytes: u64,
    /// The serialized size of the new turns, for messages.
    pub new_bytes: u64,
    /// The thread had no room left under the turn cap given to `append_within` (another call
    /// took it first): nothing was stored.
    pub full: bool,
}

/// A conversation store. Implementations keep their own byte accounting and budget.
#[async_trait]
pub trait ConversationStore: Send + Sync + 'static {
    /// A live (unexpired) thread, pinned against eviction until [`ConversationStore::unpin`].
    async fn checkout(&self, id: Uuid) -> Option<Thread>;
    /// Undo one checkout's pin.
    fn unpin(&self, id: Uuid);
    /// Append turns to a thread, creating it if it does not exist. Keeps the thread under its
    /// share (dropping its oldest turns; new turns that alone exceed it are not stored) and the
    /// store under its budget, evicting least recently updated unpinned threads first.
    async fn append(&self, id: Uuid, turns: Vec<Turn>) -> AppendReport {
        self.append_within(id, turns, u32::MAX).await
    }
    /// [`ConversationStore::append`], unless the thread's turns would pass `max_turns`: then
    /// nothing is stored and `full` is set. Checked under the store's lock, so two calls
    /// continuing one thread at once cannot both take its last turns.
    async fn append_within(&self, id: Uuid, turns: Vec<Turn>, max_turns: u32) -> AppendReport;
    /// Free expired threads and, past the threshold (or when `force`d), evict least recently
    /// updated ones: at least 20% of them, until under the threshold.
    async fn cleanup(&self, force: bool) -> u64;
    /// Figures for the snapshot (the watchdog block is filled in by the manager).
    fn stats(&self) -> StoreStats;
}

/// Watches the process's RSS against MEMORY_LIMIT_MB.
#[derive(Debug)]
pub struct Watchdog {
    /// MEMORY_LIMIT_MB in bytes.
    limit_bytes: u64,
    /// WatchdogState as a u8, read on every new thread.
    state: AtomicU8,
    /// The last RSS seen.
    rss_bytes: AtomicU64,
    /// New threads refused while over the limit.
    refused: AtomicU64,
    /// Do conversations hold a significant share of RSS? Only then are new ones refused:
    /// refusing them cannot relieve memory something else holds.
    conversations_matter: AtomicBool,
    /// Readings over 80% while conversations held little of the memory: logged and counted
    /// instead of evicting or refusing conversations.
    pressure_elsewhere: AtomicU64,
}

impl Watchdog {
    pub fn new(limit_bytes: u64) -> Self {
        Watchdog {
            limit_bytes,
            state: AtomicU8::new(WatchdogState::Ok as u8),
            rss_bytes: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            conversations_matter: AtomicBool::new(true),
            pressure_elsewhere: AtomicU64::new(0),
        }
    }

    /// Record whether conversations hold a significant share of RSS (see the monitor).
    pub fn set_conversations_matter(&self, matter: bool) {
        self.conversations_matter.store(matter, Ordering::Relaxed);
    }

    /// Count a reading over 80% that conversations did not cause.
    pub fn count_pressure_elsewhere(&self) {
        self.pressure_elsewhere.fetch_add(1, Ordering::Relaxed);
    }

    /// Readings over 80% that conversations did not cause, so nothing was evicted or refused.
    pub fn pressure_elsewhere_total(&self) -> u64 {
        self.pressure_elsewhere.load(Ordering::Relaxed)
    }

    pub fn state(&self) -> WatchdogState {
        match self.state.load(Ordering::Relaxed) {
            0 => WatchdogState::Ok,
            1 => WatchdogState::Warning,
            _ => WatchdogState::Refusing,
        }
    }

    /// Take a new RSS reading; returns the new state and whether it just changed.
    pub fn observe(&self, rss_bytes: u64) -> (WatchdogState, bool) {
        self.rss_bytes.store(rss_bytes, Ordering::Relaxed);
        let next = if rss_bytes > self.limit_bytes {
            WatchdogState::Refusing
        } else if rss_bytes as f64 >= self.limit_bytes as f64 * 0.8 {
            WatchdogState::Warning
        } else {
            WatchdogState::Ok
        };
        let before = self.state.swap(next as u8, Ordering::Relaxed);
        (next, before != next as u8)
    }

    /// May a new conversation start? Existing ones always continue.
    pub fn admit_new_thread(&self) -> Result<(), String> {
        if self.state() != WatchdogState::Refusing
            || !self.conversations_matter.load(Ordering::Relaxed)
        {
            return Ok(());
        }
        self.refused.fetch_add(1, Ordering::Relaxed);
        Err(format!(
            "zen is over its memory limit (RSS {:.1} MB > MEMORY_LIMIT_MB {:.1}): new conversations \
             are refused until memory is back under the limit. Existing conversations \
             (continuation_id) still work.",
            mb(self.rss_bytes.load(Ordering::Relaxed)),
            mb(self.limit_bytes)
        ))
    }

    pub fn stats(&self) -> WatchdogStats {
        WatchdogStats {
            state: self.state(),
            rss_bytes: self.rss_bytes.load(Ordering::Relaxed),
            limit_bytes: self.limit_bytes,
            refused_threads_total: self.refused.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchdog_refuses_new_threads_over_the_limit_and_recovers() {
        let w = Watchdog::new(100);
        assert_eq!(w.observe(50), (WatchdogState::Ok, false));
        assert_eq!(w.observe(85), (WatchdogState::Warning, true));
        assert!(w.admit_new_thread().is_ok());
        assert_eq!(w.observe(101), (WatchdogState::Refusing, true));
        let err = w.admit_new_thread().unwrap_err();
        assert!(err.contains("MEMORY_LIMIT_MB"), "{err}");
        assert_eq!(w.stats().refused_threads_total, 1);
        assert_eq!(w.observe(40), (WatchdogState::Ok, true));
        assert!(w.admit_new_thread().is_ok());
    }

    #[test]
    fn compact_keeps_the_turn_and_drops_spare_capacity() {
        let mut content = String::with_capacity(4096);
        content.push_str("a reply built by pushes");
        let turn = Turn {
            role: "assistant".into(),
            content,
            tool: "chat".into(),
            model: Some("sim-fast".into()),
            timestamp_ms: 1,
            files: vec!["/tmp/a.rs".into()],
        };
        let compacted = turn.clone().compact();
        assert_eq!(compacted, turn);
        assert_eq!(compacted.content.capacity(), compacted.content.len());
    }
}
