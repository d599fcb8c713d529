//! The soak sampler: every `--sample-interval` it reads the target's RSS (by pid or from its
//! snapshot), writes a row of the time series, and feeds the trends the verdict is judged on.
//! Lifted out of `zen soak`'s run so the loop reads as: tick, sample, record.
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::verdict::Trend;
use crate::run::Run;
use zen_model::report::soak::{StoreSummary, TrendReport};
use zen_model::snapshot::{Snapshot, mib};

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
pub(super) const COLUMNS: [&str; 10] = [
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

pub(super) enum SeriesFile {
    Csv(std::io::BufWriter<std::fs::File>),
    Ndjson(std::io::BufWriter<std::fs::File>),
}

impl SeriesFile {
    pub(super) fn create(path: &Path) -> Result<Self> {
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

/// Where the target's RSS comes from: its process (pid known) or its own snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RssSource {
    Pid(u32),
    Snapshot,
}

impl RssSource {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            RssSource::Pid(_) => "pid",
            RssSource::Snapshot => "snapshot",
        }
    }
}

/// What the sampler learned over the run.
pub(super) struct Sampled {
    /// The target's RSS after the warm-up.
    pub target: Trend,
    /// This generator's own RSS after the warm-up.
    pub own: Trend,
    /// Samples taken, warm-up included.
    pub taken: u64,
    /// The conversation store's peak and budget bytes (zen targets).
    pub conversations: Option<(u64, u64)>,
    /// For zen targets: the conversations' resident bytes, and RSS without them.
    pub zen_trends: Option<(TrendReport, TrendReport)>,
    /// The store's last figures.
    pub store: Option<StoreSummary>,
}

/// The sampler's state between ticks.
pub(super) struct Sampler<'a> {
    /// The run being sampled (its target, snapshot and call counters).
    run: &'a Run,
    /// Where RSS is read.
    source: RssSource,
    /// Samples before this are recorded but not judged.
    warmup: Duration,
    /// The optional time series file (`--out`).
    series: Option<SeriesFile>,
    /// The progress line shown while the run goes.
    live: &'a Mutex<String>,
    /// Trends and last figures so far.
    sampled: Sampled,
    /// Conversations' resident bytes over time (zen targets).
    conv_trend: Trend,
    /// RSS minus the conversations' resident bytes (zen targets).
    rest_trend: Trend,
}

impl<'a> Sampler<'a> {
    pub(super) fn new(
        run: &'a Run,
        source: RssSource,
        warmup: Duration,
        series: Option<SeriesFile>,
        live: &'a Mutex<String>,
    ) -> Self {
        Sampler {
            run,
            source,
            warmup,
            series,
            live,
            sampled: Sampled {
                target: Trend::default(),
                own: Trend::default(),
                taken: 0,
                conversations: None,
                zen_trends: None,
                store: None,
            },
            conv_trend: Trend::default(),
            rest_trend: Trend::default(),
        }
    }

    /// Sample every `interval` until `done` fires, then once more (the run's last state).
    pub(super) async fn run_until(
        mut self,
        interval: Duration,
        done: &CancellationToken,
    ) -> Sampled {
        let started = Instant::now();
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let finished = tokio::select! {
                _ = tick.tick() => false,
                () = done.cancelled() => true,
            };
            self.sample(started.elapsed()).await;
            if finished {
                break;
            }
        }
        let (conv, rest) = (&self.conv_trend, &self.rest_trend);
        self.sampled.zen_trends = (conv.samples() > 0).then(|| (conv.report(), rest.report()));
        self.sampled
    }

    /// One tick: read the target, record the row, feed the trends. A target that went away
    /// or did not answer gives no sample this tick.
    async fn sample(&mut self, elapsed: Duration) {
        let snapshot = if self.run.target.has_snapshot {
            self.run.snapshot().await
        } else {
            None
        };
        let proc = match self.source {
            RssSource::Pid(pid) => zen_os::process::sample(pid),
            RssSource::Snapshot => None,
        };
        let target_rss = match self.source {
            RssSource::Pid(_) => proc.map(|p| p.rss_bytes),
            RssSource::Snapshot => snapshot.as_ref().map(|s| s.system.rss_bytes),
        };
        let Some(target_rss) = target_rss else {
            return;
        };
        if let Some(s) = &snapshot {
            self.note_store(s);
        }
        let in_warmup = elapsed < self.warmup;
        let own = zen_os::process::sample(std::process::id()).map_or(0, |p| p.rss_bytes);
        let conversation_bytes = snapshot.as_ref().map(|s| s.conversations.resident_bytes);
        let recorder = &self.run.recorder;
        let row = Sample {
            t_secs: elapsed.as_secs_f64(),
            target_rss_bytes: target_rss,
            target_threads: proc.and_then(|p| p.threads),
            target_fds: proc.and_then(|p| p.open_fds),
            generator_rss_bytes: own,
            conversation_resident_bytes: conversation_bytes,
            store_file_bytes: snapshot.as_ref().and_then(|s| s.conversations.file_bytes),
            calls_ok: recorder.ok.load(std::sync::atomic::Ordering::Relaxed),
            calls_failed: recorder.failed.load(std::sync::atomic::Ordering::Relaxed),
            warmup: in_warmup,
        };
        self.sampled.taken += 1;
        if let Some(file) = self.series.as_mut()
            && let Err(err) = file.write(&row)
        {
            tracing::warn!("time series: {err:#}");
        }
        if !in_warmup {
            let hours = elapsed.as_secs_f64() / 3600.0;
            self.sampled.target.add(hours, mib(target_rss));
            self.sampled.own.add(hours, mib(own));
            if let Some(conv) = conversation_bytes {
                self.conv_trend.add(hours, mib(conv));
                self.rest_trend
                    .add(hours, mib(target_rss.saturating_sub(conv)));
            }
        }
        self.show(target_rss, in_warmup);
    }

    /// Keep the store's latest figures for the report.
    fn note_store(&mut self, s: &Snapshot) {
        let c = &s.conversations;
        self.sampled.conversations = Some((c.peak_bytes, c.budget_bytes));
        self.sampled.store = Some(StoreSummary {
            kind: c.kind.clone(),
            bytes: c.bytes,
            file_bytes: c.file_bytes,
            cache_bytes: c.cache_bytes,
        });
    }

    /// The progress line: RSS now and the slope once there is one.
    fn show(&self, target_rss: u64, in_warmup: bool) {
        let slope = match (in_warmup, self.sampled.target.slope()) {
            (true, _) => "after warm-up".to_string(),
            (false, Some(s)) => format!("{s:+.1} MB/h"),
            (false, None) => "…".to_string(),
        };
        *self
            .live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            format!("RSS {:.1} MB, slope {slope}", mib(target_rss));
    }
}
