//! Item 9: a session flood locked everyone else out. One client sending 10 000 `initialize`s
//! (no DELETE) got 1 000 sessions and then 503s, and from then on every new client was refused
//! until the idle reaper freed sessions (ZEN_SESSION_IDLE, 10 minutes by default). Now, at the
//! cap, zen closes the least recently used session that never made a call and has been quiet
//! for a second, so a newcomer gets in; a client that works keeps its session.
use std::time::Duration;

use futures::StreamExt;
use serde_json::json;

use super::{ADDRESS_SPACE_MB, assert_peak_below, cap_memory, within};
use crate::util::{call, http_client, http_plain, http_zen_with, is_error, text, wait_for};

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"flood","version":"1"}}}"#;

/// One raw `initialize`, never followed by anything: its HTTP status.
async fn initialize(http: &reqwest::Client, url: &str) -> u16 {
    http.post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(INIT)
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

#[tokio::test]
async fn an_initialize_flood_does_not_lock_out_new_clients_nor_evict_working_ones() {
    // The defaults of ZEN_MAX_SESSIONS (1 000) and ZEN_SESSION_IDLE (10 min): the reaper does
    // not help within this test.
    let zen = http_zen_with(&[], &[], |cmd| cap_memory(cmd, ADDRESS_SPACE_MB)).await;
    let pid = zen.child.id().unwrap();
    // A client that works, before the flood.
    let worker = http_client(&zen.url).await;
    let r = call(&worker, "version", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));

    // 3 000 initializes, 16 at a time, none of them ever used or closed.
    let http = http_plain();
    let statuses: Vec<u16> = within(
        "the flood",
        Duration::from_secs(300),
        futures::stream::iter(0..3000)
            .map(|_| initialize(&http, &zen.url))
            .buffer_unordered(16)
            .collect(),
    )
    .await;
    let opened = statuses.iter().filter(|s| **s == 200).count();
    eprintln!("flood: {opened} of 3000 initializes opened a session");
    assert!(opened >= 1000, "the cap holds, but the flood got {opened}");

    // A newcomer after the flood gets in (once the flood's sessions are a second old), and
    // its calls are answered.
    let newcomer = within("a newcomer", Duration::from_secs(30), async {
        wait_for(
            "a session for the newcomer",
            Duration::from_secs(20),
            async || initialize(&http, &zen.url).await == 200,
        )
        .await;
        http_client(&zen.url).await
    })
    .await;
    let r = within(
        "the newcomer's call",
        Duration::from_secs(30),
        call(&newcomer, "version", json!({})),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));

    // The client that worked before the flood was not the one evicted.
    let r = within(
        "the first client's call",
        Duration::from_secs(30),
        call(&worker, "version", json!({})),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));

    // The cap still holds the memory.
    assert_peak_below(pid, "3 000 initializes", 300);
}
