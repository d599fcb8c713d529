//! Hardening: bad JSON-RPC on stdio, HTTP security, secrets, disconnects, shutdown under load,
//! and a flood against small pools. Each bad input gets a clear error, nothing panics, and the
//! next good call still succeeds. (Bad tool arguments: tool_arguments.rs.)
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::util::{
    call, http_client, http_zen, is_error, piped_serve, snapshot, telemetry_get,
    telemetry_snapshot, text, wait_for, zen_output,
};

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// A zen serve on raw stdio pipes: write lines, read replies by id.
struct RawStdio {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    out: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    _dir: tempfile::TempDir,
}

impl RawStdio {
    async fn start(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = piped_serve(env, dir.path());
        let stdin = child.stdin.take().unwrap();
        let out = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut raw = RawStdio {
            child,
            stdin,
            out,
            _dir: dir,
        };
        raw.send(INIT).await;
        assert_eq!(raw.reply().await["id"], 1);
        raw.send(INITIALIZED).await;
        raw
    }

    async fn send(&mut self, line: &str) {
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.write_all(b"\n").await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    async fn reply(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(20), self.out.next_line())
            .await
            .expect("a reply within 20 s")
            .unwrap()
            .expect("zen still running");
        serde_json::from_str(&line).unwrap()
    }
}

fn chat_line(id: u64, prompt: &str) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "chat", "arguments": {"prompt": prompt}}}).to_string()
}

#[tokio::test]
async fn a_20_mb_argument_gets_an_error_naming_the_limit_and_zen_keeps_serving() {
    let mut zen = RawStdio::start(&[("ZEN_SIM_LATENCY_MS", "1")]).await;
    zen.send(&chat_line(7, &"x".repeat(20 * 1024 * 1024))).await;
    let r = zen.reply().await;
    assert_eq!(r["id"], 7, "{r}");
    let message = r["error"]["message"].as_str().unwrap();
    assert!(message.contains("ZEN_MAX_MESSAGE_BYTES"), "{message}");
    // Under the message limit but over the prompt limit: a tool error naming it.
    zen.send(&chat_line(8, &"y".repeat(2 * 1024 * 1024))).await;
    let r = zen.reply().await;
    assert_eq!(r["result"]["isError"], true);
    assert!(
        r["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("ZEN_MAX_PROMPT_BYTES")
    );
    zen.send(&chat_line(9, "small again")).await;
    let r = zen.reply().await;
    assert_eq!(
        (r["id"].as_u64(), r["result"]["isError"].as_bool()),
        (Some(9), Some(false)),
        "{r}"
    );
}

#[tokio::test]
async fn malformed_json_rpc_and_wrong_shapes_get_errors_not_panics() {
    let mut zen = RawStdio::start(&[("ZEN_SIM_LATENCY_MS", "1")]).await;
    // Valid JSON with an id but not a request zen knows: an Invalid Request error for that id.
    zen.send(r#"{"jsonrpc":"2.0","id":41,"method":"tools/call","params":"not an object"}"#)
        .await;
    let r = zen.reply().await;
    assert_eq!(r["id"], 41);
    assert_eq!(r["error"]["code"], -32600);
    zen.send(r#"{"jsonrpc":"2.0","id":42,"method":"no/such/method"}"#)
        .await;
    let r = zen.reply().await;
    assert_eq!(r["id"], 42);
    assert!(r["error"].is_object(), "{r}");
    // Junk with no readable id: an error without an id, parse error for what is not JSON.
    for (junk, code) in [
        ("{", -32700),
        ("[]", -32600),
        ("null", -32600),
        ("\"just a string\"", -32600),
        ("{\"jsonrpc\":\"2.0\",\"id\":", -32700),
        ("\u{0}\u{1}", -32700),
    ] {
        zen.send(junk).await;
        let r = zen.reply().await;
        assert_eq!(r["error"]["code"], code, "{junk}: {r}");
        assert!(r.get("id").is_none(), "{junk}: {r}");
    }
    zen.stdin
        .write_all(b"\xff\xfe\xfd not utf-8\n")
        .await
        .unwrap();
    let r = zen.reply().await;
    assert_eq!(r["error"]["code"], -32700, "{r}");
    // A tools/call whose params miss the tool name: invalid params, saying what is missing.
    zen.send(r#"{"jsonrpc":"2.0","id":44,"method":"tools/call","params":{"arguments":{}}}"#)
        .await;
    let r = zen.reply().await;
    assert_eq!(
        (r["id"].as_u64(), &r["error"]["code"]),
        (Some(44), &json!(-32602)),
        "{r}"
    );
    assert!(
        r["error"]["message"].as_str().unwrap().contains("name"),
        "{r}"
    );
    zen.send(&chat_line(43, "still serving?")).await;
    let r = zen.reply().await;
    assert_eq!(
        (r["id"].as_u64(), r["result"]["isError"].as_bool()),
        (Some(43), Some(false)),
        "{r}"
    );
    drop(zen.stdin);
    assert!(zen.child.wait().await.unwrap().success());
}

#[tokio::test]
async fn a_last_message_without_its_newline_is_still_answered_before_exit() {
    let mut zen = RawStdio::start(&[("ZEN_SIM_LATENCY_MS", "1")]).await;
    zen.stdin
        .write_all(chat_line(7, "no newline after me").as_bytes())
        .await
        .unwrap();
    drop(zen.stdin); // EOF right after the unterminated line
    let r = tokio::time::timeout(Duration::from_secs(20), zen.out.next_line())
        .await
        .expect("a reply within 20 s")
        .unwrap()
        .expect("a reply before exit");
    let r: Value = serde_json::from_str(&r).unwrap();
    assert_eq!(
        (r["id"].as_u64(), r["result"]["isError"].as_bool()),
        (Some(7), Some(false)),
        "{r}"
    );
    assert!(zen.child.wait().await.unwrap().success());
}

#[tokio::test]
async fn sigterm_during_50_in_flight_calls_answers_them_all_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("ZEN_SIM_LATENCY_MS", "800"), ("ZEN_DRAIN_TIMEOUT", "10s")];
    let mut child = piped_serve(&env, dir.path());
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let telemetry = loop {
        let line = err
            .next_line()
            .await
            .unwrap()
            .expect("zen logs its telemetry url");
        if let Some(at) = line.find("url=") {
            break line[at + 4..].trim().to_string();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = err.next_line().await {} });
    for line in [INIT.to_string(), INITIALIZED.to_string()]
        .into_iter()
        .chain((0..50).map(|i| chat_line(100 + i, "slow")))
    {
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
    }
    stdin.flush().await.unwrap();
    wait_for(
        "50 chat calls in flight",
        Duration::from_secs(10),
        async || telemetry_snapshot(&telemetry).await["tools"]["chat"]["in_flight"] == 50,
    )
    .await;
    let started = std::time::Instant::now();
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGTERM) };
    let mut answered = std::collections::BTreeSet::new();
    while let Some(line) = out.next_line().await.unwrap() {
        let v: Value = serde_json::from_str(&line).unwrap();
        if let Some(id) = v["id"].as_u64().filter(|id| *id >= 100) {
            assert_eq!(v["result"]["isError"], false, "{v}");
            answered.insert(id);
        }
    }
    let status = child.wait().await.unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(answered.len(), 50);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn http_rejects_foreign_origins_oversized_bodies_and_missing_tokens() {
    let zen = http_zen(
        &[],
        &[
            ("ZEN_AUTH_TOKEN", "s3cret-token"),
            ("ZEN_MAX_MESSAGE_BYTES", "1048576"),
        ],
    )
    .await;
    let http = crate::util::http_plain();
    // The status of one POST with this body, bearer token and Origin.
    let status = async |body: String, token: Option<&str>, origin: Option<&str>| {
        let mut request = http
            .post(&zen.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send().await.unwrap().status()
    };
    let token = Some("s3cret-token");
    assert_eq!(status(INIT.into(), None, None).await, 401, "no token");
    assert_eq!(
        status(INIT.into(), Some("wrong"), None).await,
        401,
        "wrong token"
    );
    let evil = Some("https://evil.example");
    assert_eq!(
        status(INIT.into(), token, evil).await,
        403,
        "foreign origin"
    );
    // Just over the limit, so the whole body is written before zen answers (a much larger one
    // can be cut off mid-send when the server replies early and closes).
    let big = chat_line(5, &"z".repeat(1024 * 1024 + 1000));
    assert_eq!(status(big, token, None).await, 413, "body over the limit");
    let local = Some("http://localhost:3000");
    assert_eq!(
        status(INIT.into(), token, local).await,
        200,
        "loopback origin with the token"
    );
}

#[tokio::test]
async fn a_non_loopback_bind_needs_allow_remote_and_a_token() {
    let (code, _, err) = zen_output(&["serve", "--http", "0.0.0.0:0"], &[]).await;
    assert_eq!(code, 2);
    assert!(
        err.contains("not a loopback address") && err.contains("--allow-remote"),
        "{err}"
    );
    let (code, _, err) = zen_output(&["serve", "--http", "0.0.0.0:0", "--allow-remote"], &[]).await;
    assert_eq!(code, 2);
    assert!(err.contains("ZEN_AUTH_TOKEN"), "{err}");
    let (code, _, err) = zen_output(&["serve", "--telemetry", "0.0.0.0:0"], &[]).await;
    assert_eq!(code, 2);
    assert!(
        err.contains("telemetry listener only serves this machine"),
        "{err}"
    );
}

#[tokio::test]
async fn api_keys_never_appear_in_logs_snapshots_metrics_or_tool_output() {
    const KEY: &str = "sk-zen-sentinel-7f3a9c1e5b";
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(401).set_body_json(
            json!({"error": {"message": format!("Incorrect API key provided: {KEY}")}}),
        ))
        .mount(&server)
        .await;
    let base = server.uri();
    let env = [
        ("OPENAI_API_KEY", KEY),
        ("OPENAI_BASE_URL", base.as_str()),
        ("GEMINI_API_KEY", KEY),
        ("GEMINI_BASE_URL", base.as_str()),
        ("LOG_LEVEL", "debug"),
    ];
    let zen = http_zen(&[], &env).await;
    let client = http_client(&zen.url).await;
    let mut seen = Vec::new();
    for (tool, args) in [
        ("chat", json!({"prompt": "hi", "model": "gpt-5"})),
        ("chat", json!({"prompt": "hi", "model": "gemini-2.5-pro"})),
        ("chat", json!({"prompt": "hi", "model": "no-such-model"})),
        ("version", json!({})),
        ("listmodels", json!({})),
        ("metrics", json!({})),
    ] {
        let r = call(&client, tool, args).await;
        seen.push(serde_json::to_string(&r).unwrap());
    }
    assert!(seen[0].contains("HTTP 401"), "{}", seen[0]);
    let telemetry = zen.telemetry.clone().unwrap();
    seen.push(telemetry_get(&telemetry, "/snapshot").await);
    seen.push(telemetry_get(&telemetry, "/metrics").await);
    let (_, help, _) = zen_output(&["serve", "--help"], &env).await;
    seen.push(help);
    drop(client);
    seen.push(zen.stderr.text());
    for (i, output) in seen.iter().enumerate() {
        assert!(!output.contains(KEY), "output {i} leaks the key:\n{output}");
    }
}

#[tokio::test]
async fn a_client_disconnect_cancels_its_provider_call_and_frees_the_permits() {
    let zen = http_zen(&[], &[("ZEN_SIM_LATENCY_MS", "60000")]).await;
    let telemetry = zen.telemetry.clone().unwrap();
    let snap = async || telemetry_snapshot(&telemetry).await;
    let client = http_client(&zen.url).await;
    let peer = client.peer().clone();
    let calls: Vec<_> = (0..5)
        .map(|_| {
            let peer = peer.clone();
            tokio::spawn(async move {
                let params = rmcp::model::CallToolRequestParams::new("chat")
                    .with_arguments(json!({"prompt": "slow"}).as_object().unwrap().clone());
                peer.call_tool(params).await
            })
        })
        .collect();
    wait_for(
        "5 calls at the provider",
        Duration::from_secs(10),
        async || snap().await["providers"]["simulated"]["calls"]["in_flight"] == 5,
    )
    .await;
    client.cancel().await.unwrap(); // the client goes away mid-call
    for c in calls {
        let _ = c.await;
    }
    wait_for("permits back", Duration::from_secs(10), async || {
        let s = snap().await;
        s["pools"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["in_use"] == 0)
            && s["tools"]["chat"]["in_flight"] == 0
    })
    .await;
    let s = snap().await;
    assert_eq!(
        s["tools"]["chat"]["errors"]["timeout"], 5,
        "cancelled calls are counted, not lost: {}",
        s["tools"]["chat"]
    );
}

#[tokio::test]
async fn hundreds_of_sessions_opened_and_dropped_leave_zen_serving() {
    let zen = http_zen(&[], &[("ZEN_SIM_LATENCY_MS", "1")]).await;
    let mut sessions = Vec::new();
    for _ in 0..200 {
        sessions.push(http_client(&zen.url).await);
    }
    for (i, s) in sessions.into_iter().enumerate() {
        if i % 2 == 0 {
            let _ = s.cancel().await;
        } else {
            drop(s); // abandoned without a goodbye
        }
    }
    let client = http_client(&zen.url).await;
    let r = call(&client, "chat", json!({"prompt": "after the crowd"})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        snapshot(&client).await["tools"]["chat"]["total_operations"],
        1
    );
}

#[tokio::test]
async fn a_thousand_concurrent_calls_against_small_pools_are_all_answered() {
    let (code, out, err) = zen_output(
        &[
            "stress",
            "-c",
            "1000",
            "-n",
            "1000",
            "--max-error-rate",
            "1",
            "--json",
            "--env",
            "MAX_CONCURRENT_REQUESTS=50",
            "--env",
            "ZEN_PROVIDER_LIMITS=simulated=10",
            "--env",
            "ZEN_SIM_ERROR_RATE=0.05",
            "--env",
            "ZEN_SIM_LATENCY_MS=20",
            "--env",
            "ZEN_SIM_SEED=7",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 0, "{err}\n{out}");
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["calls"]["total"], 1000, "every call answered");
    for kind in ["transport", "timeout", "jsonrpc"] {
        assert_eq!(r["errors"][kind]["count"], 0, "{kind}: {}", r["errors"]);
    }
    let pools = r["server"]["pools"].as_array().unwrap();
    assert!(pools.iter().all(|p| p["in_use_after"] == 0), "{pools:?}");
    let global = pools.iter().find(|p| p["name"] == "global").unwrap();
    assert_eq!(global["peak_in_use"], 50);
    let sim = pools.iter().find(|p| p["name"] == "simulated").unwrap();
    assert_eq!(sim["peak_in_use"], 10);
}
