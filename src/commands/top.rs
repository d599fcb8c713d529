//! `zen top`: the live dashboard of a running zen serve. The terminal is the dashboard's, so logs
//! go to --log-file or nowhere.
use anyhow::Result;
use zen_model::ExitOutcome;
use zen_top::TopArgs;

pub(super) async fn run(args: TopArgs) -> Result<ExitOutcome> {
    if let Some(path) = &args.log_file {
        crate::logging::init_file(&args.log_level, path)?;
    }
    zen_top::run(args, super::shutdown_on_signal()).await
}
