//! Conversations: the store seam every backend implements (async and fallible), the thread and
//! turn types, and the budget rules every backend shares. One file per backend: `sqlite` (the
//! default, a file in the data dir), `memory` (throwaway runs and tests).
//!
//! Imports the snapshot (for the store's figures), the clock and the config; nothing above.
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::{MemoryConfig, StoreConfig, StoreKind};
use zen_model::snapshot::{BoundedPart, StoreStats};

pub(crate) mod budget;
pub(crate) mod memory;
pub(crate) mod redis;
pub(crate) mod search;
pub(crate) mod sqlite;

pub use budget::StoreLimits;
pub use memory::MemoryStore;
pub use redis::RedisStore;
pub use search::Recent;
pub use sqlite::SqliteStore;

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
    /// The thread's id: the `continuation_id` a caller passes back.
    pub id: Uuid,
    /// When the thread was created, Unix ms.
    pub created_ms: u64,
    /// When its latest turns were stored, Unix ms.
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

/// One line of the `threads` tool: a thread as a person finds it again.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ThreadSummary {
    /// The thread's id: the `continuation_id` a caller passes back.
    pub id: Uuid,
    /// When the thread was created, Unix ms.
    pub created_ms: u64,
    /// When its latest turns were stored, Unix ms.
    pub updated_ms: u64,
    /// The tool of the latest turn.
    pub tool: String,
    /// The model of the latest reply, if any.
    pub model: Option<String>,
    /// Turns ever made.
    pub turn_count: u32,
    /// The start of the first stored prompt.
    pub first_prompt: String,
}

/// How many characters of the first prompt a summary keeps.
pub const SUMMARY_CHARS: usize = 120;

/// The start of `text`, at most [`SUMMARY_CHARS`] characters, on one line.
pub fn first_words(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(SUMMARY_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

/// A store that could not do what was asked: which store, what failed, and what to do. Never
/// reported as an unknown conversation.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the conversation store ({store}) failed: {message}. {advice}")]
pub struct StoreError {
    /// The backend and where it keeps its data, e.g. `sqlite /home/me/.local/share/zen/…`.
    pub store: String,
    /// What went wrong, from the backend.
    pub message: String,
    /// What the user can do about it.
    pub advice: String,
}

/// A conversation store. Implementations keep their own byte accounting and budget, under
/// the shared rules in [`budget`].
#[async_trait]
pub trait ConversationStore: Send + Sync + 'static {
    /// A live (unexpired) thread, pinned against eviction until [`ConversationStore::unpin`].
    async fn checkout(&self, id: Uuid) -> Result<Option<Thread>, StoreError>;
    /// Undo one checkout's pin.
    fn unpin(&self, id: Uuid);
    /// Append turns to a thread, creating it if it does not exist. Keeps the thread under its
    /// share (dropping its oldest turns; new turns that alone exceed it are not stored) and the
    /// store under its budget, evicting least recently updated unpinned threads first.
    async fn append(&self, id: Uuid, turns: Vec<Turn>) -> Result<AppendReport, StoreError> {
        self.append_within(id, turns, u32::MAX).await
    }
    /// [`ConversationStore::append`], unless the thread's turns would pass `max_turns`: then
    /// nothing is stored and `full` is set. Checked atomically (under the store's lock or
    /// write transaction), so two calls continuing one thread at once cannot both take its
    /// last turns.
    async fn append_within(
        &self,
        id: Uuid,
        turns: Vec<Turn>,
        max_turns: u32,
    ) -> Result<AppendReport, StoreError>;
    /// Free expired threads and, past the threshold (or when `force`d), evict least recently
    /// updated ones: at least 20% of them, until under the threshold.
    async fn cleanup(&self, force: bool) -> Result<u64, StoreError>;
    /// The most recently updated threads, newest first, optionally only those whose prompts
    /// contain `query` (case-insensitive, see [`search`]); a search stops at
    /// [`search::SEARCH_DEADLINE`] with what it found.
    async fn recent(&self, limit: usize, query: Option<&str>) -> Result<Recent, StoreError>;
    /// The watchdog saw RSS high: give back what memory this store holds. A store whose
    /// conversations are in process memory evicts (a forced cleanup); one on disk only drops
    /// its cache, since evicting would free no memory.
    async fn release_memory(&self) -> Result<u64, StoreError> {
        self.cleanup(true).await
    }
    /// Figures for the snapshot (the watchdog block is filled in by the manager).
    fn stats(&self) -> StoreStats;
    /// The part of this process's memory the store holds, with the cap a setting puts on it
    /// (none when the store keeps nothing here, as Redis does).
    fn bounded_part(&self) -> Option<BoundedPart> {
        None
    }
}

/// Open the configured store: `Err` names the path and what to do (zen serve exits 2).
pub async fn open(
    store: &StoreConfig,
    memory: &MemoryConfig,
) -> anyhow::Result<Arc<dyn ConversationStore>> {
    let limits = StoreLimits {
        budget_bytes: memory.budget_bytes(),
        threshold: memory.memory_cleanup_threshold,
        thread_max_bytes: memory.thread_max_bytes(),
        ttl: memory.conversation_ttl(),
    };
    Ok(match &store.kind {
        StoreKind::Memory => Arc::new(MemoryStore::new(limits)),
        StoreKind::Sqlite => {
            let dir: PathBuf = store.data_dir();
            Arc::new(SqliteStore::open(&dir, limits, store.cache_bytes())?)
        }
        StoreKind::Redis(url) => {
            Arc::new(RedisStore::open(url, &store.redis_prefix, limits).await?)
        }
    })
}

/// The TTL as ms, for backends that store wall-clock times.
pub fn ttl_ms(ttl: Duration) -> u64 {
    ttl.as_millis().min(u128::from(u64::MAX)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn first_words_cuts_long_prompts_on_one_line() {
        assert_eq!(first_words("a\n  b"), "a b");
        let long = "x".repeat(500);
        let cut = first_words(&long);
        assert_eq!(cut.chars().count(), SUMMARY_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
