//! The Redis conversation store (`ZEN_STORE=redis://host:port[/db]`, or `rediss://` for TLS):
//! several zen serve instances share their conversations. Every write is one Lua script, so
//! the budget, the eviction order and the turn cap hold atomically across instances. Keys live
//! under a prefix (`ZEN_REDIS_PREFIX`, default `zen:`) so deployments can share one Redis.
//! A single Redis (or a primary), not Redis Cluster: the scripts touch keys of many threads.
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use uuid::Uuid;

use super::budget::StoreLimits;
use super::search::Recent;
use super::{
    AppendReport, ConversationStore, StoreError, Thread, ThreadSummary, Turn, first_words, ttl_ms,
};
use zen_model::snapshot::{Cause, CleanupInfo, Evictions, StoreStats};

mod recent;
mod totals;

const APPEND: &str = include_str!("append.lua");
const CLEANUP: &str = include_str!("cleanup.lua");
const CHECKOUT: &str = include_str!("checkout.lua");
/// A pin outlives any call; a crashed instance's pins lapse after it.
const PIN_LEASE_MS: u64 = 10 * 60 * 1000;
/// The longest zen waits for Redis before failing the call.
const REDIS_TIMEOUT: Duration = Duration::from_secs(5);
/// Most threads `recent` reads to answer a query.
const SCAN_LIMIT: isize = 10_000;

/// Figures of this instance's view.
#[derive(Debug, Default, Clone)]
struct Figures {
    bytes: u64,
    threads: u64,
    peak: u64,
    evictions: Evictions,
    cleanups: u64,
    last_cleanup: Option<CleanupInfo>,
}

/// The Redis store.
pub struct RedisStore {
    /// Reconnects by itself when Redis comes back.
    conn: ConnectionManager,
    /// Key prefix.
    prefix: String,
    /// The URL without its password, for messages and the snapshot.
    label: String,
    /// Budget, threshold, thread share, TTL.
    limits: StoreLimits,
    /// The scripts, loaded by hash.
    append: redis::Script,
    cleanup: redis::Script,
    checkout: redis::Script,
    /// The last figures the scripts returned (shared with the totals refresh).
    figures: std::sync::Arc<Mutex<Figures>>,
    /// When the shared totals were last read back for the snapshot (totals.rs).
    refreshed: Mutex<Option<std::time::Instant>>,
    /// Unpins sent but not yet applied: every later operation waits for them first, so this
    /// instance never sees its own finished call's thread as still pinned.
    unpins: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// Wall-clock ms at open and tokio's clock then: expiry follows tokio's clock.
    clock: (u64, tokio::time::Instant),
}

pub(crate) use crate::redis_connect::redacted_url as redacted;

impl RedisStore {
    /// Connect and check Redis answers: `Err` names the URL (zen serve exits 2).
    pub async fn open(url: &str, prefix: &str, limits: StoreLimits) -> anyhow::Result<Self> {
        let label = redacted(url);
        let purpose = crate::redis_connect::Purpose {
            what: "the conversation store",
            variable: "ZEN_STORE",
            otherwise: "run with ZEN_STORE=sqlite",
        };
        let (_client, conn) = crate::redis_connect::connect(url, &purpose, REDIS_TIMEOUT).await?;
        let store = RedisStore {
            conn,
            prefix: prefix.to_string(),
            label,
            limits,
            append: redis::Script::new(APPEND),
            cleanup: redis::Script::new(CLEANUP),
            checkout: redis::Script::new(CHECKOUT),
            figures: std::sync::Arc::default(),
            refreshed: Mutex::new(None),
            unpins: Mutex::new(Vec::new()),
            clock: (zen_model::clock::unix_ms(), tokio::time::Instant::now()),
        };
        store.read_totals().await?;
        Ok(store)
    }

    fn now_ms(&self) -> u64 {
        self.clock.0 + self.clock.1.elapsed().as_millis() as u64
    }

    fn expired_before_ms(&self) -> u64 {
        self.now_ms().saturating_sub(ttl_ms(self.limits.ttl))
    }

    fn figures(&self) -> std::sync::MutexGuard<'_, Figures> {
        self.figures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn error(&self, message: String) -> StoreError {
        StoreError {
            store: format!("redis {}", self.label),
            message,
            advice: "Check that Redis is up and reachable (ZEN_STORE); zen reconnects by itself \
                     when it is back"
                .to_string(),
        }
    }

    /// Run a Redis call with zen's deadline, as a store error if it fails.
    async fn within<T>(
        &self,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(REDIS_TIMEOUT, call).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.error(e.to_string())),
            Err(_) => Err(self.error(format!(
                "Redis did not answer within {}s",
                REDIS_TIMEOUT.as_secs()
            ))),
        }
    }

    /// The shared totals, for the snapshot before this instance's first write.
    async fn read_totals(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let key = format!("{}totals", self.prefix);
        let mut cmd = redis::cmd("HMGET");
        cmd.arg(&key).arg(&["bytes", "threads", "peak"]);
        let v = self
            .within(cmd.query_async::<Vec<Option<i64>>>(&mut conn))
            .await?;
        let at = |i: usize| v.get(i).copied().flatten().unwrap_or(0);
        self.note_totals(at(0), at(1), at(2));
        Ok(())
    }

    /// Wait for this instance's unpins in flight.
    async fn settle_unpins(&self) {
        let pending: Vec<_> = std::mem::take(
            &mut *self
                .unpins
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for handle in pending {
            let _ = handle.await;
        }
    }

    fn note_totals(&self, bytes: i64, threads: i64, peak: i64) {
        note_totals(&self.figures, bytes, threads, peak);
    }
}

/// Redis's totals into this instance's figures.
fn note_totals(figures: &Mutex<Figures>, bytes: i64, threads: i64, peak: i64) {
    let mut f = figures
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    f.bytes = bytes.max(0) as u64;
    f.threads = threads.max(0) as u64;
    f.peak = f.peak.max(peak.max(0) as u64);
}

#[async_trait]
impl ConversationStore for RedisStore {
    async fn checkout(&self, id: Uuid) -> Result<Option<Thread>, StoreError> {
        self.settle_unpins().await;
        let mut inv = self.checkout.prepare_invoke();
        inv.arg(&self.prefix)
            .arg(id.to_string())
            .arg(self.expired_before_ms())
            .arg(PIN_LEASE_MS);
        let mut conn = self.conn.clone();
        let out: Vec<String> = self.within(inv.invoke_async(&mut conn)).await?;
        if out.len() < 4 {
            if out.first().is_some_and(|s| s == "expired") {
                self.figures().evictions.expiry += 1;
            }
            return Ok(None);
        }
        let num = |i: usize| out[i].parse::<u64>().unwrap_or(0);
        let turns = out[4..]
            .iter()
            .map(|t| serde_json::from_str::<Turn>(t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(format!("a stored turn is not readable: {e}")))?;
        Ok(Some(Thread {
            id,
            created_ms: num(0),
            updated_ms: num(1),
            turn_count: num(2) as u32,
            dropped_turns: num(3) as u32,
            turns,
        }))
    }

    fn unpin(&self, id: Uuid) {
        let key = format!("{}pin:{id}", self.prefix);
        let mut conn = self.conn.clone();
        // Sent now, awaited by the next operation; a pin left behind lapses with its lease.
        let handle = tokio::spawn(async move {
            let script = redis::Script::new(
                "local n = redis.call('DECR', KEYS[1]) if n <= 0 then redis.call('DEL', KEYS[1]) end return n",
            );
            let inv = script.key(key);
            let call = inv.invoke_async::<i64>(&mut conn);
            let _ = tokio::time::timeout(REDIS_TIMEOUT, call).await;
        });
        let mut pending = self
            .unpins
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pending.retain(|h| !h.is_finished());
        pending.push(handle);
    }

    async fn append_within(
        &self,
        id: Uuid,
        turns: Vec<Turn>,
        max_turns: u32,
    ) -> Result<AppendReport, StoreError> {
        self.settle_unpins().await;
        let json: Vec<String> = turns
            .iter()
            .map(|t| serde_json::to_string(t).unwrap_or_default())
            .collect();
        let new_bytes = json.iter().map(|s| s.len() as u64).sum();
        let tool = turns.last().map_or("", |t| t.tool.as_str());
        let model = turns.iter().rev().find_map(|t| t.model.as_deref());
        let first = (turns.iter().find(|t| t.role == "user"))
            .map_or_else(String::new, |t| first_words(&t.content));
        let l = &self.limits;
        let mut inv = self.append.prepare_invoke();
        inv.arg(&self.prefix)
            .arg(id.to_string())
            .arg(self.now_ms())
            .arg(ttl_ms(l.ttl))
            .arg(max_turns)
            .arg(l.budget_bytes)
            .arg(l.threshold_bytes())
            .arg(l.thread_max_bytes)
            .arg(tool)
            .arg(model.unwrap_or(""))
            .arg(first)
            .arg(json.len());
        for t in &json {
            inv.arg(t);
        }
        let mut conn = self.conn.clone();
        let r: Vec<i64> = self.within(inv.invoke_async(&mut conn)).await?;
        let [
            stored,
            full,
            count,
            dropped,
            bytes,
            evicted,
            oversize,
            tb,
            tt,
            peak,
        ] = r[..]
        else {
            return Err(self.error(format!("unexpected script reply {r:?}")));
        };
        self.note_totals(tb, tt, peak);
        {
            let mut f = self.figures();
            f.evictions.pressure += evicted as u64;
            f.evictions.oversize += oversize as u64;
            if evicted > 0 {
                f.cleanups += 1;
                f.last_cleanup = Some(CleanupInfo {
                    at_ms: zen_model::clock::unix_ms(),
                    duration_ms: 0.0,
                    cause: Cause::Pressure,
                    evicted: evicted as u64,
                });
            }
        }
        Ok(AppendReport {
            stored: stored == 1,
            full: full == 1,
            turn_count: count as u32,
            dropped_turns: dropped as u32,
            thread_bytes: bytes as u64,
            new_bytes,
        })
    }

    async fn cleanup(&self, force: bool) -> Result<u64, StoreError> {
        self.settle_unpins().await;
        let started = std::time::Instant::now();
        let mut inv = self.cleanup.prepare_invoke();
        inv.arg(&self.prefix)
            .arg(self.expired_before_ms())
            .arg(self.limits.threshold_bytes())
            .arg(i32::from(force));
        let mut conn = self.conn.clone();
        let r: Vec<i64> = self.within(inv.invoke_async(&mut conn)).await?;
        let [expired, evicted, tb, tt, peak] = r[..] else {
            return Err(self.error(format!("unexpected script reply {r:?}")));
        };
        self.note_totals(tb, tt, peak);
        let mut f = self.figures();
        f.evictions.expiry += expired as u64;
        f.evictions.pressure += evicted as u64;
        f.cleanups += 1;
        let cause = match (force, evicted > 0) {
            (true, _) => Cause::Watchdog,
            (false, true) => Cause::Pressure,
            _ => Cause::Expiry,
        };
        f.last_cleanup = Some(CleanupInfo {
            at_ms: zen_model::clock::unix_ms(),
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            cause,
            evicted: (expired + evicted) as u64,
        });
        Ok((expired + evicted) as u64)
    }

    async fn recent(&self, limit: usize, query: Option<&str>) -> Result<Recent, StoreError> {
        self.recent_threads(limit, query).await
    }

    /// On Redis, conversations are not in this process: evicting them frees no memory here.
    async fn release_memory(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    fn stats(&self) -> StoreStats {
        self.refresh_totals_soon();
        let f = self.figures().clone();
        StoreStats {
            kind: "redis".to_string(),
            threads: f.threads,
            bytes: f.bytes,
            location: Some(self.label.clone()),
            budget_bytes: self.limits.budget_bytes,
            utilisation: f.bytes as f64 / self.limits.budget_bytes.max(1) as f64,
            threshold: self.limits.threshold,
            thread_max_bytes: self.limits.thread_max_bytes,
            peak_bytes: f.peak,
            evictions: f.evictions,
            cleanups_total: f.cleanups,
            last_cleanup: f.last_cleanup,
            ..StoreStats::default()
        }
    }
}
