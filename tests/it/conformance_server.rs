//! Issue 24: zen serve is the server of the official conformance suite's server scenarios
//! (`@modelcontextprotocol/conformance` 0.2.0-alpha.12) at 2025-11-25 (sessions) and at
//! 2026-07-28 (stateless), on one endpoint, and the official Python SDK's client (`mcp` 2.3.0)
//! calls every tool in its `auto` mode (2026-07-28) and its `legacy` mode (the 2025 handshake),
//! over stdio and HTTP. The suite's expected failures are tests/conformance/server-baseline.yml:
//! only scenarios that need the suite's own fixtures, each with its reason; the suite also fails
//! a run whose baseline lists a scenario that now passes.
use serde_json::{Value, json};

use crate::interop::{Tools, conformance, failed, repo_file, tools};
use crate::reply_equality::every_tool_call;
use crate::util::{http_zen, zen_bin};

/// The server scenarios required by `revision` against a fresh `zen serve --http`.
async fn server_suite(tools: &Tools, revision: &str) {
    let zen = http_zen(&[], &[("ZEN_SIM_LATENCY_MS", "1")]).await;
    let baseline = repo_file("tests/conformance/server-baseline.yml");
    let args = [
        "server",
        "--url",
        &zen.url,
        "--requirements",
        revision,
        "--expected-failures",
        &baseline,
    ];
    let (code, checks, logs) = conformance(tools, &args, &[]).await;
    assert!(checks.len() > 20, "{revision}: too few checks ran\n{logs}");
    // The exit code is the suite's verdict against the baseline; the failed checks are listed to
    // say which (most are the baseline's, expected).
    let tail: String = logs
        .lines()
        .rev()
        .take(40)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        code,
        0,
        "{revision}: unexpected failures or a stale baseline\n{tail}\nfailed or warned checks:\n{}",
        failed(&checks)
    );
}

#[tokio::test]
async fn the_server_suite_passes_at_2025_11_25_outside_the_fixture_baseline() {
    let Some(tools) = tools() else { return };
    server_suite(&tools, "2025-11-25").await;
}

#[tokio::test]
async fn the_server_suite_passes_at_2026_07_28_outside_the_fixture_baseline() {
    let Some(tools) = tools() else { return };
    server_suite(&tools, "2026-07-28").await;
}

/// The Python SDK's client against `target` in `mode`: the JSON line it prints.
async fn sdk_client(tools: &Tools, target: &str, mode: &str) -> Value {
    let calls: serde_json::Map<String, Value> = every_tool_call()
        .into_iter()
        .map(|(tool, arguments)| (tool.to_string(), arguments))
        .collect();
    let mut cmd = tokio::process::Command::new(&tools.python);
    cmd.arg(repo_file("tests/python/sdk_client.py"))
        .args([
            target,
            "--mode",
            mode,
            "--calls",
            &Value::Object(calls).to_string(),
        ])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(std::time::Duration::from_secs(120), cmd.output())
        .await
        .expect("the Python client finished within 2 minutes")
        .expect("the Python client ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{target} {mode}: exit {:?}\n{stdout}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[tokio::test]
async fn the_python_sdk_client_calls_every_tool_in_auto_and_legacy_mode_over_stdio_and_http() {
    let Some(tools) = tools() else { return };
    let zen = http_zen(&[], &[("ZEN_SIM_LATENCY_MS", "1")]).await;
    let data = tempfile::tempdir().unwrap();
    // A stdio zen with the test environment's settings (no provider keys, its own data dir).
    let stdio = format!(
        "env -u OPENAI_API_KEY -u GEMINI_API_KEY -u OPENROUTER_API_KEY -u CUSTOM_API_URL \
         ZEN_SIM_LATENCY_MS=1 ZEN_NO_TELEMETRY=1 ZEN_DATA_DIR={} ZEN_RUNTIME_DIR={} {} serve",
        data.path().join("data").display(),
        data.path().join("run").display(),
        zen_bin()
    );
    for (target, transport) in [(zen.url.as_str(), "http"), (stdio.as_str(), "stdio")] {
        for (mode, version) in [("auto", "2026-07-28"), ("legacy", "2025-11-25")] {
            let got = sdk_client(&tools, target, mode).await;
            assert_eq!(
                got["protocol_version"], version,
                "{transport} {mode}: {got}"
            );
            assert_eq!(got["server"], "zen", "{got}");
            // Every tool is listed; each is called but clink, which needs an AI CLI on PATH
            // (tests/it/clink.rs runs it against a fake one).
            let listed = got["tools"].as_array().unwrap().len();
            assert_eq!(
                listed,
                every_tool_call().len() + 1,
                "{transport} {mode}: {got}"
            );
            for (tool, _) in every_tool_call() {
                let call = &got["calls"][tool];
                assert_eq!(
                    call["is_error"],
                    json!(false),
                    "{transport} {mode} {tool}: {call}"
                );
            }
        }
    }
}
