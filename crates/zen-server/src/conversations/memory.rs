//! The memory conversation store (`ZEN_STORE=memory`, throwaway runs and tests): threads in process memory, ordered by last update (an LRU
//! list from the `lru` crate), with exact byte accounting of each thread's serialized form.
//! The budget holds by construction: a write that would cross it evicts first.
//!
//! Why not moka: its size-bounded eviction runs asynchronously (the total can sit above the
//! budget between maintenance runs) and it cannot skip a thread that has a call in flight.
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use lru::LruCache;
use tokio::time::Instant;
use uuid::Uuid;

use super::budget::{AppendPlan, Existing, StoreLimits, json_len, min_evictions, plan_append};
use super::search::{Recent, SEARCH_DEADLINE, contains_folded, fold};
use super::{
    AppendReport, ConversationStore, StoreError, Thread, ThreadSummary, Turn, first_words,
};
use zen_model::clock::unix_ms;
use zen_model::snapshot::{BoundedPart, Cause, CleanupInfo, Evictions, StoreStats};

/// RSS a conversation byte costs when this store keeps it: struct and allocation overhead over
/// the serialized size (measured: BENCHMARKS.md, one hour at the defaults).
pub(crate) const RESIDENT_PER_STORED_BYTE: f64 = 1.5;

#[derive(Debug)]
struct Entry {
    thread: Thread,
    /// Serialized size of each stored turn, parallel to `thread.turns`.
    turn_sizes: Vec<u64>,
    /// Serialized size of the whole thread.
    bytes: u64,
    /// Last update, on tokio's clock so expiry is testable with paused time.
    touched: Instant,
    /// Calls in flight on this thread: a pinned thread is never evicted or expired.
    pins: u32,
}

#[derive(Debug)]
struct Inner {
    /// Threads, most recently updated first.
    threads: LruCache<Uuid, Entry>,
    /// Sum of every entry's `bytes`.
    total: u64,
    peak: u64,
    evictions: Evictions,
    cleanups: u64,
    last_cleanup: Option<CleanupInfo>,
}

/// The memory conversation store.
#[derive(Debug)]
pub struct MemoryStore {
    limits: StoreLimits,
    inner: Mutex<Inner>,
}

impl Inner {
    fn remove(&mut self, id: &Uuid) -> Option<Entry> {
        let entry = self.threads.pop(id)?;
        self.total -= entry.bytes;
        Some(entry)
    }

    /// Evict unpinned threads, least recently updated first: at least `min_count`, and until
    /// `total + reserve` is at or under `target`. Returns how many went.
    fn evict(&mut self, min_count: usize, target: u64, reserve: u64) -> u64 {
        let mut evicted = 0;
        while (evicted as usize) < min_count || self.total + reserve > target {
            // From the least recent end, skipping only pinned threads (a handful: one per call
            // in flight), so this never walks or copies the whole store.
            let Some(id) = self
                .threads
                .iter()
                .rev()
                .find(|(_, e)| e.pins == 0)
                .map(|(id, _)| *id)
            else {
                break;
            };
            self.remove(&id);
            evicted += 1;
        }
        self.evictions.pressure += evicted;
        evicted
    }

    /// Free threads idle past the TTL (they sit at the least recent end).
    fn expire(&mut self, ttl: Duration, now: Instant) -> u64 {
        let expired: Vec<Uuid> = self
            .threads
            .iter()
            .rev()
            .take_while(|(_, e)| now.duration_since(e.touched) >= ttl)
            .filter(|(_, e)| e.pins == 0)
            .map(|(id, _)| *id)
            .collect();
        for id in &expired {
            self.remove(id);
        }
        self.evictions.expiry += expired.len() as u64;
        expired.len() as u64
    }

    fn note_cleanup(&mut self, cause: Cause, started: std::time::Instant, evicted: u64) {
        self.cleanups += 1;
        self.last_cleanup = Some(super::budget::cleanup_done(
            cause, started, evicted, self.total,
        ));
    }
}

impl MemoryStore {
    /// An empty store within these limits.
    pub fn new(limits: StoreLimits) -> Self {
        MemoryStore {
            limits,
            inner: Mutex::new(Inner {
                threads: LruCache::unbounded(),
                total: 0,
                peak: 0,
                evictions: Evictions::default(),
                cleanups: 0,
                last_cleanup: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl ConversationStore for MemoryStore {
    async fn checkout(&self, id: Uuid) -> Result<Option<Thread>, StoreError> {
        let mut inner = self.lock();
        let now = Instant::now();
        let Some(entry) = inner.threads.peek_mut(&id) else {
            return Ok(None);
        };
        if now.duration_since(entry.touched) < self.limits.ttl || entry.pins > 0 {
            entry.pins += 1;
            return Ok(Some(entry.thread.clone()));
        }
        inner.remove(&id);
        inner.evictions.expiry += 1;
        Ok(None)
    }

    fn unpin(&self, id: Uuid) {
        if let Some(entry) = self.lock().threads.peek_mut(&id) {
            entry.pins = entry.pins.saturating_sub(1);
        }
    }

    async fn append_within(
        &self,
        id: Uuid,
        turns: Vec<Turn>,
        max_turns: u32,
    ) -> Result<AppendReport, StoreError> {
        let now_ms = unix_ms();
        let turns: Vec<Turn> = turns.into_iter().map(Turn::compact).collect();
        // Serialized outside the lock.
        let new_sizes: Vec<u64> = turns.iter().map(json_len).collect();
        let new_bytes = new_sizes.iter().sum::<u64>();
        let mut inner = self.lock();
        let existing = inner.threads.peek(&id).map(|e| Existing {
            created_ms: e.thread.created_ms,
            turn_count: e.thread.turn_count,
            dropped_turns: e.thread.dropped_turns,
            turn_sizes: &e.turn_sizes,
        });
        let plan = plan_append(id, existing, &new_sizes, max_turns, now_ms, &self.limits);
        let (header, drop, bytes) = match plan {
            AppendPlan::Store {
                header,
                drop,
                bytes,
            } => (header, drop, bytes),
            refused => {
                let full = refused == AppendPlan::Full;
                if !full {
                    inner.evictions.oversize += new_sizes.len() as u64;
                }
                let existing = inner.threads.peek(&id);
                return Ok(AppendReport {
                    stored: false,
                    full,
                    turn_count: existing.map_or(0, |e| e.thread.turn_count),
                    dropped_turns: 0,
                    thread_bytes: existing.map_or(0, |e| e.bytes),
                    new_bytes,
                });
            }
        };
        let mut entry = inner.remove(&id).unwrap_or_else(|| Entry {
            thread: header.clone_header(),
            turn_sizes: Vec::new(),
            bytes: 0,
            touched: Instant::now(),
            pins: 0,
        });
        let mut stored = std::mem::take(&mut entry.thread.turns);
        stored.drain(..drop);
        stored.extend(turns);
        entry.turn_sizes.drain(..drop);
        entry.turn_sizes.extend(new_sizes);
        entry.thread = Thread {
            turns: stored,
            ..header
        };
        entry.bytes = bytes;
        entry.touched = Instant::now();
        inner.evictions.oversize += drop as u64;
        // Crossing the budget evicts first, so the total never exceeds it (unless every other
        // thread is pinned by a call in flight: those are never evicted under their call).
        if inner.total + entry.bytes > self.limits.budget_bytes {
            let started = std::time::Instant::now();
            let min_count = min_evictions(inner.threads.len() as u64);
            let evicted = inner.evict(min_count, self.limits.threshold_bytes(), entry.bytes);
            inner.note_cleanup(Cause::Pressure, started, evicted);
        }
        let report = AppendReport {
            stored: true,
            turn_count: entry.thread.turn_count,
            dropped_turns: drop as u32,
            thread_bytes: entry.bytes,
            new_bytes,
            full: false,
        };
        inner.total += entry.bytes;
        inner.peak = inner.peak.max(inner.total);
        inner.threads.put(id, entry);
        Ok(report)
    }

    async fn cleanup(&self, force: bool) -> Result<u64, StoreError> {
        let started = std::time::Instant::now();
        let mut inner = self.lock();
        let mut evicted = inner.expire(self.limits.ttl, Instant::now());
        let over = inner.total > self.limits.threshold_bytes();
        let cause = if force {
            Cause::Watchdog
        } else if over {
            Cause::Pressure
        } else {
            Cause::Expiry
        };
        if over || force {
            let min_count = min_evictions(inner.threads.len() as u64);
            // Over the threshold: down under it. Forced and under it: just the 20%.
            let target = if over {
                self.limits.threshold_bytes()
            } else {
                u64::MAX
            };
            evicted += inner.evict(min_count, target, 0);
        }
        inner.note_cleanup(cause, started, evicted);
        Ok(evicted)
    }

    async fn recent(&self, limit: usize, query: Option<&str>) -> Result<Recent, StoreError> {
        let needle = query.map(fold);
        let deadline = std::time::Instant::now() + SEARCH_DEADLINE;
        let inner = self.lock();
        let mut found = Recent::complete(Vec::new());
        for (_, entry) in &inner.threads {
            if found.threads.len() == limit {
                break;
            }
            if needle.is_some() && std::time::Instant::now() >= deadline {
                found.complete = false;
                break;
            }
            if needle
                .as_deref()
                .is_none_or(|q| prompts_contain(&entry.thread, q))
            {
                found.threads.push(summary(&entry.thread));
            }
        }
        Ok(found)
    }

    fn stats(&self) -> StoreStats {
        let inner = self.lock();
        StoreStats {
            kind: "memory".to_string(),
            threads: inner.threads.len() as u64,
            bytes: inner.total,
            resident_bytes: inner.total,
            budget_bytes: self.limits.budget_bytes,
            utilisation: inner.total as f64 / self.limits.budget_bytes.max(1) as f64,
            threshold: self.limits.threshold,
            thread_max_bytes: self.limits.thread_max_bytes,
            peak_bytes: inner.peak,
            evictions: inner.evictions.clone(),
            cleanups_total: inner.cleanups,
            last_cleanup: inner.last_cleanup.clone(),
            ..StoreStats::default()
        }
    }

    fn bounded_part(&self) -> Option<BoundedPart> {
        let resident = |bytes: u64| (bytes as f64 * RESIDENT_PER_STORED_BYTE) as u64;
        Some(BoundedPart {
            key: "conversations".to_string(),
            name: "conversations in memory (the memory store)".to_string(),
            bytes: resident(self.lock().total),
            cap_bytes: resident(self.limits.budget_bytes),
            bounded_by: "CONVERSATION_MEMORY_LIMIT_MB".to_string(),
        })
    }
}

/// True when a user turn of the thread contains `needle` (folded).
fn prompts_contain(thread: &Thread, needle: &str) -> bool {
    thread
        .turns
        .iter()
        .any(|t| t.role == "user" && contains_folded(&t.content, needle))
}

/// A thread as the `threads` tool lists it.
pub(crate) fn summary(thread: &Thread) -> ThreadSummary {
    let last = thread.turns.last();
    ThreadSummary {
        id: thread.id,
        created_ms: thread.created_ms,
        updated_ms: thread.updated_ms,
        tool: last.map_or_else(String::new, |t| t.tool.clone()),
        model: thread.turns.iter().rev().find_map(|t| t.model.clone()),
        turn_count: thread.turn_count,
        first_prompt: thread
            .turns
            .iter()
            .find(|t| t.role == "user")
            .map_or_else(String::new, |t| first_words(&t.content)),
    }
}
