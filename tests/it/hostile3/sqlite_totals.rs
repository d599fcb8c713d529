//! Item 6: the SQLite `totals` row was trusted. Edited to a negative byte count, one chat
//! evicted 299 of 300 threads and the snapshot showed 18 446 744 073 709 551 312 threads; set
//! to 0, the budget silently stopped being enforced. The row is edited here in the real file,
//! between runs and while zen runs, and zen repairs it from the tables, says so, and keeps the
//! budget.
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::{ADDRESS_SPACE_MB, cap_memory, within};
use crate::store_sqlite::signal_and_wait;
use crate::util::{StdioZen, call, is_error, snapshot, stdio_zen_with, text, wait_for};

/// zen serve on `data` with a fast simulated provider and `budget_mb` of conversations.
async fn zen_on(data: &Path, budget_mb: &str) -> StdioZen {
    let data = data.display().to_string();
    let env = [
        ("ZEN_DATA_DIR", data.as_str()),
        ("ZEN_SIM_LATENCY_MS", "0"),
        ("CONVERSATION_MEMORY_LIMIT_MB", budget_mb),
    ];
    stdio_zen_with(&[], &env, |cmd| cap_memory(cmd, ADDRESS_SPACE_MB)).await
}

/// Overwrite the totals row of the store in `data`, as an editor (or a faulty copy) would.
fn edit_totals(data: &Path, set: &str) {
    let db = rusqlite::Connection::open(data.join("conversations.sqlite3")).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    db.execute_batch(&format!("UPDATE totals SET {set} WHERE id = 1"))
        .unwrap();
}

fn store(snap: &Value) -> (u64, u64, u64) {
    let c = &snap["conversations"];
    (
        c["threads"].as_u64().unwrap(),
        c["bytes"].as_u64().unwrap(),
        c["evictions"]["pressure"].as_u64().unwrap(),
    )
}

async fn chat(zen: &StdioZen, prompt: impl Into<String>) {
    let prompt: String = prompt.into();
    let r = call(&zen.client, "chat", json!({ "prompt": prompt })).await;
    assert!(!is_error(&r), "{}", text(&r));
}

#[tokio::test]
async fn an_edited_totals_row_is_repaired_from_the_tables_and_the_budget_still_holds() {
    let data = tempfile::tempdir().unwrap();
    let first = zen_on(data.path(), "512").await;
    let filler = "x".repeat(5000);
    for batch in 0..15 {
        let calls = (0..20).map(|i| chat(&first, format!("thread {batch}-{i} {filler}")));
        within(
            "20 chats",
            Duration::from_secs(60),
            futures::future::join_all(calls),
        )
        .await;
    }
    let (threads, bytes, _) = store(&snapshot(&first.client).await);
    assert_eq!(threads, 300);
    signal_and_wait(first.pid, libc::SIGTERM).await;

    // Between runs: a negative byte count and thread count.
    edit_totals(data.path(), "bytes = -1000000, threads = -304");
    let second = zen_on(data.path(), "512").await;
    chat(&second, "one more").await;
    let (threads, after, evicted) = store(&snapshot(&second.client).await);
    assert_eq!(
        (threads, evicted),
        (301, 0),
        "one chat must not evict anything"
    );
    assert!(
        after > bytes && after < bytes + 10_000,
        "{after} bytes after, {bytes} before"
    );
    assert!(
        second.stderr.text().contains("totals row disagreed"),
        "{}",
        second.stderr.text()
    );
    // While it runs: zero threads and bytes, as if the store were empty.
    edit_totals(data.path(), "bytes = 0, threads = 0");
    chat(&second, "and another").await;
    let (threads, _, evicted) = store(&snapshot(&second.client).await);
    assert_eq!((threads, evicted), (302, 0));
    signal_and_wait(second.pid, libc::SIGTERM).await;

    // Zeroed again, then a budget of 1 MB under the ~1.7 MB stored: it is enforced at once.
    edit_totals(data.path(), "bytes = 0, threads = 0");
    let third = zen_on(data.path(), "1").await;
    chat(&third, "over budget now").await;
    let (threads, bytes, evicted) = store(&snapshot(&third.client).await);
    assert!(
        bytes <= 1024 * 1024,
        "{bytes} bytes stored under a 1 MiB budget"
    );
    assert!(
        evicted > 0 && threads < 302,
        "{threads} threads, {evicted} evicted"
    );
    wait_for(
        "the repair to be logged",
        Duration::from_secs(5),
        async || third.stderr.text().contains("totals row disagreed"),
    )
    .await;
}
