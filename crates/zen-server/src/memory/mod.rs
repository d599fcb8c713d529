//! The memory manager: the watchdog on the process's RSS, and the monitor that runs the
//! conversation store's cleanup (the store itself lives in `conversations`).
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

use zen_model::snapshot::{WatchdogState, WatchdogStats, mib as mb};

pub mod monitor;

/// Watches the process's RSS against MEMORY_LIMIT_MB.
#[derive(Debug)]
pub struct Watchdog {
    /// MEMORY_LIMIT_MB in bytes.
    limit_bytes: u64,
    /// WatchdogState as a u8, read on every new thread.
    state: AtomicU8,
    /// The last RSS seen.
    rss_bytes: AtomicU64,
    /// New threads refused while over the limit.
    refused: AtomicU64,
    /// Do conversations hold a significant share of RSS? Only then are new ones refused:
    /// refusing them cannot relieve memory something else holds.
    conversations_matter: AtomicBool,
    /// Readings over 80% while conversations held little of the memory: logged and counted
    /// instead of evicting or refusing conversations.
    pressure_elsewhere: AtomicU64,
}

impl Watchdog {
    /// A watchdog for an RSS limit of `limit_bytes` (MEMORY_LIMIT_MB in bytes), starting `Ok`.
    pub fn new(limit_bytes: u64) -> Self {
        Watchdog {
            limit_bytes,
            state: AtomicU8::new(WatchdogState::Ok as u8),
            rss_bytes: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            conversations_matter: AtomicBool::new(true),
            pressure_elsewhere: AtomicU64::new(0),
        }
    }

    /// Record whether conversations hold a significant share of RSS (see the monitor).
    pub fn set_conversations_matter(&self, matter: bool) {
        self.conversations_matter.store(matter, Ordering::Relaxed);
    }

    /// Count a reading over 80% that conversations did not cause.
    pub fn count_pressure_elsewhere(&self) {
        self.pressure_elsewhere.fetch_add(1, Ordering::Relaxed);
    }

    /// The state after the last RSS reading.
    pub fn state(&self) -> WatchdogState {
        match self.state.load(Ordering::Relaxed) {
            0 => WatchdogState::Ok,
            1 => WatchdogState::Warning,
            _ => WatchdogState::Refusing,
        }
    }

    /// Take a new RSS reading; returns the new state and whether it just changed.
    pub fn observe(&self, rss_bytes: u64) -> (WatchdogState, bool) {
        self.rss_bytes.store(rss_bytes, Ordering::Relaxed);
        let next = if rss_bytes > self.limit_bytes {
            WatchdogState::Refusing
        } else if rss_bytes as f64 >= self.limit_bytes as f64 * 0.8 {
            WatchdogState::Warning
        } else {
            WatchdogState::Ok
        };
        let before = self.state.swap(next as u8, Ordering::Relaxed);
        (next, before != next as u8)
    }

    /// May a new conversation start? Existing ones always continue.
    pub fn admit_new_thread(&self) -> Result<(), String> {
        if self.state() != WatchdogState::Refusing
            || !self.conversations_matter.load(Ordering::Relaxed)
        {
            return Ok(());
        }
        self.refused.fetch_add(1, Ordering::Relaxed);
        Err(format!(
            "zen is over its memory limit (RSS {:.1} MB > MEMORY_LIMIT_MB {:.1}): new conversations \
             are refused until memory is back under the limit. Existing conversations \
             (continuation_id) still work.",
            mb(self.rss_bytes.load(Ordering::Relaxed)),
            mb(self.limit_bytes)
        ))
    }

    /// The watchdog's figures, for the snapshot.
    pub fn stats(&self) -> WatchdogStats {
        WatchdogStats {
            state: self.state(),
            rss_bytes: self.rss_bytes.load(Ordering::Relaxed),
            limit_bytes: self.limit_bytes,
            refused_threads_total: self.refused.load(Ordering::Relaxed),
            pressure_elsewhere_total: self.pressure_elsewhere.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchdog_refuses_new_threads_over_the_limit_and_recovers() {
        let w = Watchdog::new(100);
        assert_eq!(w.observe(50), (WatchdogState::Ok, false));
        assert_eq!(w.observe(85), (WatchdogState::Warning, true));
        assert!(w.admit_new_thread().is_ok());
        assert_eq!(w.observe(101), (WatchdogState::Refusing, true));
        let err = w.admit_new_thread().unwrap_err();
        assert!(err.contains("MEMORY_LIMIT_MB"), "{err}");
        assert_eq!(w.stats().refused_threads_total, 1);
        assert_eq!(w.observe(40), (WatchdogState::Ok, true));
        assert!(w.admit_new_thread().is_ok());
    }
}
