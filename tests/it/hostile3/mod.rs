//! Issue 25, "bounded under hostile input, round three": each test drives the real binary the
//! way the attack did (raw sockets, a symlink swapped in a loop, an SQLite file edited between
//! runs, a report file written by the test), under a memory cap and a time bound, and asserts
//! what a robust server does: answered on time, closed, refused with a clear error, never over
//! the limit.
use std::time::Duration;

use tokio::process::Command;

mod abandoned_calls;
mod delete_race;
mod duplicate_id;
mod file_race;
mod forged_lease;
mod key_echo;
mod redis_url;
mod report_files;
mod session_flood;
mod slow_body;
mod sqlite_totals;
mod telemetry_listener;
mod threads_query;
mod top_snapshot;

/// Address space a spawned zen may take: a runaway allocation fails at once (and the test with
/// it) instead of eating the machine's memory.
pub(crate) const ADDRESS_SPACE_MB: u64 = 2048;

/// Cap the address space of the process `cmd` starts.
pub(crate) fn cap_memory(cmd: &mut Command, mb: u64) {
    let bytes = mb * 1024 * 1024;
    // SAFETY: setrlimit between fork and exec touches only the child and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &raw const limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The peak resident memory of a process so far, in MB, printed and bounded.
pub(crate) fn assert_peak_below(pid: u32, what: &str, limit_mb: u64) {
    let peak = crate::hostile_provider::status_mb(pid, "VmHWM");
    eprintln!("{what}: zen peaked at {peak} MB resident");
    assert!(
        peak < limit_mb,
        "{what}: zen peaked at {peak} MB (bound {limit_mb} MB)"
    );
}

/// Run `fut`, failing the test if it takes longer than `limit`.
pub(crate) async fn within<T>(what: &str, limit: Duration, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, fut)
        .await
        .unwrap_or_else(|_| panic!("{what}: not done within {limit:?}"))
}
