//! The load engine of `zen stress` and `zen soak`, and the `zen report` verbs.
//!
//! A run flows: [`args`] and a scenario file become one plan ([`plan`]); [`run`] connects to the
//! [`target`] (stdio or streamable HTTP), drives the [`engine`] (closed or open loop, stages) with
//! a progress line, and builds the report (`zen_model::report`). [`stress`], [`soak`] and
//! [`ceiling`] are the three ways to run. [`report`] reads reports back (show, HTML, JUnit,
//! compare, merge) from the model alone, never from the engine.

pub mod args;
mod ceiling;
mod engine;
pub mod plan;
pub mod report;
mod run;
pub mod soak;
pub mod stress;
mod target;

pub use run::Dashboard;

/// What the binary hands a run: the process's stop signal and the dashboard to draw with.
#[derive(Clone)]
pub struct Hooks {
    /// Cancelled on SIGINT or SIGTERM: the run stops sending and reports what it measured.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// Draws the live dashboard for `--tui` (the binary passes `zen_top::run_dashboard`).
    pub dashboard: Dashboard,
}
