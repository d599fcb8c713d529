//! Checkpoints off the write path: the writer never copies the WAL into the database file (nor
//! waits on the fsync that comes with it); this thread does, on its own connection, a few
//! times a second. A passive checkpoint never blocks the writer; when the WAL passes its cap
//! a truncating one resets it, so the file cannot grow with uptime.
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::Connection;

/// How often the WAL is copied back.
const EVERY: Duration = Duration::from_millis(250);
/// WAL size past which the checkpoint also truncates it.
const WAL_CAP: u64 = 64 * 1024 * 1024;

/// Stops the checkpoint thread when dropped (with the store).
pub(super) struct Checkpointer {
    /// Set on drop; the thread exits at its next tick.
    stop: Arc<AtomicBool>,
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Start checkpointing `path` every [`EVERY`].
pub(super) fn spawn(path: PathBuf) -> anyhow::Result<Checkpointer> {
    let conn = Connection::open(&path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // A checkpoint reads WAL frames and writes pages: it needs little cache of its own.
    conn.pragma_update(None, "cache_size", -256)?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let mut wal = path.into_os_string();
    wal.push("-wal");
    std::thread::Builder::new()
        .name("zen-store-ckpt".into())
        .spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(EVERY);
                let big = std::fs::metadata(&wal).is_ok_and(|m| m.len() > WAL_CAP);
                let mode = if big { "TRUNCATE" } else { "PASSIVE" };
                if let Err(e) =
                    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |_| Ok(()))
                {
                    tracing::warn!(error = %e, "conversation store: checkpoint failed");
                }
            }
        })?;
    Ok(Checkpointer { stop })
}
