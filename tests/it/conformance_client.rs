//! Issue 24: zen stress is the client of the official conformance suite's client scenarios
//! (`@modelcontextprotocol/conformance` 0.2.0-alpha.12): each scenario starts the suite's mock
//! server and runs zen stress against it; every check must pass (a WARNING fails too), and zen
//! must exit 0. A failure names the checks and shows zen's output.
use crate::interop::{Tools, conformance, failed, repo_file, tools};
use crate::util::zen_bin;

/// Run client scenario `scenario` (at `spec`, if given) with `command` as the client.
async fn run(
    tools: &Tools,
    command: &str,
    scenario: &str,
    spec: Option<&str>,
    env: &[(&str, &str)],
) {
    let mut args = vec!["client", "--command", command, "--scenario", scenario];
    if let Some(spec) = spec {
        args.extend(["--spec-version", spec]);
    }
    let (code, checks, logs) = conformance(tools, &args, env).await;
    assert!(
        !checks.is_empty(),
        "{scenario}: no checks were recorded\n{logs}"
    );
    let bad = failed(&checks);
    assert!(
        bad.is_empty() && code == 0,
        "{scenario} {spec:?}: exit {code}, failed checks:\n{bad}\n{logs}"
    );
}

/// zen stress making `-n` calls of `tool` with `args`; the suite appends the URL.
fn stress(tool: &str, args: &str) -> String {
    format!(
        "{} stress -c 1 -n 3 --tool {tool} --args '{args}' --url",
        zen_bin()
    )
}

#[tokio::test]
async fn tools_call_passes_at_2025_11_25_and_2026_07_28_with_the_default_protocol() {
    let Some(tools) = tools() else { return };
    let command = stress("add_numbers", r#"{"a":1,"b":2}"#);
    for spec in ["2025-11-25", "2026-07-28"] {
        run(&tools, &command, "tools_call", Some(spec), &[]).await;
    }
}

#[tokio::test]
async fn request_metadata_passes_after_the_first_probe_is_refused() {
    let Some(tools) = tools() else { return };
    // The mock refuses the first POST with -32022 and lists no tools: zen retries the
    // discover, then sends its calls unchecked.
    run(
        &tools,
        &stress("anything", "{}"),
        "request-metadata",
        None,
        &[],
    )
    .await;
}

#[tokio::test]
async fn http_standard_headers_pass() {
    let Some(tools) = tools() else { return };
    run(
        &tools,
        &stress("test_headers", "{}"),
        "http-standard-headers",
        None,
        &[],
    )
    .await;
    run(
        &tools,
        &stress("my-hyphenated-tool", "{}"),
        "http-standard-headers",
        None,
        &[],
    )
    .await;
}

/// The wrapper turning the suite's tool calls (arguments with nulls) into zen stress runs.
fn wrapper(tools: &Tools) -> String {
    format!(
        "{} {} {}",
        tools.python.display(),
        repo_file("tests/conformance/zen_stress_client.py"),
        zen_bin()
    )
}

#[tokio::test]
async fn http_custom_headers_pass_and_invalid_annotations_drop_their_tools() {
    let Some(tools) = tools() else { return };
    let command = wrapper(&tools);
    run(&tools, &command, "http-custom-headers", None, &[]).await;
    let valid = [
        ("ZEN_TOOL", "valid_tool"),
        ("ZEN_ARGS", r#"{"region":"us-west1"}"#),
    ];
    run(&tools, &command, "http-invalid-tool-headers", None, &valid).await;
}
