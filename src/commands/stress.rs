//! `zen stress`: concurrent load against any MCP server, judged against thresholds.
use anyhow::Result;
use zen_load::args::StressArgs;
use zen_model::ExitOutcome;

pub(super) async fn run(args: StressArgs) -> Result<ExitOutcome> {
    super::load_logging(args.tui, args.log_level.as_deref())?;
    zen_load::stress::run(args, super::load_hooks()).await
}
