//! `zen completions <shell>`: generated from the same clap definition as `--help`, so it never
//! drifts from the flags.
use std::io::Write;

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::Cli;
use zen_model::ExitOutcome;

/// Write the completion script for `shell` to stdout.
pub(super) fn run(shell: clap_complete::Shell) -> Result<ExitOutcome> {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "zen", &mut out);
    out.flush()?;
    Ok(ExitOutcome::Success)
}
