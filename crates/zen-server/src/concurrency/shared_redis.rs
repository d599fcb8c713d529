//! Provider limits shared by every zen serve on one Redis (`ZEN_SHARED_LIMITS=redis://…`).
//!
//! A permit is a lease: a member of a sorted set per provider scored by its expiry on Redis's
//! clock, taken, renewed and given back by Lua scripts (atomic across instances). The keeper
//! (keeper.rs) renews this instance's leases every lease/3 at most, so a call holds its lease
//! for as long as it runs, and a crashed instance's leases lapse within the lease time; every
//! script reaps lapsed leases first.
//!
//! Fairness: callers that cannot have a lease at once take a ticket in a FIFO queue in Redis,
//! and a free lease goes to the oldest tickets, whichever instance holds them, so no instance
//! starves. Waiters poll with a bounded backoff (5 ms doubling to 50 ms) and are woken at once
//! by a pub/sub message when any instance releases a lease; polling alone stays correct when
//! the subscription is down, so a missed message costs at most 50 ms.
//!
//! Redis gone: the limits fail closed. A call that cannot reach Redis is refused with a tool
//! error naming the URL (counted as `unavailable_total`), because without Redis an instance
//! cannot know how many calls the others have in flight, and failing open would let N
//! instances put N times the limit on one provider account: the 429 storm this exists to stop.
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::sync::Notify;
use tokio::time::Instant;
use uuid::Uuid;

use super::{Busy, Refused};
use crate::config::OTHER_POOLS;
use zen_model::snapshot::{ClusterPoolStats, LimitsStats};

const ACQUIRE: &str = include_str!("acquire.lua");
const RENEW: &str = include_str!("renew.lua");
const RELEASE: &str = include_str!("release.lua");
/// Shortest and longest pause between a waiter's polls.
const POLL_MIN: Duration = Duration::from_millis(5);
const POLL_MAX: Duration = Duration::from_millis(50);
/// A waiter that stops polling for this long (crashed) loses its place in the queue.
const TICKET_TTL: Duration = Duration::from_secs(3);
/// Longest wait for one Redis call (also bounded by the caller's queue deadline).
const REDIS_TIMEOUT: Duration = Duration::from_secs(5);

/// One provider's shared pool as this instance sees it.
pub(super) struct SharedPool {
    /// The limit across the cluster.
    pub limit: u32,
    /// Lease ids this instance holds, renewed by the keeper.
    pub held: Mutex<HashSet<String>>,
    /// Wakes this instance's waiters when any instance releases a lease.
    pub freed: Notify,
    /// Leases held across the cluster, at the keeper's last tick.
    pub cluster_held: AtomicU64,
    /// Tickets queued across the cluster, at the keeper's last tick.
    pub cluster_waiting: AtomicU64,
}

/// The state the callers, the leases and the keeper share.
pub(super) struct Inner {
    /// Opens the pub/sub connection (and reopens it after a failure).
    pub client: redis::Client,
    /// Reconnects by itself when Redis comes back.
    pub conn: ConnectionManager,
    /// Key prefix (ZEN_REDIS_PREFIX).
    pub prefix: String,
    /// The URL without its password, for messages and the snapshot.
    pub label: String,
    /// How long a lease lives unless renewed.
    pub lease: Duration,
    /// The scripts, run by hash.
    pub acquire: redis::Script,
    pub renew: redis::Script,
    pub release: redis::Script,
    /// Provider name → its shared pool; fixed at start.
    pub pools: BTreeMap<String, SharedPool>,
    /// The last Redis failure, cleared by the next success.
    pub last_error: Mutex<Option<String>>,
    /// Calls refused because Redis could not be reached.
    pub unavailable_total: AtomicU64,
    /// Leases that lapsed while their call ran.
    pub leases_lost_total: AtomicU64,
}

impl Inner {
    /// The keys of one provider's pool: leases, queue, tickets, arrival counter.
    pub(super) fn keys(&self, provider: &str) -> [String; 4] {
        let base = format!("{}lim:{provider}:", self.prefix);
        ["leases", "queue", "tickets", "seq"].map(|k| format!("{base}{k}"))
    }

    /// The pub/sub channel a release is announced on.
    pub(super) fn channel(&self, provider: &str) -> String {
        format!("{}lim:{provider}:freed", self.prefix)
    }

    /// Run one script call within `limit` (at most REDIS_TIMEOUT), noting Redis's health.
    pub(super) async fn run<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
        limit: Duration,
    ) -> Result<T, String> {
        let mut conn = self.conn.clone();
        let limit = limit.min(REDIS_TIMEOUT);
        let result = match tokio::time::timeout(limit, invocation.invoke_async(&mut conn)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!(
                "Redis did not answer within {}",
                zen_model::units::seconds(limit)
            )),
        };
        let mut last = self
            .last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *last = result.as_ref().err().cloned();
        result
    }

    /// Give back a lease or withdraw a ticket, without waiting (a failure leaves it to lapse).
    fn release_later(self: &Arc<Self>, provider: &str, id: String) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // no runtime left: the lease lapses within the lease time
        };
        let (inner, provider) = (self.clone(), provider.to_string());
        runtime.spawn(async move {
            let mut inv = inner.release.prepare_invoke();
            for key in &inner.keys(&provider)[..3] {
                inv.key(key);
            }
            inv.arg(&id).arg(inner.channel(&provider));
            let _ = inner.run::<i64>(&inv, REDIS_TIMEOUT).await;
        });
    }
}

/// Provider limits held in Redis for every instance pointing at it.
pub struct SharedLimits {
    /// Shared with leases and the keeper.
    inner: Arc<Inner>,
    /// The keeper and subscriber tasks, stopped with these limits.
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// A cluster-wide permit: given back when dropped, renewed by the keeper until then.
pub struct Lease {
    /// To give it back.
    inner: Arc<Inner>,
    /// Its provider.
    provider: String,
    /// Its member in the provider's lease set.
    id: String,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("provider", &self.provider)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(pool) = self.inner.pools.get(&self.provider) {
            let mut held = pool
                .held
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            held.remove(&self.id);
        }
        self.inner
            .release_later(&self.provider, std::mem::take(&mut self.id));
    }
}

/// Withdraws a waiter's ticket if it stops waiting without a lease (timeout, cancellation).
struct Ticket<'a> {
    /// To withdraw it.
    inner: &'a Arc<Inner>,
    /// Its provider.
    provider: &'a str,
    /// Its id, taken when it becomes a lease.
    id: Option<String>,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            self.inner.release_later(self.provider, id);
        }
    }
}

impl SharedLimits {
    /// Connect and check Redis answers: `Err` names the URL without its password (exit 2).
    /// The background tasks are attached by the caller (mod.rs), which knows the keeper.
    pub(super) async fn connect(
        url: &str,
        prefix: &str,
        lease: Duration,
        limits: impl IntoIterator<Item = (String, u32)>,
    ) -> anyhow::Result<Self> {
        let label = crate::redis_connect::redacted_url(url);
        let purpose = crate::redis_connect::Purpose {
            what: "the shared provider limits",
            variable: "ZEN_SHARED_LIMITS",
            otherwise: "unset it to keep limits per instance",
        };
        let (client, conn) = crate::redis_connect::connect(url, &purpose, REDIS_TIMEOUT).await?;
        let pools = (limits.into_iter())
            .map(|(name, limit)| {
                let pool = SharedPool {
                    limit,
                    held: Mutex::new(HashSet::new()),
                    freed: Notify::new(),
                    cluster_held: AtomicU64::new(0),
                    cluster_waiting: AtomicU64::new(0),
                };
                (name, pool)
            })
            .collect();
        let inner = Arc::new(Inner {
            client,
            conn,
            prefix: prefix.to_string(),
            label,
            lease,
            acquire: redis::Script::new(ACQUIRE),
            renew: redis::Script::new(RENEW),
            release: redis::Script::new(RELEASE),
            pools,
            last_error: Mutex::new(None),
            unavailable_total: AtomicU64::new(0),
            leases_lost_total: AtomicU64::new(0),
        });
        Ok(SharedLimits {
            inner,
            tasks: Vec::new(),
        })
    }

    /// Start the background tasks, which hold the limits weakly and stop with them.
    pub(super) fn attach(
        &mut self,
        start: impl FnOnce(Weak<Inner>) -> Vec<tokio::task::JoinHandle<()>>,
    ) {
        self.tasks = start(Arc::downgrade(&self.inner));
    }

    /// A lease for one call to `provider`, waiting in the cluster's queue until `deadline`.
    pub async fn acquire(
        &self,
        provider: &str,
        deadline: Option<Instant>,
    ) -> Result<Lease, Refused> {
        let inner = &self.inner;
        let pool = &inner.pools[provider];
        let keys = inner.keys(provider);
        let started = Instant::now();
        let mut ticket = Ticket {
            inner,
            provider,
            id: Some(Uuid::new_v4().to_string()),
        };
        let mut pause = POLL_MIN;
        loop {
            // Registered before polling, so a release between the poll and the wait wakes us.
            let freed = pool.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            let id = ticket.id.as_deref().unwrap_or_default();
            let mut inv = inner.acquire.prepare_invoke();
            for key in &keys {
                inv.key(key);
            }
            inv.arg(id)
                .arg(pool.limit)
                .arg(inner.lease.as_millis() as u64)
                .arg(TICKET_TTL.as_millis() as u64);
            let budget = deadline.map_or(REDIS_TIMEOUT, |d| {
                d.saturating_duration_since(Instant::now()).max(POLL_MAX)
            });
            let reply: Vec<i64> = match inner.run(&inv, budget).await {
                Ok(reply) => reply,
                Err(e) => return Err(self.unavailable(provider, &e)),
            };
            if reply.first() == Some(&1) {
                let id = ticket.id.take().unwrap_or_default();
                pool.held
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(id.clone());
                let provider = provider.to_string();
                return Ok(Lease {
                    inner: inner.clone(),
                    provider,
                    id,
                });
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                let position = reply.get(2).copied().unwrap_or(1).max(1) as u64;
                return Err(Refused::Busy(Busy {
                    pool: format!("{provider} across the cluster ({})", inner.label),
                    limit: pool.limit,
                    waiting: position - 1,
                    waited: started.elapsed(),
                }));
            }
            let wake = deadline.map_or(now + pause, |d| d.min(now + pause));
            tokio::select! {
                () = &mut freed => {}
                () = tokio::time::sleep_until(wake) => {}
            }
            pause = (pause * 2).min(POLL_MAX);
        }
    }

    fn unavailable(&self, provider: &str, error: &str) -> Refused {
        self.inner.unavailable_total.fetch_add(1, Ordering::Relaxed);
        Refused::Unavailable(format!(
            "the shared provider limits at {} cannot be reached ({error}), so this call to \
             {provider} was refused: shared limits fail closed, since without Redis zen cannot \
             know what the other instances have in flight. Check Redis (ZEN_SHARED_LIMITS); zen \
             reconnects by itself when it is back",
            self.inner.label
        ))
    }

    /// The limits' figures: this instance's and the cluster's as of the keeper's last tick; the
    /// model providers' pools first, then the pools of other work (clink's), as [`Pools::stats`]
    /// orders them.
    ///
    /// [`Pools::stats`]: super::Pools::stats
    pub fn stats(&self) -> LimitsStats {
        let inner = &self.inner;
        let mut providers: Vec<ClusterPoolStats> = (inner.pools.iter())
            .map(|(name, pool)| ClusterPoolStats {
                name: name.clone(),
                limit: pool.limit,
                held: pool.cluster_held.load(Ordering::Relaxed),
                waiting: pool.cluster_waiting.load(Ordering::Relaxed),
                held_here: pool
                    .held
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .len() as u64,
            })
            .collect();
        providers.sort_by_key(|p| OTHER_POOLS.contains(&p.name.as_str()));
        let last_error = inner
            .last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        LimitsStats {
            backend: "redis".to_string(),
            location: Some(inner.label.clone()),
            lease_secs: inner.lease.as_secs_f64(),
            healthy: last_error.is_none(),
            last_error: last_error.clone(),
            unavailable_total: inner.unavailable_total.load(Ordering::Relaxed),
            leases_lost_total: inner.leases_lost_total.load(Ordering::Relaxed),
            providers,
        }
    }
}

impl Drop for SharedLimits {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl std::fmt::Debug for SharedLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedLimits")
            .field("location", &self.inner.label)
            .finish_non_exhaustive()
    }
}
