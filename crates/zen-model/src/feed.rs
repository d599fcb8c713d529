//! What the dashboard draws from: the latest [`Snapshot`], the connection to its source, and an
//! optional load-run status line. Producers publish it through a `tokio::sync::watch` channel.
use std::time::Duration;

use crate::snapshot::Snapshot;

/// One update of the dashboard's input. Publish a new value (or `send_modify`) whenever any part
/// changes; the dashboard redraws once per change it sees. Snapshots are recorded into the
/// history once each: a snapshot whose `taken_at_ms` is not newer than the last one recorded is
/// only shown, not added again, so re-sending the same snapshot with a new `run` line is fine.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Feed {
    /// The most recent snapshot, kept (and shown as stale) while disconnected.
    pub snapshot: Option<Snapshot>,
    /// Whether the source answers.
    pub connection: Connection,
    /// A load run in progress (`zen stress --tui`, `zen soak --tui`): shown in the header.
    pub run: Option<RunStatus>,
    /// With `zen top --url A --url B …`: every instance, the first being the one `snapshot`
    /// shows in the panels; empty when watching one server.
    pub instances: Vec<Instance>,
}

/// One instance of several watched together.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// Its telemetry base URL.
    pub url: String,
    /// Whether it answers.
    pub connection: Connection,
    /// Its latest snapshot, kept while disconnected.
    pub snapshot: Option<Snapshot>,
}

/// The state of the link to the snapshot source.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Connection {
    /// Nothing heard yet.
    #[default]
    Connecting,
    /// The last read succeeded.
    Connected,
    /// The last read failed; the producer keeps retrying.
    Disconnected {
        /// Why, in a few words: e.g. "connection refused".
        reason: String,
    },
}

/// Progress of a load run, for the header's run line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunStatus {
    /// Time since the run started.
    pub elapsed: Duration,
    /// Planned duration, when the run is time-bound.
    pub total: Option<Duration>,
    /// Calls that succeeded so far.
    pub ok: u64,
    /// Calls that failed so far (any kind).
    pub failed: u64,
}
