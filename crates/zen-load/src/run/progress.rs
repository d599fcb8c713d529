//! Progress while a run goes, on stderr: a live bar (indicatif) when stderr is a terminal, else
//! one plain line every few seconds (like k6), so a CI log or a piped run is not silent for the
//! length of the run. `--quiet` (and `--tui`) show neither.
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::engine::recorder::Recorder;
use crate::engine::{Model, Stop};

/// A line this often when stderr is not a terminal: often enough to show a run is alive,
/// rarely enough that an hour's soak writes 720 lines.
pub(crate) const LINE_EVERY: Duration = Duration::from_secs(5);

/// Show progress until `done` fires; `extra` adds a part of its own (soak: RSS and slope).
pub(crate) fn spawn(
    command: &'static str,
    model: Model,
    recorder: Arc<Recorder>,
    done: CancellationToken,
    extra: Option<Arc<std::sync::Mutex<String>>>,
) -> tokio::task::JoinHandle<()> {
    if std::io::stderr().is_terminal() {
        tokio::spawn(bar(model, recorder, done, extra))
    } else {
        tokio::spawn(lines(command, model, recorder, done, extra))
    }
}

/// The run's planned size: (length, counted in calls rather than seconds).
fn planned(model: Model) -> (u64, bool) {
    match model {
        Model::Closed {
            stop: Stop::Requests(n),
            ..
        } => (n, true),
        Model::Closed {
            stop: Stop::Duration(d),
            ..
        }
        | Model::Open { duration: d, .. } => (d.as_secs().max(1), false),
    }
}

/// The text `extra` holds now, if any.
fn extra_text(extra: Option<&Arc<std::sync::Mutex<String>>>) -> Option<String> {
    let text = extra?
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    (!text.is_empty()).then_some(text)
}

/// The live bar, redrawn five times a second.
async fn bar(
    model: Model,
    recorder: Arc<Recorder>,
    done: CancellationToken,
    extra: Option<Arc<std::sync::Mutex<String>>>,
) {
    let (len, by_count) = planned(model);
    let bar = ProgressBar::new(len);
    let template = if by_count {
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} calls  {msg}"
    } else {
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len}s  {msg}"
    };
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            () = done.cancelled() => break,
            _ = tick.tick() => {}
        }
        let ok = recorder.ok.load(Ordering::Relaxed);
        let failed = recorder.failed.load(Ordering::Relaxed);
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        bar.set_position(if by_count {
            ok + failed
        } else {
            started.elapsed().as_secs()
        });
        let mut msg = format!(
            "{ok} ok, {failed} failed, {} in flight, {:.0}/s",
            recorder.in_flight.load(Ordering::Relaxed),
            (ok + failed) as f64 / secs
        );
        if let Some(text) = extra_text(extra.as_ref()) {
            msg.push_str("  ");
            msg.push_str(&text);
        }
        bar.set_message(msg);
    }
    bar.finish_and_clear();
}

/// What one progress line reports.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Line {
    /// `stress` or `soak`.
    pub command: &'static str,
    /// Time since the load began.
    pub elapsed: Duration,
    /// The planned length: seconds, or calls when `by_count`.
    pub planned: u64,
    /// The run stops after a call count, not a time.
    pub by_count: bool,
    /// Calls finished so far.
    pub calls: u64,
    /// Of which failed.
    pub errors: u64,
    /// Calls finished per second over the last interval.
    pub rate: f64,
    /// p99 latency of the calls finished in the last interval, ms (None: none finished).
    pub p99_ms: Option<f64>,
    /// Calls in flight now.
    pub in_flight: u64,
    /// A part of the caller's own (soak: RSS and slope).
    pub extra: Option<String>,
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let elapsed = self.elapsed.as_secs_f64();
        write!(f, "zen {}: {elapsed:.0}s", self.command)?;
        if self.by_count {
            write!(f, "  calls {}/{}", self.calls, self.planned)?;
        } else {
            write!(f, "/{}s  calls {}", self.planned, self.calls)?;
        }
        write!(f, "  {:.1}/s  errors {}", self.rate, self.errors)?;
        match self.p99_ms {
            Some(p99) => write!(f, "  p99 {p99:.1} ms")?,
            None => write!(f, "  p99 -")?,
        }
        write!(f, "  in flight {}", self.in_flight)?;
        if let Some(extra) = &self.extra {
            write!(f, "  {extra}")?;
        }
        Ok(())
    }
}

/// One line to stderr every [`LINE_EVERY`]; the report follows at the end, so no last line.
async fn lines(
    command: &'static str,
    model: Model,
    recorder: Arc<Recorder>,
    done: CancellationToken,
    extra: Option<Arc<std::sync::Mutex<String>>>,
) {
    let (planned, by_count) = planned(model);
    let started = Instant::now();
    let mut tick = tokio::time::interval_at(started + LINE_EVERY, LINE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = (started, recorder.recorded().latency_us, 0_u64);
    loop {
        tokio::select! {
            () = done.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now = Instant::now();
        let recorded = recorder.recorded();
        let calls = recorded.ok + recorded.failed;
        // The last interval's calls: the whole histogram minus what it held at the last line.
        let mut interval = recorded.latency_us.clone();
        let p99_ms = match interval.subtract(&last.1) {
            Ok(()) if !interval.is_empty() => {
                Some(interval.value_at_quantile(0.99) as f64 / 1000.0)
            }
            _ => None,
        };
        let secs = now.duration_since(last.0).as_secs_f64().max(1e-3);
        let line = Line {
            command,
            elapsed: now.duration_since(started),
            planned,
            by_count,
            calls,
            errors: recorded.failed,
            rate: calls.saturating_sub(last.2) as f64 / secs,
            p99_ms,
            in_flight: recorder.in_flight.load(Ordering::Relaxed),
            extra: extra_text(extra.as_ref()),
        };
        eprintln!("{line}");
        last = (now, recorded.latency_us, calls);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_every_figure_a_log_reader_needs() {
        let line = Line {
            command: "stress",
            elapsed: Duration::from_secs(5),
            planned: 12,
            by_count: false,
            calls: 240,
            errors: 2,
            rate: 48.0,
            p99_ms: Some(12.34),
            in_flight: 30,
            extra: None,
        };
        assert_eq!(
            line.to_string(),
            "zen stress: 5s/12s  calls 240  48.0/s  errors 2  p99 12.3 ms  in flight 30"
        );
        let counted = Line {
            by_count: true,
            planned: 1000,
            p99_ms: None,
            extra: Some("rss 40 MiB".into()),
            ..line
        };
        assert_eq!(
            counted.to_string(),
            "zen stress: 5s  calls 240/1000  48.0/s  errors 2  p99 -  in flight 30  rss 40 MiB"
        );
    }
}
