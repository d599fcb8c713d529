//! Issue 15, server side: every buffer capped, every wait limited, every call answered. Each
//! test is named for what broke: HTTP sessions without a cap, descriptors exhausted by slow
//! clients, malformed bodies answered 415 and not counted, DELETE answered 202.
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::util::{call, http_client, http_zen, is_error, telemetry_snapshot, text, wait_for};

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;

/// POST a body to /mcp with the headers MCP wants; (status, session id, body text).
async fn post(
    http: &reqwest::Client,
    url: &str,
    body: &str,
    session: Option<&str>,
) -> (u16, Option<String>, String) {
    let mut request = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let session = response
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_string());
    (status, session, response.text().await.unwrap())
}

#[tokio::test]
async fn initialize_floods_stop_at_zen_max_sessions_with_a_503_naming_the_setting() {
    let zen = http_zen(&[], &[("ZEN_MAX_SESSIONS", "3")]).await;
    let http = crate::util::http_plain();
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let (status, session, _) = post(&http, &zen.url, INIT, None).await;
        assert_eq!(status, 200);
        sessions.push(session.expect("a session id"));
    }
    let (status, _, body) = post(&http, &zen.url, INIT, None).await;
    assert_eq!(status, 503, "{body}");
    let error: Value = serde_json::from_str(&body).expect("a JSON-RPC error body");
    assert_eq!(error["id"], 1);
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("ZEN_MAX_SESSIONS=3"), "{message}");
    // Closing one session makes room again; DELETE answers 200, not 202.
    let deleted = http
        .delete(&zen.url)
        .header("mcp-session-id", &sessions[0])
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 200);
    wait_for("a free session slot", Duration::from_secs(10), async || {
        post(&http, &zen.url, INIT, None).await.0 == 200
    })
    .await;
    let snap = telemetry_snapshot(zen.telemetry.as_ref().unwrap()).await;
    assert!(snap["protocol"]["refused_sessions"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn idle_http_sessions_close_after_zen_session_idle() {
    let zen = http_zen(
        &[],
        &[("ZEN_MAX_SESSIONS", "1"), ("ZEN_SESSION_IDLE", "1s")],
    )
    .await;
    let http = crate::util::http_plain();
    assert_eq!(post(&http, &zen.url, INIT, None).await.0, 200);
    assert_eq!(post(&http, &zen.url, INIT, None).await.0, 503);
    // The first session idles out, so a new client gets in without anyone closing it.
    wait_for(
        "the idle session to close",
        Duration::from_secs(15),
        async || post(&http, &zen.url, INIT, None).await.0 == 200,
    )
    .await;
}

#[tokio::test]
async fn sessions_zen_closes_are_counted_by_reason() {
    let http = crate::util::http_plain();
    // Idle: a session left alone past ZEN_SESSION_IDLE, far under the session cap.
    let zen = http_zen(&[], &[("ZEN_SESSION_IDLE", "1s")]).await;
    let telemetry = zen.telemetry.clone().unwrap();
    assert_eq!(post(&http, &zen.url, INIT, None).await.0, 200);
    wait_for(
        "the idle session counted closed",
        Duration::from_secs(15),
        async || telemetry_snapshot(&telemetry).await["protocol"]["idle_sessions_closed"] == 1,
    )
    .await;
    let snap = telemetry_snapshot(&telemetry).await;
    assert_eq!(
        snap["protocol"]["evicted_sessions"], 0,
        "{}",
        snap["protocol"]
    );

    // Evicted: at a cap of one, a newcomer is let in once the first session (never used) has
    // been quiet for a second; the reaper (10 min) plays no part.
    let zen = http_zen(&[], &[("ZEN_MAX_SESSIONS", "1")]).await;
    let telemetry = zen.telemetry.clone().unwrap();
    assert_eq!(post(&http, &zen.url, INIT, None).await.0, 200);
    wait_for(
        "a newcomer let in at the cap",
        Duration::from_secs(15),
        async || post(&http, &zen.url, INIT, None).await.0 == 200,
    )
    .await;
    let snap = telemetry_snapshot(&telemetry).await;
    assert_eq!(
        snap["protocol"]["evicted_sessions"], 1,
        "{}",
        snap["protocol"]
    );
    assert_eq!(
        snap["protocol"]["idle_sessions_closed"], 0,
        "{}",
        snap["protocol"]
    );
    let metrics = crate::util::telemetry_get(&telemetry, "/metrics").await;
    assert!(
        metrics.contains("zen_http_sessions_closed_total{reason=\"evicted\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn malformed_http_bodies_get_400_with_a_json_rpc_error_and_are_counted() {
    let zen = http_zen(&[], &[]).await;
    let http = crate::util::http_plain();
    let (status, _, body) = post(&http, &zen.url, "{not json", None).await;
    assert_eq!(status, 400, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["code"], -32700);
    let wrong_shape = json!({"jsonrpc": "2.0", "id": 7, "method": 12}).to_string();
    let (status, _, body) = post(&http, &zen.url, &wrong_shape, None).await;
    assert_eq!(status, 400, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (error["id"].clone(), error["error"]["code"].clone()),
        (json!(7), json!(-32600))
    );
    let snap = telemetry_snapshot(zen.telemetry.as_ref().unwrap()).await;
    assert_eq!(snap["protocol"]["malformed_messages"], 2);
    // A good client still works.
    let client = http_client(&zen.url).await;
    let result = call(&client, "version", json!({})).await;
    assert!(!is_error(&result), "{}", text(&result));
}

/// Open `n` raw connections that send half a request's headers, a byte at a time.
fn slow_clients(addr: &str, n: usize) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let addr = addr.to_string();
        tasks.push(tokio::spawn(async move {
            let Ok(mut stream) = tokio::net::TcpStream::connect(&addr).await else {
                return;
            };
            for byte in b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " {
                if stream.write_all(&[*byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }));
    }
    tasks
}

/// Open descriptors of a process.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

#[tokio::test]
async fn slow_header_clients_past_the_connection_cap_neither_exhaust_descriptors_nor_block_clients()
{
    let zen = http_zen(
        &[],
        &[
            ("ZEN_MAX_CONNECTIONS", "16"),
            ("ZEN_HEADER_TIMEOUT", "1s"),
            ("ZEN_HTTP_IDLE_TIMEOUT", "30s"),
        ],
    )
    .await;
    let pid = zen.child.id().unwrap();
    // A client already connected keeps its kept-alive connection through the flood.
    let http = crate::util::http_plain();
    let (status, session, _) = post(&http, &zen.url, INIT, None).await;
    assert_eq!(status, 200);
    let session = session.unwrap();
    let before = open_fds(pid);
    let addr = zen
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp");
    let flood = slow_clients(addr, 64);
    let ping = r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#;
    let (status, _, body) = post(&http, &zen.url, ping, Some(&session)).await;
    assert_eq!(status, 200, "the connected client during the flood: {body}");
    assert!(
        open_fds(pid) <= before + 16,
        "{} descriptors open, {before} before the flood",
        open_fds(pid)
    );
    // The header timeout frees the slots, so a new client gets in while the flood goes on.
    let client = tokio::time::timeout(Duration::from_secs(30), http_client(&zen.url))
        .await
        .expect("a new client is served within 30 s");
    let result = call(&client, "version", json!({})).await;
    assert!(!is_error(&result), "{}", text(&result));
    // Each connection the timeout closed is counted, not lost silently.
    let telemetry = zen.telemetry.as_ref().unwrap();
    let snap = telemetry_snapshot(telemetry).await;
    assert!(
        snap["protocol"]["header_timeouts"].as_u64().unwrap() >= 1,
        "{}",
        snap["protocol"]
    );
    let metrics = crate::util::telemetry_get(telemetry, "/metrics").await;
    assert!(
        metrics.contains("zen_http_connections_closed_total{reason=\"header_timeout\"}"),
        "{metrics}"
    );
    for t in &flood {
        t.abort();
    }
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed_and_counted() {
    let zen = http_zen(&[], &[("ZEN_HTTP_IDLE_TIMEOUT", "1s")]).await;
    let http = crate::util::http_plain();
    // One request; the client keeps its connection in its pool, idle.
    assert_eq!(post(&http, &zen.url, INIT, None).await.0, 200);
    let telemetry = zen.telemetry.clone().unwrap();
    wait_for(
        "the idle connection to be closed",
        Duration::from_secs(15),
        async || {
            telemetry_snapshot(&telemetry).await["protocol"]["idle_closes"]
                .as_u64()
                .is_some_and(|n| n >= 1)
        },
    )
    .await;
    // The client notices and reconnects.
    assert_eq!(post(&http, &zen.url, INIT, None).await.0, 200);
}

#[tokio::test]
async fn chat_refuses_proc_self_environ_and_names_the_refusal_in_its_reply() {
    let zen = crate::util::stdio_zen(&[], &[("ZEN_SIM_LATENCY_MS", "0")]).await;
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("notes.txt");
    std::os::unix::fs::symlink("/proc/self/environ", &link).unwrap();
    let paths = json!(["/proc/self/environ", link.to_str().unwrap()]);
    let args = json!({"prompt": "read these", "absolute_file_paths": paths});
    let result = call(&zen.client, "chat", args).await;
    let reply = text(&result);
    assert!(!is_error(&result), "{reply}");
    assert!(reply.contains("skipped file /proc/self/environ"), "{reply}");
    assert!(reply.contains("which zen never reads"), "{reply}");
}
