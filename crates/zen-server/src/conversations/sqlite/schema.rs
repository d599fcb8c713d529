//! Opening the store's file: the data dir (mode 0700), refusing anything that is not a zen
//! store (never overwriting it), refusing a newer schema, migrating an older one, and the
//! pragmas that keep it fast and bounded (WAL, a page cache of a set size, no mmap).
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OpenFlags};

/// `PRAGMA application_id` of a zen store ("zen1"), so a foreign SQLite file is never taken
/// for ours.
pub(super) const APPLICATION_ID: i32 = 0x7A65_6E31;
/// The schema this build writes.
pub(super) const SCHEMA_VERSION: i32 = 1;
/// The store's file name in the data dir.
pub(crate) const FILE_NAME: &str = "conversations.sqlite3";

/// How long the writer waits for the file's write lock (held only by another zen serve on the
/// same file: this process's checkpoints never take it).
pub(super) const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Migrations: entry `i` takes a file from schema `i` to `i + 1` (0 is an empty file).
const MIGRATIONS: [&str; 1] = [r"
CREATE TABLE threads (
    id TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    turn_count INTEGER NOT NULL,
    dropped_turns INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    tool TEXT NOT NULL,
    model TEXT,
    first_prompt TEXT NOT NULL,
    touch INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX threads_by_touch ON threads(touch);
CREATE TABLE turns (
    thread_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    tool TEXT NOT NULL,
    model TEXT,
    timestamp_ms INTEGER NOT NULL,
    files TEXT,
    bytes INTEGER NOT NULL
);
CREATE UNIQUE INDEX turns_by_thread ON turns(thread_id, seq);
CREATE TABLE totals (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    bytes INTEGER NOT NULL,
    threads INTEGER NOT NULL,
    touch INTEGER NOT NULL
);
INSERT INTO totals VALUES (1, 0, 0, 0);
"];

/// Create the data dir (mode 0700) if needed.
pub(super) fn create_data_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    let created = {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    };
    #[cfg(not(unix))]
    let created = std::fs::create_dir_all(dir);
    created.with_context(|| {
        format!(
            "cannot create the data dir {}: set ZEN_DATA_DIR (or --data-dir) to a writable \
             directory, or run with ZEN_STORE=memory",
            dir.display()
        )
    })
}

/// Open (creating if new) the store at `path`, checked and migrated, with its pragmas set.
pub(super) fn open(path: &Path, cache_bytes: u64) -> Result<Connection> {
    refuse_non_sqlite(path)?;
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).with_context(|| {
        format!(
            "cannot open the conversation store {}: check that its directory is writable \
             (ZEN_DATA_DIR), or run with ZEN_STORE=memory",
            path.display()
        )
    })?;
    conn.busy_timeout(BUSY_WAIT)?;
    check_and_migrate(&mut conn, path)?;
    set_pragmas(&conn, cache_bytes).with_context(|| {
        format!(
            "cannot set up the conversation store {} (is its directory writable? zen needs to \
             create the -wal and -shm files beside it)",
            path.display()
        )
    })?;
    Ok(conn)
}

/// A non-empty file that does not start with SQLite's header is someone else's: refuse it.
fn refuse_non_sqlite(path: &Path) -> Result<()> {
    let Ok(mut file) = std::fs::File::open(path) else {
        return Ok(()); // absent: created below
    };
    let mut header = [0u8; 16];
    let read = file.read(&mut header).unwrap_or(0);
    if read == 0 || &header[..read.min(16)] == b"SQLite format 3\0" {
        return Ok(());
    }
    bail!(
        "{} is not a zen conversation store (it is not an SQLite database); zen will not \
         overwrite it: move it away, or point ZEN_DATA_DIR elsewhere",
        path.display()
    )
}

fn check_and_migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let corrupt = |e: rusqlite::Error| {
        anyhow::anyhow!(
            "{} is corrupt or not a zen conversation store ({e}); zen will not overwrite it: \
             move it away (keep it if it holds conversations you need), or point ZEN_DATA_DIR \
             elsewhere",
            path.display()
        )
    };
    let app_id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(corrupt)?;
    let version: i32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(corrupt)?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(corrupt)?;
    let empty = app_id == 0 && version == 0 && tables == 0;
    if !empty && app_id != APPLICATION_ID {
        bail!(
            "{} is an SQLite database but not a zen conversation store; zen will not overwrite \
             it: move it away, or point ZEN_DATA_DIR elsewhere",
            path.display()
        );
    }
    if version > SCHEMA_VERSION {
        bail!(
            "{} was written by a newer zen (store schema {version}; this zen reads up to \
             {SCHEMA_VERSION}): upgrade zen, or point ZEN_DATA_DIR elsewhere",
            path.display()
        );
    }
    migrate(conn, version).map_err(corrupt)?;
    let _: i64 = conn
        .query_row("SELECT bytes FROM totals WHERE id = 1", [], |r| r.get(0))
        .map_err(corrupt)?;
    Ok(())
}

/// Bring the file from `from` to [`SCHEMA_VERSION`], one transaction per step.
fn migrate(conn: &mut Connection, from: i32) -> rusqlite::Result<()> {
    for version in from..SCHEMA_VERSION {
        let tx = conn.transaction()?;
        tx.execute_batch(MIGRATIONS[version as usize])?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
    Ok(())
}

fn set_pragmas(conn: &Connection, cache_bytes: u64) -> Result<()> {
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        bail!("the store could not switch to WAL mode (got {mode})");
    }
    // WAL makes commits durable against a crash of zen (not of the machine) without an fsync
    // per commit; a kill -9 loses at most the transaction in flight.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Negative: KiB. The page cache is the store's RAM, bounded by ZEN_STORE_CACHE_MB; SQLite
    // spends about 8% on top of each cached page (measured: 17.3 MB used for a 16 MB setting),
    // and the allocator keeps some slack as the cache empties and refills (each WAL reset drops
    // it), so the pages get three quarters of it; a soft heap limit holds all of SQLite to the
    // whole (sqlite/mod.rs).
    let kib = (cache_bytes / 1024 * 3 / 4).max(64);
    conn.pragma_update(None, "cache_size", -(kib as i64))?;
    conn.pragma_update(None, "mmap_size", 0)?;
    conn.pragma_update(None, "temp_store", "FILE")?;
    // The WAL is cut back to this after each checkpoint, so it cannot grow with uptime.
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    // The checkpoint thread copies the WAL back (checkpoint.rs): the writer never stalls on it.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    Ok(())
}
