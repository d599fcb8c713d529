//! The default conversation store: threads in process memory, ordered by last update (an LRU
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

use super::{AppendReport, ConversationStore, Thread, Turn};
use crate::clock::unix_ms;
use crate::snapshot::{Cause, CleanupInfo, Evictions, StoreStats, WatchdogState, WatchdogStats};

/// Limits of the in-process store.
#[derive(Debug, Clone, Copy)]
pub struct StoreLimits {
    /// Total bytes of all threads.
    pub budget_bytes: u64,
    /// Share of the budget where cleanup starts (and down to which it evicts).
    pub threshold: f64,
    /// Largest single thread.
    pub thread_max_bytes: u64,
    /// A thread expires this long after its last update.
    pub ttl: Duration,
}

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

/// The in-process conversation store.
#[derive(Debug)]
pub struct InProcessStore {
    limits: StoreLimits,
    inner: Mutex<Inner>,
}

fn json_len<T: serde::Serialize>(value: &T) -> u64 {
    serde_json::to_vec(value)
        .map(|v| v.len() as u64)
        .unwrap_or(0)
}

/// Exact serialized size: the thread without turns, plus each turn, plus the commas between.
fn thread_bytes(thread: &Thread, turn_sizes: &[u64]) -> u64 {
    let header = Thread {
        id: thread.id,
        created_ms: thread.created_ms,
        updated_ms: thread.updated_ms,
        turn_count: thread.turn_count,
        dropped_turns: thread.dropped_turns,
        turns: Vec::new(),
    };
    json_len(&header) + turn_sizes.iter().sum::<u64>() + turn_sizes.len().saturating_sub(1) as u64
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
        self.last_cleanup = Some(CleanupInfo {
            at_ms: unix_ms(),
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            cause,
            evicted,
        });
        if evicted > 0 {
            tracing::info!(
                ?cause,
                evicted,
                total_bytes = self.total,
                "conversation cleanup"
            );
        }
    }
}

impl InProcessStore {
    pub fn new(limits: StoreLimits) -> Self {
        InProcessStore {
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
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn threshold_bytes(&self) -> u64 {
        (self.limits.budget_bytes as f64 * self.limits.threshold) as u64
    }

    /// The stored size of one thread (for tests and reports).
    pub fn thread_size(&self, id: Uuid) -> Option<u64> {
        self.lock().threads.peek(&id).map(|e| e.bytes)
    }
}

#[async_trait]
impl ConversationStore for InProcessStore {
    async fn checkout(&self, id: Uuid) -> Option<Thread> {
        let mut inner = self.lock();
        let now = Instant::now();
        let expired = {
            let entry = inner.threads.peek_mut(&id)?;
            if now.duration_since(entry.touched) < self.limits.ttl || entry.pins > 0 {
                entry.pins += 1;
                return Some(entry.thread.clone());
            }
            true
        };
        if expired {
            inner.remove(&id);
            inner.evictions.expiry += 1;
        }
        None
    }

    fn unpin(&self, id: Uuid) {
        if let Some(entry) = self.lock().threads.peek_mut(&id) {
            entry.pins = entry.pins.saturating_sub(1);
        }
    }

    async fn append_within(&self, id: Uuid, turns: Vec<Turn>, max_turns: u32) -> AppendReport {
        let now_ms = unix_ms();
        let turns: Vec<Turn> = turns.into_iter().map(Turn::compact).collect();
        // Serialized outside the lock.
        let new_sizes: Vec<u64> = turns.iter().map(json_len).collect();
        let new_turns = turns.len();
        let mut inner = self.lock();
        let new_bytes = new_sizes.iter().sum::<u64>();
        if let Some(existing) = inner.threads.peek(&id)
            && existing.thread.turn_count.saturating_add(new_turns as u32) > max_turns
        {
            return AppendReport {
                stored: false,
                full: true,
                turn_count: existing.thread.turn_count,
                dropped_turns: 0,
                thread_bytes: existing.bytes,
                new_bytes,
            };
        }
        // The smallest the thread can get is the new turns alone (every older one dropped).
        // Over the thread cap even so, they are not stored: the thread stays as it was.
        let smallest = {
            let existing = inner.threads.peek(&id).map(|e| &e.thread);
            let header = Thread {
                id,
                created_ms: existing.map_or(now_ms, |t| t.created_ms),
                updated_ms: now_ms,
                turn_count: existing.map_or(0, |t| t.turn_count) + new_turns as u32,
                dropped_turns: existing.map_or(0, |t| t.dropped_turns + t.turns.len() as u32),
                turns: Vec::new(),
            };
            thread_bytes(&header, &new_sizes)
        };
        if smallest > self.limits.thread_max_bytes {
            inner.evictions.oversize += new_turns as u64;
            let existing = inner.threads.peek(&id);
            return AppendReport {
                stored: false,
                turn_count: existing.map_or(0, |e| e.thread.turn_count),
                dropped_turns: 0,
                thread_bytes: existing.map_or(0, |e| e.bytes),
                new_bytes,
                full: false,
            };
        }
        let mut entry = inner.remove(&id).unwrap_or_else(|| Entry {
            thread: Thread {
                id,
                created_ms: now_ms,
                updated_ms: now_ms,
                turn_count: 0,
                dropped_turns: 0,
                turns: Vec::new(),
            },
            turn_sizes: Vec::new(),
            bytes: 0,
            touched: Instant::now(),
            pins: 0,
        });
        entry.thread.turns.extend(turns);
        entry.turn_sizes.extend(new_sizes);
        entry.thread.turn_count += new_turns as u32;
        entry.thread.updated_ms = now_ms;
        entry.touched = Instant::now();
        // A thread over its share drops its oldest turns, never the ones just written (they
        // fit alone: checked above).
        let mut dropped = 0;
        entry.bytes = thread_bytes(&entry.thread, &entry.turn_sizes);
        while entry.bytes > self.limits.thread_max_bytes
            && dropped + new_turns < entry.turn_sizes.len()
        {
            dropped += 1;
            entry.thread.dropped_turns += 1;
            entry.bytes = thread_bytes(&entry.thread, &entry.turn_sizes[dropped..]);
        }
        entry.thread.turns.drain(..dropped);
        entry.turn_sizes.drain(..dropped);
        inner.evictions.oversize += dropped as u64;
        // Crossing the budget evicts first, so the total never exceeds it (unless every other
        // thread is pinned by a call in flight: those are never evicted under their call).
        if inner.total + entry.bytes > self.limits.budget_bytes {
            let started = std::time::Instant::now();
            let min_count = (inner.threads.len() as f64 * 0.2).ceil() as usize;
            let evicted = inner.evict(min_count, self.threshold_bytes(), entry.bytes);
            inner.note_cleanup(Cause::Pressure, started, evicted);
        }
        let report = AppendReport {
            stored: true,
            turn_count: entry.thread.turn_count,
            dropped_turns: dropped as u32,
            thread_bytes: entry.bytes,
            new_bytes,
            full: false,
        };
        inner.total += entry.bytes;
        inner.peak = inner.peak.max(inner.total);
        inner.threads.put(id, entry);
        report
    }

    async fn cleanup(&self, force: bool) -> u64 {
        let started = std::time::Instant::now();
        let mut inner = self.lock();
        let mut evicted = inner.expire(self.limits.ttl, Instant::now());
        let over = inner.total > self.threshold_bytes();
        let cause = if force {
            Cause::Watchdog
        } else if over {
            Cause::Pressure
        } else {
            Cause::Expiry
        };
        if over || force {
            let min_count = (inner.threads.len() as f64 * 0.2).ceil() as usize;
            // Over the threshold: down under it. Forced and under it: just the 20%.
            let target = if over {
                self.threshold_bytes()
            } else {
                u64::MAX
            };
            evicted += inner.evict(min_count, target, 0);
        }
        inner.note_cleanup(cause, started, evicted);
        evicted
    }

    fn stats(&self) -> StoreStats {
        let inner = self.lock();
        StoreStats {
            threads: inner.threads.len() as u64,
            bytes: inner.total,
            budget_bytes: self.limits.budget_bytes,
            utilisation: inner.total as f64 / self.limits.budget_bytes.max(1) as f64,
            threshold: self.limits.threshold,
            thread_max_bytes: self.limits.thread_max_bytes,
            peak_bytes: inner.peak,
            evictions: inner.evictions.clone(),
            cleanups_total: inner.cleanups,
            last_cleanup: inner.last_cleanup.clone(),
            watchdog: WatchdogStats {
                state: WatchdogState::Ok,
                rss_bytes: 0,
                limit_bytes: 0,
                refused_threads_total: 0,
            },
        }
    }
}
