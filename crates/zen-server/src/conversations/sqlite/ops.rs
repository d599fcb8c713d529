//! The store's operations as SQL, run by the worker thread inside its write transaction.
//! Each takes the transaction and the batch's view of the totals; none blocks the runtime.
use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::super::budget::{AppendPlan, Existing, StoreLimits, plan_append};
use super::super::{AppendReport, Thread, Turn, first_words};
use super::walk::{Bound, Step, walk};
use zen_model::snapshot::{CleanupInfo, Evictions};

/// Threads with a call in flight, by id: never evicted or expired under their call.
pub(super) type Pins = HashMap<Uuid, u32>;

/// Figures the worker keeps for the snapshot (this process's view).
#[derive(Debug, Clone, Default)]
pub(super) struct Figures {
    /// Stored bytes, from the file's totals row.
    pub bytes: u64,
    /// Stored threads, from the file's totals row.
    pub threads: u64,
    /// The last update's sequence number (the LRU order; ties in wall-clock ms cannot
    /// reorder it), from the file's totals row.
    pub touch: u64,
    /// The most bytes seen stored at once.
    pub peak: u64,
    /// Evictions by cause, by this process.
    pub evictions: Evictions,
    /// Cleanup runs, by this process.
    pub cleanups: u64,
    /// The last of them.
    pub last_cleanup: Option<CleanupInfo>,
    /// Set by an append that crossed the budget in this batch, taken by the worker to start
    /// the cleanup (cleaner.rs): the threads it evicted to fit, and the LRU touch before it
    /// (the cleanup evicts nothing newer).
    pub crossed: Option<(u64, u64)>,
}

/// Remove a thread and its turns, keeping the totals right.
pub(super) fn delete_thread(
    tx: &Connection,
    key: &str,
    figures: &mut Figures,
) -> rusqlite::Result<()> {
    let bytes: Option<i64> = tx
        .query_row("SELECT bytes FROM threads WHERE id = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?;
    let Some(bytes) = bytes else {
        return Ok(());
    };
    tx.prepare_cached("DELETE FROM turns WHERE thread_id = ?1")?
        .execute([key])?;
    tx.prepare_cached("DELETE FROM threads WHERE id = ?1")?
        .execute([key])?;
    figures.bytes = figures.bytes.saturating_sub(bytes as u64);
    figures.threads = figures.threads.saturating_sub(1);
    Ok(())
}

/// What an append needs from the async side.
pub(super) struct AppendInput {
    pub id: Uuid,
    pub turns: Vec<Turn>,
    /// Serialized size of each new turn.
    pub sizes: Vec<u64>,
    pub max_turns: u32,
    pub now_ms: u64,
}

/// Append under the shared budget rules, evicting first when the budget would be crossed.
pub(super) fn append(
    tx: &Connection,
    input: &AppendInput,
    limits: &StoreLimits,
    pins: &Pins,
    figures: &mut Figures,
) -> rusqlite::Result<AppendReport> {
    let key = input.id.to_string();
    let existing_row = tx
        .query_row(
            "SELECT created_ms, turn_count, dropped_turns, bytes FROM threads WHERE id = ?1",
            [&key],
            |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    r.get::<_, u32>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, i64>(3)? as u64,
                ))
            },
        )
        .optional()?;
    let stored: Vec<(i64, u64)> = match existing_row {
        Some(_) => {
            let mut stmt = tx
                .prepare_cached("SELECT seq, bytes FROM turns WHERE thread_id = ?1 ORDER BY seq")?;
            let rows = stmt.query_map([&key], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
            rows.collect::<rusqlite::Result<_>>()?
        }
        None => Vec::new(),
    };
    let sizes: Vec<u64> = stored.iter().map(|(_, b)| *b).collect();
    let existing = existing_row.map(|(created_ms, turn_count, dropped_turns, _)| Existing {
        created_ms,
        turn_count,
        dropped_turns,
        turn_sizes: &sizes,
    });
    let new_bytes = input.sizes.iter().sum::<u64>();
    let old_bytes = existing_row.map_or(0, |r| r.3);
    let plan = plan_append(
        input.id,
        existing,
        &input.sizes,
        input.max_turns,
        input.now_ms,
        limits,
    );
    let (header, drop, bytes) = match plan {
        AppendPlan::Store {
            header,
            drop,
            bytes,
        } => (header, drop, bytes),
        refused => {
            let full = refused == AppendPlan::Full;
            if !full {
                figures.evictions.oversize += input.sizes.len() as u64;
            }
            return Ok(AppendReport {
                stored: false,
                full,
                turn_count: existing_row.map_or(0, |r| r.1),
                dropped_turns: 0,
                thread_bytes: old_bytes,
                new_bytes,
            });
        }
    };
    if let Some(&(last_dropped, _)) = drop.checked_sub(1).and_then(|i| stored.get(i)) {
        tx.prepare_cached("DELETE FROM turns WHERE thread_id = ?1 AND seq <= ?2")?
            .execute(params![key, last_dropped])?;
    }
    figures.evictions.oversize += drop as u64;
    let next_seq = stored.last().map_or(0, |(seq, _)| seq + 1);
    insert_turns(tx, &key, next_seq, &input.turns, &input.sizes)?;
    figures.touch += 1;
    let touch = figures.touch;
    let is_new = existing_row.is_none();
    upsert_thread(tx, &key, &header, bytes, touch, &input.turns, is_new)?;
    if existing_row.is_none() {
        figures.threads += 1;
    }
    figures.bytes = figures.bytes.saturating_sub(old_bytes);
    // Crossing the budget evicts first, just enough to fit, so the total never exceeds it
    // (unless every other thread is pinned by a call in flight: those are never evicted under
    // their call); the cleanup down to the threshold runs after, in short transactions.
    if figures.bytes + bytes > limits.budget_bytes {
        let fitted = evict_to_fit(tx, figures, pins, &key, limits.budget_bytes, bytes)?;
        let (before, touch_before) = figures.crossed.unwrap_or((0, touch - 1));
        figures.crossed = Some((before + fitted, touch_before));
    }
    figures.bytes += bytes;
    figures.peak = figures.peak.max(figures.bytes);
    Ok(AppendReport {
        stored: true,
        turn_count: header.turn_count,
        dropped_turns: drop as u32,
        thread_bytes: bytes,
        new_bytes,
        full: false,
    })
}

fn insert_turns(
    tx: &Connection,
    key: &str,
    first_seq: i64,
    turns: &[Turn],
    sizes: &[u64],
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO turns (thread_id, seq, role, content, tool, model, timestamp_ms, files, bytes) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for (i, (turn, size)) in turns.iter().zip(sizes).enumerate() {
        let files = (!turn.files.is_empty())
            .then(|| serde_json::to_string(&turn.files).unwrap_or_default());
        stmt.execute(params![
            key,
            first_seq + i as i64,
            turn.role,
            turn.content,
            turn.tool,
            turn.model,
            turn.timestamp_ms as i64,
            files,
            *size as i64
        ])?;
    }
    Ok(())
}

fn upsert_thread(
    tx: &Connection,
    key: &str,
    header: &Thread,
    bytes: u64,
    touch: u64,
    new_turns: &[Turn],
    is_new: bool,
) -> rusqlite::Result<()> {
    let tool = new_turns.last().map_or("", |t| t.tool.as_str());
    let model = new_turns.iter().rev().find_map(|t| t.model.as_deref());
    if is_new {
        let first = new_turns
            .iter()
            .find(|t| t.role == "user")
            .map_or_else(String::new, |t| first_words(&t.content));
        tx.prepare_cached(
            "INSERT INTO threads (id, created_ms, updated_ms, turn_count, dropped_turns, bytes, \
             tool, model, first_prompt, touch) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            key,
            header.created_ms as i64,
            header.updated_ms as i64,
            header.turn_count,
            header.dropped_turns,
            bytes as i64,
            tool,
            model,
            first,
            touch as i64
        ])?;
    } else {
        tx.prepare_cached(
            "UPDATE threads SET updated_ms = ?2, turn_count = ?3, dropped_turns = ?4, bytes = ?5, \
             tool = ?6, model = coalesce(?7, model), touch = ?8 WHERE id = ?1",
        )?
        .execute(params![
            key,
            header.updated_ms as i64,
            header.turn_count,
            header.dropped_turns,
            bytes as i64,
            tool,
            model,
            touch as i64
        ])?;
    }
    Ok(())
}

/// Evict unpinned threads (never `keep`), least recently updated first, until `bytes +
/// reserve` is at or under `target`: a thread's worth at most. Returns how many went.
fn evict_to_fit(
    tx: &Connection,
    figures: &mut Figures,
    pins: &Pins,
    keep: &str,
    target: u64,
    reserve: u64,
) -> rusqlite::Result<u64> {
    let mut after = i64::MIN;
    let (evicted, _) = walk(
        tx,
        figures,
        &mut after,
        Bound::none(),
        |seen, figures, _| {
            if figures.bytes + reserve <= target {
                Step::Stop
            } else if seen.pinned(pins) || keep == seen.id.as_str() {
                Step::Skip
            } else {
                Step::Delete
            }
        },
        delete_thread,
    )?;
    figures.evictions.pressure += evicted;
    Ok(evicted)
}
