//! Every call zen makes into C, each behind a safe function with the reason it is sound. This is
//! the only module of the workspace that may use `unsafe` (the workspace lints deny it elsewhere).
#![allow(unsafe_code)]

/// This process's real user id (names the per-user discovery directory).
#[cfg(unix)]
pub fn user_id() -> u32 {
    // SAFETY: getuid takes no arguments, touches no memory of ours and cannot fail.
    unsafe { libc::getuid() }
}

/// Ask process `pid` to stop (SIGTERM), as a spawned server is asked before it is waited for.
/// Returns false when the signal could not be sent (no such process, or not ours).
#[cfg(unix)]
pub fn terminate(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill(2) reads no memory of ours; a pid that is not ours fails with EPERM.
    unsafe { libc::kill(pid, libc::SIGTERM) == 0 }
}

/// Kill every process of process group `pgid` (SIGKILL): a child started as its own group's
/// leader, and whatever it started. Returns false when nothing was signalled (the group is gone,
/// or `pgid` is 0 or 1, which would name our own group or every process).
#[cfg(unix)]
pub fn kill_process_group(pgid: u32) -> bool {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return false;
    };
    if pgid <= 1 {
        return false;
    }
    // SAFETY: kill(2) with a negative pid signals that process group; it reads no memory of
    // ours, and the check above keeps it from ever naming our own group (0) or all processes.
    unsafe { libc::kill(-pgid, libc::SIGKILL) == 0 }
}

/// CPU seconds (user + system) this process has used; 0 when the kernel does not say.
pub fn own_cpu_secs() -> f64 {
    #[cfg(unix)]
    {
        // SAFETY: rusage is plain data, so all-zero is a valid value of it.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: getrusage only writes into the struct we pass, which outlives the call.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &raw mut usage) } == 0 {
            let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
            return t(usage.ru_utime) + t(usage.ru_stime);
        }
    }
    0.0
}

/// Raise the soft RLIMIT_NOFILE to the hard limit, as servers do; returns the soft limit now.
#[cfg(not(unix))]
pub fn raise_open_file_limit() -> u64 {
    1024
}

/// Raise the soft RLIMIT_NOFILE to the hard limit, as servers do; returns the soft limit now.
#[cfg(unix)]
pub fn raise_open_file_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes into the struct passed, which outlives the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) } != 0 {
        return 1024;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct passed, which outlives the call.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raw const raised) } == 0 {
            limit.rlim_cur = limit.rlim_max;
        }
    }
    limit.rlim_cur
}

/// Ignore SIGXFSZ, so a file-size limit (RLIMIT_FSIZE) fails a write instead of killing zen.
pub fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN touches no memory of ours.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Hand memory freed to glibc's free lists back to the OS, so RSS falls after a large cleanup.
/// Blocks while it walks the heap: call it off the async runtime.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// SQLite's page cache in use by this connection, bytes (rusqlite has no safe call for it).
pub fn sqlite_cache_used(conn: &rusqlite::Connection) -> u64 {
    let (mut current, mut high) = (0, 0);
    // SAFETY: the handle is valid for the connection's life, which spans this call;
    // sqlite3_db_status only writes into the two integers we pass.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_db_status(
            conn.handle(),
            rusqlite::ffi::SQLITE_DBSTATUS_CACHE_USED,
            &raw mut current,
            &raw mut high,
            0,
        )
    };
    if rc == 0 { current.max(0) as u64 } else { 0 }
}

/// Open `path` for reading without following a symlink in its last component (a symlink there
/// fails with ELOOP) and without blocking on a FIFO or device that has no writer (O_NONBLOCK,
/// which does nothing to a regular file's reads). No unsafe: std passes the flags to open(2).
#[cfg(unix)]
pub fn open_no_follow(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

/// Was this error an open refused because the path is a symlink (ELOOP under O_NOFOLLOW)?
#[cfg(unix)]
pub fn is_symlink_refusal(err: &std::io::Error) -> bool {
    err.raw_os_error() == Some(libc::ELOOP)
}

/// What the C allocator holds, from glibc's `mallinfo2` (all arenas): the figures that tell
/// memory in use from memory freed but kept (free lists, fragmentation) inside RSS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeapStats {
    /// Bytes in allocated blocks: what the program holds now.
    pub in_use_bytes: u64,
    /// Bytes freed but kept by the allocator (its free lists): resident when touched, returned
    /// to the OS only by trimming.
    pub free_bytes: u64,
    /// Of the bytes in use, those in blocks the allocator mapped on their own (large ones).
    pub mmap_bytes: u64,
    /// Bytes the allocator has taken from the OS in its arenas (in use plus free, minus mmap).
    pub arena_bytes: u64,
}

/// The C allocator's figures now; `None` where the allocator does not say (not glibc).
/// Takes each arena's lock briefly: call it about once a second, not per request.
pub fn heap_stats() -> Option<HeapStats> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 takes no arguments and returns a plain struct by value.
        let m = unsafe { libc::mallinfo2() };
        Some(HeapStats {
            in_use_bytes: (m.uordblks + m.hblkhd) as u64,
            free_bytes: m.fordblks as u64,
            mmap_bytes: m.hblkhd as u64,
            arena_bytes: m.arena as u64,
        })
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}

/// Ask SQLite to keep all its memory in this process under `bytes`: past it, it frees page
/// cache pages before allocating more (a soft limit: a transaction's pinned pages still fit).
pub fn sqlite_soft_heap_limit(bytes: u64) {
    let limit = i64::try_from(bytes).unwrap_or(i64::MAX);
    // SAFETY: sqlite3_soft_heap_limit64 takes a plain integer and touches no memory of ours.
    unsafe {
        rusqlite::ffi::sqlite3_soft_heap_limit64(limit);
    }
}

/// All the memory SQLite holds in this process (every connection's page cache, schemas,
/// statements, scratch), bytes: (now, the highest since start).
pub fn sqlite_memory_used() -> (u64, u64) {
    let (mut current, mut high) = (0i64, 0i64);
    // SAFETY: sqlite3_status64 only writes into the two integers we pass, which outlive the
    // call; SQLITE_STATUS_MEMORY_USED is a valid operation code.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_status64(
            rusqlite::ffi::SQLITE_STATUS_MEMORY_USED,
            &raw mut current,
            &raw mut high,
            0,
        )
    };
    if rc == 0 {
        (current.max(0) as u64, high.max(0) as u64)
    } else {
        (0, 0)
    }
}
