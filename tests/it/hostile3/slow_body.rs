//! Item 1: a request body read with no deadline. Headers complete with `Content-Length: 1000`
//! and one body byte, then nothing (or a byte now and then): ten such sockets under
//! `ZEN_MAX_CONNECTIONS=10` left every other client unanswered, past the header and idle
//! timeouts. Now each gets 408 and is closed once ZEN_BODY_TIMEOUT passes.
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{ADDRESS_SPACE_MB, assert_peak_below, cap_memory, within};
use crate::util::{call, http_client, http_zen_with, is_error, telemetry_snapshot, text};

const HEAD: &str = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                    Accept: application/json, text/event-stream\r\nContent-Length: 1000\r\n\r\n{";

/// A connection that sends complete headers and one byte of a 1000-byte body; a trickling one
/// then sends another byte every 100 ms (so only a total deadline catches it).
async fn slow_body(addr: &str, trickle: bool) -> tokio::net::tcp::OwnedReadHalf {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (read, mut write) = stream.into_split();
    write.write_all(HEAD.as_bytes()).await.unwrap();
    tokio::spawn(async move {
        for _ in 0..900 {
            if !trickle {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            if write.write_all(b" ").await.is_err() {
                return;
            }
        }
    });
    read
}

/// Everything the server sends until it closes the connection.
async fn until_closed(mut read: tokio::net::tcp::OwnedReadHalf) -> String {
    let mut reply = Vec::new();
    let _ = read.read_to_end(&mut reply).await;
    String::from_utf8_lossy(&reply).into_owned()
}

#[tokio::test]
async fn bodies_that_never_finish_get_408_and_are_closed_so_other_clients_are_served() {
    let env = [
        ("ZEN_MAX_CONNECTIONS", "10"),
        ("ZEN_HEADER_TIMEOUT", "3s"),
        ("ZEN_HTTP_IDLE_TIMEOUT", "5s"),
        ("ZEN_BODY_TIMEOUT", "2s"),
    ];
    let zen = http_zen_with(&[], &env, |cmd| cap_memory(cmd, ADDRESS_SPACE_MB)).await;
    let addr = zen
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp");
    let mut slow = Vec::new();
    for i in 0..10 {
        slow.push(slow_body(addr, i % 2 == 1).await);
    }
    // Every slot is taken by a stalled body; a new client waits in the backlog until the
    // deadline frees them (before this fix: for ever).
    let client = within(
        "a new client",
        Duration::from_secs(30),
        http_client(&zen.url),
    )
    .await;
    let result = within(
        "a call during the attack",
        Duration::from_secs(30),
        call(&client, "version", serde_json::json!({})),
    )
    .await;
    assert!(!is_error(&result), "{}", text(&result));
    for read in slow {
        let reply = within(
            "a stalled body's reply",
            Duration::from_secs(30),
            until_closed(read),
        )
        .await;
        assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
        assert!(reply.contains("ZEN_BODY_TIMEOUT"), "{reply}");
    }
    let snap = telemetry_snapshot(zen.telemetry.as_ref().unwrap()).await;
    assert!(
        snap["protocol"]["body_timeouts"].as_u64().unwrap() >= 10,
        "{}",
        snap["protocol"]
    );
    assert_peak_below(zen.child.id().unwrap(), "after ten stalled bodies", 200);
}
