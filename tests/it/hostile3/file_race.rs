//! Item 2: file embedding checked a path, then read it by name, unbounded. Whoever can rename
//! files in a directory zen reads swapped an allowed file for a symlink between the check and
//! the read: 43 of 543 chats sent zen's whole environment to the provider, and a swap to
//! `/dev/zero` read until the allocation failed at 2.1 GB. Here a thread swaps the file for a
//! symlink to `/proc/self/environ`, one to `/dev/zero` and a FIFO, in a loop, while chats embed
//! it: the provider never sees zen's environment, every call is answered, memory stays flat.
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::json;

use super::{ADDRESS_SPACE_MB, assert_peak_below, cap_memory, within};
use crate::cluster_provider::FakeProvider;
use crate::util::{call, is_error, stdio_zen_with, text};

/// In zen's environment only: if the provider ever sees it, zen read its own environ.
const MARKER: &str = "zen-hostile-environ-marker-5150";

/// Make a FIFO at `path`.
fn mkfifo(path: &Path) -> bool {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: mkfifo reads the NUL-terminated path, which outlives the call.
    unsafe { libc::mkfifo(c.as_ptr(), 0o600) == 0 }
}

/// Replace `path` (atomically, by rename) with a regular file, a symlink to zen's environment,
/// a symlink to /dev/zero or a FIFO, in turn, until `stop`; returns how many swaps were made.
fn swap_in_a_loop(path: &Path, stop: &AtomicBool, swaps: &AtomicU64) {
    let tmp = path.with_extension("tmp");
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let _ = std::fs::remove_file(&tmp);
        let made = match i % 4 {
            0 => std::fs::write(&tmp, "harmless notes\n").is_ok(),
            1 => std::os::unix::fs::symlink("/proc/self/environ", &tmp).is_ok(),
            2 => std::os::unix::fs::symlink("/dev/zero", &tmp).is_ok(),
            _ => mkfifo(&tmp),
        };
        if made && std::fs::rename(&tmp, path).is_ok() {
            swaps.fetch_add(1, Ordering::Relaxed);
        }
        i += 1;
        // Half the time the regular file stays a moment, so checks often pass before a swap.
        if i % 4 == 1 {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

#[tokio::test]
async fn a_file_swapped_for_a_symlink_or_fifo_mid_read_never_reaches_the_provider() {
    let fake = FakeProvider::watching(Duration::ZERO, MARKER).await;
    let env = [
        ("CUSTOM_API_URL", fake.url.as_str()),
        ("ZEN_TEST_ENVIRON_MARKER", MARKER),
        ("ZEN_PROVIDER_LIMITS", "custom=16"),
    ];
    let zen = stdio_zen_with(&[], &env, |cmd| cap_memory(cmd, ADDRESS_SPACE_MB)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "harmless notes\n").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let swapper = {
        let (path, stop, swaps) = (path.clone(), stop.clone(), swaps.clone());
        std::thread::spawn(move || swap_in_a_loop(&path, &stop, &swaps))
    };
    let args = json!({"prompt": "summarise", "absolute_file_paths": [path.to_str().unwrap()]});
    let (mut embedded, mut skipped) = (0, 0);
    for _ in 0..60 {
        let batch = (0..8).map(|_| call(&zen.client, "chat", args.clone()));
        let results = within(
            "eight chats embedding the swapped file",
            Duration::from_secs(60),
            futures::future::join_all(batch),
        )
        .await;
        for result in results {
            let reply = text(&result);
            assert!(!is_error(&result), "{reply}");
            if reply.contains("skipped file") {
                skipped += 1;
            } else {
                embedded += 1;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    eprintln!(
        "{} swaps; {embedded} chats embedded the file, {skipped} skipped it; the provider saw \
         {} requests",
        swaps.load(Ordering::Relaxed),
        fake.total()
    );
    assert_eq!(fake.watched(), 0, "zen's environment reached the provider");
    assert!(embedded > 0 && skipped > 0, "the race never ran both ways");
    assert_peak_below(zen.pid, "after 480 chats on a swapped file", 300);
}
