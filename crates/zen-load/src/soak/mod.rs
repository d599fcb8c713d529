//! `zen soak`: sustained load while the target's memory is sampled, judged on how the curve
//! ends (a plateau after a step is not a leak; steps that keep coming are), with zen's bounded
//! parts projected to their caps — the seed plan's "memory growth < 50 MB over one hour" as a
//! verdict instead of `ps aux` by hand.
mod curve;
mod events;
mod fit;
mod outcome;
mod plan;
mod project;
mod rows;
mod sampler;
mod series;
#[cfg(test)]
mod synthetic;
mod verdict;
mod words;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio_util::sync::CancellationToken;

use crate::Hooks;
use crate::args::SoakArgs;
use crate::plan::settings::{Defaults, RunSettings};
use crate::run::{Run, Ui, print, print_verdict};
use crate::soak::plan::SoakPlan;
use crate::soak::rows::{COLUMNS, SeriesFile};
use crate::soak::sampler::{RssSource, Sampled, Sampler};
use outcome::Load;
use verdict::{Inputs, Judgement, judge};
use zen_model::ExitOutcome;
use zen_model::report::soak::{CurveReading, MemoryPoint, SoakReport};
use zen_model::report::verdict::{Check, Status};

/// The error rate a soak allows unless told otherwise: a few failures in an hour do not void a
/// memory verdict, a failing load does.
const DEFAULT_MAX_ERROR_RATE: f64 = 0.01;
/// Points of the memory series a report carries (the chart's resolution).
const REPORT_POINTS: usize = 600;

/// Run `zen soak` to its report; `hooks` brings the stop signal and the dashboard.
pub async fn run(args: SoakArgs, hooks: Hooks) -> Result<ExitOutcome> {
    crate::run::check_terminal(args.tui)?;
    let mut settings = RunSettings::merge(
        &args.target,
        &args.load,
        Defaults {
            concurrency: 10,
            duration: Some(Duration::from_hours(1)),
        },
    )?;
    if let Some(rate) = args.max_error_rate {
        anyhow::ensure!(
            (0.0..=1.0).contains(&rate),
            "--max-error-rate {rate}: expected 0.0 to 1.0"
        );
        settings.thresholds.max_error_rate = Some(rate);
    }
    let max_error_rate =
        *(settings.thresholds.max_error_rate).get_or_insert(DEFAULT_MAX_ERROR_RATE);
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
    if let Some(out) = &args.out
        && let Some(ext @ ("csv" | "ndjson" | "jsonl")) = out.extension().and_then(|e| e.to_str())
    {
        bail!(
            "--out {}: --out writes the JSON report, as on every command (name it .json); the \
             .{ext} time series goes to --series FILE",
            out.display()
        );
    }
    let series = args.series.as_deref().map(SeriesFile::create).transpose()?;
    crate::report::check_writable(args.out.as_deref().into_iter().chain(args.files.paths()))?;
    let run = Run::start("soak", settings, &hooks.shutdown).await?;
    let source = match (args.pid.or(run.target.pid), run.target.has_snapshot()) {
        (Some(pid), _) => RssSource::Pid(pid),
        (None, true) => RssSource::Snapshot,
        (None, false) if run.target.server.name == "zen" => bail!(
            "cannot sample the target's memory: zen's telemetry listener is not announced in this \
             run's runtime directory and its pid is unknown; give the run the server's \
             ZEN_RUNTIME_DIR, or pass --pid"
        ),
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
    let recorded = &run.recorder;
    let load = Load {
        ok: recorded.ok.load(std::sync::atomic::Ordering::Relaxed),
        failed: recorded.failed.load(std::sync::atomic::Ordering::Relaxed),
        max_error_rate,
    };
    let points = sampled.series.points();
    let Judgement {
        status,
        checks,
        reading,
    } = judge(&Inputs {
        points: &points,
        part_keys: sampled.series.part_keys(),
        parts: &sampled.parts,
        events: sampled.watcher.events(),
        warmup_secs: warmup.as_secs_f64(),
        run_secs: elapsed.as_secs_f64(),
        interval_secs: sample_interval.as_secs_f64(),
        limit_mb: args.max_growth_mb,
        load,
    });
    let mut reasons: Vec<String> = checks.iter().map(Check::line).collect();
    reasons.extend(reading.as_ref().map(|r| r.summary.clone()));
    let timing = (warmup, sample_interval);
    let soak = soak_report(&args, &sampled, source, timing, (status, reasons, reading));
    // The scenario's thresholds (judged by finish) and the memory verdict together: an
    // inconclusive memory verdict stays inconclusive, otherwise any failure fails the run.
    let mut report = run.finish(elapsed, cpu, Some(soak)).await;
    report.verdict.add(status, &checks);
    if args.quiet {
        print_verdict(&report)?;
    } else {
        print(&report, args.json)?;
    }
    crate::report::write_files(&report, args.out.as_deref(), &args.files)?;
    Ok(report.verdict.status.exit_outcome())
}

/// The soak part of the report: what was sampled, and the verdict with its reasons and reading.
fn soak_report(
    args: &SoakArgs,
    sampled: &Sampled,
    source: RssSource,
    (warmup, interval): (Duration, Duration),
    (status, reasons, reading): (Status, Vec<String>, Option<CurveReading>),
) -> SoakReport {
    let keys = sampled.series.part_keys();
    let memory_series = (sampled.series.thinned(REPORT_POINTS).into_iter())
        .map(|p| MemoryPoint {
            t_secs: p.t,
            target_mb: p.target,
            generator_mb: p.generator,
            parts: keys.iter().cloned().zip(p.parts).collect(),
        })
        .collect();
    let zen = sampled.zen_trends.as_ref();
    SoakReport {
        sample_interval_secs: interval.as_secs_f64(),
        warmup_secs: warmup.as_secs_f64(),
        samples_total: sampled.taken,
        rss_source: source.as_str().to_string(),
        target: sampled.target.report(),
        generator: sampled.own.report(),
        conversations: zen.map(|t| t.0.clone()),
        unexplained: zen.map(|t| t.1.clone()),
        max_growth_mb: args.max_growth_mb,
        conversation_peak_bytes: sampled.conversations.map(|c| c.0),
        conversation_budget_bytes: sampled.conversations.map(|c| c.1),
        out_file: args.series.as_ref().map(|p| p.display().to_string()),
        series_columns: COLUMNS.iter().map(ToString::to_string).collect(),
        status,
        reasons,
        store: sampled.store.clone(),
        reading,
        memory_series,
    }
}
