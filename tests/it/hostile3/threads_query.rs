//! Item 3: a long `threads` query stalled the store for everyone. Four stored 1 MB prompts and
//! one 100 kB query took 6.7 s, and another client's chat went from 7 ms to 5.7 s, queued
//! behind it on the one SQLite worker; a client that hung up did not stop it. Now the query is
//! capped, a search costs the text searched (not query × text), runs on its own read-only
//! connections, stops at its deadline, and stops when its caller goes away.
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use super::{ADDRESS_SPACE_MB, assert_peak_below, cap_memory, within};
use crate::raw_http::Raw;
use crate::util::{Client, call, http_client, http_zen_with, is_error, text};

/// Stored prompts of 1 MB each (the default ZEN_MAX_PROMPT_BYTES).
const PROMPTS: usize = 40;

/// The worst query allowed: the longest, and a near miss at every position of the prompts.
fn worst_query() -> String {
    format!("{}b", "a".repeat(199))
}

/// One `threads` call: (how long it took, its structured reply).
async fn threads(client: &Client, args: Value) -> (Duration, Value) {
    let started = Instant::now();
    let result = within(
        "a threads call",
        Duration::from_secs(30),
        call(client, "threads", args),
    )
    .await;
    assert!(!is_error(&result), "{}", text(&result));
    (
        started.elapsed(),
        result.structured_content.unwrap_or_default(),
    )
}

/// CPU seconds a process has used (user + system), from /proc/PID/stat.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

#[tokio::test]
async fn the_worst_threads_query_neither_stalls_other_clients_nor_outlives_its_caller() {
    let env = [("ZEN_SIM_LATENCY_MS", "0")];
    let zen = http_zen_with(&[], &env, |cmd| cap_memory(cmd, ADDRESS_SPACE_MB)).await;
    let pid = zen.child.id().unwrap();
    let hostile = http_client(&zen.url).await;
    let prompt = "a".repeat(1_000_000);
    for _ in 0..PROMPTS {
        let r = call(&hostile, "chat", json!({ "prompt": prompt })).await;
        assert!(!is_error(&r), "{}", text(&r));
    }
    // A query that is a document, not a phrase, is refused at once, naming the limit.
    let long = call(&hostile, "threads", json!({"query": "a".repeat(100_000)})).await;
    assert!(
        is_error(&long) && text(&long).contains("200"),
        "{}",
        text(&long)
    );
    // The worst query allowed, alone: the time the hostile client holds a reader.
    let mut alone = Vec::new();
    for _ in 0..3 {
        let (took, found) = threads(&hostile, json!({"query": worst_query()})).await;
        assert_eq!(found["threads"], json!([]), "{found}");
        alone.push(took);
    }
    alone.sort();
    let search = alone[1];
    // Now it runs in a loop while another client chats and lists its threads.
    let looping = {
        let url = zen.url.clone();
        tokio::spawn(async move {
            let client = http_client(&url).await;
            loop {
                threads(&client, json!({"query": worst_query()})).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let other = http_client(&zen.url).await;
    let (mut chats, mut lists) = (Vec::new(), Vec::new());
    for i in 0..10 {
        let started = Instant::now();
        let r = within(
            "a chat",
            Duration::from_secs(30),
            call(&other, "chat", json!({"prompt": format!("hi {i}")})),
        )
        .await;
        assert!(!is_error(&r), "{}", text(&r));
        chats.push(started.elapsed());
        lists.push(threads(&other, json!({"limit": 5})).await.0);
    }
    looping.abort();
    chats.sort();
    lists.sort();
    let (chat, list) = (chats[chats.len() / 2], lists[lists.len() / 2]);
    eprintln!("worst query alone {search:?}; during it: chats {chats:?}, listings {lists:?}");
    assert!(
        chat * 3 < search && list * 3 < search,
        "another client waited behind the search: chat {chat:?}, listing {list:?}, search {search:?}"
    );
    // Callers that hang up stop their searches: the store goes quiet at once.
    let (raw, _) = Raw::open(&zen.url, "application/json, text/event-stream").await;
    let session = raw.session.clone().unwrap();
    let addr = zen
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_string();
    let body = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
        "params": {"name": "threads", "arguments": {"query": worst_query()}}})
    .to_string();
    let mut sockets = Vec::new();
    for _ in 0..4 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAccept: \
             application/json, text/event-stream\r\nMcp-Session-Id: {session}\r\n\
             Mcp-Protocol-Version: 2025-06-18\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(head.as_bytes()).await.unwrap();
        sockets.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(sockets);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = cpu_secs(pid);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let used = cpu_secs(pid) - before;
    eprintln!("zen used {used:.2} s of CPU in the 1.5 s after four searching clients hung up");
    assert!(
        used < 0.5,
        "abandoned searches kept running: {used:.2} s of CPU"
    );
    assert_peak_below(pid, "after the worst threads queries", 400);
}
