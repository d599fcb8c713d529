//! How calls are paced: a closed loop of workers, or an open loop on a schedule.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::engine::stages::Profile;
use crate::engine::{Shared, Stop};

/// A sent call later than this behind schedule counts as late.
const LATE_AFTER: Duration = Duration::from_millis(10);

/// `concurrency` workers; with a shape, worker `w` works only while the shape is above `w`, so
/// the calls in flight follow the stages.
pub(super) async fn closed_loop(
    shared: &Arc<Shared>,
    concurrency: u32,
    stop: Stop,
    shape: Option<Profile>,
) {
    let shape = shape.map(Arc::new);
    let start = Instant::now();
    let tickets = Arc::new(AtomicU64::new(match stop {
        Stop::Requests(n) => n,
        Stop::Duration(_) => u64::MAX,
    }));
    let deadline = match stop {
        Stop::Duration(d) => Some(Instant::now() + d),
        Stop::Requests(_) => None,
    };
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..concurrency {
        let (shared, tickets, shape) = (shared.clone(), tickets.clone(), shape.clone());
        workers.spawn(async move {
            let mut rng = StdRng::seed_from_u64(shared.plan.seed.wrapping_add(u64::from(w)));
            let session = w as usize % shared.peers.len();
            loop {
                if shared.stop.is_cancelled() || deadline.is_some_and(|d| Instant::now() >= d) {
                    return;
                }
                if let Some(shape) = &shape
                    && !shared.wait_for_turn(shape, w, start).await
                {
                    return;
                }
                let claimed = tickets
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
                if claimed.is_err() {
                    return;
                }
                let kind = shared.pick(&mut rng);
                shared.call(session, kind, &mut rng, None).await;
            }
        });
    }
    while workers.join_next().await.is_some() {}
}

/// Calls sent at the times the shape's rate gives, whatever the replies do.
pub(super) async fn open_loop(shared: &Arc<Shared>, shape: &Profile, max_in_flight: u32) {
    let planned = (shape.total_calls() + 1e-9).floor() as u64;
    let duration = shape.duration();
    let slots = Arc::new(Semaphore::new(max_in_flight as usize));
    let mut rng = StdRng::seed_from_u64(shared.plan.seed);
    let start = Instant::now();
    let end = start + duration;
    let mut calls = tokio::task::JoinSet::new();
    let mut sent = 0;
    let (first, step) = shared
        .plan
        .shard
        .map_or((0, 1), |(index, count)| (u64::from(index), count as usize));
    let planned = (first..planned).step_by(step).count() as u64;
    for i in (first..).step_by(step).take(planned as usize) {
        let Some(due) = shape.send_time(i as f64) else {
            break;
        };
        let intended = start + Duration::from_secs_f64(due);
        tokio::select! {
            () = tokio::time::sleep_until(intended) => {}
            () = shared.stop.cancelled() => break,
        }
        let (permit, waited) = if let Ok(permit) = slots.clone().try_acquire_owned() {
            (permit, false)
        } else {
            // Every slot is busy: this send goes out late (and its latency shows it), or not
            // at all if the run ends first (then it is counted unsent, not late).
            tokio::select! {
                permit = slots.clone().acquire_owned() => (permit.expect("never closed"), true),
                () = shared.stop.cancelled() => break,
                () = tokio::time::sleep_until(end) => break,
            }
        };
        // Counted once, whether it waited for a slot or the schedule itself fell behind.
        if waited || Instant::now().duration_since(intended) > LATE_AFTER {
            shared.recorder.late.fetch_add(1, Ordering::Relaxed);
        }
        let kind = shared.pick(&mut rng);
        let call_seed: u64 = rng.random();
        let shared = shared.clone();
        let session = sent as usize % shared.peers.len();
        calls.spawn(async move {
            let mut rng = StdRng::seed_from_u64(call_seed);
            shared.call(session, kind, &mut rng, Some(intended)).await;
            drop(permit);
        });
        sent += 1;
        // Reap finished calls as we go so the set stays small.
        while calls.try_join_next().is_some() {}
    }
    shared
        .recorder
        .unsent
        .fetch_add(planned - sent, Ordering::Relaxed);
    while calls.join_next().await.is_some() {}
}

impl Shared {
    /// Wait until the shape is above worker `w`'s number; false when it never will be again
    /// (or the run is stopped).
    async fn wait_for_turn(&self, shape: &Profile, w: u32, start: Instant) -> bool {
        let now = start.elapsed().as_secs_f64();
        let Some(at) = shape.next_above(f64::from(w), now) else {
            return false;
        };
        if at > now {
            tokio::select! {
                () = tokio::time::sleep_until(start + Duration::from_secs_f64(at)) => {}
                () = self.stop.cancelled() => return false,
            }
        }
        true
    }
}
