//! The `zen` command line and its commands, one file each (`commands/`); `main.rs` only parses,
//! runs and maps the outcome to an exit code. The work is done by the workspace's crates:
//! `zen-server` (serve), `zen-load` (stress, soak, report), `zen-top` (top).

pub mod cli;
pub mod commands;
mod logging;
mod signal;
