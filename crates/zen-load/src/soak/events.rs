//! What zen did during a soak, read from its snapshots, so a step in its memory can be named by
//! its cause: the store's first cleanup at its budget, a bounded part reaching its cap, the
//! watchdog changing state. Only firsts and changes are kept, at most [`MAX_EVENTS`].
use super::verdict::Event;
use zen_model::snapshot::{Snapshot, WatchdogState};

/// Events kept at most.
const MAX_EVENTS: usize = 32;
/// A part this close to its cap has reached it.
const AT_CAP: f64 = 0.95;

/// Watches successive snapshots for changes worth naming.
#[derive(Debug, Default)]
pub(super) struct Watcher {
    /// The previous snapshot's pressure evictions and expiries.
    evictions: Option<(u64, u64)>,
    /// Parts seen at their cap.
    full: Vec<String>,
    /// The previous watchdog state.
    watchdog: Option<WatchdogState>,
    /// What was seen, in order.
    events: Vec<Event>,
}

impl Watcher {
    /// Compare `s` (taken `t_secs` into the run) with the previous snapshot.
    pub(super) fn observe(&mut self, t_secs: f64, s: &Snapshot) {
        let e = &s.conversations.evictions;
        if let Some((pressure, expiry)) = self.evictions {
            if pressure == 0 && e.pressure > 0 {
                self.note(t_secs, "the store's first cleanup at its budget".into());
            }
            if expiry == 0 && e.expiry > 0 {
                self.note(t_secs, "the store's first expiries".into());
            }
        }
        self.evictions = Some((e.pressure, e.expiry));
        for part in &s.bounded {
            let at_cap = part.cap_bytes > 0 && part.bytes as f64 >= AT_CAP * part.cap_bytes as f64;
            if at_cap && !self.full.contains(&part.key) {
                self.full.push(part.key.clone());
                self.note(t_secs, format!("{} reaching its cap", part.name));
            }
        }
        let state = s.conversations.watchdog.state;
        if self.watchdog.is_some_and(|before| before != state) {
            let what = match state {
                WatchdogState::Ok => "memory back under 80% of MEMORY_LIMIT_MB",
                WatchdogState::Warning => "memory passing 80% of MEMORY_LIMIT_MB",
                WatchdogState::Refusing => "memory passing MEMORY_LIMIT_MB",
            };
            self.note(t_secs, what.into());
        }
        self.watchdog = Some(state);
    }

    fn note(&mut self, t_secs: f64, what: String) {
        if self.events.len() < MAX_EVENTS {
            self.events.push(Event { t_secs, what });
        }
    }

    /// What was seen.
    pub(super) fn events(&self) -> &[Event] {
        &self.events
    }
}
