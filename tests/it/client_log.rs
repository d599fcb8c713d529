//! Issue 24 (logging): zen's warnings reach the MCP client as `notifications/message`, not only
//! stderr. A 2025 session (stdio after `initialize`, an HTTP session) sets a level with
//! `logging/setLevel`; a 2026-07-28 request asks with `_meta["io.modelcontextprotocol/logLevel"]`.
//! A dead provider (`CUSTOM_API_URL` at a port nothing listens on) raises warnings while a call
//! is served: a client at `warning` sees them before the call's reply, one at `error` or with
//! no level does not; a bad level is -32602 naming the eight levels; the start-up warnings go
//! once to a session whose level includes them. Over HTTP the messages ride the call's own reply
//! (SSE), or, for a request rmcp's session serves, the session's GET stream.
use serde_json::{Value, json};

use crate::reply_equality::{StdioZen, open_session};
use crate::util::{http_plain, http_zen};

const LEVELS: &str = "debug, info, notice, warning, error, critical, alert, emergency";

/// A 127.0.0.1 port nothing listens on (bound, then released).
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!(
        "http://127.0.0.1:{}/v1",
        listener.local_addr().unwrap().port()
    )
}

/// zen's environment with the custom provider at `url` and quick retries.
fn dead_env(url: &str) -> [(&str, &str); 2] {
    [("CUSTOM_API_URL", url), ("ZEN_RETRY_BACKOFF", "10ms")]
}

/// A chat the dead custom provider must serve.
fn chat(id: u64, meta: Option<Value>) -> Value {
    let mut params = json!({"name": "chat", "arguments": {"prompt": "hi", "model": "local"}});
    if let Some(meta) = meta {
        params["_meta"] = meta;
    }
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params})
}

fn set_level(id: u64, level: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "logging/setLevel", "params": {"level": level}})
}

/// The `notifications/message` among `messages`.
fn notes(messages: &[Value]) -> Vec<&Value> {
    (messages.iter())
        .filter(|m| m["method"] == "notifications/message")
        .collect()
}

/// `zen serve` on stdio, driven line by line.
struct Stdio(StdioZen);

impl Stdio {
    fn start(env: &[(&str, &str)]) -> Stdio {
        Stdio(StdioZen::start_with(env))
    }

    /// Send `message`; every message zen writes up to the reply to it, the reply last.
    async fn ask(&mut self, message: &Value) -> Vec<Value> {
        let lines = self.0.ask_all(message).await;
        let parsed = lines.iter().map(|l| serde_json::from_str::<Value>(l));
        let got: Vec<Value> = parsed
            .map(|m| m.expect("only JSON-RPC on stdout"))
            .collect();
        if let Some(reply) = got.last() {
            assert_eq!(reply.get("id"), message.get("id"), "{got:?}");
        }
        got
    }

    async fn initialize(&mut self) {
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "log-test", "version": "1"}}});
        let reply = self.ask(&init).await;
        let result = &reply.last().unwrap()["result"];
        assert!(result["capabilities"]["logging"].is_object(), "{result}");
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        self.ask(&note).await;
    }
}

/// The warnings of a call to the dead provider: some, each at `warning` or above, from a zen
/// module, one naming the URL and its variable.
fn assert_dead_provider_notes(notes: &[&Value], url: &str) {
    assert!(!notes.is_empty(), "no notifications/message");
    for note in notes {
        let level = note["params"]["level"].as_str().unwrap();
        assert!(["warning", "error"].contains(&level), "{note}");
        let logger = note["params"]["logger"].as_str().unwrap_or_default();
        assert!(logger.starts_with("zen::"), "{note}");
    }
    let named = format!("cannot connect to {url} (CUSTOM_API_URL)");
    assert!(
        (notes.iter()).any(|n| n["params"]["data"].as_str().unwrap().contains(&named)),
        "no message names {named}: {notes:?}"
    );
}

#[tokio::test]
async fn a_stdio_session_gets_a_dead_providers_warnings_at_warning_and_not_at_error_or_unset() {
    let url = dead_url();
    let env = dead_env(&url);
    // No level set: nothing but the reply.
    let mut quiet = Stdio::start(&env);
    quiet.initialize().await;
    let got = quiet.ask(&chat(1, None)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    // A bad level is -32602 naming the eight; the session stays unset.
    let mut zen = Stdio::start(&env);
    zen.initialize().await;
    let bad = zen.ask(&set_level(1, "loud")).await;
    let error = &bad.last().unwrap()["error"];
    assert_eq!(error["code"], -32602, "{bad:?}");
    assert!(
        error["message"].as_str().unwrap().contains(LEVELS),
        "{error}"
    );
    // At error, the call's warnings are left out.
    let ok = zen.ask(&set_level(2, "error")).await;
    assert_eq!(ok.last().unwrap()["result"], json!({}), "{ok:?}");
    let got = zen.ask(&chat(3, None)).await;
    assert!(notes(&got).is_empty(), "{got:?}");
    assert_eq!(got.last().unwrap()["result"]["isError"], true, "{got:?}");
    // At warning, they come before the reply.
    zen.ask(&set_level(4, "warning")).await;
    let got = zen.ask(&chat(5, None)).await;
    assert_dead_provider_notes(&notes(&got), &url);
    assert_eq!(got.last().unwrap()["id"], 5);
    // A 2026-07-28 request on the same pipe asks for itself: at error, nothing; a bad level is
    // -32602; at warning, the messages.
    let got = zen.ask(&chat(6, Some(modern_meta(Some("error"))))).await;
    assert!(notes(&got).is_empty(), "{got:?}");
    let got = zen.ask(&chat(7, Some(modern_meta(Some("loud"))))).await;
    assert_eq!(got.last().unwrap()["error"]["code"], -32602, "{got:?}");
    let got = zen.ask(&chat(8, Some(modern_meta(Some("warning"))))).await;
    assert_dead_provider_notes(&notes(&got), &url);
    assert_eq!(got.last().unwrap()["result"]["resultType"], "complete");
}

/// A 2026-07-28 request's `_meta`, asking for log messages at `level`.
fn modern_meta(level: Option<&str>) -> Value {
    let mut meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                          "io.modelcontextprotocol/clientCapabilities": {}});
    if let Some(level) = level {
        meta["io.modelcontextprotocol/logLevel"] = json!(level);
    }
    meta
}

#[tokio::test]
async fn a_stdio_session_gets_the_start_up_warnings_once_when_its_level_includes_them() {
    // No OpenAI key: DEFAULT_MODEL=gpt-5 cannot be served; Mistral is a provider zen lacks.
    let env = [("DEFAULT_MODEL", "gpt-5"), ("MISTRAL_API_KEY", "m-1")];
    let mut zen = Stdio::start(&env);
    zen.initialize().await;
    let got = zen.ask(&set_level(1, "error")).await;
    assert!(notes(&got).is_empty(), "{got:?}");
    let got = zen.ask(&set_level(2, "info")).await;
    let data: Vec<&str> = notes(&got)
        .iter()
        .map(|n| n["params"]["data"].as_str().unwrap())
        .collect();
    assert!(
        data.iter()
            .any(|d| d.starts_with("DEFAULT_MODEL=gpt-5 cannot be served")),
        "{data:?}"
    );
    assert!(
        data.iter().any(|d| d.contains("MISTRAL_API_KEY")),
        "{data:?}"
    );
    let again = zen.ask(&set_level(3, "warning")).await;
    assert!(notes(&again).is_empty(), "sent once: {again:?}");
}

/// One POST to zen's endpoint: (status, the JSON-RPC messages of the reply, JSON or SSE).
pub(crate) async fn post(url: &str, headers: &[(&str, &str)], body: &Value) -> (u16, Vec<Value>) {
    let mut request = http_plain()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let sse = (response.headers().get("content-type"))
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    let text = response.text().await.unwrap();
    let messages = if sse {
        (text.lines())
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str(d.trim()).ok())
            .collect()
    } else {
        vec![serde_json::from_str(&text).unwrap_or(Value::Null)]
    };
    (status, messages)
}

#[tokio::test]
async fn http_sessions_and_modern_requests_get_warnings_only_at_the_level_they_asked_for() {
    let dead = dead_url();
    let env = dead_env(&dead);
    let zen = http_zen(&[], &env).await;
    let url = zen.url.as_str();
    // Three sessions: warning, error, none.
    let mut replies = Vec::new();
    for level in [Some("warning"), Some("error"), None] {
        let session = open_session(&http_plain(), url, "2025-11-25").await;
        let headers = [
            ("mcp-session-id", session.as_str()),
            ("mcp-protocol-version", "2025-11-25"),
        ];
        if let Some(level) = level {
            let (status, bad) = post(url, &headers, &set_level(1, "loud")).await;
            let error = &bad.last().unwrap()["error"];
            assert_eq!((status, &error["code"]), (200, &json!(-32602)), "{bad:?}");
            assert!(
                error["message"].as_str().unwrap().contains(LEVELS),
                "{error}"
            );
            let (status, ok) = post(url, &headers, &set_level(2, level)).await;
            assert_eq!(status, 200);
            assert_eq!(ok.last().unwrap()["result"], json!({}), "{ok:?}");
        }
        let (status, got) = post(url, &headers, &chat(3, None)).await;
        assert_eq!(status, 200);
        assert_eq!(got.last().unwrap()["result"]["isError"], true, "{got:?}");
        replies.push((level, got));
    }
    for (level, got) in &replies {
        match level {
            Some("warning") => {
                let notes = notes(got);
                assert_dead_provider_notes(&notes, &dead);
                // The first call opened the breaker, in the provider attempt's own task.
                assert!(
                    notes
                        .iter()
                        .any(|n| n["params"]["logger"] == "zen::providers::resilience"
                            && (n["params"]["data"].as_str().unwrap())
                                .starts_with("circuit breaker opened")),
                    "{notes:?}"
                );
            }
            _ => assert!(notes(got).is_empty(), "{level:?}: {got:?}"),
        }
    }
    // 2026-07-28: per request, by `_meta`.
    let meta = modern_meta;
    let headers = [
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "chat"),
    ];
    let (_, got) = post(url, &headers, &chat(4, Some(meta(Some("warning"))))).await;
    assert_dead_provider_notes(&notes(&got), &dead);
    assert_eq!(got.last().unwrap()["result"]["resultType"], "complete");
    for level in [Some("error"), None] {
        let (_, got) = post(url, &headers, &chat(5, Some(meta(level)))).await;
        assert!(notes(&got).is_empty(), "{level:?}: {got:?}");
    }
    let (status, bad) = post(url, &headers, &chat(6, Some(meta(Some("loud"))))).await;
    assert_eq!(status, 400, "{bad:?}");
    assert_eq!(bad[0]["error"]["code"], -32602, "{bad:?}");
}

/// A request rmcp answers (a browser's, with an Origin) goes through rmcp's session: its level
/// is the session's too, and the call's messages go on the session's GET stream, where rmcp
/// sends a session's notifications.
#[tokio::test]
async fn a_session_served_by_rmcp_gets_its_calls_warnings_on_its_get_stream() {
    let dead = dead_url();
    let zen = http_zen(&[], &dead_env(&dead)).await;
    let url = zen.url.as_str();
    let session = open_session(&http_plain(), url, "2025-11-25").await;
    let headers = [
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", "2025-11-25"),
        ("origin", "http://localhost:3000"),
    ];
    let mut stream = http_plain()
        .get(url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-11-25")
        .header("origin", "http://localhost:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let (_, ok) = post(url, &headers, &set_level(1, "warning")).await;
    assert_eq!(ok.last().unwrap()["result"], json!({}), "{ok:?}");
    let (_, got) = post(url, &headers, &chat(2, None)).await;
    assert_eq!(got.last().unwrap()["result"]["isError"], true, "{got:?}");
    let mut seen = String::new();
    let read = async {
        while let Some(chunk) = stream.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("provider request failed") {
                return;
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), read).await;
    let messages: Vec<Value> = (seen.lines())
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str(d.trim()).ok())
        .collect();
    assert_dead_provider_notes(&notes(&messages), &dead);
}
