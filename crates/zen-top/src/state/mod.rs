//! The dashboard's model: the sample history, the latest snapshot, the connection, and the view
//! settings the keys change. Drawing reads it, never writes it.
use zen_model::snapshot::{CallStats, Snapshot};

use super::history::History;
use super::input::{Action, Mode};
use zen_model::feed::{Connection, Feed, Instance, RunStatus};

/// The time windows `+` and `-` step through (seconds).
pub(crate) const WINDOWS_SECS: [u64; 7] = [30, 60, 120, 300, 900, 1800, 3600];
const DEFAULT_WINDOW: usize = 1;

/// The panels Tab moves between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Panel {
    Throughput,
    Latency,
    Tools,
    Pools,
    Memory,
}

impl Panel {
    const ALL: [Panel; 5] = [
        Panel::Throughput,
        Panel::Latency,
        Panel::Tools,
        Panel::Pools,
        Panel::Memory,
    ];

    fn step(self, by: isize) -> Panel {
        let i = Self::ALL.iter().position(|p| *p == self).unwrap_or(0) as isize;
        Self::ALL[(i + by).rem_euclid(Self::ALL.len() as isize) as usize]
    }
}

/// Columns the tool table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortKey {
    Calls,
    ErrorPct,
    InFlight,
    P50,
    P99,
    Name,
}

impl SortKey {
    pub(crate) const ALL: [SortKey; 6] = [
        SortKey::Calls,
        SortKey::ErrorPct,
        SortKey::InFlight,
        SortKey::P50,
        SortKey::P99,
        SortKey::Name,
    ];

    fn next(self) -> SortKey {
        let i = Self::ALL.iter().position(|k| *k == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }
}

/// What the view shows while paused: the moment and the snapshot it froze on.
#[derive(Debug, Clone)]
pub(crate) struct Frozen {
    pub end_ms: u64,
    pub snapshot: Option<Snapshot>,
}

/// Everything the view draws from.
#[derive(Debug, Clone)]
pub(crate) struct State {
    pub title: String,
    pub history: History,
    pub latest: Option<Snapshot>,
    pub connection: Connection,
    pub run: Option<RunStatus>,
    /// Every instance when watching several (the header's per-instance lines and totals).
    pub instances: Vec<Instance>,
    /// Set while paused: updates keep being recorded, the view stays put.
    pub frozen: Option<Frozen>,
    pub window: usize,
    pub focus: Panel,
    pub sort: SortKey,
    /// Flip the default order (largest first; names A to Z).
    pub reversed: bool,
    pub help: bool,
    pub tools_scroll: usize,
    pub pools_scroll: usize,
}

/// Whether the loop goes on after an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    Quit,
}

impl State {
    pub(crate) fn new(title: impl Into<String>) -> Self {
        State {
            title: title.into(),
            history: History::default(),
            latest: None,
            connection: Connection::Connecting,
            run: None,
            instances: Vec::new(),
            frozen: None,
            window: DEFAULT_WINDOW,
            focus: Panel::Throughput,
            sort: SortKey::Calls,
            reversed: false,
            help: false,
            tools_scroll: 0,
            pools_scroll: 0,
        }
    }

    /// Take in a feed update.
    pub(crate) fn ingest(&mut self, feed: &Feed) {
        if self.connection != feed.connection {
            self.connection = feed.connection.clone();
        }
        if self.run != feed.run {
            self.run.clone_from(&feed.run);
        }
        if self.instances != feed.instances {
            self.instances.clone_from(&feed.instances);
        }
        if let Some(snap) = &feed.snapshot
            && (self.history.push(snap) || self.latest.is_none())
        {
            self.latest = Some(snap.clone());
        }
    }

    /// Apply a user action.
    pub(crate) fn apply(&mut self, action: Action) -> Flow {
        match action {
            Action::Quit => return Flow::Quit,
            Action::TogglePause => {
                self.frozen = match self.frozen {
                    Some(_) => None,
                    None => Some(Frozen {
                        end_ms: self.history.last().map_or(0, |s| s.t_ms),
                        snapshot: self.latest.clone(),
                    }),
                }
            }
            Action::WiderWindow => self.window = (self.window + 1).min(WINDOWS_SECS.len() - 1),
            Action::NarrowerWindow => self.window = self.window.saturating_sub(1),
            Action::FocusNext => self.focus = self.focus.step(1),
            Action::FocusPrev => self.focus = self.focus.step(-1),
            Action::CycleSort => self.sort = self.sort.next(),
            Action::ReverseSort => self.reversed = !self.reversed,
            Action::ToggleHelp => self.help = !self.help,
            Action::ScrollUp | Action::ScrollDown => {
                let down = action == Action::ScrollDown;
                let offset = match self.focus {
                    Panel::Tools => &mut self.tools_scroll,
                    Panel::Pools => &mut self.pools_scroll,
                    _ => return Flow::Continue,
                };
                *offset = if down {
                    *offset + 1
                } else {
                    offset.saturating_sub(1)
                };
            }
        }
        Flow::Continue
    }

    pub(crate) fn mode(&self) -> Mode {
        if self.help { Mode::Help } else { Mode::Normal }
    }

    /// The snapshot on screen: the frozen one while paused, else the latest.
    pub(crate) fn shown(&self) -> Option<&Snapshot> {
        match &self.frozen {
            Some(f) => f.snapshot.as_ref(),
            None => self.latest.as_ref(),
        }
    }

    /// Right edge of the time axis: the pause moment, else the newest sample.
    pub(crate) fn end_ms(&self) -> u64 {
        match &self.frozen {
            Some(f) => f.end_ms,
            None => self.history.last().map_or(0, |s| s.t_ms),
        }
    }

    pub(crate) fn window_secs(&self) -> u64 {
        WINDOWS_SECS[self.window]
    }

    pub(crate) fn window_ms(&self) -> u64 {
        self.window_secs() * 1000
    }

    /// The shown snapshot's tools in the chosen order.
    pub(crate) fn sorted_tools(&self) -> Vec<(&str, &CallStats)> {
        let Some(snap) = self.shown() else {
            return Vec::new();
        };
        let mut tools: Vec<(&str, &CallStats)> =
            snap.tools.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let key = |c: &CallStats| match self.sort {
            SortKey::Calls => c.total_operations as f64,
            SortKey::ErrorPct => c.error_rate,
            SortKey::InFlight => c.in_flight as f64,
            SortKey::P50 => c.latency.p50_ms,
            SortKey::P99 => c.latency.p99_ms,
            SortKey::Name => 0.0,
        };
        // Figures largest first, names A to Z, unless reversed; ties go by name A to Z.
        tools.sort_by(|a, b| {
            let order = match self.sort {
                SortKey::Name => a.0.cmp(b.0),
                _ => key(b.1).total_cmp(&key(a.1)),
            };
            let order = if self.reversed {
                order.reverse()
            } else {
                order
            };
            order.then_with(|| a.0.cmp(b.0))
        });
        tools
    }
}

#[cfg(test)]
mod tests;
