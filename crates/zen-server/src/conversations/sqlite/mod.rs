//! The default conversation store: one SQLite file in the data dir (WAL mode), so conversations
//! live on disk, not on the heap, and survive restarts. One worker thread owns the connection:
//! the async side sends it operations over a bounded channel and awaits the answer, so the
//! runtime never blocks on disk. The worker runs whatever is queued in one write transaction
//! (group commit), each operation under its own savepoint so one failure fails only its call.
//! RAM is bounded by ZEN_STORE_CACHE_MB (SQLite's page cache), not by traffic. The `threads`
//! tool's searches run apart, on read-only connections of their own (search.rs).
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::budget::{StoreLimits, json_len};
use super::{AppendReport, ConversationStore, Recent, StoreError, Thread, Turn, ttl_ms};
use zen_model::snapshot::{BoundedPart, StoreStats};

mod checkpoint;
mod cleaner;
mod ops;
mod reads;
mod schema;
mod search;
mod totals;
mod walk;
mod worker;

use ops::{AppendInput, Figures, Pins};
pub(crate) use schema::FILE_NAME;
use worker::{Op, Shared};

/// Operations queued for the worker at most; past it, callers wait (backpressure).
const QUEUE: usize = 1024;

/// The SQLite conversation store.
pub struct SqliteStore {
    /// The worker's queue.
    ops: mpsc::Sender<Op>,
    /// The search threads' queue (the `threads` tool), apart from the writes.
    searches: search::Searches,
    /// State shared with the worker: pins and figures.
    shared: Arc<Shared>,
    /// Budget, threshold, thread share, TTL.
    limits: StoreLimits,
    /// The database file.
    path: PathBuf,
    /// ZEN_STORE_CACHE_MB in bytes: the cap of the page cache, for the snapshot.
    cache_cap_bytes: u64,
    /// Copies the WAL back into the file off the write path; stops with the store.
    _checkpoints: checkpoint::Checkpointer,
    /// Base for timestamps: wall-clock ms at open and tokio's clock then, so expiry follows
    /// tokio's (pausable) clock while stored times stay wall-clock across restarts.
    clock: (u64, tokio::time::Instant),
}

impl SqliteStore {
    /// Open (or create) the store in `dir`: exits with a clear message on a bad dir or file.
    pub fn open(dir: &Path, limits: StoreLimits, cache_bytes: u64) -> anyhow::Result<Self> {
        schema::create_data_dir(dir)?;
        let path = dir.join(FILE_NAME);
        let conn = schema::open(&path, cache_bytes)?;
        // The page cache gets 75% of the setting (schema.rs); this holds all of SQLite's
        // memory (both connections, statements, a long transaction's pages) to the whole of it.
        zen_os::ffi::sqlite_soft_heap_limit(cache_bytes);
        let shared = Arc::new(Shared {
            pins: Mutex::new(Pins::new()),
            figures: Mutex::new(Figures::default()),
            cache_used: std::sync::atomic::AtomicU64::new(0),
        });
        let (tx, rx) = mpsc::channel(QUEUE);
        worker::spawn(conn, rx, shared.clone(), limits, path.clone())?;
        let searches = search::spawn(&path)?;
        let checkpoints = checkpoint::spawn(&path)?;
        Ok(SqliteStore {
            ops: tx,
            searches,
            shared,
            limits,
            path,
            cache_cap_bytes: cache_bytes,
            _checkpoints: checkpoints,
            clock: (zen_model::clock::unix_ms(), tokio::time::Instant::now()),
        })
    }

    /// Now, in wall-clock ms, advanced by tokio's clock.
    fn now_ms(&self) -> u64 {
        self.clock.0 + self.clock.1.elapsed().as_millis() as u64
    }

    /// Threads updated at or before this are expired.
    fn expired_before_ms(&self) -> u64 {
        self.now_ms().saturating_sub(ttl_ms(self.limits.ttl))
    }

    fn error(&self, message: impl Into<String>) -> StoreError {
        worker::store_error(&self.path, message.into())
    }

    /// Send one operation and await its answer.
    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Op,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.ops
            .send(make(reply))
            .await
            .map_err(|_| self.error("its worker thread has stopped"))?;
        answer
            .await
            .map_err(|_| self.error("its worker thread stopped during the call"))?
    }

    fn pin(&self, id: Uuid) {
        *self.shared.pins().entry(id).or_insert(0) += 1;
    }
}

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn checkout(&self, id: Uuid) -> Result<Option<Thread>, StoreError> {
        // Pinned before the read, so a cleanup between the read and the call's end skips it.
        self.pin(id);
        let expired_before_ms = self.expired_before_ms();
        let found = self
            .call(|reply| Op::Checkout {
                id,
                expired_before_ms,
                reply,
            })
            .await;
        if !matches!(found, Ok(Some(_))) {
            self.unpin(id);
        }
        found
    }

    fn unpin(&self, id: Uuid) {
        let mut pins = self.shared.pins();
        if let Some(n) = pins.get_mut(&id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                pins.remove(&id);
            }
        }
    }

    async fn append_within(
        &self,
        id: Uuid,
        turns: Vec<Turn>,
        max_turns: u32,
    ) -> Result<AppendReport, StoreError> {
        let sizes = turns.iter().map(json_len).collect();
        let input = AppendInput {
            id,
            turns,
            sizes,
            max_turns,
            now_ms: self.now_ms(),
        };
        self.call(|reply| Op::Append { input, reply }).await
    }

    async fn cleanup(&self, force: bool) -> Result<u64, StoreError> {
        let expired_before_ms = self.expired_before_ms();
        self.call(|reply| Op::Cleanup {
            force,
            expired_before_ms,
            reply,
        })
        .await
    }

    async fn recent(&self, limit: usize, query: Option<&str>) -> Result<Recent, StoreError> {
        let (reply, answer) = oneshot::channel();
        let (search, _abandon) = search::search(limit, query, self.expired_before_ms(), reply);
        (self.searches.send(search).await).map_err(|_| self.error("its search threads stopped"))?;
        answer
            .await
            .map_err(|_| self.error("its search thread stopped during the call"))?
    }

    /// Conversations are on disk: evicting them frees no memory. Give back the page cache.
    async fn release_memory(&self) -> Result<u64, StoreError> {
        self.call(|reply| Op::ReleaseMemory { reply }).await?;
        Ok(0)
    }

    fn stats(&self) -> StoreStats {
        let f = self.shared.figures();
        let cache_bytes = self
            .shared
            .cache_used
            .load(std::sync::atomic::Ordering::Relaxed);
        StoreStats {
            kind: "sqlite".to_string(),
            threads: f.threads,
            bytes: f.bytes,
            resident_bytes: cache_bytes,
            file_bytes: Some(file_bytes(&self.path)),
            cache_bytes,
            location: Some(self.path.display().to_string()),
            budget_bytes: self.limits.budget_bytes,
            utilisation: f.bytes as f64 / self.limits.budget_bytes.max(1) as f64,
            threshold: self.limits.threshold,
            thread_max_bytes: self.limits.thread_max_bytes,
            peak_bytes: f.peak,
            evictions: f.evictions.clone(),
            cleanups_total: f.cleanups,
            last_cleanup: f.last_cleanup.clone(),
            ..StoreStats::default()
        }
    }

    /// SQLite's memory at its high-water mark, not now: the page cache empties and refills
    /// (each WAL reset drops it), and what it frees stays in the allocator, so RSS carries
    /// its highest, which the soft heap limit holds to ZEN_STORE_CACHE_MB.
    fn bounded_part(&self) -> Option<BoundedPart> {
        let (_, high) = zen_os::ffi::sqlite_memory_used();
        Some(BoundedPart {
            key: "store_cache".to_string(),
            name: "the SQLite store's memory".to_string(),
            bytes: high,
            cap_bytes: self.cache_cap_bytes.max(high),
            bounded_by: "ZEN_STORE_CACHE_MB".to_string(),
        })
    }
}

/// The database file plus its WAL, in bytes.
fn file_bytes(path: &Path) -> u64 {
    let len = |p: PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    len(path.to_path_buf()) + len(PathBuf::from(wal))
}
