//! Issue 15 on stdio and at shutdown: a client writing without reading cannot grow zen's memory,
//! a request with a bad UTF-8 byte is answered with its id, and calls still running at the drain
//! deadline are answered with an error before zen exits (stdio and HTTP).
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::util::{http_client, http_zen, is_error, piped_serve, text};

const INIT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// Resident memory of a process in bytes.
fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0);
    kb * 1024
}

fn chat_line(id: usize) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": "chat", "arguments": {"prompt": format!("hello {id}")}}})
    .to_string()
        + "\n"
}

/// Start zen on raw pipes and initialize; (child, stdin, stdout lines).
async fn raw_zen(
    env: &[(&str, &str)],
    dir: &std::path::Path,
) -> (
    tokio::process::Child,
    tokio::process::ChildStdin,
    tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
) {
    let mut child = piped_serve(env, dir);
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    stdin
        .write_all(format!("{INIT}\n{INITIALIZED}\n").as_bytes())
        .await
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(20), out.next_line()).await;
    assert!(first.unwrap().unwrap().unwrap().contains("\"id\":0"));
    (child, stdin, out)
}

#[tokio::test]
async fn a_client_writing_requests_without_reading_replies_cannot_grow_zen_rss() {
    const REQUESTS: usize = 20_000;
    let dir = tempfile::tempdir().unwrap();
    let env = [("ZEN_SIM_LATENCY_MS", "20"), ("LOG_LEVEL", "warn")];
    let (child, mut stdin, mut out) = raw_zen(&env, dir.path()).await;
    let pid = child.id().unwrap();
    let written = Arc::new(AtomicUsize::new(0));
    let counter = written.clone();
    let writer = tokio::spawn(async move {
        for id in 1..=REQUESTS {
            stdin.write_all(chat_line(id).as_bytes()).await.unwrap();
            counter.store(id, Ordering::Relaxed);
        }
        stdin
    });
    // Sample RSS until the writer is done or has been stalled by backpressure for a second.
    let (mut peak, mut last, mut since) = (0u64, 0usize, Instant::now());
    let deadline = Instant::now() + Duration::from_secs(60);
    while !writer.is_finished() && since.elapsed() < Duration::from_secs(1) {
        assert!(
            Instant::now() < deadline,
            "writer neither finished nor stalled"
        );
        peak = peak.max(rss_bytes(pid));
        let now = written.load(Ordering::Relaxed);
        if now != last {
            (last, since) = (now, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        peak < 80 * 1024 * 1024,
        "zen RSS peaked at {} MiB",
        peak >> 20
    );
    // Reading now, every request is answered.
    let reader = tokio::spawn(async move {
        let mut answered = 0;
        while answered < REQUESTS {
            let line = out.next_line().await.unwrap().expect("zen still running");
            let reply: Value = serde_json::from_str(&line).unwrap();
            assert!(reply["id"].as_u64().is_some(), "{line}");
            answered += 1;
        }
        answered
    });
    let answered = tokio::time::timeout(Duration::from_secs(120), reader).await;
    assert_eq!(
        answered.expect("all replies within 120 s").unwrap(),
        REQUESTS
    );
    drop(writer.await.unwrap());
}

#[tokio::test]
async fn a_stdio_request_with_an_invalid_utf8_byte_is_answered_with_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let (_child, mut stdin, mut out) = raw_zen(&[], dir.path()).await;
    let mut line = br#"{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"chat","arguments":{"prompt":"a"#.to_vec();
    line.extend_from_slice(b"\xff\"}}}\n");
    stdin.write_all(&line).await.unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(20), out.next_line()).await;
    let reply: Value = serde_json::from_str(&reply.unwrap().unwrap().unwrap()).unwrap();
    assert_eq!(reply["id"], 41, "{reply}");
    assert_eq!(reply["error"]["code"], -32700, "{reply}");
    assert!(reply["error"]["message"].as_str().is_some(), "{reply}");
}

#[tokio::test]
async fn hung_stdio_calls_get_an_error_reply_at_the_drain_deadline_and_zen_exits() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("ZEN_DRAIN_TIMEOUT", "2s"), ("ZEN_SIM_FAULTS", "hang=1")];
    let (mut child, mut stdin, mut out) = raw_zen(&env, dir.path()).await;
    for id in 1..=3 {
        stdin.write_all(chat_line(id).as_bytes()).await.unwrap();
    }
    stdin.flush().await.unwrap();
    // Calls read before stdin closes are in flight, not refused.
    drop(stdin);
    let started = Instant::now();
    let mut ids = Vec::new();
    while let Ok(Some(line)) = out.next_line().await {
        let reply: Value = serde_json::from_str(&line).unwrap();
        let message = reply["result"]["content"][0]["text"].as_str().unwrap_or("");
        assert!(message.contains("ZEN_DRAIN_TIMEOUT"), "{reply}");
        ids.push(reply["id"].as_u64().unwrap());
    }
    ids.sort_unstable();
    assert_eq!(ids, [1, 2, 3]);
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    assert!(status.unwrap().unwrap().success());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn hung_http_calls_get_an_error_reply_at_the_drain_deadline_and_zen_exits() {
    let env = [("ZEN_DRAIN_TIMEOUT", "2s"), ("ZEN_SIM_FAULTS", "hang=1")];
    let mut zen = http_zen(&[], &env).await;
    let client = http_client(&zen.url).await;
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let peer = client.peer().clone();
            tokio::spawn(async move {
                let params = rmcp::model::CallToolRequestParams::new("chat")
                    .with_arguments(rmcp::object!({"prompt": "hi"}));
                peer.call_tool(params).await
            })
        })
        .collect();
    let base = zen.telemetry.clone().unwrap();
    crate::util::wait_for("3 calls in flight", Duration::from_secs(10), async || {
        let snap = crate::util::telemetry_snapshot(&base).await;
        snap["pools"][0]["in_use"].as_u64() == Some(3)
    })
    .await;
    let pid = zen.child.id().unwrap() as i32;
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let started = Instant::now();
    for call in calls {
        let result = tokio::time::timeout(Duration::from_secs(10), call).await;
        let result = result
            .expect("answered")
            .unwrap()
            .expect("a reply, not a lost call");
        assert!(is_error(&result) && text(&result).contains("ZEN_DRAIN_TIMEOUT"));
    }
    let status = tokio::time::timeout(Duration::from_secs(10), zen.child.wait()).await;
    assert!(status.unwrap().unwrap().success());
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
}
