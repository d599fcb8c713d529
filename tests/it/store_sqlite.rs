//! The SQLite store through the real binary: threads survive a restart and a kill -9; every bad
//! situation at start (a data dir that cannot be made or written, a corrupt, foreign or newer
//! file) is a clear exit 2 that leaves the file as it was; a disk that fills mid-run fails the
//! call clearly while zen keeps serving; two servers share one data dir; load runs never touch
//! the user's own store.
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{call, is_error, stdio_zen, text, wait_for, zen_command, zen_output};

/// Settings for a fast simulated provider on the given data dir.
fn env_for(data: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("ZEN_DATA_DIR", data.display().to_string()),
        ("ZEN_SIM_LATENCY_MS", "0".to_string()),
    ]
}

fn borrow<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Start a chat and return its continuation id.
async fn new_thread(client: &crate::util::Client, prompt: &str) -> String {
    let reply = call(client, "chat", json!({ "prompt": prompt })).await;
    assert!(!is_error(&reply), "{}", text(&reply));
    let structured = reply.structured_content.clone().unwrap();
    structured["continuation_id"].as_str().unwrap().to_string()
}

async fn continue_thread(client: &crate::util::Client, id: &str) -> rmcp::model::CallToolResult {
    call(
        client,
        "chat",
        json!({ "prompt": "and then?", "continuation_id": id }),
    )
    .await
}

pub(crate) fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

pub(crate) async fn signal_and_wait(pid: u32, signal: i32) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(pid as libc::pid_t, signal) };
    wait_for("zen to exit", Duration::from_secs(20), async || {
        !pid_alive(pid)
    })
    .await;
}

#[tokio::test]
async fn a_thread_started_before_sigterm_continues_after_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let env = env_for(data.path());
    let first = stdio_zen(&[], &borrow(&env)).await;
    let id = new_thread(&first.client, "remember the number 42").await;
    signal_and_wait(first.pid, libc::SIGTERM).await;

    let second = stdio_zen(&[], &borrow(&env)).await;
    let reply = continue_thread(&second.client, &id).await;
    assert!(!is_error(&reply), "{}", text(&reply));
    let structured = reply.structured_content.clone().unwrap();
    assert_eq!(structured["continuation_id"], json!(id));
    assert_eq!(structured["turns_left"], json!(46), "4 of 50 turns used");
    let listed = call(&second.client, "threads", json!({ "query": "number 42" })).await;
    let threads = listed.structured_content.clone().unwrap()["threads"].clone();
    assert_eq!(threads[0]["id"], json!(id), "{threads}");
    assert_eq!(threads[0]["turn_count"], json!(4));
    assert!(text(&listed).contains("continuation_id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_32_concurrent_writers_loses_at_most_the_turns_in_flight() {
    let data = tempfile::tempdir().unwrap();
    let env = env_for(data.path());
    let zen = stdio_zen(&[], &borrow(&env)).await;
    let mut earlier = Vec::new();
    for i in 0..5 {
        earlier.push(new_thread(&zen.client, &format!("earlier thread {i}")).await);
    }
    let peer = zen.client.peer().clone();
    let writers: Vec<_> = (0..32)
        .map(|w| {
            let peer = peer.clone();
            tokio::spawn(async move {
                for i in 0..100_000 {
                    let args = rmcp::object!({ "prompt": format!("storm {w} {i}") });
                    let call = rmcp::model::CallToolRequestParams::new("chat").with_arguments(args);
                    if peer.call_tool(call).await.is_err() {
                        return; // the server is gone
                    }
                }
            })
        })
        .collect();
    // Let the storm run until the store has taken a good number of writes.
    let file = data.path().join("conversations.sqlite3");
    let wal = data.path().join("conversations.sqlite3-wal");
    wait_for("the write storm", Duration::from_secs(30), async || {
        std::fs::metadata(&wal).map_or(0, |m| m.len()) > 2 * 1024 * 1024
    })
    .await;
    signal_and_wait(zen.pid, libc::SIGKILL).await;
    for writer in writers {
        let _ = tokio::time::timeout(Duration::from_secs(10), writer).await;
    }
    assert!(file.exists());

    let again = stdio_zen(&[], &borrow(&env)).await;
    for id in &earlier {
        let reply = continue_thread(&again.client, id).await;
        assert!(!is_error(&reply), "{id}: {}", text(&reply));
    }
    let listed = call(&again.client, "threads", json!({ "limit": 200 })).await;
    let threads = listed.structured_content.clone().unwrap()["threads"].clone();
    assert!(
        threads.as_array().unwrap().len() > 100,
        "the storm's threads are kept"
    );
}

/// Start `zen serve` expecting it to refuse: exit 2 quickly, with a message naming `needle`.
async fn refuses_to_start(env: &[(&str, &str)], needle: &str) -> String {
    let (code, _out, err) = zen_output(&["serve", "--no-telemetry"], env).await;
    assert_eq!(
        code, 2,
        "expected a refusal naming {needle}; stderr:\n{err}"
    );
    assert!(
        err.contains(needle),
        "stderr does not name {needle}:\n{err}"
    );
    err
}

#[tokio::test]
async fn a_data_dir_that_cannot_be_created_is_exit_2_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let data = file.join("zen");
    let err = refuses_to_start(
        &[("ZEN_DATA_DIR", data.to_str().unwrap())],
        data.to_str().unwrap(),
    )
    .await;
    assert!(err.contains("ZEN_DATA_DIR"), "{err}");
}

#[tokio::test]
async fn a_read_only_data_dir_is_exit_2_naming_it() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Root writes anywhere: run zen as nobody then, so the directory really is read-only.
    let mut cmd = zen_command(&["serve", "--no-telemetry"], &[], tmp.path());
    cmd.env("ZEN_DATA_DIR", &data)
        .stdin(std::process::Stdio::null());
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        cmd.uid(65534);
    }
    let out = tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .unwrap()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(data.to_str().unwrap()), "{err}");
    assert!(err.contains("writable"), "{err}");
}

/// A file at the store's path that zen must refuse and leave byte for byte as it was.
async fn refuses_file(contents: &[u8], needle: &str) {
    let data = tempfile::tempdir().unwrap();
    let path = data.path().join("conversations.sqlite3");
    std::fs::write(&path, contents).unwrap();
    refuses_to_start(&[("ZEN_DATA_DIR", data.path().to_str().unwrap())], needle).await;
    assert_eq!(
        std::fs::read(&path).unwrap(),
        contents,
        "the file was changed"
    );
}

#[tokio::test]
async fn a_corrupt_or_foreign_file_is_refused_and_never_overwritten() {
    let noise: Vec<u8> = (0..10_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    refuses_file(&noise, "is not a zen conversation store").await;
    // An SQLite header followed by garbage.
    let mut torn = b"SQLite format 3\0".to_vec();
    torn.extend(&noise);
    refuses_file(&torn, "corrupt or not a zen conversation store").await;
    // Someone else's SQLite database.
    let other = tempfile::tempdir().unwrap();
    let path = other.path().join("other.sqlite3");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
        .unwrap();
    drop(conn);
    refuses_file(
        &std::fs::read(&path).unwrap(),
        "not a zen conversation store",
    )
    .await;
}

#[tokio::test]
async fn a_store_from_a_newer_zen_is_refused_with_advice() {
    let data = tempfile::tempdir().unwrap();
    let path = data.path().join("conversations.sqlite3");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "PRAGMA application_id = 2053467697; PRAGMA user_version = 99; CREATE TABLE t (x);",
    )
    .unwrap();
    drop(conn);
    let before = std::fs::read(&path).unwrap();
    let err = refuses_to_start(
        &[("ZEN_DATA_DIR", data.path().to_str().unwrap())],
        "newer zen",
    )
    .await;
    assert!(err.contains("upgrade zen"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[tokio::test]
async fn a_full_disk_fails_the_call_clearly_and_zen_keeps_serving() {
    let data = tempfile::tempdir().unwrap();
    let mut env = env_for(data.path());
    env.push(("ZEN_SIM_REPLY_BYTES", "60000".to_string()));
    // A first server fills the store with earlier threads.
    let zen = stdio_zen(&[], &borrow(&env)).await;
    let earlier = new_thread(&zen.client, "an earlier thread").await;
    signal_and_wait(zen.pid, libc::SIGTERM).await;
    let size = std::fs::metadata(data.path().join("conversations.sqlite3"))
        .unwrap()
        .len();

    // The same store with files capped just above their size: the disk is "full".
    let full = crate::util::stdio_zen_with(&[], &borrow(&env), move |cmd| {
        let limit = size + 256 * 1024;
        // SAFETY: setrlimit in the child before exec touches only the child.
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                libc::setrlimit(libc::RLIMIT_FSIZE, &raw const lim);
                Ok(())
            });
        }
    })
    .await;
    let mut failure = None;
    for i in 0..100 {
        let reply = call(
            &full.client,
            "chat",
            json!({ "prompt": format!("fill {i}") }),
        )
        .await;
        if is_error(&reply) {
            failure = Some(text(&reply));
            break;
        }
    }
    let failure = failure.expect("the capped disk filled within 100 calls");
    assert!(failure.contains("conversation store (sqlite"), "{failure}");
    assert!(failure.contains(data.path().to_str().unwrap()), "{failure}");
    assert!(!failure.contains("unknown or expired"), "{failure}");
    // zen keeps serving, and earlier threads are intact.
    let version = call(&full.client, "version", json!({})).await;
    assert!(!is_error(&version));
    let listed = call(&full.client, "threads", json!({ "query": "earlier" })).await;
    assert!(text(&listed).contains(&earlier), "{}", text(&listed));
    signal_and_wait(full.pid, libc::SIGTERM).await;
    let after = stdio_zen(&[], &borrow(&env)).await;
    let reply = continue_thread(&after.client, &earlier).await;
    assert!(!is_error(&reply), "{}", text(&reply));
}

#[tokio::test]
async fn two_servers_on_one_data_dir_both_work_and_see_each_others_threads() {
    let data = tempfile::tempdir().unwrap();
    let env = env_for(data.path());
    let a = stdio_zen(&[], &borrow(&env)).await;
    let b = stdio_zen(&[], &borrow(&env)).await;
    let from_a = new_thread(&a.client, "started on a").await;
    let from_b = new_thread(&b.client, "started on b").await;
    let reply = continue_thread(&b.client, &from_a).await;
    assert!(!is_error(&reply), "{}", text(&reply));
    let reply = continue_thread(&a.client, &from_b).await;
    assert!(!is_error(&reply), "{}", text(&reply));
    let snap: Value = crate::util::snapshot(&a.client).await;
    assert_eq!(snap["conversations"]["kind"], json!("sqlite"));
    assert!(snap["conversations"]["file_bytes"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn a_stress_run_never_writes_to_the_users_own_store() {
    let home = tempfile::tempdir().unwrap();
    let xdg: PathBuf = home.path().join("xdg");
    let args = [
        "stress",
        "-c",
        "4",
        "--requests",
        "20",
        "--env",
        "ZEN_SIM_LATENCY_MS=0",
    ];
    let mut cmd = zen_command(&args, &[], home.path());
    // As a user runs it: no ZEN_DATA_DIR, only the XDG default it would fall back to.
    cmd.env_remove("ZEN_DATA_DIR")
        .env("XDG_DATA_HOME", &xdg)
        .env("HOME", home.path())
        .stdin(std::process::Stdio::null());
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .unwrap()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        !xdg.exists(),
        "the spawned server wrote into the user's data dir"
    );
    assert!(!home.path().join(".local").exists());
}
