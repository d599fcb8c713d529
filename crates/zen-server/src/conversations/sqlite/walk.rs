//! Walking threads from the least recently updated, for eviction and expiry, a chunk at a time:
//! a cleanup at a 512 MiB budget evicts a fifth of some 600 000 threads, and collecting their
//! ids first cost 8.6 MB that the allocator kept for good (the first cleanup's RSS step). The
//! walk holds [`CHUNK`] ids at most, and resumes after the last `touch` it saw, within one
//! call and across calls: a cleanup walks a bounded slice per transaction (cleaner.rs), so it
//! never holds the writer for long.
//! Generic over the figures it keeps and how it deletes (ops.rs passes its own), so it does not
//! depend on the module that uses it.
use std::collections::HashMap;

use std::time::Instant;

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
    /// Its place in the LRU order.
    pub touch: i64,
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

/// How far one call of the walk may go: rows looked at, and a deadline that counts only once
/// `min_rows` were looked at (so a small store's cleanup always ends in one call).
#[derive(Debug, Clone, Copy)]
pub(super) struct Bound {
    /// Rows looked at, at most.
    pub rows: u64,
    /// Rows looked at before the deadline is checked.
    pub min_rows: u64,
    /// When to pause.
    pub until: Instant,
}

impl Bound {
    /// No bound: the walk goes until `decide` stops it or the threads end.
    pub(super) fn none() -> Self {
        Bound {
            rows: u64::MAX,
            min_rows: u64::MAX,
            until: Instant::now(),
        }
    }

    fn reached(&self, looked: u64) -> bool {
        looked >= self.rows || (looked >= self.min_rows && Instant::now() >= self.until)
    }
}

/// Walk from the thread after `*after` in LRU order (`i64::MIN`: the least recently updated),
/// deleting those `decide` says to (it sees the thread, the figures so far and how many this
/// call deleted), until it says stop, the threads end, or `bound` is reached. `*after` is left
/// at the last thread dealt with, for the next call. Returns how many were deleted and whether
/// the walk is over (false: paused by `bound`).
pub(super) fn walk<F>(
    tx: &Connection,
    figures: &mut F,
    after: &mut i64,
    bound: Bound,
    mut decide: impl FnMut(&Seen, &F, u64) -> Step,
    mut delete: impl FnMut(&Connection, &str, &mut F) -> rusqlite::Result<()>,
) -> rusqlite::Result<(u64, bool)> {
    let mut deleted = 0;
    let mut looked = 0;
    loop {
        let chunk: Vec<Seen> = {
            let mut stmt = tx.prepare_cached(
                "SELECT id, updated_ms, touch FROM threads WHERE touch > ?1 ORDER BY touch LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![*after, CHUNK], |r| {
                Ok(Seen {
                    id: r.get(0)?,
                    updated_ms: r.get::<_, i64>(1)? as u64,
                    touch: r.get(2)?,
                })
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        if chunk.is_empty() {
            return Ok((deleted, true));
        }
        for seen in &chunk {
            if bound.reached(looked) {
                return Ok((deleted, false));
            }
            looked += 1;
            match decide(seen, figures, deleted) {
                Step::Delete => {
                    delete(tx, &seen.id, figures)?;
                    deleted += 1;
                }
                Step::Skip => {}
                Step::Stop => return Ok((deleted, true)),
            }
            *after = seen.touch;
        }
    }
}
