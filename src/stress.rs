//! `zen stress`: concurrent load against any MCP server, judged against thresholds.
//! Default target: this zen spawned as `zen serve` on the simulated provider, over stdio.
use anyhow::Result;

use crate::cli::StressArgs;
use crate::exit::ExitOutcome;
use crate::load::run::{Run, Ui, print};
use crate::load::settings::{Defaults, RunSettings};

/// The seed plan's Test 1: 30 calls at once.
const DEFAULT_CONCURRENCY: u32 = 30;

pub async fn run(args: StressArgs) -> Result<ExitOutcome> {
    crate::load::run::prepare_terminal(args.tui, args.log_level.as_deref())?;
    let mut settings = RunSettings::merge(
        &args.target,
        &args.load,
        Defaults {
            concurrency: DEFAULT_CONCURRENCY,
            duration: None,
        },
    )?;
    let t = &mut settings.thresholds;
    if let Some(rate) = args.max_error_rate {
        anyhow::ensure!(
            (0.0..=1.0).contains(&rate),
            "--max-error-rate {rate}: expected 0.0 to 1.0"
        );
        t.max_error_rate = Some(rate);
    }
    if let Some(p99) = args.max_p99 {
        t.max_p99_ms = Some(p99.as_secs_f64() * 1000.0);
    }
    if let Some(min) = args.min_throughput {
        t.min_throughput = Some(min);
    }
    // The seed's bar: every call completes without error, unless told otherwise.
    t.max_error_rate.get_or_insert(0.0);
    // A report file that cannot be written is found before the load, not after it.
    let out = args.out.as_deref();
    crate::report::check_writable(out.into_iter().chain(args.files.paths()))?;
    let run = Run::start("stress", settings).await?;
    let ui = if args.tui {
        Ui::Dashboard
    } else {
        Ui::Progress(None)
    };
    let (elapsed, cpu) = run.drive(ui).await;
    let report = run.finish(elapsed, cpu, None).await;
    print(&report, args.json)?;
    crate::report::write_files(&report, out, &args.files)?;
    Ok(report.verdict.status.exit_outcome())
}
