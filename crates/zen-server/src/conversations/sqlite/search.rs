//! The `threads` tool's searches, off the write path. A search reads every stored prompt, so it
//! once queued on the one worker thread that also serves every chat's checkout and append:
//! four 1 MB prompts and one long query took a chat from 7 ms to 5.7 s. Here searches run on
//! their own read-only connections (WAL lets readers and the writer work at once), on
//! [`READERS`] threads of their own, and each one stops at [`SEARCH_DEADLINE`] or as soon as
//! its caller goes away (SQLite's progress handler asks between steps), with what it found.
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, ErrorCode, OpenFlags, params};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::super::search::{Recent, SEARCH_DEADLINE, contains_folded, fold};
use super::super::{StoreError, ThreadSummary};
use super::worker::store_error;

/// Threads (and read-only connections) serving searches.
const READERS: usize = 2;

/// Searches waiting for a reader at most; past it, callers wait.
const QUEUE: usize = 64;

/// Page cache of each reader connection: searches stream rows once, so a cache barely helps.
const READER_CACHE_KIB: i64 = 1024;

/// SQLite virtual-machine steps between two looks at the deadline and the caller.
const STEPS_PER_CHECK: i32 = 10_000;

/// One search and where its answer goes.
pub(super) struct Search {
    /// Most threads to list.
    pub limit: usize,
    /// The query, folded ([`fold`]); None lists every live thread.
    pub query: Option<String>,
    /// Threads updated at or before this are expired.
    pub expired_before_ms: u64,
    /// Set when the caller no longer waits (its call was cancelled or its client left).
    pub gone: Arc<AtomicBool>,
    /// The answer.
    pub reply: oneshot::Sender<Result<Recent, StoreError>>,
}

/// Sets the flag when dropped: the async side holds one while it awaits a search, so a caller
/// that goes away stops its search.
pub(super) struct Abandon(pub Arc<AtomicBool>);

impl Drop for Abandon {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The queue the reader threads take searches from.
pub(super) type Searches = mpsc::Sender<Search>;

/// Open the reader connections on the store at `path` (created and migrated by the writer
/// already) and start their threads.
pub(super) fn spawn(path: &Path) -> anyhow::Result<Searches> {
    let (tx, rx) = mpsc::channel::<Search>(QUEUE);
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..READERS {
        let mut conn = open(path)?;
        let rx = rx.clone();
        let path = path.to_path_buf();
        std::thread::Builder::new()
            .name(format!("zen-store-search-{i}"))
            .spawn(move || {
                loop {
                    // One reader waits on the queue at a time; the other waits for the lock.
                    let next = rx
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .blocking_recv();
                    let Some(search) = next else { return };
                    run(&mut conn, &path, search);
                }
            })?;
    }
    Ok(tx)
}

/// A read-only connection with the matching function registered.
fn open(path: &Path) -> anyhow::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
    conn.pragma_update(None, "mmap_size", 0)?;
    conn.create_scalar_function(
        "zen_contains",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let text = ctx.get_raw(0).as_str().unwrap_or("");
            let query = ctx.get_raw(1).as_str().unwrap_or("");
            Ok(contains_folded(text, query))
        },
    )?;
    Ok(conn)
}

/// Run one search under its deadline and its caller's presence, and answer it.
fn run(conn: &mut Connection, path: &Path, search: Search) {
    if search.gone.load(Ordering::Relaxed) {
        return; // the caller left while it waited for a reader
    }
    let deadline = Instant::now() + SEARCH_DEADLINE;
    let gone = search.gone.clone();
    // True stops the statement (SQLITE_INTERRUPT); the rows read so far are kept.
    conn.progress_handler(
        STEPS_PER_CHECK,
        Some(move || gone.load(Ordering::Relaxed) || Instant::now() >= deadline),
    )
    .ok();
    let result = recent(
        conn,
        search.limit,
        search.query.as_deref(),
        search.expired_before_ms,
    )
    .map_err(|e| store_error(path, format!("the threads search failed ({e})")));
    conn.progress_handler(0, None::<fn() -> bool>).ok();
    let _ = search.reply.send(result);
}

/// The most recently updated live threads, newest first; with `query` (folded), only those
/// with a prompt containing it. Rows stream in LRU order (the touch index), each thread's
/// prompts probed by the turns index, so an interrupted search keeps the newest matches.
fn recent(
    conn: &Connection,
    limit: usize,
    query: Option<&str>,
    expired_before_ms: u64,
) -> rusqlite::Result<Recent> {
    let sql = "SELECT id, created_ms, updated_ms, tool, model, turn_count, first_prompt \
               FROM threads WHERE updated_ms > ?1 AND (?2 IS NULL OR EXISTS (SELECT 1 FROM \
               turns WHERE turns.thread_id = threads.id AND role = 'user' AND \
               zen_contains(content, ?2))) ORDER BY touch DESC LIMIT ?3";
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params![expired_before_ms as i64, query, limit as i64])?;
    let mut found = Recent::complete(Vec::new());
    loop {
        let row = match rows.next() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::OperationInterrupted) => {
                found.complete = false;
                break;
            }
            Err(e) => return Err(e),
        };
        let id: String = row.get(0)?;
        found.threads.push(ThreadSummary {
            id: Uuid::parse_str(&id).unwrap_or_default(),
            created_ms: row.get::<_, i64>(1)? as u64,
            updated_ms: row.get::<_, i64>(2)? as u64,
            tool: row.get(3)?,
            model: row.get(4)?,
            turn_count: row.get(5)?,
            first_prompt: row.get(6)?,
        });
    }
    Ok(found)
}

/// A search as the async side sends it.
pub(super) fn search(
    limit: usize,
    query: Option<&str>,
    expired_before_ms: u64,
    reply: oneshot::Sender<Result<Recent, StoreError>>,
) -> (Search, Abandon) {
    let gone = Arc::new(AtomicBool::new(false));
    let search = Search {
        limit,
        query: query.map(fold),
        expired_before_ms,
        gone: gone.clone(),
        reply,
    };
    (search, Abandon(gone))
}
