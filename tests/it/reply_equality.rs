//! Issue 24: one request path. The same request gives the same reply bytes whatever answers it
//! (rmcp's handler, zen's direct HTTP tools/call, zen's 2026-07-28 HTTP path, zen's stdio
//! server), for every protocol revision zen serves. The table holds every tool, bad arguments,
//! an unknown tool, a misshapen tools/call and tools/list; the request ids are the same on every
//! path, so the bodies compare byte for byte (continuation ids, which are random, aside).
use std::collections::BTreeMap;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::util::{http_plain, http_zen, zen_command};

const ENV: &[(&str, &str)] = &[("ZEN_SIM_LATENCY_MS", "1")];

/// The legacy revisions (with a handshake) and the modern one.
const LEGACY: [&str; 3] = ["2025-03-26", "2025-06-18", "2025-11-25"];
const MODERN: &str = "2026-07-28";

/// The table: (what, method, params without `_meta`).
fn table() -> Vec<(String, &'static str, Value)> {
    let call = |name: &str, arguments: Value| json!({"name": name, "arguments": arguments});
    let mut rows = vec![
        ("tools/list".to_string(), "tools/list", json!({})),
        (
            "unknown tool".to_string(),
            "tools/call",
            call("no_such_tool", json!({})),
        ),
        (
            "bad arguments".to_string(),
            "tools/call",
            call("chat", json!({"prompt": 42})),
        ),
        (
            "missing argument".to_string(),
            "tools/call",
            call("challenge", json!({})),
        ),
        (
            "misshapen tools/call".to_string(),
            "tools/call",
            json!({"arguments": {}}),
        ),
    ];
    // `metrics`, `threads` and `version` report the server's live state, which differs
    // between servers; they are compared for their shape (see `normalise`).
    for (tool, arguments) in every_tool_call() {
        rows.push((format!("tool {tool}"), "tools/call", call(tool, arguments)));
    }
    // Last, so the tool calls above run without a level (2025: `{}` and -32602 naming the
    // levels; 2026-07-28: removed, -32601).
    rows.push((
        "logging/setLevel".to_string(),
        "logging/setLevel",
        json!({"level": "info"}),
    ));
    rows.push((
        "logging/setLevel bad level".to_string(),
        "logging/setLevel",
        json!({"level": "loud"}),
    ));
    rows
}

/// Every zen tool but clink (it needs an AI CLI on PATH) with arguments that succeed against
/// the simulated provider.
pub(crate) fn every_tool_call() -> Vec<(&'static str, Value)> {
    let step = |name: &str| {
        json!({"step": name, "step_number": 1, "total_steps": 1,
               "next_step_required": false, "findings": "none"})
    };
    let pair = json!([{"model": "sim", "stance": "for"}, {"model": "sim", "stance": "against"}]);
    vec![
        ("chat", json!({"prompt": "hello"})),
        ("consensus", json!({"prompt": "yes or no?", "models": pair})),
        ("thinkdeep", step("look")),
        ("planner", step("plan")),
        ("codereview", step("review")),
        ("precommit", step("check")),
        ("debug", step("debug")),
        ("analyze", step("analyze")),
        ("refactor", step("refactor")),
        ("secaudit", step("audit")),
        ("testgen", step("test")),
        (
            "docgen",
            merged(
                step("document"),
                json!({"num_files_documented": 0, "total_files_to_document": 1,
                       "document_complexity": true, "document_flow": true,
                       "update_existing": true, "comments_on_complex_logic": true}),
            ),
        ),
        (
            "tracer",
            merged(
                step("trace"),
                json!({"target_description": "how a call flows", "trace_mode": "precision"}),
            ),
        ),
        ("challenge", json!({"prompt": "the sky is green"})),
        ("apilookup", json!({"prompt": "tokio 1.0 changelog"})),
        ("listmodels", json!({})),
        ("metrics", json!({})),
        ("threads", json!({})),
        ("version", json!({})),
    ]
}
/// `base` with the fields of `extra` added.
fn merged(mut base: Value, extra: Value) -> Value {
    if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra);
    }
    base
}

/// A request of the table at `version` (`_meta` added for the modern revision), with `id`.
fn request(id: usize, version: &str, method: &str, params: &Value) -> Value {
    let mut params = params.clone();
    if version == MODERN {
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "equality", "version": "1"},
        });
    }
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// What may differ between two servers given the same request: random continuation ids, and
/// the live figures of `metrics`, `threads`, `version` (pid, uptime, transport) and `consensus`
/// (each model's time): their text and numbers; their shape must agree.
fn normalise(what: &str, body: &str) -> String {
    let uuid = regex_lite_uuid(body);
    if [
        "tool metrics",
        "tool threads",
        "tool version",
        "tool consensus",
    ]
    .contains(&what)
    {
        let mut value: Value = serde_json::from_str(&uuid).unwrap();
        blank(&mut value);
        return value.to_string();
    }
    uuid
}

/// Replace every UUID (8-4-4-4-12 hex) with `<uuid>`.
fn regex_lite_uuid(text: &str) -> String {
    let bytes = text.as_bytes();
    let shape = [8, 4, 4, 4, 12];
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    'scan: while i < bytes.len() {
        let mut j = i;
        for (k, len) in shape.iter().enumerate() {
            if j + len > bytes.len() || !bytes[j..j + len].iter().all(u8::is_ascii_hexdigit) {
                out.push(bytes[i] as char);
                i += 1;
                continue 'scan;
            }
            j += len;
            if k < 4 {
                if bytes.get(j) != Some(&b'-') {
                    out.push(bytes[i] as char);
                    i += 1;
                    continue 'scan;
                }
                j += 1;
            }
        }
        out.push_str("<uuid>");
        i = j;
    }
    out
}

/// Strings and numbers replaced by their kind, so only the shape remains.
fn blank(value: &mut Value) {
    match value {
        Value::String(s) => *s = "<string>".into(),
        Value::Number(_) => *value = json!("<number>"),
        Value::Array(items) => {
            items.truncate(1);
            items.iter_mut().for_each(blank);
        }
        Value::Object(map) => map.iter_mut().for_each(|(_, v)| blank(v)),
        _ => {}
    }
}

/// One HTTP POST; the reply's JSON-RPC message (the `data:` of an SSE reply).
async fn post(
    http: &reqwest::Client,
    url: &str,
    headers: &[(&str, String)],
    body: &Value,
) -> (u16, String) {
    let mut request = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("POST reaches zen");
    let status = response.status().as_u16();
    let sse = response
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    let text = response.text().await.unwrap();
    if !sse {
        return (status, text);
    }
    let data = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim_start)
        .find(|d| d.contains("\"jsonrpc\"") && d.contains("\"id\""))
        .unwrap_or_else(|| panic!("no message in the SSE reply: {text}"));
    (status, data.to_string())
}

/// A legacy HTTP session at `version`: its id.
pub(crate) async fn open_session(http: &reqwest::Client, url: &str, version: &str) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {},
        "clientInfo": {"name": "equality", "version": "1"}}});
    let response = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(init.to_string())
        .send()
        .await
        .unwrap();
    let session = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_string();
    let text = response.text().await.unwrap();
    assert!(
        text.contains(&format!("\"protocolVersion\":\"{version}\"")),
        "{text}"
    );
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let headers = [
        ("mcp-session-id", session.clone()),
        ("mcp-protocol-version", version.to_string()),
    ];
    assert_eq!(post(http, url, &headers, &note).await.0, 202);
    session
}

/// `zen serve` on stdio, driven by hand: one line out, the lines up to its reply back.
pub(crate) struct StdioZen {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    stdout: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    _dir: tempfile::TempDir,
}

impl StdioZen {
    fn start() -> StdioZen {
        StdioZen::start_with(ENV)
    }

    /// `zen serve` on stdio with `env`.
    pub(crate) fn start_with(env: &[(&str, &str)]) -> StdioZen {
        let dir = tempfile::tempdir().unwrap();
        let mut child = zen_command(&["serve"], env, dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        StdioZen {
            child,
            stdin,
            stdout,
            _dir: dir,
        }
    }

    /// The reply to `message` (`None` for a notification), log messages skipped.
    async fn ask(&mut self, message: &Value) -> Option<String> {
        self.ask_all(message).await.pop()
    }

    /// Send `message`; every line zen writes up to the reply to it (log messages, then the
    /// reply), or nothing for a notification.
    pub(crate) async fn ask_all(&mut self, message: &Value) -> Vec<String> {
        let line = format!("{message}\n");
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        let mut lines = Vec::new();
        if message.get("id").is_none() {
            return lines;
        }
        loop {
            let read =
                tokio::time::timeout(std::time::Duration::from_secs(60), self.stdout.next_line());
            let line = (read.await)
                .expect("zen answers on stdout")
                .unwrap()
                .expect("a line");
            // Log messages (notifications/message) come before the reply.
            let reply = !line.contains("\"method\":\"notifications/");
            lines.push(line);
            if reply {
                return lines;
            }
        }
    }
}

impl Drop for StdioZen {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// One path's reply: (path, HTTP status, body).
type Reply = (String, u16, String);

/// Every path's reply to every request of the table, in every revision, compared. Paths:
/// - `rmcp`: rmcp's handler, through a legacy session (a request with an Origin goes there);
/// - `direct`: zen's tools/call on a known session, on the connection's task;
/// - `http-modern`: zen's 2026-07-28 path;
/// - `stdio`: zen's stdio server, after `initialize` at the revision, or with `_meta`.
#[tokio::test]
async fn every_path_gives_the_same_bytes_for_the_same_request() {
    let zen = http_zen(&[], ENV).await;
    let http = http_plain();
    let rows = table();
    // (revision, row) -> [(path, status, body)]
    let mut replies: BTreeMap<(String, String), Vec<Reply>> = BTreeMap::new();
    for version in LEGACY.into_iter().chain([MODERN]) {
        let mut stdio = StdioZen::start();
        if version != MODERN {
            let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": version, "capabilities": {},
                "clientInfo": {"name": "equality", "version": "1"}}});
            let reply = stdio.ask(&init).await.unwrap();
            assert!(
                reply.contains(&format!("\"protocolVersion\":\"{version}\"")),
                "{reply}"
            );
            stdio
                .ask(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
                .await;
        }
        let session = if version == MODERN {
            None
        } else {
            Some(open_session(&http, &zen.url, version).await)
        };
        for (n, (what, method, params)) in rows.iter().enumerate() {
            let id = n + 1;
            let message = request(id, version, method, params);
            let key = (version.to_string(), what.clone());
            let mut got = Vec::new();
            let body = stdio.ask(&message).await.unwrap();
            got.push(("stdio".to_string(), 200, body));
            if let Some(session) = &session {
                let headers = vec![
                    ("mcp-session-id", session.clone()),
                    ("mcp-protocol-version", version.to_string()),
                ];
                let (status, body) = post(&http, &zen.url, &headers, &message).await;
                got.push(("direct".to_string(), status, body));
                let mut rmcp = headers.clone();
                rmcp.push(("origin", "http://localhost:3000".to_string()));
                let (status, body) = post(&http, &zen.url, &rmcp, &message).await;
                got.push(("rmcp".to_string(), status, body));
            } else {
                let name = params["name"].as_str().unwrap_or_default();
                let mut headers = vec![
                    ("mcp-protocol-version", MODERN.to_string()),
                    ("mcp-method", (*method).to_string()),
                ];
                if method == &"tools/call" && !name.is_empty() {
                    headers.push(("mcp-name", name.to_string()));
                }
                let (status, body) = post(&http, &zen.url, &headers, &message).await;
                got.push(("http-modern".to_string(), status, body));
            }
            replies.insert(key, got);
        }
    }
    let mut differences = Vec::new();
    for ((version, what), got) in &replies {
        let (first_path, first_status, first) = &got[0];
        let first_norm = normalise(what, first);
        assert!(
            first.contains("\"jsonrpc\":\"2.0\""),
            "{version} {what}: {first}"
        );
        for (path, status, body) in &got[1..] {
            if normalise(what, body) != first_norm {
                differences.push(format!(
                    "{version} {what}:\n  {first_path} ({first_status}): {first}\n  {path} ({status}): {body}"
                ));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "replies differ between paths:\n{}",
        differences.join("\n")
    );
    // Every tool's call succeeded (so the table compares results, not only errors).
    for ((version, what), got) in &replies {
        if what.starts_with("tool ") {
            assert!(
                got[0].2.contains("\"isError\":false"),
                "{version} {what}: {}",
                got[0].2
            );
        }
    }
    // resultType at 2026-07-28 and never before (`2026-07-28/basic#resulttype`).
    for ((version, what), got) in &replies {
        let body = &got[0].2;
        let reply: Value = serde_json::from_str(body).unwrap();
        if let Some(result) = reply.get("result") {
            let has = result.get("resultType").is_some();
            assert_eq!(has, version == MODERN, "{version} {what}: {body}");
        }
    }
    drop(zen);
}
