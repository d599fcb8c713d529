//! Checkpoints off the write path: the writer does not copy the WAL into the database file (nor
//! wait on the fsync that comes with it); this thread does, on its own connection, a few
//! times a second, and only passively, which never blocks the writer. When the WAL passes its
//! cap the writer itself truncates it, between two transactions ([`Truncation`]): a truncating
//! checkpoint on this thread held the write lock while it waited and copied, and the writer's
//! transactions failed with "database is locked" behind it at full rate (issue 26).
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// How often the WAL is copied back.
const EVERY: Duration = Duration::from_millis(250);
/// WAL size past which the writer truncates it.
const WAL_CAP: u64 = 64 * 1024 * 1024;
/// How often the writer looks at the WAL's size.
const LOOK_EVERY: Duration = Duration::from_millis(100);
/// A truncation that held the writer longer than this is logged.
const SLOW_TRUNCATION: Duration = Duration::from_secs(1);
/// How long the writer's truncation waits for readers (a search) before trying again later.
const TRUNCATE_WAIT: Duration = Duration::from_millis(200);

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
pub(super) fn spawn(path: &Path) -> anyhow::Result<Checkpointer> {
    let conn = Connection::open(path)?;
    // A checkpoint reads WAL frames and writes pages: it needs little cache of its own.
    conn.pragma_update(None, "cache_size", -256)?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::Builder::new()
        .name("zen-store-ckpt".into())
        .spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(EVERY);
                // Busy: the writer is truncating; the next tick copies what is left.
                match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {}
                    Err(e) => tracing::warn!(error = %e, "conversation store: checkpoint failed"),
                    Ok(()) => {}
                }
            }
        })?;
    Ok(Checkpointer { stop })
}

/// The writer's side: the WAL truncated when it passes [`WAL_CAP`], between two transactions.
/// The writer waits for no other writer there (it is the only one), only for readers, and for
/// [`TRUNCATE_WAIT`] at most; the checkpoint thread has copied most frames already.
pub(super) struct Truncation {
    /// The WAL file.
    wal: PathBuf,
    /// When to look at its size next.
    next_look: Instant,
}

impl Truncation {
    /// For the store at `db`.
    pub(super) fn new(db: &Path) -> Self {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        Truncation {
            wal: PathBuf::from(wal),
            next_look: Instant::now(),
        }
    }

    /// Truncate the WAL if it is past its cap (looked at every [`LOOK_EVERY`] at most).
    pub(super) fn truncate_if_big(&mut self, conn: &Connection) {
        let now = Instant::now();
        if now < self.next_look {
            return;
        }
        self.next_look = now + LOOK_EVERY;
        if !std::fs::metadata(&self.wal).is_ok_and(|m| m.len() > WAL_CAP) {
            return;
        }
        let _ = conn.busy_timeout(TRUNCATE_WAIT);
        let busy = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            r.get::<_, i64>(0)
        });
        let _ = conn.busy_timeout(super::schema::BUSY_WAIT);
        // It copies what the checkpoint thread has not and syncs the file: on a disk busy
        // with other work that can take seconds, during which calls wait. Say so.
        let took = now.elapsed();
        if took > SLOW_TRUNCATION {
            tracing::warn!(
                secs = took.as_secs_f64(),
                "conversation store: truncating the WAL held the writer (the disk is slow or busy)"
            );
        }
        match busy {
            Ok(0) => {}
            // A reader kept it (a long search): tried again at the next look.
            Ok(_) => tracing::debug!("conversation store: WAL truncation deferred by a reader"),
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {}
            Err(e) => tracing::warn!(error = %e, "conversation store: WAL truncation failed"),
        }
    }
}
