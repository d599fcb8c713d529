//! The store's reads as SQL, run by the worker thread inside its transaction: a thread checked
//! out with its turns (an expired one is deleted on the way). Writes (append, cleanup, totals)
//! are in ops.rs; the `threads` tool's searches in search.rs, on connections of their own.
use rusqlite::{Connection, OptionalExtension};
use uuid::Uuid;

use super::super::{Thread, Turn};
use super::ops::{Figures, delete_thread};

/// A live thread with its turns, or None (absent, or expired and now deleted).
pub(super) fn checkout(
    tx: &Connection,
    id: Uuid,
    expired_before_ms: u64,
    others_pin: bool,
    figures: &mut Figures,
) -> rusqlite::Result<Option<Thread>> {
    let key = id.to_string();
    let header = tx
        .query_row(
            "SELECT created_ms, updated_ms, turn_count, dropped_turns FROM threads WHERE id = ?1",
            [&key],
            |r| {
                Ok(Thread {
                    id,
                    created_ms: r.get::<_, i64>(0)? as u64,
                    updated_ms: r.get::<_, i64>(1)? as u64,
                    turn_count: r.get(2)?,
                    dropped_turns: r.get(3)?,
                    turns: Vec::new(),
                })
            },
        )
        .optional()?;
    let Some(mut thread) = header else {
        return Ok(None);
    };
    if thread.updated_ms <= expired_before_ms && !others_pin {
        delete_thread(tx, &key, figures)?;
        figures.evictions.expiry += 1;
        return Ok(None);
    }
    let mut stmt = tx.prepare_cached(
        "SELECT role, content, tool, model, timestamp_ms, files FROM turns \
         WHERE thread_id = ?1 ORDER BY seq",
    )?;
    let turns = stmt.query_map([&key], |r| {
        let files: Option<String> = r.get(5)?;
        Ok(Turn {
            role: r.get(0)?,
            content: r.get(1)?,
            tool: r.get(2)?,
            model: r.get(3)?,
            timestamp_ms: r.get::<_, i64>(4)? as u64,
            files: files
                .and_then(|f| serde_json::from_str(&f).ok())
                .unwrap_or_default(),
        })
    })?;
    thread.turns = turns.collect::<rusqlite::Result<_>>()?;
    Ok(Some(thread))
}
