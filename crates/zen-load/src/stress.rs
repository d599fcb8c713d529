//! `zen stress`: concurrent load against any MCP server, judged against thresholds.
//! Default target: this zen spawned as `zen serve` on the simulated provider, over stdio.
use anyhow::{Context, Result};

use crate::Hooks;
use crate::args::StressArgs;
use crate::ceiling::Search;
use crate::engine::Model;
use crate::plan::settings::{DEFAULT_MAX_IN_FLIGHT, Defaults, RunSettings};
use crate::plan::thresholds;
use crate::run::{Run, Ui, print, print_verdict};
use zen_model::ExitOutcome;

/// The seed plan's Test 1: 30 calls at once.
const DEFAULT_CONCURRENCY: u32 = 30;

/// Run `zen stress` to its report; `hooks` brings the stop signal and the dashboard.
pub async fn run(args: StressArgs, hooks: Hooks) -> Result<ExitOutcome> {
    crate::run::check_terminal(args.tui)?;
    let mut settings = RunSettings::merge(
        &args.target,
        &args.load,
        Defaults {
            concurrency: DEFAULT_CONCURRENCY,
            duration: None,
        },
    )?;
    let t = &mut settings.thresholds;
    let flags = thresholds::Flags {
        max_error_rate: &args.max_error_rate,
        max_p99: &args.max_p99,
        min_throughput: &args.min_throughput,
    };
    thresholds::lay(t, flags)?;
    let calls = &settings.plan.calls;
    let kinds: Vec<_> = calls.iter().map(|c| (c.op, c.tool.as_str())).collect();
    thresholds::check_scopes(t, &kinds)?;
    // A report file that cannot be written is found before the load, not after it.
    crate::report::check_writable(args.out.as_deref().into_iter().chain(args.files.paths()))?;
    if args.ceiling.find_ceiling {
        return find_ceiling(args, settings, &hooks).await;
    }
    // The seed's bar: every call completes without error, unless told otherwise.
    t.max_error_rate.get_or_insert(0.0);
    let run = Run::start("stress", settings, &hooks.shutdown).await?;
    let ui = if args.tui {
        Ui::Dashboard(hooks.dashboard.clone())
    } else if args.quiet {
        Ui::Quiet
    } else {
        Ui::Progress(None)
    };
    let (elapsed, cpu) = run.drive(ui).await;
    let report = run.finish(elapsed, cpu, None).await;
    show(&report, &args)?;
    Ok(report.verdict.status.exit_outcome())
}

/// Allowed error rate of a ceiling step unless --max-error-rate says otherwise.
const CEILING_ERROR_RATE: f64 = 0.01;

/// `--find-ceiling`: the search, then the report of the step at the answer.
async fn find_ceiling(
    args: StressArgs,
    mut settings: RunSettings,
    hooks: &Hooks,
) -> Result<ExitOutcome> {
    let c = &args.ceiling;
    anyhow::ensure!(
        c.start_rate > 0.0 && c.start_rate.is_finite(),
        "--start-rate {}: expected calls per second above 0",
        c.start_rate
    );
    let max_error_rate = *settings
        .thresholds
        .max_error_rate
        .get_or_insert(CEILING_ERROR_RATE);
    let max_p99_ms = settings.thresholds.max_p99_ms.context(
        "--find-ceiling needs --max-p99 (the latency a rate must keep), e.g. --max-p99 300ms",
    )?;
    let max_in_flight = args.load.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT);
    settings.plan.shape = None;
    settings.plan.model = Model::Open {
        rate: c.start_rate,
        duration: c.step_duration,
        max_in_flight,
    };
    let search = Search {
        start_rate: c.start_rate,
        step: c.step_duration,
        max_p99_ms,
        max_error_rate,
        max_in_flight,
    };
    let run = Run::start("stress", settings, &hooks.shutdown).await?;
    let report = crate::ceiling::find(run, search, args.quiet).await;
    show(&report, &args)?;
    Ok(report.verdict.status.exit_outcome())
}

/// The report as the output flags ask: on stdout, and into the report files named.
fn show(report: &zen_model::report::Report, args: &StressArgs) -> Result<()> {
    if args.quiet {
        print_verdict(report)?;
    } else {
        print(report, args.json)?;
    }
    crate::report::write_files(report, args.out.as_deref(), &args.files)
}
