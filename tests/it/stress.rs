//! `zen stress` end to end: the real binary against the spawned default, an HTTP zen, and a
//! third-party-shaped server; scenarios; the JSON report against its committed schema.
use serde_json::Value;

use crate::util::{echo_server, http_zen, zen_command, zen_output};

fn report(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not a JSON report ({e}):\n{stdout}"))
}

#[tokio::test]
async fn thirty_concurrent_against_the_spawned_default_passes() {
    let (code, out, err) = zen_output(
        &["stress", "--concurrency", "30", "--json"],
        &[("ZEN_SIM_LATENCY_MS", "200")],
    )
    .await;
    assert_eq!(code, 0, "{err}\n{out}");
    let r = report(&out);
    assert_eq!(r["calls"]["ok"], 30);
    assert_eq!(r["calls"]["failed"], 0);
    assert_eq!(r["verdict"]["status"], "pass");
    assert_eq!(r["target"]["server_name"], "zen");
    let server = &r["server"];
    let global = server["pools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "global")
        .unwrap();
    assert!(global["peak_in_use"].as_u64().unwrap() >= 30, "{server}");
    assert!(server["rss_after_bytes"].as_u64().unwrap() > 0);
    // The simulated provider reports token usage; the report sums it for the run.
    assert!(
        server["prompt_tokens_during_run"].as_u64().unwrap() >= 30,
        "{server}"
    );
    assert!(
        server["completion_tokens_during_run"].as_u64().unwrap() >= 30,
        "{server}"
    );
    // The human report says the same.
    let (code, text, _) =
        zen_output(&["stress", "-c", "30"], &[("ZEN_SIM_LATENCY_MS", "20")]).await;
    assert_eq!(code, 0);
    assert!(text.contains("30 ok, 0 failed"), "{text}");
    assert!(text.contains("verdict    PASS"), "{text}");
}

#[tokio::test]
async fn errors_in_the_target_fail_the_thresholds_with_exit_1() {
    let (code, out, err) = zen_output(
        &[
            "stress",
            "-c",
            "10",
            "-n",
            "60",
            "--json",
            "--env",
            "ZEN_SIM_ERROR_RATE=0.5",
            "--env",
            "ZEN_SIM_LATENCY_MS=5",
            "--env",
            "ZEN_MAX_RETRIES=1",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 1, "{err}\n{out}");
    let r = report(&out);
    assert_eq!(r["verdict"]["status"], "fail");
    let failed = r["calls"]["failed"].as_u64().unwrap();
    assert!(failed > 5, "{r}");
    assert_eq!(r["errors"]["tool_error"]["count"].as_u64().unwrap(), failed);
    let sample = r["errors"]["tool_error"]["samples"][0].as_str().unwrap();
    assert!(sample.contains("HTTP 500"), "{sample}");
}

#[tokio::test]
async fn drives_an_http_zen_over_several_sessions() {
    let zen = http_zen(&[], &[("ZEN_SIM_LATENCY_MS", "5")]).await;
    let (code, out, err) = zen_output(
        &[
            "stress",
            "--url",
            &zen.url,
            "--sessions",
            "3",
            "-c",
            "9",
            "-n",
            "90",
            "--json",
        ],
        // The server's runtime directory: its discovery file leads to its telemetry.
        &[(
            "ZEN_RUNTIME_DIR",
            &zen.dir.path().join("run").display().to_string(),
        )],
    )
    .await;
    assert_eq!(code, 0, "{err}\n{out}");
    let r = report(&out);
    assert_eq!(r["calls"]["ok"], 90);
    assert_eq!(r["load"]["sessions"], 3);
    assert_eq!(r["target"]["kind"], "http");
    assert!(
        r["server"]["providers"][0]["calls_during_run"]
            .as_u64()
            .unwrap()
            >= 90
    );
}

#[tokio::test]
async fn regression_a_scenario_with_target_env_still_drives_a_url() {
    // The scenario's env is for a spawned zen; against --url it is set aside, not an error.
    let zen = http_zen(&[], &[("ZEN_SIM_LATENCY_MS", "5")]).await;
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/thirty-concurrent.toml"
    );
    let args = [
        "stress",
        "--scenario",
        scenario,
        "--url",
        &zen.url,
        "--json",
    ];
    let (code, out, err) = zen_output(&args, &[]).await;
    assert_eq!(code, 0, "{err}\n{out}");
    assert_eq!(report(&out)["calls"]["ok"], 30);
    assert!(err.contains("ignored for --url"), "{err}");
}

#[tokio::test]
async fn a_spawned_http_zen_is_stopped_gracefully_and_leaves_no_discovery_file() {
    // Several sessions on the default target spawn `zen serve --http`; it was once SIGKILLed,
    // leaving its discovery file behind for zen top to trip over.
    let dir = tempfile::tempdir().unwrap();
    let args = ["stress", "--sessions", "2", "-c", "4", "-n", "8", "--json"];
    let mut cmd = zen_command(&args, &[("ZEN_SIM_LATENCY_MS", "5")], dir.path());
    let out = cmd.output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        report(&String::from_utf8_lossy(&out.stdout))["calls"]["ok"],
        8
    );
    let left: Vec<_> = std::fs::read_dir(dir.path().join("run"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "discovery files left behind: {left:?}");
}

#[tokio::test]
async fn drives_a_third_party_server_and_its_echo_tool() {
    let server = echo_server();
    let (code, out, err) = zen_output(
        &[
            "stress",
            "--stdio",
            &server,
            "--tool",
            "echo",
            "--args",
            r#"{"message":"hi"}"#,
            "-c",
            "8",
            "-n",
            "200",
            "--json",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 0, "{err}\n{out}");
    let r = report(&out);
    assert_eq!(r["calls"]["ok"], 200);
    assert_eq!(r["target"]["server_name"], "echo-server");
    assert!(r["server"].is_null());
    assert_eq!(r["tools"]["echo"]["ok"], 200);
    // Regression: a tool the server lacks is refused before any load, with the tool list.
    let started = std::time::Instant::now();
    let (code, out, err) = zen_output(
        &[
            "stress", "--stdio", &server, "--tool", "nope", "-n", "3", "-c", "1", "--json",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("no tool 'nope'") && err.contains("echo"),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // Regression: arguments outside the tool's input schema are refused the same way.
    let (code, _, err) = zen_output(
        &[
            "stress",
            "--stdio",
            &server,
            "--tool",
            "echo",
            "--args",
            r#"{"message":3}"#,
        ],
        &[],
    )
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("input schema of 'echo'"), "{err}");
}

#[tokio::test]
async fn an_open_loop_accounts_for_every_planned_call() {
    let (code, out, err) = zen_output(
        &[
            "stress",
            "--rate",
            "200",
            "--duration",
            "2s",
            "--tool",
            "version",
            "--json",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 0, "{err}\n{out}");
    let r = report(&out);
    let c = &r["calls"];
    let sum = c["total"].as_u64().unwrap()
        + c["unsent"].as_u64().unwrap()
        + c["aborted"].as_u64().unwrap();
    assert_eq!(sum, 400, "{c}");
    assert_eq!(r["load"]["model"], "open");
    assert!(r["latency_uncorrected"]["count"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn regression_a_send_that_waits_for_a_slot_is_counted_late_once() {
    // One slot and 100 ms calls at 50/s: nearly every send waits, and each once counted twice.
    let args = [
        "stress",
        "--rate",
        "50",
        "--duration",
        "1s",
        "--max-in-flight",
        "1",
        "--json",
    ];
    let (code, out, err) = zen_output(&args, &[("ZEN_SIM_LATENCY_MS", "100")]).await;
    assert!(code == 0 || code == 1, "{err}\n{out}");
    let c = &report(&out)["calls"];
    let sent = c["total"].as_u64().unwrap() + c["aborted"].as_u64().unwrap();
    let late = c["late"].as_u64().unwrap();
    assert!(late >= 1 && late <= sent, "late {late} of {sent} sent: {c}");
}

#[tokio::test]
async fn setup_errors_exit_2_with_the_cause() {
    let (code, _, err) = zen_output(&["stress", "--rate", "10"], &[]).await;
    assert_eq!(code, 2);
    assert!(err.contains("--rate needs --duration"), "{err}");
    let (code, _, err) = zen_output(
        &[
            "stress",
            "--stdio",
            "sh -c 'echo the-target-broke >&2; exit 3'",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 2);
    assert!(
        err.contains("did not start as an MCP server") && err.contains("the-target-broke"),
        "{err}"
    );
    let (code, _, err) = zen_output(&["stress", "--args", "[1]"], &[]).await;
    assert_eq!(code, 2);
    assert!(err.contains("--args must be a JSON object"), "{err}");
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/mcp", listener.local_addr().unwrap())
    };
    let (code, _, err) = zen_output(&["stress", "--url", &closed], &[]).await;
    assert_eq!(code, 2);
    assert!(err.contains("nothing is listening there"), "{err}");
    let (code, _, err) = zen_output(&["stress", "--url", &closed, "--env", "A=1"], &[]).await;
    assert_eq!(code, 2);
    assert!(err.contains("--env A=… would be ignored"), "{err}");
    let (code, _, err) = zen_output(&["stress", "-d", "0s"], &[]).await;
    assert_eq!(code, 2);
    assert!(err.contains("--duration 0"), "{err}");
    let (code, _, err) = zen_output(&["stress", "-c", "-5"], &[]).await;
    assert_eq!(code, 2);
    assert!(err.contains("-5") && err.contains("--concurrency"), "{err}");
    let (code, _, err) = zen_output(&["soak", "-d", "5m", "--pid", "4000000000"], &[]).await;
    assert_eq!(code, 2);
    assert!(err.contains("no such process"), "{err}");
    // (A 30 s soak now scales its warm-up to fit; one set as long as the run cannot.)
    let (code, _, err) = zen_output(&["soak", "-d", "30s", "--warmup", "30s"], &[]).await;
    assert_eq!(code, 2);
    assert!(err.contains("not longer than its warm-up"), "{err}");
    let (code, _, err) = zen_output(&["stress", "--concurency", "3"], &[]).await;
    assert_eq!(code, 2);
    assert!(
        err.contains("--concurrency"),
        "clap suggests the right flag: {err}"
    );
}

#[tokio::test]
async fn scenario_errors_name_the_file_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[load]\nconcurrency = 3\nrequets = 5\n").unwrap();
    let (code, _, err) = zen_output(&["stress", "--scenario", path.to_str().unwrap()], &[]).await;
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.toml") && err.contains("unknown field `requets`"),
        "{err}"
    );
}

#[test]
fn every_shipped_scenario_parses() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let scenario =
            zen_load::plan::scenario::Scenario::load(&path).unwrap_or_else(|e| panic!("{e:#}"));
        names.push(scenario.name.expect("scenarios are named"));
    }
    names.sort();
    assert_eq!(
        names,
        [
            "burst-100",
            "consensus",
            "fifty-concurrent",
            "mixed",
            "soak-1h",
            "thirty-concurrent",
            "workflow"
        ]
    );
}

#[tokio::test]
async fn a_shipped_scenario_runs_and_its_json_report_matches_the_committed_schema() {
    let schema_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/report.schema.json");
    let generated = zen_model::report::json_schema();
    if std::env::var_os("ZEN_UPDATE_SCHEMA").is_some() {
        std::fs::write(
            &schema_path,
            serde_json::to_string_pretty(&generated).unwrap() + "\n",
        )
        .unwrap();
    }
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_path).unwrap()).unwrap();
    assert_eq!(
        committed, generated,
        "the report changed: rerun with ZEN_UPDATE_SCHEMA=1 and commit tests/report.schema.json"
    );
    let scenario =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/burst-100.toml");
    let (code, out, err) = zen_output(
        &["stress", "--scenario", scenario.to_str().unwrap(), "--json"],
        &[],
    )
    .await;
    assert_eq!(code, 0, "{err}\n{out}");
    let r = report(&out);
    assert_eq!(r["scenario"], "burst-100");
    assert_eq!(r["calls"]["ok"], 100);
    let validator = jsonschema::validator_for(&committed).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&r)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[tokio::test]
async fn regression_a_target_that_dies_stops_the_run_as_incomplete_with_exit_2() {
    // The server is killed 2 s into a 15 s run: the run stops at once with what it measured,
    // instead of counting millions of "Transport closed" failures.
    let server = format!("timeout -s KILL 2 {}", echo_server());
    let started = std::time::Instant::now();
    let (code, out, err) = zen_output(
        &[
            "stress",
            "--stdio",
            &server,
            "--tool",
            "echo",
            "--args",
            r#"{"message":"hi"}"#,
            "-c",
            "20",
            "-d",
            "15s",
            "--json",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 2, "{err}\n{out}");
    assert!(started.elapsed() < std::time::Duration::from_secs(8));
    let r = report(&out);
    assert_eq!(r["verdict"]["status"], "incomplete");
    let why = r["ended_early"].as_str().unwrap();
    assert!(why.starts_with("target died after"), "{why}");
    assert!(r["calls"]["ok"].as_u64().unwrap() > 0);
    assert!(
        r["calls"]["failed"].as_u64().unwrap() < 1000,
        "{}",
        r["calls"]
    );
    assert!(!r["series"].as_array().unwrap().is_empty());
}
