//! One file per command, each thin: it sets up what the process owns (logging, the stop signal,
//! the dashboard hook) and calls the library crate that does the work.
mod completions;
mod man;
mod report;
mod serve;
mod soak;
mod stress;
mod top;

use std::sync::Arc;

use anyhow::Result;
use tokio_util::sync::CancellationToken;
use zen_model::ExitOutcome;

use crate::cli::{Cli, Command};

/// Run one zen command to completion on a fresh tokio runtime.
pub fn run(cli: Cli) -> Result<ExitOutcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(config) => serve::run(*config).await,
            Command::Stress(args) => stress::run(args).await,
            Command::Soak(args) => soak::run(args).await,
            Command::Top(args) => top::run(args).await,
            Command::Report(args) => report::run(args),
            Command::Completions { shell } => completions::run(shell),
            Command::Man => man::run(),
        }
    });
    // Don't wait for blocked reads: a stdin read left pending by SIGTERM would hang a plain drop.
    runtime.shutdown_timeout(std::time::Duration::from_millis(250));
    result
}

/// A token cancelled on the first SIGINT or SIGTERM.
fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    crate::signal::cancel_on_interrupt(token.clone());
    token
}

/// What a load run gets from the process: the stop signal and the dashboard it draws with.
fn load_hooks() -> zen_load::Hooks {
    zen_load::Hooks {
        shutdown: shutdown_on_signal(),
        dashboard: Arc::new(|feed, title, quit| {
            Box::pin(zen_top::run_dashboard(feed, title, quit))
        }),
    }
}

/// Logs of a load run: stderr, unless the dashboard owns the terminal. rmcp's own error lines
/// would repeat the failures the report already counts, so they are off by default.
fn load_logging(tui: bool, level: Option<&str>) -> Result<()> {
    if tui {
        return Ok(());
    }
    let level = level
        .filter(|level| !level.trim().is_empty())
        .unwrap_or("warn,rmcp=off");
    crate::logging::init_stderr(level)
}
