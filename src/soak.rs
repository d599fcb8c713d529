//! `zen soak`.
use anyhow::{Result, bail};

use crate::Outcome;

pub async fn run(_args: crate::cli::SoakArgs) -> Result<Outcome> {
    bail!("zen soak is not implemented yet")
}
