//! The run's time series as it is taken: once per interval, the calls that finished in it (from
//! the recorder) and, for a zen target, its pools, queue and RSS (from its snapshot).
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use zen_model::report::series::{INTERVAL, Point, Series};

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
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + INTERVAL, INTERVAL);
    let mut from = 0.0;
    // The wall clock when the load began: the series' own clock is monotonic, this anchors it.
    let began = std::time::SystemTime::now() - recorder.started.elapsed();
    let unix_ms = |secs: f64| {
        let at = began + Duration::from_secs_f64(secs);
        at.duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_millis() as u64)
    };
    loop {
        let last = tokio::select! {
            _ = tick.tick() => false,
            () = done.cancelled() => true,
        };
        // A dead target must not hold the series up: the snapshot races the end of the run.
        let snapshot = if last {
            None
        } else {
            tokio::select! {
                s = target.snapshot() => s,
                () = done.cancelled() => None,
            }
        };
        let now = recorder.started.elapsed().as_secs_f64();
        let mut point = point_now(&recorder, from, now).with_server(snapshot.as_ref());
        point.unix_ms = unix_ms(from);
        series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(point);
        from = now;
        if last {
            return;
        }
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
