//! `zen stress`.
use anyhow::{Result, bail};

use crate::Outcome;

pub async fn run(_args: crate::cli::StressArgs) -> Result<Outcome> {
    bail!("zen stress is not implemented yet")
}
