//! The thread that owns the SQLite connection. It takes every queued operation, runs them in
//! one write transaction (each under a savepoint), commits once, then answers each caller:
//! a batch costs one commit however many calls it carries. A cleanup rides along, a bounded
//! slice per transaction (cleaner.rs), so the calls queued behind it wait milliseconds, not
//! the whole cleanup.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, ErrorCode, Transaction, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::super::budget::StoreLimits;
use super::super::{AppendReport, StoreError, Thread};
use super::cleaner::{Cleaner, Request};
use super::ops::{self, AppendInput, Figures, Pins};
use super::{checkpoint, reads, totals};

/// Most operations run in one transaction.
const BATCH: usize = 256;
/// A cleanup that removed at least this many threads hands the memory it freed back to the
/// OS: such a cleanup touches the whole page cache and more, and the allocator would otherwise
/// keep that high-water mark in RSS for good.
const TRIM_AFTER_REMOVED: u64 = 1024;

/// One operation and where its answer goes.
pub(super) enum Op {
    Checkout {
        id: Uuid,
        expired_before_ms: u64,
        reply: oneshot::Sender<Result<Option<Thread>, StoreError>>,
    },
    Append {
        input: AppendInput,
        reply: oneshot::Sender<Result<AppendReport, StoreError>>,
    },
    Cleanup {
        force: bool,
        expired_before_ms: u64,
        reply: oneshot::Sender<Result<u64, StoreError>>,
    },
    ReleaseMemory {
        reply: oneshot::Sender<Result<u64, StoreError>>,
    },
}

/// State the worker and the async side share.
pub(super) struct Shared {
    /// Threads with calls in flight (never evicted or expired under them).
    pub pins: Mutex<Pins>,
    /// The figures of the last committed batch.
    pub figures: Mutex<Figures>,
    /// SQLite's page cache in use, bytes.
    pub cache_used: AtomicU64,
}

impl Shared {
    pub(super) fn pins(&self) -> MutexGuard<'_, Pins> {
        self.pins
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    pub(super) fn figures(&self) -> MutexGuard<'_, Figures> {
        self.figures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A store error for the file at `path`, with advice that fits the cause.
pub(super) fn store_error(path: &Path, message: String) -> StoreError {
    let dir = path.parent().unwrap_or(path).display();
    let advice = if message.contains("full") {
        format!(
            "The disk holding {dir} is full (or zen may not write more there): free space, or \
             lower CONVERSATION_MEMORY_LIMIT_MB. Earlier conversations are intact"
        )
    } else if message.contains("locked") || message.contains("busy") {
        "Another zen serve held the store's write lock too long; retry the call".to_string()
    } else {
        format!(
            "Check that {dir} is writable and its disk healthy (ZEN_DATA_DIR), or run with \
             ZEN_STORE=memory"
        )
    };
    StoreError {
        store: format!("sqlite {}", path.display()),
        message,
        advice,
    }
}

fn sql_error(path: &Path, err: &rusqlite::Error) -> StoreError {
    let full = matches!(err.sqlite_error_code(), Some(ErrorCode::DiskFull));
    let message = if full {
        format!("the disk is full ({err})")
    } else {
        err.to_string()
    };
    store_error(path, message)
}

/// Start the worker thread.
pub(super) fn spawn(
    mut conn: Connection,
    mut rx: mpsc::Receiver<Op>,
    shared: std::sync::Arc<Shared>,
    limits: StoreLimits,
    path: PathBuf,
) -> anyhow::Result<()> {
    // Check the totals against the tables, then read them so the snapshot is right before the
    // first write.
    {
        let tx = conn.transaction()?;
        totals::check_on_open(&tx, &path)?;
        totals::read(&tx, &mut shared.figures(), &path)?;
        tx.commit()?;
        let mut f = shared.figures();
        f.peak = f.bytes;
    }
    std::thread::Builder::new()
        .name("zen-store".into())
        .spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            let mut cleaner = Cleaner::default();
            let mut wal = checkpoint::Truncation::new(&path);
            loop {
                // With cleanup work left, take what is queued (maybe nothing) and go on.
                let first = if cleaner.busy() {
                    match rx.try_recv() {
                        Ok(op) => Some(op),
                        Err(mpsc::error::TryRecvError::Empty) => None,
                        Err(mpsc::error::TryRecvError::Disconnected) => return,
                    }
                } else {
                    match rx.blocking_recv() {
                        Some(op) => Some(op),
                        None => return,
                    }
                };
                batch.extend(first);
                while batch.len() < BATCH {
                    match rx.try_recv() {
                        Ok(op) => batch.push(op),
                        Err(_) => break,
                    }
                }
                let mut worker = Batch {
                    shared: &shared,
                    limits: &limits,
                    path: &path,
                    cleaner: &mut cleaner,
                };
                worker.run(&mut conn, &mut batch);
                wal.truncate_if_big(&conn);
            }
        })?;
    Ok(())
}

/// An answer held until the batch commits.
enum Answer {
    Thread(
        oneshot::Sender<Result<Option<Thread>, StoreError>>,
        Result<Option<Thread>, StoreError>,
    ),
    Append(
        oneshot::Sender<Result<AppendReport, StoreError>>,
        Result<AppendReport, StoreError>,
    ),
    Count(
        oneshot::Sender<Result<u64, StoreError>>,
        Result<u64, StoreError>,
    ),
}

impl Answer {
    /// Deliver; a failed commit turns every answer into that error.
    fn send(self, failed: Option<&StoreError>) {
        macro_rules! give {
            ($tx:expr, $r:expr) => {{
                let _ = $tx.send(match failed {
                    Some(e) => Err(e.clone()),
                    None => $r,
                });
            }};
        }
        match self {
            Answer::Thread(tx, r) => give!(tx, r),
            Answer::Append(tx, r) => give!(tx, r),
            Answer::Count(tx, r) => give!(tx, r),
        }
    }
}

/// What a write transaction needs besides the connection and its calls.
struct Batch<'a> {
    /// Pins, figures and the cache reading, shared with the async side.
    shared: &'a Shared,
    /// Budget, threshold, thread share, TTL.
    limits: &'a StoreLimits,
    /// The file, for error messages.
    path: &'a Path,
    /// The cleanup under way, carried from one transaction to the next.
    cleaner: &'a mut Cleaner,
}

impl Batch<'_> {
    /// Run the queued calls and a slice of the cleanup in one transaction, then answer.
    fn run(&mut self, conn: &mut Connection, batch: &mut Vec<Op>) {
        let (shared, limits, path) = (self.shared, self.limits, self.path);
        let mut figures = shared.figures().clone();
        let mut answers = Vec::with_capacity(batch.len());
        let committed = (|| -> rusqlite::Result<()> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            totals::read(&tx, &mut figures, path)?;
            let read = (figures.bytes, figures.threads, figures.touch);
            for op in batch.drain(..) {
                answers.extend(self.run_one(&tx, op, &mut figures));
            }
            self.cleaner.crossed(&mut figures, limits);
            self.slice(&tx, &mut figures)?;
            if (figures.bytes, figures.threads, figures.touch) != read {
                totals::write(&tx, &figures)?;
            }
            tx.commit()
        })();
        let failed = committed.err().map(|e| {
            tracing::warn!(error = %e, "conversation store: a write batch failed");
            sql_error(path, &e)
        });
        // Ops not reached when the transaction could not even begin still get their answer.
        for op in batch.drain(..) {
            let placeholder = store_error(path, "the batch could not start".into());
            answers.push(unreached(op, &placeholder));
        }
        let mut trim = false;
        if failed.is_none() {
            *shared.figures() = figures;
        }
        shared
            .cache_used
            .store(zen_os::ffi::sqlite_cache_used(conn), Ordering::Relaxed);
        for answer in answers {
            answer.send(failed.as_ref());
        }
        if let Some(e) = &failed {
            self.cleaner.abandon(e);
        } else {
            trim = self
                .cleaner
                .finish()
                .is_some_and(|removed| removed >= TRIM_AFTER_REMOVED);
        }
        // After the answers: the callers do not wait for it (this thread does, between batches).
        if trim {
            zen_os::ffi::release_free_memory();
        }
    }

    /// Run one op under its own savepoint: its failure rolls back only its own writes.
    /// A slice of the cleanup under way, under its own savepoint: its failure fails only it
    /// (the cleanup stops, logged), never the calls in the same transaction.
    fn slice(&mut self, tx: &Transaction<'_>, figures: &mut Figures) -> rusqlite::Result<()> {
        if !self.cleaner.busy() {
            return Ok(());
        }
        run_cached(tx, "SAVEPOINT slice")?;
        let before = figures.clone();
        let pins = self.shared.pins().clone();
        if let Err(e) = self.cleaner.step(tx, self.limits, &pins, figures) {
            tracing::warn!(error = %e, "conversation store: a cleanup failed; the next one starts over");
            run_cached(tx, "ROLLBACK TO slice")?;
            *figures = before;
            self.cleaner.abandon(&sql_error(self.path, &e));
        }
        run_cached(tx, "RELEASE slice")
    }

    fn run_one(&mut self, tx: &Transaction<'_>, op: Op, figures: &mut Figures) -> Option<Answer> {
        let (shared, limits, path) = (self.shared, self.limits, self.path);
        let before = figures.clone();
        // A named savepoint through cached statements: parsed once, not per operation.
        if let Err(e) = run_cached(tx, "SAVEPOINT op") {
            return Some(unreached(op, &sql_error(path, &e)));
        }
        let sp: &Connection = tx;
        let pins = shared.pins().clone();
        let answer = match op {
            Op::Checkout {
                id,
                expired_before_ms,
                reply,
            } => {
                let others = pins.get(&id).is_some_and(|n| *n > 1);
                let r = reads::checkout(sp, id, expired_before_ms, others, figures);
                Answer::Thread(reply, r.map_err(|e| sql_error(path, &e)))
            }
            Op::Append { input, reply } => {
                let r = ops::append(sp, &input, limits, &pins, figures);
                Answer::Append(reply, r.map_err(|e| sql_error(path, &e)))
            }
            Op::Cleanup {
                force,
                expired_before_ms,
                reply,
            } => {
                // Answered when the cleanup ends, after the slices it takes.
                self.cleaner.request(Request {
                    force,
                    expired_before_ms,
                    reply,
                });
                let _ = run_cached(tx, "RELEASE op");
                return None;
            }
            Op::ReleaseMemory { reply } => {
                let r = sp.execute_batch("PRAGMA shrink_memory").map(|()| 0);
                Answer::Count(reply, r.map_err(|e| sql_error(path, &e)))
            }
        };
        let ok = match &answer {
            Answer::Thread(_, r) => r.is_ok(),
            Answer::Append(_, r) => r.is_ok(),
            Answer::Count(_, r) => r.is_ok(),
        };
        if !ok {
            let _ = run_cached(tx, "ROLLBACK TO op");
            *figures = before;
        }
        let _ = run_cached(tx, "RELEASE op");
        Some(answer)
    }
}

/// An op whose batch failed before it ran: its answer is the batch's error.
fn unreached(op: Op, error: &StoreError) -> Answer {
    let e = || error.clone();
    match op {
        Op::Checkout { reply, .. } => Answer::Thread(reply, Err(e())),
        Op::Append { reply, .. } => Answer::Append(reply, Err(e())),
        Op::Cleanup { reply, .. } | Op::ReleaseMemory { reply } => Answer::Count(reply, Err(e())),
    }
}

/// Run a statement that returns no rows, from the statement cache.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}
