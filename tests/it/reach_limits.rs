//! Issue 28: thresholds per operation and per tool. `--max-p99 tools/call=300ms`,
//! `--min-throughput ping=100`, `--max-error-rate tool:chat=0.01` (and a scenario's
//! `[thresholds.operations."…"]`, `[thresholds.tools.…]`) each judge that part's own calls;
//! every one is a check of the verdict, a row of the text report, a line of the HTML verdict
//! table and a JUnit test case, and a merge judges them again. A scope that names no operation
//! zen sends, or a part the run does not make, is a usage error before any load.
use serde_json::Value;

use crate::interop::tools;
use crate::reach_ops::everything_http;
use crate::util::zen_output;

fn report(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The verdict's check of that name: (held, scope).
fn check<'a>(r: &'a Value, name: &str) -> (bool, &'a Value) {
    let checks = r["verdict"]["checks"].as_array().expect("checks");
    let c = (checks.iter())
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {checks:?}"));
    (c["ok"].as_bool().unwrap(), &c["scope"])
}

#[tokio::test]
async fn a_failing_operation_threshold_fails_the_run_and_names_the_operation() {
    let Some(tools) = tools() else { return };
    let (_server, url) = everything_http(&tools).await;
    let run = |json: bool| {
        let mut args = vec![
            "stress",
            "--url",
            &url,
            "--op",
            "ping",
            "--op",
            "tools/call",
            "--tool",
            "echo",
            "--args",
            r#"{"message":"hi"}"#,
            "-c",
            "2",
            "-n",
            "100",
            // Held: ping's p99 under a minute, tools/call without errors.
            "--max-p99",
            "ping=60s",
            "--max-error-rate",
            "tools/call=0",
            // Broken: a million tools/call per second.
            "--min-throughput",
            "tools/call=1000000",
        ];
        if json {
            args.push("--json");
        }
        let args: Vec<String> = args.into_iter().map(String::from).collect();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            zen_output(&args, &[]).await
        }
    };
    let (code, out, err) = run(true).await;
    assert_eq!(code, 1, "{err}\n{out}");
    let r = report(&out);
    assert_eq!(r["verdict"]["status"], "fail");
    assert_eq!(r["calls"]["failed"], 0, "{}", r["errors"]);
    assert_eq!(check(&r, "ping:p99_ms"), (true, &Value::from("ping")));
    assert!(check(&r, "tools/call:error_rate").0);
    let (held, scope) = check(&r, "tools/call:throughput_per_sec");
    assert!(!held && scope == "tools/call");
    // Only the broken one is a failure, and it names its operation.
    let failures = r["verdict"]["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0]
            .as_str()
            .unwrap()
            .starts_with("tools/call: throughput"),
        "{failures:?}"
    );
    // The limits are in the report, per operation.
    let limits = &r["thresholds"]["operations"];
    assert_eq!(limits["tools/call"]["min_throughput"], 1_000_000.0);
    assert_eq!(limits["ping"]["max_p99_ms"], 60_000.0);
    // The text report: a row per operation saying whether its limits held, and the checks.
    let (code, out, err) = run(false).await;
    assert_eq!(code, 1, "{err}\n{out}");
    let row = |op: &str| {
        (out.lines())
            .find(|l| l.trim_start().starts_with(&format!("op   {op} ")))
            .unwrap_or_else(|| panic!("no row for {op}: {out}"))
            .to_string()
    };
    assert!(row("ping").ends_with("limits ok"), "{out}");
    assert!(row("tools/call").ends_with("limits FAIL"), "{out}");
    assert!(
        out.contains("check      FAIL tools/call: throughput"),
        "{out}"
    );
}

/// Two tools, one slow (chat: the simulated provider's 200 ms) and one fast (version).
const TWO_TOOLS: &str = r#"
name = "two-tools"
[[calls]]
tool = "chat"
args = { prompt = "hi" }
[[calls]]
tool = "version"
[thresholds]
max_error_rate = 0.0
[thresholds.operations."tools/call"]
max_error_rate = 0.0
[thresholds.tools.chat]
max_p99 = "50ms"
[thresholds.tools.version]
max_p99 = "30s"
"#;

#[tokio::test]
async fn tool_thresholds_from_a_scenario_show_in_every_report_and_in_a_merge() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    std::fs::write(path("two.toml"), TWO_TOOLS).unwrap();
    let (json, junit, html) = (path("run.json"), path("run.xml"), path("run.html"));
    let args = [
        "stress",
        "--scenario",
        &path("two.toml"),
        "--env",
        "ZEN_SIM_LATENCY_MS=200",
        "-c",
        "4",
        "-n",
        "40",
        "-q",
        "--out",
        &json,
        "--junit",
        &junit,
        "--html",
        &html,
    ];
    let (code, out, err) = zen_output(&args, &[]).await;
    assert_eq!(code, 1, "{err}\n{out}");
    let r = report(&std::fs::read_to_string(&json).unwrap());
    assert!(check(&r, "error_rate").0);
    assert!(check(&r, "tools/call:error_rate").0);
    assert_eq!(
        check(&r, "tool:version:p99_ms"),
        (true, &Value::from("tool:version"))
    );
    assert!(!check(&r, "tool:chat:p99_ms").0);
    // JUnit: one test case per threshold, the failing one with its figures.
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("tests=\"4\" failures=\"1\""), "{xml}");
    assert!(
        xml.contains("name=\"tool:version:p99_ms\" time=\"0\"/>"),
        "{xml}"
    );
    assert!(
        xml.contains(
            "name=\"tool:chat:p99_ms\" time=\"0\">\n      <failure message=\"tool:chat: p99"
        ),
        "{xml}"
    );
    // HTML: each threshold is a row of the verdict table.
    let page = std::fs::read_to_string(&html).unwrap();
    for name in [
        "tool:chat:p99_ms",
        "tool:version:p99_ms",
        "tools/call:error_rate",
    ] {
        assert!(page.contains(&format!("<tr><td>{name}</td>")), "{name}");
    }
    // zen report show: the tool rows say whether their limits held.
    let (code, text, err) = zen_output(&["report", "show", &json], &[]).await;
    assert_eq!(code, 0, "{err}");
    let chat = text.lines().find(|l| l.contains("tool chat")).unwrap();
    assert!(chat.ends_with("limits FAIL"), "{text}");
    let version = text.lines().find(|l| l.contains("tool version")).unwrap();
    assert!(version.ends_with("limits ok"), "{text}");
    // A merge judges the scoped limits again on the merged histograms.
    let merged = path("merged.json");
    let (code, out, err) = zen_output(&["report", "merge", &json, &json, "-o", &merged], &[]).await;
    assert_eq!(code, 0, "{err}\n{out}");
    assert!(out.contains("limits FAIL"), "{out}");
    let m = report(&std::fs::read_to_string(&merged).unwrap());
    assert_eq!(
        m["tools"]["chat"]["calls"],
        2 * r["tools"]["chat"]["calls"].as_u64().unwrap()
    );
    assert!(!check(&m, "tool:chat:p99_ms").0);
    assert!(check(&m, "tool:version:p99_ms").0);
}

#[tokio::test]
async fn a_threshold_on_an_unknown_or_absent_part_is_a_usage_error_before_load() {
    let cases: [(&[&str], &[&str]); 5] = [
        // No such operation: the error lists them, and how to name a tool.
        (
            &["--max-p99", "tools/cal=1s"],
            &[
                "'tools/cal' is not an operation",
                "resources/read",
                "tool:NAME",
            ],
        ),
        // An operation, or a tool, this run does not make.
        (&["--max-p99", "ping=1s"], &["no ping calls", "--op ping"]),
        (
            &["--max-error-rate", "tool:nope=0.1"],
            &["calls no tool nope", "chat"],
        ),
        // One scope twice.
        (
            &["--max-p99", "tools/call=1s", "--max-p99", "tools/call=2s"],
            &["--max-p99 is given twice for tools/call"],
        ),
        (&["--max-error-rate", "tools/call=2"], &["0.0 to 1.0"]),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["stress", "-n", "1"];
        args.extend_from_slice(flags);
        let (code, out, err) = zen_output(&args, &[]).await;
        assert_eq!(code, 2, "{flags:?}: {err}\n{out}");
        for text in expected {
            assert!(err.contains(text), "{flags:?}: {text:?} not in {err}");
        }
        assert!(!err.contains("calls/s"), "{flags:?}: no load ran: {err}");
    }
    // The scenario key is checked the same way.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[thresholds.operations.\"tools/cal\"]\nmax_p99 = \"1s\"\n",
    )
    .unwrap();
    let file = file.display().to_string();
    let (code, _, err) = zen_output(&["stress", "--scenario", &file, "-n", "1"], &[]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("'tools/cal' is not an operation") && err.contains("ping"),
        "{err}"
    );
}
