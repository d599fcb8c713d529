//! The store's reads as SQL, run by the worker thread inside its transaction: a thread checked
//! out with its turns (an expired one is deleted on the way), and the recent threads for the
//! `threads` tool. Writes (append, cleanup, totals) are in ops.rs.
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::super::{Thread, ThreadSummary, Turn};
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

/// The most recently updated live threads, newest first; with `query`, only those with a
/// prompt containing it (ASCII case-insensitive).
pub(super) fn recent(
    tx: &Connection,
    limit: usize,
    query: Option<&str>,
    expired_before_ms: u64,
) -> rusqlite::Result<Vec<ThreadSummary>> {
    let sql = "SELECT id, created_ms, updated_ms, tool, model, turn_count, first_prompt \
               FROM threads WHERE updated_ms > ?1 AND (?2 IS NULL OR id IN (SELECT thread_id \
               FROM turns WHERE role = 'user' AND instr(lower(content), lower(?2)) > 0)) \
               ORDER BY touch DESC LIMIT ?3";
    let mut stmt = tx.prepare_cached(sql)?;
    let rows = stmt.query_map(
        params![expired_before_ms as i64, query, limit as i64],
        |r| {
            let id: String = r.get(0)?;
            Ok(ThreadSummary {
                id: Uuid::parse_str(&id).unwrap_or_default(),
                created_ms: r.get::<_, i64>(1)? as u64,
                updated_ms: r.get::<_, i64>(2)? as u64,
                tool: r.get(3)?,
                model: r.get(4)?,
                turn_count: r.get(5)?,
                first_prompt: r.get(6)?,
            })
        },
    )?;
    rows.collect()
}
