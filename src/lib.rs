//! zen: an MCP tool host with bounded concurrency and memory, plus the tools to load-test,
//! soak-test and watch any MCP server. `main.rs` only parses and maps exit codes; everything
//! else starts here.

pub mod cli;
pub mod clock;
pub mod concurrency;
pub mod config;
pub mod conversations;
pub mod exit;
pub mod human;
pub mod load;
pub mod logging;
pub mod memory;
pub mod metrics;
pub mod otel;
pub mod process;
pub mod providers;
pub mod redis_connect;
pub mod report;
pub mod serve;
pub mod shell;
pub mod signal;
pub mod snapshot;
pub mod soak;
pub mod stress;
pub mod telemetry;
pub mod tools;
pub mod top;

use anyhow::Result;
use cli::{Cli, Command};
pub use exit::ExitOutcome;

/// zen's version, as reported by `zen --version`, the `version` tool and the snapshot.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Run one zen command to completion on a fresh tokio runtime.
pub fn run(cli: Cli) -> Result<ExitOutcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(config) => {
                // Before logging, which carries its span layer; a bad OTEL_* setting is exit 2.
                let (otel, spans) = otel::Otel::from_env()?.unzip();
                logging::init_stderr_with(&config.log_level, spans)?;
                let shutdown = tokio_util::sync::CancellationToken::new();
                signal::cancel_on_interrupt(shutdown.clone());
                serve::run(*config, shutdown, otel).await?;
                Ok(ExitOutcome::Success)
            }
            Command::Stress(args) => stress::run(args).await,
            Command::Soak(args) => soak::run(args).await,
            Command::Top(args) => top::run(args).await,
            Command::Report(args) => report::run(args),
            Command::Completions { shell } => shell::completions(shell),
            Command::Man => shell::man(),
        }
    });
    // Don't wait for blocked reads: a stdin read left pending by SIGTERM would hang a plain drop.
    runtime.shutdown_timeout(std::time::Duration::from_millis(250));
    result
}

/// True when the error is a closed stdout/pipe (e.g. `zen stress --json | head`): not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
