//! The shared totals read back for the snapshot: this instance's figures otherwise change only
//! when it writes, so another instance's threads would not show. At most one read a second,
//! off the caller's path (the snapshot is synchronous); a failed read keeps the last figures.
use std::time::{Duration, Instant};

use super::{REDIS_TIMEOUT, RedisStore, note_totals};

/// Least time between two reads.
const REFRESH_EVERY: Duration = Duration::from_secs(1);

impl RedisStore {
    /// Start a read of the shared totals unless one started within the last second.
    pub(super) fn refresh_totals_soon(&self) {
        {
            let mut last = self
                .refreshed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.is_some_and(|at| at.elapsed() < REFRESH_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (mut conn, figures) = (self.conn.clone(), self.figures.clone());
        let key = format!("{}totals", self.prefix);
        runtime.spawn(async move {
            let mut cmd = redis::cmd("HMGET");
            cmd.arg(&key).arg(&["bytes", "threads", "peak"]);
            let read = cmd.query_async::<Vec<Option<i64>>>(&mut conn);
            if let Ok(Ok(v)) = tokio::time::timeout(REDIS_TIMEOUT, read).await {
                let at = |i: usize| v.get(i).copied().flatten().unwrap_or(0);
                note_totals(&figures, at(0), at(1), at(2));
            }
        });
    }
}
