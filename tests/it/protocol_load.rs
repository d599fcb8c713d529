//! Issue 24: zen stress speaks MCP 2026-07-28 and the 2025 revisions, over HTTP and stdio,
//! against servers someone else wrote: the official Python SDK's (dual-era) and
//! server-everything (legacy only). The report says which revision each session spoke; an
//! `input_required` result is its own outcome; a mixed run compares the eras on one server;
//! a scenario can pin the revision.
use serde_json::Value;

use crate::interop::{PyServer, tools};
use crate::util::zen_output;

fn report(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not a JSON report ({e}):\n{stdout}"))
}

/// `zen stress TARGET --protocol P --tool T --args A -c C -n N --json`: (exit code, stdout,
/// stderr).
async fn stress(
    target: [&str; 2],
    protocol: &str,
    call: [&str; 2],
    [c, n]: [&str; 2],
) -> (i32, String, String) {
    let args = [
        "stress",
        target[0],
        target[1],
        "--protocol",
        protocol,
        "--tool",
        call[0],
        "--args",
        call[1],
        "-c",
        c,
        "-n",
        n,
        "--json",
    ];
    zen_output(&args, &[]).await
}

/// `zen stress` on `target` (`--url URL` or `--stdio CMD`) speaking `protocol`, 40 calls of
/// `add`; the report.
async fn add_calls(target: [&str; 2], protocol: &str) -> Value {
    let add = ["add", r#"{"a":2,"b":3}"#];
    let (code, out, err) = stress(target, protocol, add, ["4", "40"]).await;
    assert_eq!(code, 0, "{target:?} --protocol {protocol}: {err}\n{out}");
    let r = report(&out);
    assert_eq!(r["calls"]["ok"], 40, "{target:?} {protocol}: {out}");
    assert_eq!(r["target"]["server_name"], "py-sdk-server");
    assert_eq!(r["target"]["protocol_requested"], protocol);
    r
}

/// What each `--protocol` must end up speaking with a dual-era server.
const DUAL_ERA: [(&str, &str); 5] = [
    ("auto", "2026-07-28"),
    ("2026-07-28", "2026-07-28"),
    ("2025-11-25", "2025-11-25"),
    ("2025-06-18", "2025-06-18"),
    ("2025-03-26", "2025-03-26"),
];

#[tokio::test]
async fn every_protocol_against_the_python_sdk_server_over_http_and_stdio() {
    let Some(tools) = tools() else { return };
    for stateless in [false, true] {
        let server = PyServer::http(&tools, stateless).await;
        for (asked, spoken) in DUAL_ERA {
            let r = add_calls(["--url", &server.url], asked).await;
            assert_eq!(
                r["target"]["protocol"], spoken,
                "stateless {stateless}, {asked}"
            );
            assert_eq!(
                r["target"]["session_protocols"],
                serde_json::json!([spoken])
            );
        }
    }
    let stdio = PyServer::stdio_command(&tools);
    for (asked, spoken) in DUAL_ERA {
        let r = add_calls(["--stdio", &stdio], asked).await;
        assert_eq!(r["target"]["protocol"], spoken, "stdio, {asked}");
    }
}

/// `zen stress --tool ask`, which the Python server answers with input_required; the report.
async fn ask(target: [&str; 2]) -> Value {
    let ask = ["ask", r#"{"question":"who?"}"#];
    let (code, out, err) = stress(target, "auto", ask, ["2", "10"]).await;
    assert_eq!(
        code, 1,
        "every call wanted input, so the error threshold fails: {err}\n{out}"
    );
    report(&out)
}

#[tokio::test]
async fn input_required_is_its_own_outcome_naming_what_was_asked() {
    let Some(tools) = tools() else { return };
    let server = PyServer::http(&tools, false).await;
    let stdio = PyServer::stdio_command(&tools);
    for target in [["--url", server.url.as_str()], ["--stdio", stdio.as_str()]] {
        let r = ask(target).await;
        assert_eq!(r["calls"]["failed"], 10, "{target:?}");
        let bucket = &r["errors"]["input_required"];
        assert_eq!(bucket["count"], 10, "{target:?}: {}", r["errors"]);
        let sample = bucket["samples"][0].as_str().unwrap();
        assert!(
            sample.contains("input_required") && sample.contains("elicitation/create 'user_name'"),
            "{sample}"
        );
        for other in ["jsonrpc", "transport", "tool_error", "timeout"] {
            assert_eq!(
                r["errors"][other]["count"], 0,
                "{target:?} {other}: {}",
                r["errors"]
            );
        }
    }
}

#[tokio::test]
async fn a_mixed_run_compares_both_eras_on_one_server_and_a_scenario_pins_the_protocol() {
    let Some(tools) = tools() else { return };
    let server = PyServer::http(&tools, false).await;
    let add = ["add", r#"{"a":2,"b":3}"#];
    let both = "2026-07-28,2025-11-25";
    let (code, out, err) = stress(["--url", &server.url], both, add, ["4", "200"]).await;
    assert_eq!(code, 0, "{err}\n{out}");
    let r = report(&out);
    assert_eq!(r["target"]["protocol"], "mixed");
    assert_eq!(
        r["target"]["session_protocols"],
        serde_json::json!(["2026-07-28", "2025-11-25"])
    );
    assert_eq!(r["load"]["sessions"], 2);
    let shares = r["protocols"].as_array().expect("per-protocol shares");
    let labels: Vec<&str> = shares
        .iter()
        .map(|s| s["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["2026-07-28", "2025-11-25"]);
    let ok: u64 = shares.iter().map(|s| s["ok"].as_u64().unwrap()).sum();
    assert_eq!(ok, 200);
    assert!(
        shares.iter().all(|s| s["ok"].as_u64().unwrap() > 0),
        "{shares:?}"
    );

    // A scenario pins the revision; the flag overrides it.
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("pinned.toml");
    let toml = format!(
        "[target]\nurl = \"{}\"\nprotocol = \"2025-06-18\"\n[load]\nconcurrency = 2\nrequests = 10\n\
         [[calls]]\ntool = \"add\"\nargs = {{ a = 1, b = 2 }}\n",
        server.url
    );
    std::fs::write(&scenario, toml).unwrap();
    let path = scenario.display().to_string();
    let (code, out, err) = zen_output(&["stress", "--scenario", &path, "--json"], &[]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(report(&out)["target"]["protocol"], "2025-06-18");
    let flag = [
        "stress",
        "--scenario",
        &path,
        "--protocol",
        "auto",
        "--json",
    ];
    let (code, out, err) = zen_output(&flag, &[]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(report(&out)["target"]["protocol"], "2026-07-28");
    // A revision zen does not speak is refused at once.
    let (code, _, err) = zen_output(&["stress", "--protocol", "2024-11-05"], &[]).await;
    assert_eq!(code, 2);
    assert!(err.contains("2024-11-05") && err.contains("auto"), "{err}");
}

/// server-everything over stdio and HTTP: a legacy-only server.
async fn everything(target: [&str; 2], protocol: &str) -> (i32, String, String) {
    let echo = ["echo", r#"{"message":"hi"}"#];
    stress(target, protocol, echo, ["2", "20"]).await
}

#[tokio::test]
async fn auto_falls_back_to_the_handshake_for_a_legacy_only_server_and_a_pinned_2026_refuses_it() {
    let Some(tools) = tools() else { return };
    let stdio = format!(
        "{} {} stdio",
        tools.node.display(),
        tools.everything.display()
    );
    let (code, out, err) = everything(["--stdio", &stdio], "auto").await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(report(&out)["target"]["protocol"], "2025-11-25");
    let (code, _, err) = everything(["--stdio", &stdio], "2026-07-28").await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--protocol auto"), "{err}");
    // Over HTTP: its 400 to server/discover without a session is not a modern rejection.
    let port = crate::interop::free_port();
    let mut http = tokio::process::Command::new(&tools.node);
    http.arg(&tools.everything)
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let _server = http.spawn().unwrap();
    crate::util::wait_for(
        "server-everything to listen",
        std::time::Duration::from_secs(30),
        async || {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        },
    )
    .await;
    let url = format!("http://127.0.0.1:{port}/mcp");
    let (code, out, err) = everything(["--url", &url], "auto").await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(report(&out)["target"]["protocol"], "2025-11-25");
    let (code, _, err) = everything(["--url", &url], "2026-07-28").await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not speak MCP 2026-07-28"), "{err}");
}
