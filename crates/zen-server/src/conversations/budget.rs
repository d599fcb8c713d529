//! The budget rules every backend applies the same way: a thread's size is the length of its
//! serialized form; a thread over its share drops its oldest turns (never the new ones); new
//! turns that alone are over the share are not stored; a full thread takes no more turns; a
//! store past its threshold evicts the least recently updated unpinned threads, at least 20%.
use std::time::Duration;

use uuid::Uuid;

use super::Thread;

/// The limits every backend holds.
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

impl StoreLimits {
    /// The byte count where cleanup starts.
    pub fn threshold_bytes(&self) -> u64 {
        (self.budget_bytes as f64 * self.threshold) as u64
    }
}

/// The serialized length of a value (0 if it cannot be serialized, which our types always can).
pub(crate) fn json_len<T: serde::Serialize>(value: &T) -> u64 {
    serde_json::to_vec(value).map_or(0, |v| v.len() as u64)
}

/// Exact serialized size of a thread: its header, plus each turn, plus the commas between.
pub(crate) fn thread_bytes(header: &Thread, turn_sizes: &[u64]) -> u64 {
    let header = Thread {
        turns: Vec::new(),
        ..header.clone_header()
    };
    json_len(&header) + turn_sizes.iter().sum::<u64>() + turn_sizes.len().saturating_sub(1) as u64
}

/// What a thread looks like before an append (None: a new thread).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Existing<'a> {
    pub created_ms: u64,
    pub turn_count: u32,
    pub dropped_turns: u32,
    /// Sizes of the stored turns, oldest first.
    pub turn_sizes: &'a [u64],
}

/// What an append must do.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AppendPlan {
    /// The turn cap is reached: store nothing.
    Full,
    /// The new turns alone are over the thread's share: store nothing.
    Oversize,
    /// Store the new turns after dropping the `drop` oldest stored ones.
    Store {
        /// The thread's header after the append (no turns).
        header: Thread,
        /// Oldest stored turns to drop.
        drop: usize,
        /// The thread's size after the append.
        bytes: u64,
    },
}

/// Decide an append under the shared rules.
pub(crate) fn plan_append(
    id: Uuid,
    existing: Option<Existing<'_>>,
    new_sizes: &[u64],
    max_turns: u32,
    now_ms: u64,
    limits: &StoreLimits,
) -> AppendPlan {
    let new_turns = new_sizes.len() as u32;
    let turn_count = existing.map_or(0, |e| e.turn_count);
    if existing.is_some() && turn_count.saturating_add(new_turns) > max_turns {
        return AppendPlan::Full;
    }
    let stored = existing.map_or(&[][..], |e| e.turn_sizes);
    let mut header = Thread {
        id,
        created_ms: existing.map_or(now_ms, |e| e.created_ms),
        updated_ms: now_ms,
        turn_count: turn_count + new_turns,
        dropped_turns: existing.map_or(0, |e| e.dropped_turns),
        turns: Vec::new(),
    };
    // The smallest the thread can get is the new turns alone (every older one dropped).
    let smallest = Thread {
        dropped_turns: header.dropped_turns + stored.len() as u32,
        ..header.clone_header()
    };
    if thread_bytes(&smallest, new_sizes) > limits.thread_max_bytes {
        return AppendPlan::Oversize;
    }
    let all: Vec<u64> = stored.iter().chain(new_sizes).copied().collect();
    let mut drop = 0;
    let mut bytes = thread_bytes(&header, &all);
    while bytes > limits.thread_max_bytes && drop < stored.len() {
        drop += 1;
        header.dropped_turns += 1;
        bytes = thread_bytes(&header, &all[drop..]);
    }
    AppendPlan::Store {
        header,
        drop,
        bytes,
    }
}

/// How many threads a pressure cleanup evicts at least: 20% of them, rounded up.
pub(crate) fn min_evictions(threads: u64) -> usize {
    (threads as f64 * 0.2).ceil() as usize
}

impl Thread {
    /// The thread without its turns.
    pub fn clone_header(&self) -> Thread {
        Thread {
            id: self.id,
            created_ms: self.created_ms,
            updated_ms: self.updated_ms,
            turn_count: self.turn_count,
            dropped_turns: self.dropped_turns,
            turns: Vec::new(),
        }
    }
}

/// The record of a cleanup that just ran (for the snapshot), logged when it evicted anything:
/// the same for every backend.
pub(crate) fn cleanup_done(
    cause: zen_model::snapshot::Cause,
    started: std::time::Instant,
    evicted: u64,
    total_bytes: u64,
) -> zen_model::snapshot::CleanupInfo {
    if evicted > 0 {
        tracing::info!(?cause, evicted, total_bytes, "conversation cleanup");
    }
    zen_model::snapshot::CleanupInfo {
        at_ms: zen_model::clock::unix_ms(),
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        cause,
        evicted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: u64) -> StoreLimits {
        StoreLimits {
            budget_bytes: 1 << 20,
            threshold: 0.8,
            thread_max_bytes: max,
            ttl: Duration::from_secs(60),
        }
    }

    #[test]
    fn a_full_thread_takes_nothing_and_a_new_one_is_never_full() {
        let id = Uuid::new_v4();
        let e = Existing {
            created_ms: 1,
            turn_count: 4,
            dropped_turns: 0,
            turn_sizes: &[10, 10],
        };
        let l = limits(10_000);
        assert_eq!(
            plan_append(id, Some(e), &[5, 5], 5, 2, &l),
            AppendPlan::Full
        );
        assert!(matches!(
            plan_append(id, None, &[5, 5], 1, 2, &l),
            AppendPlan::Store { drop: 0, .. }
        ));
    }

    #[test]
    fn oldest_turns_go_first_and_new_turns_alone_too_big_are_refused() {
        let id = Uuid::new_v4();
        let e = Existing {
            created_ms: 1,
            turn_count: 3,
            dropped_turns: 0,
            turn_sizes: &[100, 100, 100],
        };
        let l = limits(400);
        let AppendPlan::Store {
            drop,
            bytes,
            header,
        } = plan_append(id, Some(e), &[100], 50, 2, &l)
        else {
            panic!("expected a store plan")
        };
        assert!(drop >= 1 && bytes <= 400, "{drop} {bytes}");
        assert_eq!(header.dropped_turns, drop as u32);
        assert_eq!(header.turn_count, 4);
        assert_eq!(
            plan_append(id, Some(e), &[500], 50, 2, &l),
            AppendPlan::Oversize
        );
    }
}
