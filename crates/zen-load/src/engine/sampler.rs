//! The run's time series as it is taken: once per interval, the calls that finished in it (from
//! the recorder) and, for a zen target, its pools, queue and RSS (from its snapshot).
//!
//! The clock is a thread of its own, so a point is taken every second whatever the engine and
//! the runtime are doing (an overloaded run is when the series matters most); the snapshot is
//! read beside it by a task of its own, and each point takes the latest one (at most an
//! interval old). A late wake-up makes one longer point, never a burst of empty ones.
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;
use zen_model::report::series::{INTERVAL, Point, Series};
use zen_model::snapshot::Snapshot;

use crate::engine::recorder::Recorder;
use crate::target::Target;

/// Sample the recorder (and zen's snapshot) once per interval until `done`; the last partial
/// interval is taken too, so every finished call is in the series.
pub(crate) async fn sample(
    recorder: Arc<Recorder>,
    target: &Target,
    series: Arc<Mutex<Series>>,
    done: CancellationToken,
) {
    let latest: Arc<Mutex<Option<Snapshot>>> = Arc::default();
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let clock = {
        let latest = latest.clone();
        std::thread::Builder::new()
            .name("zen-series".into())
            .spawn(move || tick(&recorder, &series, &latest, &stopped))
    };
    let snapshots = async {
        if !target.has_snapshot() {
            return;
        }
        let mut every = tokio::time::interval(INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                () = done.cancelled() => return,
            }
            // A dead target must not hold the series up: the read races the end of the run.
            let snapshot = tokio::select! {
                s = target.snapshot() => s,
                () = done.cancelled() => return,
            };
            *latest
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = snapshot;
        }
    };
    tokio::join!(snapshots, done.cancelled());
    drop(stop);
    if let Ok(clock) = clock {
        let _ = tokio::task::spawn_blocking(move || clock.join()).await;
    }
}

/// The clock's thread: a point at each whole interval since the sampling began, until
/// `stopped` (the sender dropped), then the last partial one. Points are timed from the
/// recorder's start (the first one from 0), as the run's other figures are.
fn tick(
    recorder: &Recorder,
    series: &Mutex<Series>,
    latest: &Mutex<Option<Snapshot>>,
    stopped: &Receiver<()>,
) {
    let started = recorder.started.into_std();
    let clock = std::time::Instant::now();
    // The wall clock when the load began: the series' own clock is monotonic, this anchors it.
    let began = SystemTime::now() - started.elapsed();
    let unix_ms = |secs: f64| {
        let at = began + Duration::from_secs_f64(secs);
        at.duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_millis() as u64)
    };
    let mut from = 0.0;
    let mut next = clock + INTERVAL;
    loop {
        let wait = next.saturating_duration_since(std::time::Instant::now());
        let last = !matches!(stopped.recv_timeout(wait), Err(RecvTimeoutError::Timeout));
        if !last && std::time::Instant::now() < next {
            continue; // woke before the interval ended: no short point
        }
        let now = started.elapsed().as_secs_f64();
        let snapshot = if last {
            None
        } else {
            latest
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone()
        };
        let mut point = point_now(recorder, from, now).with_server(snapshot.as_ref());
        point.unix_ms = unix_ms(from);
        // The partial interval at the end is a point only if a call finished in it.
        if !(last && point.calls == 0) {
            series
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(point);
        }
        if last {
            return;
        }
        from = now;
        // The next whole interval after now: one late wake-up stretches one point only.
        let whole = (clock.elapsed().as_secs_f64() / INTERVAL.as_secs_f64()).floor() as u32;
        next = clock + INTERVAL * (whole + 1);
    }
}

fn point_now(recorder: &Recorder, from: f64, now: f64) -> Point {
    let window = recorder.take_window();
    let ms = |q: f64| window.latency_us.value_at_quantile(q) as f64 / 1000.0;
    let in_flight = recorder
        .in_flight
        .load(std::sync::atomic::Ordering::Relaxed);
    Point {
        t: from,
        unix_ms: None,
        secs: (now - from).max(0.0),
        calls: window.calls,
        errors: window.errors,
        p50_ms: if window.calls == 0 { 0.0 } else { ms(0.5) },
        p99_ms: if window.calls == 0 { 0.0 } else { ms(0.99) },
        in_flight,
        pools_in_use: None,
        queued: None,
        rss_bytes: None,
    }
}
