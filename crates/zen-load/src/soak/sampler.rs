//! The soak sampler: every `--sample-interval` it reads the target's RSS (by pid or from its
//! snapshot) and, for zen, its bounded parts and what it did; writes a row of the time series;
//! keeps the bounded series the verdict reads and the running trends the report shows.
//! Lifted out of `zen soak`'s run so the loop reads as: tick, sample, record.
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::events::Watcher;
use super::rows::{Row, SeriesFile};
use super::series::{Point, Series};
use super::verdict::Trend;
use crate::run::Run;
use zen_model::report::soak::{StoreSummary, TrendReport};
use zen_model::snapshot::{BoundedPart, Snapshot, mib};

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
    /// Every sample, in bounded memory, for the verdict and the chart.
    pub series: Series,
    /// zen's bounded parts as its last snapshot named them.
    pub parts: Vec<BoundedPart>,
    /// What zen did, for naming steps.
    pub watcher: Watcher,
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
    file: Option<SeriesFile>,
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
        file: Option<SeriesFile>,
        live: &'a Mutex<String>,
    ) -> Self {
        Sampler {
            run,
            source,
            warmup,
            file,
            live,
            sampled: Sampled {
                target: Trend::default(),
                own: Trend::default(),
                taken: 0,
                conversations: None,
                zen_trends: None,
                store: None,
                series: Series::default(),
                parts: Vec::new(),
                watcher: Watcher::default(),
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

    /// One tick: read the target, record the row, feed the series and trends. A target that
    /// went away or did not answer gives no sample this tick.
    async fn sample(&mut self, elapsed: Duration) {
        let snapshot = if self.run.target.has_snapshot() {
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
        let t_secs = elapsed.as_secs_f64();
        if let Some(s) = &snapshot {
            self.note_store(s);
            self.sampled.watcher.observe(t_secs, s);
        }
        let in_warmup = elapsed < self.warmup;
        let own = zen_os::process::sample(std::process::id()).map_or(0, |p| p.rss_bytes);
        let conversation_bytes = snapshot.as_ref().map(|s| s.conversations.resident_bytes);
        let recorder = &self.run.recorder;
        let row = Row {
            t_secs,
            target_rss_bytes: target_rss,
            target_threads: proc.and_then(|p| p.threads),
            target_fds: proc.and_then(|p| p.open_fds),
            generator_rss_bytes: own,
            conversation_resident_bytes: conversation_bytes,
            store_file_bytes: snapshot.as_ref().and_then(|s| s.conversations.file_bytes),
            calls_ok: recorder.ok.load(Ordering::Relaxed),
            calls_failed: recorder.failed.load(Ordering::Relaxed),
            warmup: in_warmup,
            bounded_bytes: (snapshot.as_ref()).map(|s| s.bounded.iter().map(|p| p.bytes).sum()),
            heap_in_use_bytes: snapshot.as_ref().map(|s| s.system.heap_in_use_bytes),
            heap_free_bytes: snapshot.as_ref().map(|s| s.system.heap_free_bytes),
            sqlite_bytes: snapshot.as_ref().map(|s| s.system.sqlite_bytes),
        };
        self.sampled.taken += 1;
        if let Some(file) = self.file.as_mut()
            && let Err(err) = file.write(&row)
        {
            tracing::warn!("time series: {err:#}");
        }
        self.record(&row, snapshot.as_ref());
        if !in_warmup {
            let hours = t_secs / 3600.0;
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

    /// Add the sample to the series the verdict reads, with each bounded part's size.
    fn record(&mut self, row: &Row, snapshot: Option<&Snapshot>) {
        let series = &mut self.sampled.series;
        let mut parts = Vec::new();
        for part in snapshot.map_or(&[][..], |s| &s.bounded[..]) {
            let i = series.part_index(&part.key);
            if parts.len() <= i {
                parts.resize(i + 1, 0.0);
            }
            parts[i] = mib(part.bytes);
        }
        series.push(Point {
            t: row.t_secs,
            target: mib(row.target_rss_bytes),
            generator: mib(row.generator_rss_bytes),
            parts,
            ok: row.calls_ok,
            failed: row.calls_failed,
            weight: 1,
        });
    }

    /// Keep the store's and the bounded parts' latest figures for the report.
    fn note_store(&mut self, s: &Snapshot) {
        let c = &s.conversations;
        self.sampled.conversations = Some((c.peak_bytes, c.budget_bytes));
        self.sampled.store = Some(StoreSummary {
            kind: c.kind.clone(),
            bytes: c.bytes,
            file_bytes: c.file_bytes,
            cache_bytes: c.cache_bytes,
        });
        self.sampled.parts.clone_from(&s.bounded);
    }

    /// The progress line: RSS now and the slope once there is one.
    fn show(&self, target_rss: u64, in_warmup: bool) {
        let slope = match (in_warmup, self.sampled.target.slope()) {
            (true, _) => "after warm-up".to_string(),
            (false, Some(s)) => format!("{s:+.1} MiB/h"),
            (false, None) => "…".to_string(),
        };
        *self
            .live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            format!("RSS {}, slope {slope}", zen_model::units::bytes(target_rss));
    }
}
