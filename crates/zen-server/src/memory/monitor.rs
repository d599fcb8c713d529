//! The memory manager: the store plus the RSS watchdog, and the background monitor that frees
//! expired threads and relieves pressure every ZEN_MEMORY_CHECK_SECS (the plan's 5 minutes).
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Watchdog;
use crate::conversations::ConversationStore;
use crate::conversations::memory::RESIDENT_PER_STORED_BYTE;
use zen_model::snapshot::{StoreStats, WatchdogState, mib};

/// Conversations must hold at least this share of RSS before the watchdog evicts or refuses
/// them: below it, the memory is held by something else (sessions, buffers), and evicting
/// users' threads would lose their work without relieving it.
const CONVERSATION_SHARE: f64 = 0.25;

/// The store and the watchdog, as the rest of zen sees them.
pub struct MemoryManager {
    /// Conversation threads.
    pub store: Arc<dyn ConversationStore>,
    /// RSS against MEMORY_LIMIT_MB.
    pub watchdog: Watchdog,
    /// How often the monitor runs; also the least time between two forced cleanups.
    pub check_interval: Duration,
    /// When the watchdog last forced a cleanup, so a steady high RSS does not wipe every
    /// conversation one sample at a time.
    last_forced: Mutex<Option<Instant>>,
}

impl MemoryManager {
    /// The manager of `store`, with a watchdog at `rss_limit_bytes`; the monitor runs every
    /// `check_interval`.
    pub fn new(
        store: Arc<dyn ConversationStore>,
        rss_limit_bytes: u64,
        check_interval: Duration,
    ) -> Self {
        MemoryManager {
            store,
            watchdog: Watchdog::new(rss_limit_bytes),
            check_interval,
            last_forced: Mutex::new(None),
        }
    }

    /// The store's figures with the watchdog's.
    pub fn stats(&self) -> StoreStats {
        let mut stats = self.store.stats();
        stats.watchdog = self.watchdog.stats();
        stats
    }

    /// A new RSS sample from the process sampler.
    pub async fn observe_rss(&self, rss_bytes: u64) {
        let (state, changed) = self.watchdog.observe(rss_bytes);
        let held = self.conversation_resident_bytes();
        let matter = held as f64 >= rss_bytes as f64 * CONVERSATION_SHARE;
        self.watchdog.set_conversations_matter(matter);
        if changed {
            log_state(state, rss_bytes, held, matter);
        }
        if state == WatchdogState::Ok || !self.forced_cleanup_due(changed) {
            return;
        }
        if !matter {
            self.watchdog.count_pressure_elsewhere();
            tracing::warn!(
                rss_mb = mib(rss_bytes),
                conversations_mb = mib(held),
                "memory is high but conversations hold little of it: none evicted or refused"
            );
            return;
        }
        if let Err(err) = self.store.release_memory().await {
            tracing::warn!("the watchdog could not relieve the conversation store: {err}");
        }
        release_freed_memory().await;
    }

    /// What the stored conversations cost in RSS.
    fn conversation_resident_bytes(&self) -> u64 {
        let stats = self.store.stats();
        // The memory store keeps every conversation on the heap, at more than its serialized
        // size; a store on disk (or on Redis) holds only its cache here.
        let per_byte = if stats.kind == "memory" {
            RESIDENT_PER_STORED_BYTE
        } else {
            1.0
        };
        (stats.resident_bytes as f64 * per_byte) as u64
    }

    /// At most one forced cleanup per check interval, so a steady high RSS does not wipe every
    /// conversation one sample at a time.
    fn forced_cleanup_due(&self, changed: bool) -> bool {
        let mut last = self
            .last_forced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let due = changed || last.is_none_or(|t| t.elapsed() >= self.check_interval);
        if due {
            *last = Some(Instant::now());
        }
        due
    }
}

/// Say what a new watchdog state means, and whether conversations are its cause.
fn log_state(state: WatchdogState, rss_bytes: u64, held: u64, matter: bool) {
    let cause = if matter {
        "conversations hold a large share"
    } else {
        "conversations hold little of it: they are left alone"
    };
    let rss_mb = mib(rss_bytes);
    let conversations_mb = mib(held);
    match state {
        WatchdogState::Ok => {
            tracing::info!(rss_mb, "memory back under 80% of MEMORY_LIMIT_MB");
        }
        WatchdogState::Warning => {
            tracing::warn!(
                rss_mb,
                conversations_mb,
                "memory above 80% of MEMORY_LIMIT_MB; {cause}"
            );
        }
        WatchdogState::Refusing => {
            tracing::warn!(
                rss_mb,
                conversations_mb,
                "memory above MEMORY_LIMIT_MB; {cause}"
            );
        }
    }
}

/// Run the periodic cleanup until shutdown.
pub async fn run_monitor(manager: Arc<MemoryManager>, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(manager.check_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate: nothing to clean at start
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {
                if let Err(err) = manager.store.cleanup(false).await {
                    tracing::warn!("conversation cleanup failed: {err}");
                }
            }
        }
    }
}

/// Hand memory freed by a cleanup back to the OS, so RSS (what the watchdog and the operator
/// see) falls instead of staying at its high-water mark in glibc's free lists.
async fn release_freed_memory() {
    let _ = tokio::task::spawn_blocking(zen_os::ffi::release_free_memory).await;
}
