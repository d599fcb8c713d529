//! Issue 30, the load tester's half: a newcomer's first load runs tell the truth. Progress
//! lines in a log, a generator that does not show up in the server's figures, a per-second
//! series that stays per second under overload (and says where the time went), an HTML page
//! that agrees with its text report, and a warning before a run fills a real store.
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::util::{http_zen, telemetry_snapshot, zen_command, zen_output};

/// Progress lines start so.
const PROGRESS: &str = "zen stress: ";

/// `zen ARGS` with stdout and stderr piped: (stderr lines that arrived before the first stdout
/// line, all stderr, all stdout, exit code).
async fn piped(args: &[&str]) -> (Vec<String>, String, String, i32) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = zen_command(args, &[], dir.path());
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let (mut before_report, mut stderr, mut stdout) = (Vec::new(), String::new(), String::new());
    let read = async {
        let (mut out_open, mut err_open) = (true, true);
        while out_open || err_open {
            tokio::select! {
                line = out.next_line(), if out_open => match line.unwrap() {
                    Some(line) => { stdout.push_str(&line); stdout.push('\n'); }
                    None => out_open = false,
                },
                line = err.next_line(), if err_open => match line.unwrap() {
                    Some(line) => {
                        if stdout.is_empty() {
                            before_report.push(line.clone());
                        }
                        stderr.push_str(&line);
                        stderr.push('\n');
                    }
                    None => err_open = false,
                },
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), read)
        .await
        .expect("zen finished within 2 minutes");
    let code = child.wait().await.unwrap().code().unwrap_or(-1);
    (before_report, stderr, stdout, code)
}

#[tokio::test]
async fn a_piped_run_prints_progress_lines_before_its_report_and_quiet_silences_them() {
    let (before, stderr, stdout, code) = piped(&["stress", "-d", "12s", "-c", "2"]).await;
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    let lines: Vec<&String> = before.iter().filter(|l| l.starts_with(PROGRESS)).collect();
    assert!(
        lines.len() >= 2,
        "at least two progress lines before the report:\n{stderr}"
    );
    for line in &lines {
        for part in ["/12s  calls ", "/s  errors 0  p99 ", " in flight "] {
            assert!(line.contains(part), "{part:?} missing: {line}");
        }
    }
    assert!(stdout.contains("verdict    PASS"), "{stdout}");
    let (_, stderr, stdout, code) = piped(&["stress", "-d", "6s", "-c", "2", "--quiet"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !stderr.contains(PROGRESS),
        "--quiet shows no progress:\n{stderr}"
    );
    assert!(stdout.contains("PASS"), "{stdout}");
}

#[tokio::test]
async fn a_url_run_leaves_only_its_own_tool_in_the_server_counts() {
    let zen = http_zen(&[], &[("ZEN_SIM_LATENCY_MS", "5")]).await;
    let run = zen.dir.path().join("run").display().to_string();
    let (code, out, err) = zen_output(
        &[
            "stress", "--url", &zen.url, "--tool", "version", "-c", "2", "-d", "3s", "--json",
        ],
        &[("ZEN_RUNTIME_DIR", &run)],
    )
    .await;
    assert_eq!(code, 0, "{err}\n{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let sent = report["calls"]["total"].as_u64().unwrap();
    assert!(sent > 0, "{out}");
    // The run still read the server's side (its pools, once a second), from telemetry.
    assert!(report["server"]["pools"].is_array(), "{out}");
    assert!(report["series"][0]["pools_in_use"].is_object(), "{out}");
    let snap = telemetry_snapshot(zen.telemetry.as_deref().unwrap()).await;
    assert_eq!(
        snap["totals"]["total_operations"], sent,
        "{}",
        snap["tools"]
    );
    for (tool, stats) in snap["tools"].as_object().unwrap() {
        let expected = if tool == "version" { sent } else { 0 };
        assert_eq!(stats["total_operations"], expected, "{tool}: {stats}");
    }
}

#[tokio::test]
async fn an_overloaded_stdio_run_keeps_one_point_a_second_and_shows_where_the_time_went() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.json");
    let (code, text, err) = zen_output(
        &[
            "stress",
            "--rate",
            "60",
            "-d",
            "20s",
            "--env",
            "ZEN_SIM_LATENCY_MS=50..400",
            "--env",
            "MAX_CONCURRENT_REQUESTS=10",
            "--max-error-rate",
            "1",
            "--out",
            file.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert!(code == 0 || code == 1, "{err}\n{text}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let series = report["series"].as_array().unwrap();
    assert!(series.len() >= 19, "{} points", series.len());
    let t = |p: &Value| p["t"].as_f64().unwrap();
    for pair in series.windows(2) {
        let gap = t(&pair[1]) - t(&pair[0]);
        assert!(
            (0.8..=1.2).contains(&gap),
            "points {gap:.2} s apart: {} then {}",
            pair[0],
            pair[1]
        );
    }
    // No empty points: each is a whole second long (the last, the partial second at the end,
    // only when a call finished in it). A second in which no call finished is a point with 0
    // calls, as a server's stall is: that is data, not an empty point.
    let (last, whole) = series.split_last().unwrap();
    for p in whole {
        let secs = p["secs"].as_f64().unwrap();
        assert!((0.8..=1.2).contains(&secs), "a point {secs:.3} s long: {p}");
    }
    assert!(
        last["secs"].as_f64().unwrap() > 0.0 && last["calls"].as_u64().unwrap() > 0,
        "an empty last point: {last}"
    );
    // The server's own time for the calls, and the rest (the pipe and the client) beside it.
    let server = &report["server"]["time_in_server"];
    assert!(
        server["calls"].as_u64().unwrap() > 0,
        "{}",
        report["server"]
    );
    let client_mean = report["latency_uncorrected"]["mean_ms"].as_f64().unwrap();
    assert!(
        server["mean_ms"].as_f64().unwrap() <= client_mean * 1.05,
        "{server}"
    );
    for line in [
        "time       client saw    mean ",
        "time       in the server mean ",
        "time       in the stdio pipe and client: mean ",
    ] {
        assert!(text.contains(line), "{line:?} missing:\n{text}");
    }
}

#[tokio::test]
async fn the_html_page_draws_the_text_reports_buckets_and_every_pool_line() {
    let dir = tempfile::tempdir().unwrap();
    let (json, page) = (dir.path().join("r.json"), dir.path().join("r.html"));
    let (code, _, err) = zen_output(
        &[
            "stress",
            "-c",
            "6",
            "-d",
            "3s",
            "--env",
            "ZEN_SIM_LATENCY_MS=1..300",
            "--out",
            json.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let (json_arg, page_arg) = (json.to_str().unwrap(), page.to_str().unwrap());
    let args = ["report", "html", json_arg, "--out", page_arg];
    let (code, _, err) = zen_output(&args, &[]).await;
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(&page).unwrap();
    // The bars of the distribution chart: (label, count) from each bar's <title>.
    let chart = section(&html, "id=\"chart-distribution\"", "</svg>");
    let bars: Vec<(String, u64)> = chart
        .split("<rect")
        .skip(1)
        .filter_map(|r| r.split("<title>").nth(1))
        .map(|t| {
            let t = t.split("</title>").next().unwrap();
            let (label, count) = t.rsplit_once(": ").unwrap();
            (label.to_string(), count.parse().unwrap())
        })
        .collect();
    // The text report's histogram on the same page: `  ≤ 25 ms ████ 12`.
    let text = section(&html, "<pre>", "</pre>");
    let rows: Vec<(String, u64)> = text
        .lines()
        .filter(|l| l.trim_start().starts_with('≤') || l.trim_start().starts_with("&gt; "))
        .map(|l| {
            let l = l.trim().replace("&gt;", ">");
            let (rest, count) = l.rsplit_once(' ').unwrap();
            let label = rest.trim_end_matches(['█', ' ']);
            (label.to_string(), count.parse().unwrap())
        })
        .collect();
    assert!(!bars.is_empty(), "{chart}");
    assert_eq!(bars, rows, "the chart and the text report disagree");
    assert!(bars.first().unwrap().1 > 0 && bars.last().unwrap().1 > 0);
    // Every line of the in-flight chart: its own stroke, and a legend entry.
    let chart = section(&html, "id=\"chart-in-flight\"", "</svg>");
    let strokes: Vec<(String, String, f64)> = chart
        .split("<polyline")
        .skip(1)
        .map(|p| {
            let attr = |name: &str| {
                let start = p.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                p[start..].split('"').next().unwrap().to_string()
            };
            let name = attr("data-line");
            assert!(
                chart.contains(&format!(">{name}</text>")),
                "{name}: no legend"
            );
            (
                attr("stroke"),
                attr("stroke-dasharray"),
                attr("stroke-width").parse().unwrap(),
            )
        })
        .collect();
    assert!(
        chart.contains("data-line=\"pool global in use\"")
            && chart.contains("data-line=\"pool simulated in use\""),
        "{chart}"
    );
    for (i, a) in strokes.iter().enumerate() {
        for b in &strokes[i + 1..] {
            assert!(
                a.0 != b.0 && a.1 != b.1,
                "two lines stroked alike: {strokes:?}"
            );
            // A later line is narrower: drawn over an earlier one with the same values, it
            // leaves the earlier showing.
            assert!(a.2 > b.2, "{strokes:?}");
        }
    }
}

/// The text between the first `start` and the next `end` after it.
fn section<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} missing"));
    let rest = &text[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

#[tokio::test]
async fn a_run_that_would_fill_a_lasting_store_says_which_and_how_to_avoid_it() {
    // Not under the temp dir: a store that outlives the run.
    let lasting = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let data = lasting.path().join("data").display().to_string();
    let env_arg = format!("ZEN_DATA_DIR={data}");
    let (code, _, err) = zen_output(&["stress", "-c", "2", "--env", &env_arg], &[]).await;
    assert_eq!(code, 0, "{err}");
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("warning: ")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].contains(&format!(
            "chat calls write their conversations into zen's SQLite store at {data}"
        )) && warnings[0].contains("drop --env ZEN_DATA_DIR"),
        "{err}"
    );
    // The default (a temporary store) and a read-only tool: no warning.
    let read_only = [
        "stress",
        "-c",
        "2",
        "--tool",
        "version",
        "--env",
        env_arg.as_str(),
    ];
    for args in [&["stress", "-c", "2"][..], &read_only[..]] {
        let (code, _, err) = zen_output(args, &[]).await;
        assert_eq!(code, 0, "{err}");
        assert!(!err.contains("warning: "), "{args:?}: {err}");
    }
}
