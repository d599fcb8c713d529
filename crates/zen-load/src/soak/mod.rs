//! `zen soak`: sustained load while the target's memory is sampled, judged by the slope of its
//! RSS after a warm-up (least squares, MB per hour) — the seed plan's "memory growth < 50 MB
//! over one hour" as a verdict instead of `ps aux` by hand.
mod plan;
mod sampler;
pub mod verdict;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio_util::sync::CancellationToken;

use crate::Hooks;
use crate::args::SoakArgs;
use crate::plan::settings::{Defaults, RunSettings};
use crate::run::{Run, Ui, print, print_verdict};
use crate::soak::plan::SoakPlan;
use crate::soak::sampler::{COLUMNS, RssSource, Sampled, Sampler, SeriesFile};
use verdict::{judge, store_filling_note};
use zen_model::ExitOutcome;
use zen_model::report::soak::SoakReport;
use zen_model::report::verdict::Check;

/// Run `zen soak` to its report; `hooks` brings the stop signal and the dashboard.
pub async fn run(args: SoakArgs, hooks: Hooks) -> Result<ExitOutcome> {
    crate::run::check_terminal(args.tui)?;
    let settings = RunSettings::merge(
        &args.target,
        &args.load,
        Defaults {
            concurrency: 10,
            duration: Some(Duration::from_hours(1)),
        },
    )?;
    let planned =
        settings.plan.model.duration().context(
            "a soak runs for a time: use --duration (e.g. --duration 1h), not --requests",
        )?;
    // Refused here, before the target starts, when no verdict could come of it.
    let SoakPlan {
        warmup,
        interval: sample_interval,
    } = crate::soak::plan::plan(planned, args.warmup, args.sample_interval)?;
    if let Some(pid) = args.pid
        && zen_os::process::sample(pid).is_none()
    {
        bail!("--pid {pid}: no such process to sample (check the server's pid with ps)");
    }
    let series = args.out.as_deref().map(SeriesFile::create).transpose()?;
    crate::report::check_writable(args.files.paths())?;
    let run = Run::start("soak", settings, &hooks.shutdown).await?;
    let source = match (args.pid.or(run.target.pid), run.target.has_snapshot) {
        (Some(pid), _) => RssSource::Pid(pid),
        (None, true) => RssSource::Snapshot,
        (None, false) => bail!(
            "cannot sample the target's memory: it is not zen and its pid is unknown; pass --pid"
        ),
    };

    let live = Arc::new(Mutex::new(String::new()));
    let done = CancellationToken::new();
    let sampler =
        Sampler::new(&run, source, warmup, series, &live).run_until(sample_interval, &done);
    let load = async {
        let ui = if args.tui {
            Ui::Dashboard(hooks.dashboard.clone())
        } else if args.quiet {
            Ui::Quiet
        } else {
            Ui::Progress(Some(live.clone()))
        };
        let result = run.drive(ui).await;
        done.cancel();
        result
    };
    let ((elapsed, cpu), sampled) = tokio::join!(load, sampler);
    let Sampled {
        target: target_trend,
        own: own_trend,
        taken,
        conversations,
        zen_trends,
        store,
    } = sampled;

    let target = target_trend.report();
    let (status, checks) = judge(
        &target,
        args.max_growth_mb,
        elapsed.as_secs_f64(),
        warmup.as_secs_f64(),
    );
    let note = store_filling_note(
        status,
        &target,
        zen_trends.as_ref().map(|t| &t.0),
        conversations,
        run.target.kind != "http",
    );
    let mut reasons: Vec<String> = checks.iter().map(Check::line).collect();
    reasons.extend(note.clone());
    let soak = SoakReport {
        sample_interval_secs: sample_interval.as_secs_f64(),
        warmup_secs: warmup.as_secs_f64(),
        samples_total: taken,
        rss_source: source.as_str().to_string(),
        target,
        generator: own_trend.report(),
        conversations: zen_trends.as_ref().map(|t| t.0.clone()),
        unexplained: zen_trends.map(|t| t.1),
        max_growth_mb: args.max_growth_mb,
        conversation_peak_bytes: conversations.map(|c| c.0),
        conversation_budget_bytes: conversations.map(|c| c.1),
        out_file: args.out.as_ref().map(|p| p.display().to_string()),
        series_columns: COLUMNS
            .iter()
            .map(std::string::ToString::to_string)
            .collect(),
        status,
        reasons,
        store,
    };
    // The scenario's thresholds (judged by finish) and the memory verdict together: an
    // inconclusive memory verdict stays inconclusive, otherwise any failure fails the run.
    let mut report = run.finish(elapsed, cpu, Some(soak)).await;
    report.verdict.add(status, &checks);
    report
        .verdict
        .checks
        .extend(note.map(|n| Check::named("note", true, n)));
    if args.quiet {
        print_verdict(&report)?;
    } else {
        print(&report, args.json)?;
    }
    crate::report::write_files(&report, None, &args.files)?;
    Ok(report.verdict.status.exit_outcome())
}
