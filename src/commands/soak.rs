//! `zen soak`: sustained load, judged on the target's memory growth.
use anyhow::Result;
use zen_load::args::SoakArgs;
use zen_model::ExitOutcome;

pub(super) async fn run(args: SoakArgs) -> Result<ExitOutcome> {
    super::load_logging(args.tui, args.log_level.as_deref())?;
    zen_load::soak::run(args, super::load_hooks()).await
}
