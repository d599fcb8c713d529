//! Item 4 and the report LOW items: `zen report` reads files from anywhere. A report whose
//! series times were ±1e308 sent `zen report html` into an endless tick loop (206 s at 100 %
//! CPU, then a failed 6.8 GB allocation and exit 134); `show` printed a file's terminal escape
//! sequences verbatim; html and junit peaked at 5–6 times the file's size and error samples had
//! no length cap. Each test writes the report file, runs the real `zen report` under an
//! address-space cap and a time bound, and reads its peak memory.
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

use super::{cap_memory, within};
use crate::util::zen_command;

/// A real report (from `zen stress`), the base every test edits.
const REPORT: &str = include_str!("../../../crates/zen-load/src/report/testdata/report.json");

/// The largest report file zen reads (zen_load::report::load::MAX_REPORT_BYTES).
const MAX_REPORT_BYTES: usize = 16 * 1024 * 1024;

fn base() -> Value {
    serde_json::from_str(REPORT).unwrap()
}

fn write(dir: &Path, name: &str, report: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(report).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

/// What one `zen report …` did: exit code, stdout, stderr, peak resident MB.
struct Ran {
    code: i32,
    out: String,
    err: String,
    peak_mb: u64,
}

/// Run `zen ARGS` under a 1 GiB address space and a 60 s bound, sampling its peak RSS.
async fn zen(args: &[&str]) -> Ran {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = zen_command(args, &[], dir.path());
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cap_memory(&mut cmd, 1024);
    let child = cmd.spawn().unwrap();
    let pid = child.id().unwrap();
    let mut output = Box::pin(child.wait_with_output());
    let mut peak_kb = 0u64;
    let run = async {
        loop {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            if let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            {
                peak_kb = peak_kb.max(kb);
            }
            tokio::select! {
                out = &mut output => return out.unwrap(),
                () = tokio::time::sleep(Duration::from_millis(5)) => {}
            }
        }
    };
    let out = within(
        &format!("zen {}", args.join(" ")),
        Duration::from_secs(60),
        run,
    )
    .await;
    Ran {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
        peak_mb: peak_kb / 1024,
    }
}

#[tokio::test]
async fn series_times_of_1e308_are_refused_at_once_by_every_verb() {
    let dir = tempfile::tempdir().unwrap();
    for t in [1e308, -1e308] {
        let mut report = base();
        report["series"][0]["t"] = json!(t);
        let mut last = report["series"][0].clone();
        last["t"] = json!(-t);
        report["series"].as_array_mut().unwrap().push(last);
        let file = write(dir.path(), "absurd.json", &report);
        for verb in ["html", "show", "junit"] {
            let ran = zen(&["report", verb, &file]).await;
            assert_eq!(ran.code, 2, "{verb}: {}", ran.err);
            assert!(ran.err.contains("series[0].t is "), "{verb}: {}", ran.err);
            assert!(ran.peak_mb < 100, "{verb} peaked at {} MB", ran.peak_mb);
        }
        let ran = zen(&[
            "report",
            "merge",
            &file,
            &file,
            "-o",
            &format!("{file}.merged"),
        ])
        .await;
        assert_eq!(ran.code, 2, "merge: {}", ran.err);
    }
}

/// A report of `points` series points, each with its pools, as zen writes them.
fn with_series(points: usize) -> Value {
    let mut report = base();
    let series: Vec<Value> = (0..points)
        .map(|i| {
            json!({"t": i as f64, "unix_ms": 1_780_000_000_000u64 + i as u64 * 1000, "secs": 1.0,
                "calls": 1234, "errors": 5, "p50_ms": 12.5, "p99_ms": 99.25, "in_flight": 30,
                "pools_in_use": {"global": 30, "simulated": 30}, "queued": 2,
                "rss_bytes": 52_428_800})
        })
        .collect();
    report["series"] = Value::Array(series);
    report
}

#[tokio::test]
async fn the_largest_report_zen_reads_is_charted_in_bounded_memory_and_one_byte_more_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Find the most points that fit the limit.
    let point_bytes = serde_json::to_vec(&with_series(1000)).unwrap().len() / 1000;
    let mut points = MAX_REPORT_BYTES / point_bytes;
    let mut bytes = serde_json::to_vec(&with_series(points)).unwrap();
    while bytes.len() > MAX_REPORT_BYTES {
        points -= 100;
        bytes = serde_json::to_vec(&with_series(points)).unwrap();
    }
    let file = dir.path().join("largest.json");
    std::fs::write(&file, &bytes).unwrap();
    let html = dir.path().join("largest.html");
    let ran = zen(&[
        "report",
        "html",
        file.to_str().unwrap(),
        "-o",
        html.to_str().unwrap(),
    ])
    .await;
    assert_eq!(ran.code, 0, "{}", ran.err);
    let file_mb = bytes.len() as u64 / (1024 * 1024);
    eprintln!(
        "zen report html on a {} byte report ({points} points): peak {} MB resident",
        bytes.len(),
        ran.peak_mb
    );
    assert!(
        ran.peak_mb < 2 * file_mb + 40,
        "peaked at {} MB for a {file_mb} MiB report",
        ran.peak_mb
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("chart-latency") && page.contains("</html>"));
    // One byte more and it is refused before it is read.
    bytes.resize(MAX_REPORT_BYTES + 1, b' ');
    std::fs::write(&file, &bytes).unwrap();
    let ran = zen(&["report", "html", file.to_str().unwrap()]).await;
    assert_eq!(ran.code, 2, "{}", ran.err);
    assert!(ran.err.contains("over the 16 MiB"), "{}", ran.err);
    assert!(ran.peak_mb < 50, "peaked at {} MB refusing it", ran.peak_mb);
}

#[tokio::test]
async fn escape_sequences_in_a_report_are_printed_as_visible_text_and_samples_are_cut() {
    let dir = tempfile::tempdir().unwrap();
    let mut report = base();
    let evil = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[1A";
    report["ended_early"] = json!(format!("stopped {evil}"));
    report["errors"]["tool_error"] = json!({"count": 1000,
        "samples": (0..50).map(|i| format!("{i} {evil} {}", "x".repeat(10_000))).collect::<Vec<_>>()});
    let file = write(dir.path(), "evil.json", &report);
    for verb in ["show", "html", "junit"] {
        let ran = zen(&["report", verb, &file]).await;
        assert_eq!(ran.code, 0, "{verb}: {}", ran.err);
        assert!(
            !ran.out.contains('\u{1b}'),
            "{verb} printed an escape sequence"
        );
        if verb == "show" {
            assert!(ran.out.contains("\\x1b]0;pwned\\x07"), "{}", ran.out);
            // At most five samples of at most 300 characters each.
            let longest = ran.out.lines().map(str::len).max().unwrap();
            assert!(longest < 400, "a line of {longest} characters");
            assert!(!ran.out.contains("\n    5 "), "{}", ran.out);
        }
    }
}
