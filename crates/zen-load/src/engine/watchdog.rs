//! Notices a dead target while the load runs: a stdio server that exited (its connection
//! closed), or an HTTP server that has refused every call for longer than a short grace.
//! Either way the run stops at once and reports what it measured until then.
use std::sync::Arc;
use std::time::Duration;

use crate::target::session::LoadPeer;
use tokio_util::sync::CancellationToken;

use crate::engine::recorder::Recorder;

/// How long every call may fail at the transport before the target counts as dead: long
/// enough for a restart blip or a full accept queue, short enough not to flood the report.
pub(crate) const UNREACHABLE_GRACE: Duration = Duration::from_secs(2);
/// How often the watchdog looks.
const POLL: Duration = Duration::from_millis(50);

/// Watch until `done` fires; on a dead target record why and fire `stop`.
pub(crate) fn spawn(
    peers: Vec<LoadPeer>,
    recorder: Arc<Recorder>,
    stop: CancellationToken,
    done: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(POLL);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = done.cancelled() => return,
                () = stop.cancelled() => return,
            }
            if let Some(why) = dead(&peers, &recorder) {
                recorder.target_lost(why);
                stop.cancel();
                return;
            }
        }
    })
}

/// Why the target counts as dead, if it does.
fn dead(peers: &[LoadPeer], recorder: &Recorder) -> Option<String> {
    if peers
        .iter()
        .any(super::super::target::session::LoadPeer::is_transport_closed)
    {
        return Some("the connection to the target closed (its process exited?)".to_string());
    }
    let for_how_long = recorder.unreachable_for()?;
    (for_how_long >= UNREACHABLE_GRACE).then(|| {
        format!(
            "no call reached the target for {:.1} s (connection refused or reset: is it still running?)",
            for_how_long.as_secs_f64()
        )
    })
}
