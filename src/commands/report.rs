//! `zen report`: show, chart, export, compare or merge JSON reports; no runtime needed.
use anyhow::Result;
use zen_load::report::args::ReportArgs;
use zen_model::ExitOutcome;

pub(super) fn run(args: ReportArgs) -> Result<ExitOutcome> {
    zen_load::report::run(args)
}
