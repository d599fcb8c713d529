//! Cleanups in short transactions. A cleanup at a 512 MiB budget removes a fifth of some
//! 600 000 threads; run as one operation it held the writer for tens of seconds at full rate
//! (calls unanswered, timing out at 60 s, and the WAL growing past its cap). Here a cleanup is
//! state the worker carries from one transaction to the next: each write transaction, after
//! the calls queued, walks a bounded slice of it ([`STEP_ROWS`] rows, [`STEP_TIME`]), and the
//! worker serves what was queued meanwhile before the next slice. A small store's cleanup
//! still ends in the transaction that started it ([`STEP_MIN_ROWS`]).
//!
//! Two things start one: an append that crossed the budget (it evicted just enough to fit,
//! ops.rs; the cleanup then goes down to the threshold, at least 20% of the threads), and the
//! Cleanup operation (expiry, then eviction past the threshold or when forced), whose answer
//! waits for the cleanup's end. A cleanup never evicts a thread updated after it started.
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::super::StoreError;
use super::super::budget::{StoreLimits, cleanup_done, min_evictions};
use super::ops::{Figures, Pins, delete_thread};
use super::walk::{Bound, Step, walk};
use zen_model::snapshot::Cause;

/// Rows one transaction's slice of a cleanup looks at, at most.
const STEP_ROWS: u64 = 2048;
/// Rows a slice always looks at before its deadline counts.
const STEP_MIN_ROWS: u64 = 128;
/// How long a slice may hold the writer (past its first [`STEP_MIN_ROWS`] rows).
const STEP_TIME: Duration = Duration::from_millis(20);

/// Where a Cleanup operation's answer goes: the threads it removed.
pub(super) type Reply = oneshot::Sender<Result<u64, StoreError>>;

/// A Cleanup operation waiting for its turn.
pub(super) struct Request {
    /// Evict at least 20% even under the threshold (the watchdog).
    pub force: bool,
    /// Threads updated at or before this are expired.
    pub expired_before_ms: u64,
    /// Answered when the cleanup ends.
    pub reply: Reply,
}

/// What a cleanup is doing now.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Removing threads updated at or before `before_ms`.
    Expiry { before_ms: u64 },
    /// Evicting until `min_count` went and the bytes are at or under `target`.
    Pressure { min_count: u64, target: u64 },
}

/// A cleanup under way.
#[derive(Debug, Clone, Copy)]
struct Progress {
    /// Why it runs (for the snapshot).
    cause: Cause,
    /// Evict even under the threshold.
    force: bool,
    /// Its current phase.
    phase: Phase,
    /// The last LRU touch dealt with in this phase (the walk resumes after it).
    after: i64,
    /// Threads removed in this phase.
    deleted_in_phase: u64,
    /// The newest touch it may remove: threads updated since are left alone.
    newest: i64,
    /// Threads removed in all.
    evicted: u64,
    /// When it started (the snapshot's duration spans all its slices).
    started: Instant,
    /// Over: answer and record it after the commit.
    done: bool,
}

/// The worker's cleanups: the one under way and the requests waiting.
#[derive(Default)]
pub(super) struct Cleaner {
    /// The cleanup under way, and whom to answer at its end.
    run: Option<(Progress, Option<Reply>)>,
    /// Cleanup operations queued behind it.
    queued: VecDeque<Request>,
}

impl Cleaner {
    /// Is there cleanup work left (the worker then does not wait for calls)?
    pub(super) fn busy(&self) -> bool {
        self.run.is_some() || !self.queued.is_empty()
    }

    /// A Cleanup operation: it starts when the cleanup under way (if any) ends.
    pub(super) fn request(&mut self, request: Request) {
        self.queued.push_back(request);
    }

    /// A slice failed, or the transaction it was in: the cleanup under way stops there and
    /// its caller gets the error (a cleanup that failed once is not retried in a loop: the next
    /// crossing of the budget, or the next Cleanup operation, starts another).
    pub(super) fn abandon(&mut self, error: &StoreError) {
        if let Some((_, Some(reply))) = self.run.take() {
            let _ = reply.send(Err(error.clone()));
        }
    }

    /// After the calls of a transaction: start (or extend) a cleanup for an append that
    /// crossed the budget.
    pub(super) fn crossed(&mut self, figures: &mut Figures, limits: &StoreLimits) {
        let Some((fitted, touch_before)) = figures.crossed.take() else {
            return;
        };
        if let Some((p, _)) = &mut self.run {
            p.evicted += fitted;
            if matches!(p.phase, Phase::Pressure { .. }) {
                p.deleted_in_phase += fitted;
            }
            return;
        }
        let progress = Progress {
            cause: Cause::Pressure,
            force: false,
            phase: Phase::Pressure {
                min_count: min_evictions(figures.threads) as u64,
                target: limits.threshold_bytes(),
            },
            after: i64::MIN,
            deleted_in_phase: fitted,
            newest: i64::try_from(touch_before).unwrap_or(i64::MAX),
            evicted: fitted,
            started: Instant::now(),
            done: false,
        };
        self.start(progress, None);
    }

    fn start(&mut self, progress: Progress, reply: Option<Reply>) {
        self.run = Some((progress, reply));
    }

    /// One bounded slice of the cleanup under way (or of the next request), in `tx`.
    pub(super) fn step(
        &mut self,
        tx: &Connection,
        limits: &StoreLimits,
        pins: &Pins,
        figures: &mut Figures,
    ) -> rusqlite::Result<()> {
        if self.run.is_none() {
            let Some(r) = self.queued.pop_front() else {
                return Ok(());
            };
            let progress = Progress {
                cause: Cause::Expiry,
                force: r.force,
                phase: Phase::Expiry {
                    before_ms: r.expired_before_ms,
                },
                after: i64::MIN,
                deleted_in_phase: 0,
                newest: i64::try_from(figures.touch).unwrap_or(i64::MAX),
                evicted: 0,
                started: Instant::now(),
                done: false,
            };
            self.start(progress, Some(r.reply));
        }
        let Some((p, _)) = &mut self.run else {
            return Ok(());
        };
        let bound = Bound {
            rows: STEP_ROWS,
            min_rows: STEP_MIN_ROWS,
            until: Instant::now() + STEP_TIME,
        };
        while !p.done {
            let finished = slice(tx, p, bound, pins, figures)?;
            if !finished {
                break;
            }
            next_phase(p, limits, figures);
        }
        Ok(())
    }

    /// After a committed transaction: answer a cleanup that ended, and say how many it removed.
    pub(super) fn finish(&mut self) -> Option<u64> {
        if !self.run.as_ref().is_some_and(|(p, _)| p.done) {
            return None;
        }
        let (progress, reply) = self.run.take()?;
        if let Some(reply) = reply {
            let _ = reply.send(Ok(progress.evicted));
        }
        Some(progress.evicted)
    }
}

/// Walk one slice of the current phase; true when the phase is over.
fn slice(
    tx: &Connection,
    p: &mut Progress,
    bound: Bound,
    pins: &Pins,
    figures: &mut Figures,
) -> rusqlite::Result<bool> {
    let (newest, base, phase) = (p.newest, p.deleted_in_phase, p.phase);
    let decide = |seen: &super::walk::Seen, f: &Figures, deleted: u64| {
        let enough = match phase {
            Phase::Expiry { before_ms } => seen.updated_ms > before_ms,
            Phase::Pressure { min_count, target } => {
                base + deleted >= min_count && f.bytes <= target
            }
        };
        if enough || seen.touch > newest {
            Step::Stop
        } else if seen.pinned(pins) {
            Step::Skip
        } else {
            Step::Delete
        }
    };
    let (deleted, finished) = walk(tx, figures, &mut p.after, bound, decide, delete_thread)?;
    match phase {
        Phase::Expiry { .. } => figures.evictions.expiry += deleted,
        Phase::Pressure { .. } => figures.evictions.pressure += deleted,
    }
    p.deleted_in_phase += deleted;
    p.evicted += deleted;
    Ok(finished)
}

/// A phase ended: expiry goes on to eviction past the threshold (or when forced); eviction
/// ends the cleanup, recorded in the figures committed with it.
fn next_phase(p: &mut Progress, limits: &StoreLimits, figures: &mut Figures) {
    let over = figures.bytes > limits.threshold_bytes();
    if matches!(p.phase, Phase::Expiry { .. }) && (over || p.force) {
        p.cause = if p.force {
            Cause::Watchdog
        } else {
            Cause::Pressure
        };
        p.phase = Phase::Pressure {
            min_count: min_evictions(figures.threads) as u64,
            target: if over {
                limits.threshold_bytes()
            } else {
                u64::MAX
            },
        };
        p.after = i64::MIN;
        p.deleted_in_phase = 0;
        return;
    }
    p.done = true;
    figures.cleanups += 1;
    figures.last_cleanup = Some(cleanup_done(p.cause, p.started, p.evicted, figures.bytes));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration as D;

    /// A store of `n` threads of 100 bytes, in LRU order, and its figures.
    fn store(n: i64) -> (tempfile::TempDir, Connection, Figures) {
        let dir = tempfile::tempdir().unwrap();
        let conn = super::super::schema::open(&dir.path().join("t.sqlite3"), 1 << 20).unwrap();
        conn.execute_batch("BEGIN").unwrap();
        {
            let mut insert = conn
                .prepare("INSERT INTO threads VALUES (?1, 1, 1, 2, 0, 100, 'chat', NULL, 'hi', ?2)")
                .unwrap();
            for touch in 1..=n {
                insert
                    .execute(rusqlite::params![format!("t{touch}"), touch])
                    .unwrap();
            }
        }
        conn.execute_batch("COMMIT").unwrap();
        let figures = Figures {
            bytes: 100 * n as u64,
            threads: n as u64,
            touch: n as u64,
            ..Figures::default()
        };
        (dir, conn, figures)
    }

    fn limits(budget_bytes: u64) -> StoreLimits {
        StoreLimits {
            budget_bytes,
            threshold: 0.8,
            thread_max_bytes: budget_bytes / 10,
            ttl: D::from_secs(3600),
        }
    }

    #[test]
    fn a_large_cleanup_takes_several_bounded_slices_and_counts_every_thread() {
        let n = 20_000;
        let (_dir, conn, mut figures) = store(n);
        let limits = limits(100 * n as u64);
        figures.crossed = Some((0, n as u64));
        let mut cleaner = Cleaner::default();
        cleaner.crossed(&mut figures, &limits);
        let mut slices = 0;
        while cleaner.finish().is_none() {
            let before = figures.evictions.pressure;
            cleaner
                .step(&conn, &limits, &Pins::new(), &mut figures)
                .unwrap();
            assert!(
                figures.evictions.pressure - before <= STEP_ROWS,
                "a slice past its rows"
            );
            slices += 1;
        }
        // A fifth of the threads (4 000) went, in at least two slices, and all are counted.
        assert!(slices >= 2, "{slices} slices");
        assert_eq!(figures.evictions.pressure, 4_000);
        assert_eq!(figures.threads, 16_000);
        assert!(figures.bytes <= limits.threshold_bytes());
        assert_eq!(figures.cleanups, 1);
        let left: i64 = conn
            .query_row("SELECT count(*) FROM threads", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 16_000);
        // The oldest went first.
        let oldest: i64 = conn
            .query_row("SELECT min(touch) FROM threads", [], |r| r.get(0))
            .unwrap();
        assert_eq!(oldest, 4_001);
    }

    #[test]
    fn a_forced_cleanup_is_answered_at_its_end_with_what_it_removed() {
        let (_dir, conn, mut figures) = store(100);
        let limits = limits(100 * 100);
        let (reply, mut answer) = oneshot::channel();
        let mut cleaner = Cleaner::default();
        cleaner.request(Request {
            force: true,
            expired_before_ms: 0,
            reply,
        });
        cleaner
            .step(&conn, &limits, &Pins::new(), &mut figures)
            .unwrap();
        assert!(answer.try_recv().is_err(), "answered before its commit");
        assert_eq!(
            cleaner.finish(),
            Some(20),
            "a small cleanup ends in one slice"
        );
        assert_eq!(answer.try_recv().unwrap().unwrap(), 20);
        assert_eq!(figures.last_cleanup.unwrap().cause, Cause::Watchdog);
        assert!(!cleaner.busy());
    }
}
