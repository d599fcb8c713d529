//! Shared helpers: start the real `zen` binary (stdio or HTTP on an ephemeral port), connect
//! rmcp's client, call tools, read the server's stderr and snapshot.
#![allow(dead_code)]
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation,
    ProtocolVersion,
};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub(crate) type Client = RunningService<RoleClient, ClientConfig>;

/// Path of the built binary.
pub(crate) fn zen_bin() -> &'static str {
    env!("CARGO_BIN_EXE_zen")
}

/// A command for `zen ARGS` with a clean, offline environment: no provider keys, a private
/// runtime directory, a temp working directory (no stray .env).
pub(crate) fn zen_command(args: &[&str], env: &[(&str, &str)], dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(zen_bin());
    cmd.args(args).current_dir(dir).kill_on_drop(true);
    let providers = [
        "OPENAI_API_KEY",
        "GEMINI_API_KEY",
        "OPENROUTER_API_KEY",
        "CUSTOM_API_URL",
        "CUSTOM_API_KEY",
        "DEFAULT_MODEL",
        "XDG_RUNTIME_DIR",
        // Azure OpenAI, X.AI, DIAL, the model files and allowed-model lists, clink's clients.
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_ENDPOINT",
        "AZURE_OPENAI_DEPLOYMENT_NAME",
        "XAI_API_KEY",
        "DIAL_API_KEY",
        "CUSTOM_MODELS_CONFIG_PATH",
        "OPENROUTER_MODELS_CONFIG_PATH",
        "OPENAI_MODELS_CONFIG_PATH",
        "GEMINI_MODELS_CONFIG_PATH",
        "XAI_MODELS_CONFIG_PATH",
        "DIAL_MODELS_CONFIG_PATH",
        "AZURE_MODELS_CONFIG_PATH",
        "OPENAI_ALLOWED_MODELS",
        "GOOGLE_ALLOWED_MODELS",
        "XAI_ALLOWED_MODELS",
        "OPENROUTER_ALLOWED_MODELS",
        "DIAL_ALLOWED_MODELS",
        "AZURE_OPENAI_ALLOWED_MODELS",
        "CLI_CLIENTS_CONFIG_PATH",
    ];
    // The developer's own OpenTelemetry settings must not switch export on in tests.
    let otel = zen_server::telemetry::otel::SWITCHES
        .into_iter()
        .chain(["OTEL_SDK_DISABLED"]);
    for key in providers.into_iter().chain(otel) {
        cmd.env_remove(key);
    }
    // Never the user's real conversation store: each test's own data dir.
    cmd.env_remove("XDG_DATA_HOME")
        .env("ZEN_DATA_DIR", dir.join("data"));
    cmd.env("ZEN_RUNTIME_DIR", dir.join("run"))
        .env("LOG_LEVEL", "info");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

pub(crate) fn client_config() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("zen-tests", "0"),
    )
    .with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE)
}

/// Collected stderr of a child, filled by a background task.
#[derive(Clone, Default)]
pub(crate) struct Stderr(Arc<Mutex<String>>);

impl Stderr {
    fn follow(
        stream: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    ) -> (Self, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let out = Stderr::default();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let sink = out.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                sink.0.lock().unwrap().push_str(&line);
                sink.0.lock().unwrap().push('\n');
                let _ = tx.send(line);
            }
        });
        (out, rx)
    }

    pub(crate) fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

/// zen serve over stdio with a connected client.
pub(crate) struct StdioZen {
    pub client: Client,
    pub pid: u32,
    pub stderr: Stderr,
    pub dir: tempfile::TempDir,
}

pub(crate) async fn stdio_zen(args: &[&str], env: &[(&str, &str)]) -> StdioZen {
    stdio_zen_with(args, env, |_| {}).await
}

/// [`stdio_zen`], with the command adjusted first (limits, credentials).
pub(crate) async fn stdio_zen_with(
    args: &[&str],
    env: &[(&str, &str)],
    adjust: impl FnOnce(&mut Command),
) -> StdioZen {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["serve"];
    all.extend_from_slice(args);
    let mut cmd = zen_command(&all, env, dir.path());
    adjust(&mut cmd);
    let (transport, stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn zen serve");
    let pid = transport.id().expect("child pid");
    let (stderr, _lines) = Stderr::follow(stderr.expect("piped stderr"));
    let client = client_config()
        .serve(transport)
        .await
        .unwrap_or_else(|e| panic!("initialize failed: {e}\nstderr:\n{}", stderr.text()));
    StdioZen {
        client,
        pid,
        stderr,
        dir,
    }
}

/// zen serve over HTTP on an ephemeral port.
pub(crate) struct HttpZen {
    pub child: Child,
    /// The MCP endpoint, e.g. http://127.0.0.1:PORT/mcp.
    pub url: String,
    /// The telemetry base URL (if telemetry is on).
    pub telemetry: Option<String>,
    pub stderr: Stderr,
    pub dir: tempfile::TempDir,
}

/// Start `zen serve --http 127.0.0.1:0` and wait for it to say where it listens.
pub(crate) async fn http_zen(args: &[&str], env: &[(&str, &str)]) -> HttpZen {
    http_zen_with(args, env, |_| {}).await
}

/// [`http_zen`], with the command adjusted first (limits, credentials).
pub(crate) async fn http_zen_with(
    args: &[&str],
    env: &[(&str, &str)],
    adjust: impl FnOnce(&mut Command),
) -> HttpZen {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["serve", "--http", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let mut cmd = zen_command(&all, env, dir.path());
    adjust(&mut cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn zen serve --http");
    let (stderr, mut lines) = Stderr::follow(child.stderr.take().unwrap());
    let mut telemetry = None;
    let wait = async {
        while let Some(line) = lines.recv().await {
            if let Some(url) = field(&line, "url=") {
                telemetry = Some(url);
            }
            if let Some(url) = field(&line, "endpoint=") {
                return url;
            }
        }
        panic!("zen serve --http ended before listening");
    };
    let url = tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .unwrap_or_else(|_| panic!("zen serve --http did not start:\n{}", stderr.text()));
    HttpZen {
        child,
        url,
        telemetry,
        stderr,
        dir,
    }
}

fn field(line: &str, key: &str) -> Option<String> {
    let start = line.find(key)? + key.len();
    Some(line[start..].split_whitespace().next()?.to_string())
}

pub(crate) async fn http_client(url: &str) -> Client {
    zen_os::tls::use_ring();
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url).max_concurrent_requests(1024),
    );
    client_config()
        .serve(transport)
        .await
        .expect("HTTP initialize")
}

/// zen's step-workflow tools, in tools/list order.
pub(crate) const WORKFLOW_TOOLS: [&str; 11] = [
    "thinkdeep",
    "planner",
    "codereview",
    "precommit",
    "debug",
    "secaudit",
    "docgen",
    "analyze",
    "refactor",
    "tracer",
    "testgen",
];

/// Call a tool with JSON arguments.
pub(crate) async fn call(client: &Client, tool: &str, args: Value) -> CallToolResult {
    let mut params = CallToolRequestParams::new(tool.to_string());
    if let Value::Object(map) = args {
        params = params.with_arguments(map);
    }
    client
        .call_tool(params)
        .await
        .expect("tools/call transport")
}

/// The text of a tool result.
pub(crate) fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn is_error(result: &CallToolResult) -> bool {
    result.is_error == Some(true)
}

/// The server's full snapshot through its `metrics` tool.
pub(crate) async fn snapshot(client: &Client) -> Value {
    let result = call(client, "metrics", serde_json::json!({"detail": true})).await;
    assert!(!is_error(&result), "{}", text(&result));
    serde_json::from_str(&text(&result)).expect("metrics is JSON")
}

/// GET a path of zen's telemetry listener (`/snapshot`, `/metrics`) as text.
pub(crate) async fn telemetry_get(base: &str, path: &str) -> String {
    crate::util::http_plain()
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The snapshot from zen's telemetry listener.
pub(crate) async fn telemetry_snapshot(base: &str) -> Value {
    serde_json::from_str(&telemetry_get(base, "/snapshot").await).expect("/snapshot is JSON")
}

/// `zen serve` on raw stdio pipes (stdin, stdout and stderr all piped), for tests that write
/// JSON-RPC lines by hand.
pub(crate) fn piped_serve(env: &[(&str, &str)], dir: &std::path::Path) -> Child {
    let mut cmd = zen_command(&["serve"], env, dir);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

/// Wait until `probe` is true, checking after each `step`; panic after `limit`.
pub(crate) async fn wait_for(what: &str, limit: Duration, mut probe: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !probe().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Run `zen ARGS` to completion in a clean environment; (exit code, stdout, stderr).
pub(crate) async fn zen_output(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = zen_command(args, env, dir.path());
    cmd.stdin(Stdio::null());
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("zen finished within 2 minutes")
        .expect("zen ran");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Path of the test MCP server built from examples/echo_server.rs.
pub(crate) fn echo_server() -> String {
    let zen = std::path::Path::new(zen_bin());
    let path = zen.parent().unwrap().join("examples").join("echo_server");
    assert!(
        path.exists(),
        "{} missing: cargo test builds examples",
        path.display()
    );
    path.display().to_string()
}

/// A plain reqwest client for the test's own requests (TLS provider installed first, as zen does).
pub(crate) fn http_plain() -> reqwest::Client {
    zen_os::tls::use_ring();
    reqwest::Client::new()
}
