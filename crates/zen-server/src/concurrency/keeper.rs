//! The shared limits' background tasks: the keeper renews this instance's leases and reads the
//! cluster's figures; the follower turns other instances' releases (pub/sub) into wakeups.
//! Both hold the limits weakly and end with them.
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::StreamExt;

use super::shared_redis::Inner;

/// Longest pause between renewals; shorter leases renew every lease/3.
const TICK_MAX: Duration = Duration::from_secs(1);
/// Pause before resubscribing after the subscription broke.
const RESUBSCRIBE: Duration = Duration::from_secs(1);

/// How often the keeper runs for a given lease time: at least three renewals per lease.
pub(super) fn tick(lease: Duration) -> Duration {
    (lease / 3).min(TICK_MAX)
}

/// Renew every lease this instance holds, reap lapsed ones and note the cluster's figures,
/// every tick, until the limits are dropped.
pub(super) async fn renew_leases(limits: Weak<Inner>) {
    let Some(lease) = limits.upgrade().map(|l| l.lease) else {
        return;
    };
    let mut every = tokio::time::interval(tick(lease));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(inner) = limits.upgrade() else {
            return;
        };
        for provider in inner.pools.keys() {
            renew_provider(&inner, provider, tick(lease)).await;
        }
    }
}

/// One provider's renewal: one script call whatever the number of leases.
async fn renew_provider(inner: &Arc<Inner>, provider: &str, limit: Duration) {
    let pool = &inner.pools[provider];
    let ids: Vec<String> = {
        let held = pool
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        held.iter().cloned().collect()
    };
    let mut inv = inner.renew.prepare_invoke();
    for key in &inner.keys(provider)[..3] {
        inv.key(key);
    }
    inv.arg(inner.lease.as_millis() as u64);
    for id in &ids {
        inv.arg(id);
    }
    // A failure is noted by `run` (the snapshot shows it); the next tick tries again, and a
    // lease not renewed within the lease time lapses, as a crashed instance's would.
    let Ok(reply) = inner.run::<Vec<String>>(&inv, limit.max(TICK_MAX)).await else {
        return;
    };
    let number = |i: usize| reply.get(i).and_then(|s| s.parse().ok()).unwrap_or(0);
    pool.cluster_held.store(number(0), Ordering::Relaxed);
    pool.cluster_waiting.store(number(1), Ordering::Relaxed);
    let lost = reply.get(2..).unwrap_or_default();
    if !lost.is_empty() {
        let mut held = pool
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for id in lost {
            // Only leases still held count: one released meanwhile was not lost.
            if held.remove(id) {
                inner.leases_lost_total.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(provider, "a cluster lease lapsed while its call ran");
            }
        }
    }
}

/// Wake this instance's waiters when any instance releases a lease; resubscribe after a
/// failure. Waiters poll anyway, so this only shortens their waits.
pub(super) async fn follow_releases(limits: Weak<Inner>) {
    loop {
        let Some((client, pattern)) =
            (limits.upgrade()).map(|l| (l.client.clone(), format!("{}lim:*:freed", l.prefix)))
        else {
            return;
        };
        if let Ok(mut pubsub) = client.get_async_pubsub().await
            && pubsub.psubscribe(&pattern).await.is_ok()
        {
            let mut messages = pubsub.into_on_message();
            while let Some(message) = messages.next().await {
                let Some(inner) = limits.upgrade() else {
                    return;
                };
                let channel = message.get_channel_name();
                let provider = channel
                    .strip_prefix(&format!("{}lim:", inner.prefix))
                    .and_then(|rest| rest.strip_suffix(":freed"));
                if let Some(pool) = provider.and_then(|p| inner.pools.get(p)) {
                    pool.freed.notify_waiters();
                }
            }
        }
        tokio::time::sleep(RESUBSCRIBE).await;
    }
}
