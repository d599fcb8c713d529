//! A pool of permits in this process. Permits are owned values moved into the work, so they
//! come back on success, error, timeout, cancellation and panic alike; waiters are served in
//! order (tokio's semaphore is fair) and give up after the queue timeout.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::Busy;
use zen_model::hdr::new_histogram;
use zen_model::snapshot::{LatencySummary, PoolStats};

/// A bounded pool of permits with the figures the snapshot reports.
#[derive(Debug)]
pub struct Pool {
    /// `global` or the provider's name.
    name: String,
    /// Permits in all.
    limit: u32,
    /// The permits; fair, so waiters are served first come first served.
    semaphore: Arc<Semaphore>,
    /// Permits held now (kept here too: the semaphore only knows what is free).
    in_use: AtomicU64,
    /// Callers waiting now.
    waiting: AtomicU64,
    /// Most permits ever held at once.
    peak_in_use: AtomicU64,
    /// Most callers ever waiting at once.
    peak_waiting: AtomicU64,
    /// Permits handed out since start.
    acquired_total: AtomicU64,
    /// Callers turned away: after the queue timeout, or while shutting down.
    rejected_total: AtomicU64,
    /// Of those, the ones turned away because the server was shutting down.
    rejected_shutting_down: AtomicU64,
    /// Time spent waiting for a permit, in µs (fixed size whatever the call count).
    queue_wait_us: Mutex<Histogram<u64>>,
}

/// A held permit. Dropping it returns the permit and updates the figures.
#[derive(Debug)]
pub struct Permit {
    /// The semaphore permit itself; released by its own Drop.
    _permit: OwnedSemaphorePermit,
    /// The pool, to decrement `in_use`.
    pool: Arc<Pool>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.pool.in_use.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Keeps `waiting` right even when the waiting future is dropped (client cancellation).
struct WaitingGuard<'a>(&'a AtomicU64);

impl Drop for WaitingGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Pool {
    /// A pool of `limit` permits, named `global` or after its provider.
    pub fn new(name: impl Into<String>, limit: u32) -> Arc<Self> {
        Arc::new(Pool {
            name: name.into(),
            limit,
            semaphore: Arc::new(Semaphore::new(limit as usize)),
            in_use: AtomicU64::new(0),
            waiting: AtomicU64::new(0),
            peak_in_use: AtomicU64::new(0),
            peak_waiting: AtomicU64::new(0),
            acquired_total: AtomicU64::new(0),
            rejected_total: AtomicU64::new(0),
            rejected_shutting_down: AtomicU64::new(0),
            queue_wait_us: Mutex::new(new_histogram()),
        })
    }

    /// Wait for a permit, at most `timeout` (`None`: forever).
    pub async fn acquire(self: &Arc<Self>, timeout: Option<Duration>) -> Result<Permit, Busy> {
        let started = Instant::now();
        // Fast path: a free permit and nobody queued ahead (try_acquire respects the queue).
        let permit = if let Ok(permit) = self.semaphore.clone().try_acquire_owned() {
            permit
        } else {
            let now_waiting = self.waiting.fetch_add(1, Ordering::Relaxed) + 1;
            self.peak_waiting.fetch_max(now_waiting, Ordering::Relaxed);
            let _waiting = WaitingGuard(&self.waiting);
            let wait = self.semaphore.clone().acquire_owned();
            let acquired = match timeout {
                None => Ok(wait.await),
                Some(limit) => tokio::time::timeout(limit, wait).await,
            };
            if let Ok(Ok(permit)) = acquired {
                permit
            } else {
                // Timed out (the semaphore is never closed).
                self.rejected_total.fetch_add(1, Ordering::Relaxed);
                return Err(Busy {
                    pool: self.name.clone(),
                    limit: self.limit,
                    waiting: self.waiting.load(Ordering::Relaxed).saturating_sub(1),
                    waited: started.elapsed(),
                });
            }
        };
        let now_in_use = self.in_use.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak_in_use.fetch_max(now_in_use, Ordering::Relaxed);
        self.acquired_total.fetch_add(1, Ordering::Relaxed);
        let waited_us = started.elapsed().as_micros() as u64;
        self.queue_wait_us
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .saturating_record(waited_us);
        Ok(Permit {
            _permit: permit,
            pool: self.clone(),
        })
    }

    /// Count a call turned away because the server is shutting down.
    pub fn reject_shutting_down(&self) {
        self.rejected_total.fetch_add(1, Ordering::Relaxed);
        self.rejected_shutting_down.fetch_add(1, Ordering::Relaxed);
    }

    /// The pool's figures now, for the snapshot.
    pub fn stats(&self) -> PoolStats {
        let queue_wait = {
            let hist = self
                .queue_wait_us
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            LatencySummary::from_histogram(&hist)
        };
        PoolStats {
            name: self.name.clone(),
            limit: self.limit,
            in_use: self.in_use.load(Ordering::Relaxed),
            waiting: self.waiting.load(Ordering::Relaxed),
            peak_in_use: self.peak_in_use.load(Ordering::Relaxed),
            peak_waiting: self.peak_waiting.load(Ordering::Relaxed),
            acquired_total: self.acquired_total.load(Ordering::Relaxed),
            rejected_total: self.rejected_total.load(Ordering::Relaxed),
            rejected_shutting_down: self.rejected_shutting_down.load(Ordering::Relaxed),
            queue_wait,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn permits_come_back_when_dropped_and_waiters_time_out() {
        let pool = Pool::new("p", 1);
        let held = pool.acquire(None).await.unwrap();
        let err = pool
            .acquire(Some(Duration::from_secs(2)))
            .await
            .unwrap_err();
        assert_eq!(err.pool, "p");
        assert!(err.to_string().starts_with("busy: 0 calls waiting for p"));
        assert_eq!(pool.stats().rejected_total, 1);
        assert_eq!(pool.stats().waiting, 0);
        drop(held);
        let again = pool.acquire(Some(Duration::from_secs(1))).await.unwrap();
        assert_eq!(pool.stats().in_use, 1);
        drop(again);
        assert_eq!(pool.stats().in_use, 0);
        assert_eq!(pool.stats().acquired_total, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_waiter_leaves_no_trace() {
        let pool = Pool::new("p", 1);
        let _held = pool.acquire(None).await.unwrap();
        let waiter = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.acquire(None).await.map(drop) })
        };
        while pool.stats().waiting == 0 {
            tokio::task::yield_now().await;
        }
        waiter.abort();
        let _ = waiter.await;
        let stats = pool.stats();
        assert_eq!((stats.waiting, stats.peak_waiting, stats.in_use), (0, 1, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_are_served_in_arrival_order() {
        let pool = Pool::new("p", 1);
        let held = pool.acquire(None).await.unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for i in 0..5 {
            let (waiter, tx) = (pool.clone(), tx.clone());
            tokio::spawn(async move {
                let permit = waiter.acquire(None).await.unwrap();
                tx.send(i).unwrap();
                tokio::time::sleep(Duration::from_millis(10)).await;
                drop(permit);
            });
            // Let each waiter queue before the next is spawned.
            while pool.stats().waiting < i + 1 {
                tokio::task::yield_now().await;
            }
        }
        drop(held);
        let mut order = Vec::new();
        for _ in 0..5 {
            order.push(rx.recv().await.unwrap());
        }
        assert_eq!(order, vec![0, 1, 2, 3, 4]);
    }
}
