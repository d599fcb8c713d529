//! The `totals` row (stored bytes, threads, the last LRU touch) is the budget's running sum:
//! every batch reads it (another zen may share the file) and writes it back. It is a number
//! from a file, and it was trusted: edited to a negative byte count, one chat evicted 299 of
//! 300 threads and the snapshot showed 18 446 744 073 709 551 312 threads; set to 0, the budget
//! silently stopped being enforced. So it is checked where it enters: against the tables when
//! the store opens, and for what cannot be right (negative, zero while threads exist, a touch
//! behind the newest thread's) at every batch, in O(1) through the indexes; a wrong row is
//! recomputed from the tables, written back, and logged.
use std::path::Path;

use rusqlite::{Connection, params};

use super::ops::Figures;

/// The row's three figures as stored (signed: SQLite integers are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Totals {
    bytes: i64,
    threads: i64,
    touch: i64,
}

/// When the store opens: the row against the tables, repaired (with a warning) if they differ.
pub(super) fn check_on_open(conn: &Connection, path: &Path) -> rusqlite::Result<()> {
    let row = row(conn)?;
    let real = from_tables(conn)?;
    if row != real {
        repair(conn, row, real, path)?;
    }
    Ok(())
}

/// The row into `figures`, at the start of a batch; recomputed first if it cannot be right.
pub(super) fn read(tx: &Connection, figures: &mut Figures, path: &Path) -> rusqlite::Result<()> {
    let mut totals = row(tx)?;
    if !plausible(tx, totals)? {
        let real = from_tables(tx)?;
        repair(tx, totals, real, path)?;
        totals = real;
    }
    figures.bytes = totals.bytes.max(0) as u64;
    figures.threads = totals.threads.max(0) as u64;
    figures.touch = totals.touch.max(0) as u64;
    Ok(())
}

/// Write the figures back once per batch (the ops keep them in memory meanwhile).
pub(super) fn write(tx: &Connection, figures: &Figures) -> rusqlite::Result<()> {
    let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    tx.execute(
        "UPDATE totals SET bytes = ?1, threads = ?2, touch = ?3 WHERE id = 1",
        params![
            clamp(figures.bytes),
            clamp(figures.threads),
            clamp(figures.touch)
        ],
    )?;
    Ok(())
}

fn row(conn: &Connection) -> rusqlite::Result<Totals> {
    conn.prepare_cached("SELECT bytes, threads, touch FROM totals WHERE id = 1")?
        .query_row([], |r| {
            Ok(Totals {
                bytes: r.get(0)?,
                threads: r.get(1)?,
                touch: r.get(2)?,
            })
        })
}

/// What the tables hold: a scan of the threads table (at open, and when the row is wrong).
fn from_tables(conn: &Connection) -> rusqlite::Result<Totals> {
    conn.query_row(
        "SELECT coalesce(sum(max(bytes, 0)), 0), count(*), coalesce(max(touch), 0) FROM threads",
        [],
        |r| {
            Ok(Totals {
                bytes: r.get(0)?,
                threads: r.get(1)?,
                touch: r.get(2)?,
            })
        },
    )
}

/// Can the row be right? Checked through the indexes only (one probe each), so every batch can
/// afford it: a two-instance store keeps working without a scan per batch.
fn plausible(conn: &Connection, t: Totals) -> rusqlite::Result<bool> {
    if t.bytes < 0 || t.threads < 0 || t.touch < 0 {
        return Ok(false);
    }
    let (any, newest): (bool, i64) = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM threads), coalesce((SELECT max(touch) FROM threads), 0)",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok((t.threads > 0) == any && (t.bytes > 0) == any && t.touch >= newest)
}

fn repair(conn: &Connection, row: Totals, real: Totals, path: &Path) -> rusqlite::Result<()> {
    tracing::warn!(
        store = %path.display(),
        row_bytes = row.bytes,
        row_threads = row.threads,
        row_touch = row.touch,
        bytes = real.bytes,
        threads = real.threads,
        touch = real.touch,
        "the conversation store's totals row disagreed with its tables (edited, or written by \
         a faulty copy); recomputed from the tables and repaired"
    );
    conn.execute(
        "UPDATE totals SET bytes = ?1, threads = ?2, touch = ?3 WHERE id = 1",
        params![real.bytes, real.threads, real.touch],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        let conn = super::super::schema::open(&path, 1 << 20).unwrap();
        conn.execute_batch(
            "INSERT INTO threads VALUES ('a', 1, 1, 2, 0, 100, 'chat', NULL, 'hi', 5);
             INSERT INTO threads VALUES ('b', 1, 1, 2, 0, 50, 'chat', NULL, 'hi', 7);
             UPDATE totals SET bytes = 150, threads = 2, touch = 7;",
        )
        .unwrap();
        (dir, conn)
    }

    #[test]
    fn a_wrong_row_is_repaired_from_the_tables_and_a_right_one_kept() {
        let (dir, conn) = store();
        let path = dir.path().join("t.sqlite3");
        let mut f = Figures::default();
        read(&conn, &mut f, &path).unwrap();
        assert_eq!((f.bytes, f.threads, f.touch), (150, 2, 7));
        for edit in [
            "bytes = -1000000",
            "threads = -4",
            "bytes = 0",
            "threads = 0",
            "touch = 3",
        ] {
            conn.execute_batch(&format!("UPDATE totals SET {edit}"))
                .unwrap();
            let mut f = Figures::default();
            read(&conn, &mut f, &path).unwrap();
            assert_eq!((f.bytes, f.threads, f.touch), (150, 2, 7), "{edit}");
        }
        conn.execute_batch("UPDATE totals SET bytes = 9999")
            .unwrap();
        check_on_open(&conn, &path).unwrap();
        assert_eq!(row(&conn).unwrap(), from_tables(&conn).unwrap());
    }
}
