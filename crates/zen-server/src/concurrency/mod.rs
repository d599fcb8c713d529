//! The concurrency manager: one global pool around every tool call and one pool per provider,
//! held for the whole provider request. The pools live in this process (local.rs); with
//! `ZEN_SHARED_LIMITS` a provider call also holds a lease from Redis (shared_redis.rs), so the
//! provider limits hold across every instance on that Redis. The global pool stays per instance.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::OTHER_POOLS;
use zen_model::snapshot::{LimitsStats, PoolStats};

mod keeper;
mod local;
mod shared_redis;

pub use local::{Permit, Pool};
pub use shared_redis::{Lease, SharedLimits};

/// The global pool's name in snapshots and errors.
pub const GLOBAL: &str = "global";

/// A call that waited longer than the queue timeout.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "busy: {waiting} calls waiting for {pool} (limit {limit}); this call gave up after {}. Retry later, or raise the limit (MAX_CONCURRENT_REQUESTS, ZEN_PROVIDER_LIMITS) or ZEN_QUEUE_TIMEOUT",
    zen_model::units::seconds(*.waited)
)]
pub struct Busy {
    /// The pool that was full: `global` or the provider's name.
    pub pool: String,
    /// Its permit count.
    pub limit: u32,
    /// Other calls still waiting for it when this one gave up.
    pub waiting: u64,
    /// How long this call waited before giving up.
    pub waited: Duration,
}

/// Why a provider call got no permit.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refused {
    /// It waited longer than the queue timeout.
    #[error(transparent)]
    Busy(#[from] Busy),
    /// The shared limits could not be reached (they fail closed); the message says where.
    #[error("{0}")]
    Unavailable(String),
}

/// What a provider call holds: this instance's permit, and the cluster's lease when shared.
#[derive(Debug)]
pub struct ProviderPermit {
    /// The local pool's permit (with shared limits, it bounds how many of this instance's
    /// calls wait in Redis's queue at once).
    _local: Permit,
    /// The cluster-wide lease, renewed until dropped.
    _lease: Option<Lease>,
}

impl SharedLimits {
    /// Connect to Redis (`Err` names the URL, without its password: zen serve exits 2) and
    /// start the keeper, which renews this instance's leases, and the release follower.
    pub async fn open(
        url: &str,
        prefix: &str,
        lease: Duration,
        limits: impl IntoIterator<Item = (String, u32)>,
    ) -> anyhow::Result<Self> {
        let mut shared = SharedLimits::connect(url, prefix, lease, limits).await?;
        shared.attach(|inner| {
            vec![
                tokio::spawn(keeper::renew_leases(inner.clone())),
                tokio::spawn(keeper::follow_releases(inner)),
            ]
        });
        Ok(shared)
    }
}

/// The global pool and one pool per provider.
#[derive(Debug)]
pub struct Pools {
    /// Around every tools/call.
    pub global: Arc<Pool>,
    /// Around every provider request, retries included; fixed at start.
    providers: BTreeMap<String, Arc<Pool>>,
    /// The provider limits across instances, when ZEN_SHARED_LIMITS is set.
    shared: Option<SharedLimits>,
    /// How long a call may wait for any pool.
    queue_timeout: Option<Duration>,
}

impl Pools {
    /// The global pool of `global_limit` permits and one pool per provider; with no
    /// `queue_timeout`, calls wait as long as it takes.
    pub fn new(
        global_limit: u32,
        providers: impl IntoIterator<Item = (String, u32)>,
        queue_timeout: Option<Duration>,
    ) -> Self {
        Pools {
            global: Pool::new(GLOBAL, global_limit),
            providers: providers
                .into_iter()
                .map(|(name, limit)| {
                    let pool = Pool::new(name.clone(), limit);
                    (name, pool)
                })
                .collect(),
            shared: None,
            queue_timeout,
        }
    }

    /// Hold the provider limits in Redis too (the limits were opened for the same providers).
    pub fn with_shared(mut self, shared: Option<SharedLimits>) -> Self {
        self.shared = shared;
        self
    }

    /// A global permit, for one tool call.
    pub async fn acquire_global(&self) -> Result<Permit, Busy> {
        self.global.acquire(self.queue_timeout).await
    }

    /// A provider permit, for one provider request: the local one, then (when shared) the
    /// cluster's lease within what is left of the same queue timeout.
    pub async fn acquire_provider(&self, provider: &str) -> Result<ProviderPermit, Refused> {
        let started = Instant::now();
        let pool = self.providers.get(provider).unwrap_or_else(|| {
            panic!("no pool for provider {provider}: pools are made for every configured provider")
        });
        let local = pool.acquire(self.queue_timeout).await?;
        let lease = match &self.shared {
            None => None,
            Some(shared) => {
                let deadline = self.queue_timeout.map(|t| started + t);
                Some(shared.acquire(provider, deadline).await?)
            }
        };
        Ok(ProviderPermit {
            _local: local,
            _lease: lease,
        })
    }

    /// Every pool's figures: global first, the model providers', then the pools of other work
    /// (clink's), so the first provider's pool stays second.
    pub fn stats(&self) -> Vec<PoolStats> {
        let other = |name: &String| OTHER_POOLS.contains(&name.as_str());
        let providers = self.providers.iter().filter(|(n, _)| !other(n));
        let others = self.providers.iter().filter(|(n, _)| other(n));
        std::iter::once(&self.global)
            .chain(providers.chain(others).map(|(_, p)| p))
            .map(|p| p.stats())
            .collect()
    }

    /// Where the provider limits are held, and the cluster's figures when shared.
    pub fn limits_stats(&self) -> LimitsStats {
        self.shared
            .as_ref()
            .map_or_else(LimitsStats::default, SharedLimits::stats)
    }
}
