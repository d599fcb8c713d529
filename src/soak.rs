//! `zen soak`: sustained load while the target's memory is sampled, judged by the slope of its
//! RSS after a warm-up (least squares, MB per hour) — the seed plan's "memory growth < 50 MB
//! over one hour" as a verdict instead of `ps aux` by hand.
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::cli::SoakArgs;
use crate::exit::ExitOutcome;
use crate::load::run::{Run, Ui, print, print_verdict};
use crate::load::settings::{Defaults, RunSettings};
use crate::load::soak_plan::SoakPlan;
use crate::load::soak_verdict::{SoakReport, StoreSummary, Trend, judge, store_filling_note};
use crate::load::verdict::Check;

/// One row of the time series.
#[derive(Debug, Clone, Serialize)]
struct Sample {
    t_secs: f64,
    target_rss_bytes: u64,
    target_threads: Option<u64>,
    target_fds: Option<u64>,
    generator_rss_bytes: u64,
    /// Conversation bytes held in zen's memory (all of them for the memory store, the cache
    /// for a store on disk): what RSS carries of the store.
    conversation_resident_bytes: Option<u64>,
    /// The store's files on disk (sqlite), apart from RSS.
    store_file_bytes: Option<u64>,
    calls_ok: u64,
    calls_failed: u64,
    warmup: bool,
}

/// The columns of the time series file, in order (also listed in the report).
pub const COLUMNS: [&str; 10] = [
    "t_secs",
    "target_rss_bytes",
    "target_threads",
    "target_fds",
    "generator_rss_bytes",
    "conversation_resident_bytes",
    "store_file_bytes",
    "calls_ok",
    "calls_failed",
    "warmup",
];

enum SeriesFile {
    Csv(std::io::BufWriter<std::fs::File>),
    Ndjson(std::io::BufWriter<std::fs::File>),
}

impl SeriesFile {
    fn create(path: &Path) -> Result<Self> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let open = || {
            std::fs::File::create(path)
                .map(std::io::BufWriter::new)
                .with_context(|| format!("cannot write {}", path.display()))
        };
        match ext {
            "csv" => {
                let mut w = open()?;
                writeln!(w, "{}", COLUMNS.join(","))?;
                Ok(SeriesFile::Csv(w))
            }
            "ndjson" | "jsonl" => Ok(SeriesFile::Ndjson(open()?)),
            _ => bail!("--out {}: name it .csv or .ndjson", path.display()),
        }
    }

    fn write(&mut self, s: &Sample) -> Result<()> {
        let opt = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
        match self {
            SeriesFile::Csv(w) => writeln!(
                w,
                "{:.3},{},{},{},{},{},{},{},{},{}",
                s.t_secs,
                s.target_rss_bytes,
                opt(s.target_threads),
                opt(s.target_fds),
                s.generator_rss_bytes,
                opt(s.conversation_resident_bytes),
                opt(s.store_file_bytes),
                s.calls_ok,
                s.calls_failed,
                s.warmup
            )?,
            SeriesFile::Ndjson(w) => writeln!(w, "{}", serde_json::to_string(s)?)?,
        }
        // Flushed per sample: a killed run still leaves its series behind.
        match self {
            SeriesFile::Csv(w) | SeriesFile::Ndjson(w) => w.flush()?,
        }
        Ok(())
    }
}

pub async fn run(args: SoakArgs) -> Result<ExitOutcome> {
    crate::load::run::prepare_terminal(args.tui)?;
    let settings = RunSettings::merge(
        &args.target,
        &args.load,
        Defaults {
            concurrency: 10,
            duration: Some(Duration::from_secs(3600)),
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
    } = crate::load::soak_plan::plan(planned, args.warmup, args.sample_interval)?;
    if let Some(pid) = args.pid
        && crate::process::sample(pid).is_none()
    {
        bail!("--pid {pid}: no such process to sample (check the server's pid with ps)");
    }
    let mut series = args.out.as_deref().map(SeriesFile::create).transpose()?;
    // The store's last figures, filled in by the sampler, read into the report.
    let last_store: Mutex<Option<StoreSummary>> = Mutex::new(None);
    let run = Run::start("soak", settings).await?;
    let pid = args.pid.or(run.target.pid);
    let rss_source = match (pid, run.target.has_snapshot) {
        (Some(_), _) => "pid",
        (None, true) => "snapshot",
        (None, false) => bail!(
            "cannot sample the target's memory: it is not zen and its pid is unknown; pass --pid"
        ),
    };

    let live = Arc::new(Mutex::new(String::new()));
    let done = CancellationToken::new();
    let sampler = async {
        let started = Instant::now();
        let mut target_trend = Trend::default();
        let mut own_trend = Trend::default();
        let mut conv_trend = Trend::default();
        let mut rest_trend = Trend::default();
        let mut taken = 0u64;
        let mut tick = tokio::time::interval(sample_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_conv = None;
        loop {
            let finished = tokio::select! {
                _ = tick.tick() => false,
                _ = done.cancelled() => true,
            };
            let snapshot = if run.target.has_snapshot {
                run.snapshot().await
            } else {
                None
            };
            let proc = pid.and_then(crate::process::sample);
            let target_rss = match (rss_source, &proc, &snapshot) {
                ("pid", Some(p), _) => Some(p.rss_bytes),
                ("snapshot", _, Some(s)) => Some(s.system.rss_bytes),
                _ => None,
            };
            let Some(target_rss) = target_rss else {
                if finished {
                    break;
                }
                continue; // the target went away or did not answer: no sample this tick
            };
            let elapsed = started.elapsed();
            let in_warmup = elapsed < warmup;
            let own = crate::process::sample(std::process::id()).map_or(0, |p| p.rss_bytes);
            let conversation_bytes = snapshot.as_ref().map(|s| s.conversations.resident_bytes);
            if let Some(s) = &snapshot {
                let c = &s.conversations;
                last_conv = Some((c.peak_bytes, c.budget_bytes));
                *last_store.lock().unwrap_or_else(|p| p.into_inner()) = Some(StoreSummary {
                    kind: c.kind.clone(),
                    bytes: c.bytes,
                    file_bytes: c.file_bytes,
                    cache_bytes: c.cache_bytes,
                });
            }
            let sample = Sample {
                t_secs: elapsed.as_secs_f64(),
                target_rss_bytes: target_rss,
                target_threads: proc.and_then(|p| p.threads),
                target_fds: proc.and_then(|p| p.open_fds),
                generator_rss_bytes: own,
                conversation_resident_bytes: conversation_bytes,
                store_file_bytes: snapshot.as_ref().and_then(|s| s.conversations.file_bytes),
                calls_ok: run.recorder.ok.load(std::sync::atomic::Ordering::Relaxed),
                calls_failed: run
                    .recorder
                    .failed
                    .load(std::sync::atomic::Ordering::Relaxed),
                warmup: in_warmup,
            };
            taken += 1;
            if let Some(file) = series.as_mut()
                && let Err(err) = file.write(&sample)
            {
                tracing::warn!("time series: {err:#}");
            }
            let mb = crate::snapshot::mib;
            if !in_warmup {
                let hours = elapsed.as_secs_f64() / 3600.0;
                target_trend.add(hours, mb(target_rss));
                own_trend.add(hours, mb(own));
                if let Some(conv) = conversation_bytes {
                    conv_trend.add(hours, mb(conv));
                    rest_trend.add(hours, mb(target_rss.saturating_sub(conv)));
                }
            }
            *live.lock().unwrap_or_else(|p| p.into_inner()) = format!(
                "RSS {:.1} MB, slope {}",
                mb(target_rss),
                match (in_warmup, target_trend.slope()) {
                    (true, _) => "after warm-up".to_string(),
                    (false, Some(s)) => format!("{s:+.1} MB/h"),
                    (false, None) => "…".to_string(),
                }
            );
            if finished {
                break;
            }
        }
        let zen_trends =
            (conv_trend.samples() > 0).then(|| (conv_trend.report(), rest_trend.report()));
        (target_trend, own_trend, taken, last_conv, zen_trends)
    };
    let load = async {
        let ui = if args.tui {
            Ui::Dashboard
        } else if args.quiet {
            Ui::Quiet
        } else {
            Ui::Progress(Some(live.clone()))
        };
        let result = run.drive(ui).await;
        done.cancel();
        result
    };
    let ((elapsed, cpu), (target_trend, own_trend, taken, conversations, zen_trends)) =
        tokio::join!(load, sampler);

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
        rss_source: rss_source.to_string(),
        target,
        generator: own_trend.report(),
        conversations: zen_trends.as_ref().map(|t| t.0.clone()),
        unexplained: zen_trends.map(|t| t.1),
        max_growth_mb: args.max_growth_mb,
        conversation_peak_bytes: conversations.map(|c| c.0),
        conversation_budget_bytes: conversations.map(|c| c.1),
        out_file: args.out.as_ref().map(|p| p.display().to_string()),
        series_columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
        status,
        reasons,
        store: last_store.lock().unwrap_or_else(|p| p.into_inner()).take(),
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
    Ok(report.verdict.status.exit_outcome())
}
