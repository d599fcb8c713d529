//! Walking threads from the least recently updated, for eviction and expiry, a chunk at a time:
//! a cleanup at a 512 MiB budget evicts a fifth of some 600 000 threads, and collecting their
//! ids first cost 8.6 MB that the allocator kept for good (the first cleanup's RSS step). The
//! walk holds [`CHUNK`] ids at most, and resumes after the last `touch` it saw.
//! Generic over the figures it keeps and how it deletes (ops.rs passes its own), so it does not
//! depend on the module that uses it.
use std::collections::HashMap;

use rusqlite::{Connection, params};
use uuid::Uuid;

/// Threads read per query of the walk.
const CHUNK: i64 = 256;

/// One thread as the walk sees it.
pub(super) struct Seen {
    /// Its id, as stored.
    pub id: String,
    /// Its last update, wall-clock ms.
    pub updated_ms: u64,
}

impl Seen {
    /// Is a call in flight on it (never evicted or expired under its call)?
    pub(super) fn pinned(&self, pins: &HashMap<Uuid, u32>) -> bool {
        Uuid::parse_str(&self.id).is_ok_and(|u| pins.get(&u).is_some_and(|n| *n > 0))
    }
}

/// What the walk does with a thread.
pub(super) enum Step {
    /// Delete it and go on.
    Delete,
    /// Leave it and go on.
    Skip,
    /// Leave it and stop.
    Stop,
}

/// Walk from the least recently updated thread, deleting those `decide` says to (it sees the
/// thread, the figures so far and how many were deleted), until it says stop or the threads
/// end. Returns how many were deleted.
pub(super) fn walk<F>(
    tx: &Connection,
    figures: &mut F,
    mut decide: impl FnMut(&Seen, &F, u64) -> Step,
    mut delete: impl FnMut(&Connection, &str, &mut F) -> rusqlite::Result<()>,
) -> rusqlite::Result<u64> {
    let mut deleted = 0;
    let mut after = i64::MIN;
    loop {
        let chunk: Vec<(Seen, i64)> = {
            let mut stmt = tx.prepare_cached(
                "SELECT id, updated_ms, touch FROM threads WHERE touch > ?1 ORDER BY touch LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![after, CHUNK], |r| {
                let seen = Seen {
                    id: r.get(0)?,
                    updated_ms: r.get::<_, i64>(1)? as u64,
                };
                Ok((seen, r.get(2)?))
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let Some(&(_, last)) = chunk.last() else {
            return Ok(deleted);
        };
        for (seen, _) in &chunk {
            match decide(seen, figures, deleted) {
                Step::Delete => {
                    delete(tx, &seen.id, figures)?;
                    deleted += 1;
                }
                Step::Skip => {}
                Step::Stop => return Ok(deleted),
            }
        }
        after = last;
    }
}
