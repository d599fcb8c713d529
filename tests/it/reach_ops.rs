//! Issue 28: every MCP operation under load, not only tools/call. Against server-everything
//! (pinned, installed by `.ci/run`), which has tools, resources, prompts and completions: each
//! operation succeeds, and the report has a histogram per operation, the per-tool breakdown
//! keeping only tools.
use std::process::Stdio;

use serde_json::Value;

use crate::interop::{Tools, free_port, tools};
use crate::util::zen_output;

/// Every operation, one `[[calls]]` each.
const EVERY_OPERATION: &str = r#"
name = "every-operation"
[[calls]]
op = "ping"
[[calls]]
op = "tools/list"
[[calls]]
tool = "echo"
args = { message = "hi" }
[[calls]]
op = "resources/list"
[[calls]]
op = "resources/read"
uri = "random"
[[calls]]
op = "resources/read"
uri = "demo://resource/static/document/architecture.md"
[[calls]]
op = "prompts/list"
[[calls]]
op = "prompts/get"
prompt = "args-prompt"
args = { city = "Paris" }
[[calls]]
op = "completion/complete"
args = { ref = { type = "ref/prompt", name = "completable-prompt" }, argument = { name = "department", value = "Eng" } }
"#;

const METHODS: [&str; 8] = [
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/read",
    "prompts/list",
    "prompts/get",
    "completion/complete",
];

/// server-everything over streamable HTTP, killed on drop.
pub(crate) async fn everything_http(tools: &Tools) -> (tokio::process::Child, String) {
    let port = free_port();
    let mut cmd = tokio::process::Command::new(&tools.node);
    cmd.arg(&tools.everything)
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let child = cmd.spawn().unwrap();
    crate::reach_auth::listening("server-everything", port).await;
    (child, format!("http://127.0.0.1:{port}/mcp"))
}

fn report(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// Each operation in the report: calls, no failures, a histogram.
fn assert_operations(r: &Value, methods: &[&str]) {
    let ops = r["operations"].as_object().expect("operations");
    assert_eq!(ops.len(), methods.len(), "{ops:?}");
    for method in methods {
        let op = &r["operations"][method];
        assert!(op["calls"].as_u64().unwrap() > 0, "{method}: {op}");
        assert_eq!(op["failed"], 0, "{method}: {op} {}", r["errors"]);
        assert!(op["latency"]["p50_ms"].as_f64().unwrap() > 0.0, "{method}");
        assert!(
            !op["latency"]["hdr"].as_str().unwrap().is_empty(),
            "{method}"
        );
    }
}

#[tokio::test]
async fn every_operation_runs_against_server_everything_with_a_histogram_each() {
    let Some(tools) = tools() else { return };
    let (_server, url) = everything_http(&tools).await;
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("ops.toml");
    std::fs::write(&scenario, EVERY_OPERATION).unwrap();
    let scenario = scenario.display().to_string();
    let args = [
        "stress",
        "--url",
        &url,
        "--scenario",
        &scenario,
        "-c",
        "4",
        "-n",
        "400",
        "--json",
    ];
    let (code, out, err) = zen_output(&args, &[]).await;
    assert_eq!(code, 0, "{err}\n{out}");
    let r = report(&out);
    assert_eq!(r["calls"]["total"], 400);
    assert_operations(&r, &METHODS);
    // The tools breakdown is tools only.
    let tools_seen: Vec<&String> = r["tools"].as_object().unwrap().keys().collect();
    assert_eq!(tools_seen, ["echo"]);
    // Per operation adds up to the whole.
    let sum: u64 = (r["operations"].as_object().unwrap().values())
        .map(|o| o["calls"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, 400);
}

#[tokio::test]
async fn op_flags_mix_operations_over_stdio_and_name_what_is_missing() {
    let Some(tools) = tools() else { return };
    let stdio = format!(
        "{} {} stdio",
        tools.node.display(),
        tools.everything.display()
    );
    let args = [
        "stress",
        "--stdio",
        &stdio,
        "--op",
        "ping",
        "--op",
        "resources/read",
        "--op",
        "prompts/get",
        "--prompt",
        "simple-prompt",
        "-c",
        "2",
        "-n",
        "60",
        "--json",
    ];
    let (code, out, err) = zen_output(&args, &[]).await;
    assert_eq!(code, 0, "{err}\n{out}");
    let r = report(&out);
    assert_operations(&r, &["ping", "resources/read", "prompts/get"]);
    assert!(r["tools"].as_object().unwrap().is_empty(), "{}", r["tools"]);
    // A prompt to get is needed, and the error says which flag gives it.
    let (code, _, err) = zen_output(&["stress", "--op", "prompts/get"], &[]).await;
    assert_eq!(code, 2);
    assert!(err.contains("--prompt") || err.contains("prompt"), "{err}");
    let (code, _, err) = zen_output(&["stress", "--op", "tools/delete"], &[]).await;
    assert_eq!(code, 2);
    assert!(
        err.contains("resources/read"),
        "lists the operations: {err}"
    );
    // --tool and --args without an operation that takes them are refused, not ignored.
    let (code, _, err) = zen_output(&["stress", "--op", "ping", "--tool", "echo"], &[]).await;
    assert_eq!(code, 2);
    assert!(err.contains("--tool goes with --op tools/call"), "{err}");
    let args = ["stress", "--op", "ping", "--args", "{}"];
    let (code, _, err) = zen_output(&args, &[]).await;
    assert_eq!(code, 2);
    assert!(err.contains("--args goes with --op tools/call"), "{err}");
}
