//! Issue 18: `zen stress --url` drives streamable HTTP targets with zen's own lean client (no
//! rmcp worker per call). It must read JSON and SSE replies, classify failures as before,
//! release its sessions at the end, and work with a stateless server (no session id).
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::util::{http_zen, zen_output};

fn report(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[tokio::test]
async fn lean_client_counts_tool_errors_in_json_and_sse_reply_modes() {
    for sse in ["false", "true"] {
        let env = [
            ("ZEN_SSE_REPLIES", sse),
            ("ZEN_SIM_ERROR_RATE", "0.5"),
            ("ZEN_SIM_LATENCY_MS", "2"),
            ("ZEN_MAX_RETRIES", "1"),
        ];
        let zen = http_zen(&[], &env).await;
        let args = ["stress", "--url", &zen.url, "-c", "4", "-n", "60", "--json"];
        let (code, out, err) = zen_output(&args, &[]).await;
        assert_eq!(code, 1, "sse={sse}: errors fail the verdict: {err}");
        let r = report(&out);
        assert_eq!(r["calls"]["total"], 60, "sse={sse}: {r}");
        let failed = r["calls"]["failed"].as_u64().unwrap();
        assert!(failed > 5, "sse={sse}: {r}");
        assert_eq!(r["errors"]["tool_error"]["count"], failed, "sse={sse}");
        for kind in ["transport", "timeout", "jsonrpc"] {
            assert_eq!(
                r["errors"][kind]["count"], 0,
                "sse={sse} {kind}: {}",
                r["errors"]
            );
        }
    }
}

#[tokio::test]
async fn lean_client_deletes_its_sessions_so_the_next_run_gets_a_slot() {
    let zen = http_zen(&[], &[("ZEN_MAX_SESSIONS", "2")]).await;
    for run in 0..3 {
        let args = [
            "stress",
            "--url",
            &zen.url,
            "--sessions",
            "2",
            "-c",
            "4",
            "-n",
            "40",
            "--tool",
            "version",
            "--json",
        ];
        let (code, out, err) = zen_output(&args, &[]).await;
        assert_eq!(
            code, 0,
            "run {run}: sessions of the last run still held? {err}\n{out}"
        );
        assert_eq!(report(&out)["calls"]["ok"], 40, "run {run}");
    }
}

/// A stateless MCP server: no `Mcp-Session-Id`, replies to tools/* as SSE streams with an empty
/// priming event and a notification before the response. Call n fails as a JSON-RPC error when
/// n % 3 == 0 and as an `isError` result when n % 3 == 1.
async fn stateless(
    State(calls): State<Arc<AtomicU64>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let msg: Value = serde_json::from_str(&body).unwrap();
    let method = msg["method"].as_str().unwrap_or("");
    if headers.contains_key("mcp-session-id") {
        return (StatusCode::BAD_REQUEST, "this server issues no sessions").into_response();
    }
    if method != "initialize" && !headers.contains_key("mcp-protocol-version") {
        return (StatusCode::BAD_REQUEST, "MCP-Protocol-Version missing").into_response();
    }
    let id = msg["id"].clone();
    let result = match method {
        "initialize" => {
            let result = json!({"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                                "serverInfo": {"name": "stateless-fake", "version": "1"}});
            let reply = json!({"jsonrpc": "2.0", "id": id, "result": result});
            return (
                [(header::CONTENT_TYPE, "application/json")],
                reply.to_string(),
            )
                .into_response();
        }
        m if m.starts_with("notifications/") => return StatusCode::ACCEPTED.into_response(),
        "tools/list" => json!({"result": {"tools": [
            {"name": "echo", "inputSchema": {"type": "object"}}]}}),
        "tools/call" => match calls.fetch_add(1, Ordering::Relaxed) % 3 {
            0 => json!({"error": {"code": -32603, "message": "fake failure"}}),
            1 => json!({"result": {"content": [{"type": "text", "text": "no"}], "isError": true}}),
            _ => json!({"result": {"content": [{"type": "text", "text": "ok"}]}}),
        },
        _ => json!({"error": {"code": -32601, "message": "no such method"}}),
    };
    let mut reply = result;
    reply["jsonrpc"] = json!("2.0");
    reply["id"] = id;
    let note = json!({"jsonrpc": "2.0", "method": "notifications/message",
                      "params": {"level": "info", "data": "working"}});
    let stream =
        format!("id: 0\nretry: 1000\ndata:\n\nevent: message\ndata: {note}\n\ndata: {reply}\n\n");
    ([(header::CONTENT_TYPE, "text/event-stream")], stream).into_response()
}

#[tokio::test]
async fn lean_client_drives_a_stateless_server_answering_in_sse() {
    let calls = Arc::new(AtomicU64::new(0));
    let app = axum::Router::new()
        .route("/mcp", axum::routing::post(stateless))
        .with_state(calls.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let args = [
        "stress", "--url", &url, "-c", "3", "-n", "60", "--tool", "echo", "--json",
    ];
    let (code, out, err) = zen_output(&args, &[]).await;
    server.abort();
    assert_eq!(code, 1, "errors fail the verdict: {err}");
    let r = report(&out);
    assert_eq!(r["calls"]["total"], 60, "{r}");
    assert_eq!(r["calls"]["ok"], 20, "{r}");
    assert_eq!(r["errors"]["jsonrpc"]["count"], 20, "{}", r["errors"]);
    assert_eq!(r["errors"]["tool_error"]["count"], 20, "{}", r["errors"]);
    let sample = r["errors"]["jsonrpc"]["samples"][0].as_str().unwrap();
    assert!(sample.contains("fake failure (-32603)"), "{sample}");
    assert_eq!(calls.load(Ordering::Relaxed), 60);
}
