//! `zen top`.
use anyhow::{Result, bail};

use crate::Outcome;

pub async fn run(_args: crate::cli::TopArgs) -> Result<Outcome> {
    bail!("zen top is not implemented yet")
}
