//! A live progress bar on stderr while a run goes (indicatif); nothing when stderr is not a
//! terminal, so CI logs and pipes stay clean.
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::engine::recorder::Recorder;
use crate::engine::{Model, Stop};

/// Draw progress until `done` fires; `extra` adds a line of its own (soak: RSS and slope).
pub(crate) fn spawn(
    model: Model,
    recorder: Arc<Recorder>,
    done: CancellationToken,
    extra: Option<Arc<std::sync::Mutex<String>>>,
) -> Option<tokio::task::JoinHandle<()>> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let (len, by_count) = match model {
        Model::Closed {
            stop: Stop::Requests(n),
            ..
        } => (n, true),
        Model::Closed {
            stop: Stop::Duration(d),
            ..
        }
        | Model::Open { duration: d, .. } => (d.as_secs().max(1), false),
    };
    let bar = ProgressBar::new(len);
    let template = if by_count {
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} calls  {msg}"
    } else {
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len}s  {msg}"
    };
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(tokio::spawn(async move {
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
            if let Some(extra) = &extra {
                msg.push_str("  ");
                msg.push_str(
                    &extra
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner),
                );
            }
            bar.set_message(msg);
        }
        bar.finish_and_clear();
    }))
}
