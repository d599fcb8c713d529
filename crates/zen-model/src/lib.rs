//! The floor of zen: data every layer shares, and nothing else. The [`snapshot::Snapshot`] is what
//! a running `zen serve` knows about itself (its `metrics` tool, `/snapshot`, `/metrics`, `zen top`
//! and the load reports all read it); the [`report::Report`] is what a stress or soak run found
//! (written by `zen stress`/`zen soak`, read by `zen report`). Beside them: the one histogram
//! codec, the one way figures are written for people, the dashboard's input and the exit
//! outcome. This crate imports nothing of zen's, so a reader of figures never needs the server.

pub mod clock;
pub mod exit;
pub mod feed;
pub mod hdr;
pub mod mcp;
pub mod report;
pub mod snapshot;
pub mod sse;
pub mod units;

pub use exit::ExitOutcome;

/// zen's version, as reported by `zen --version`, the `version` tool, the snapshot and reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
