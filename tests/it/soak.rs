//! `zen soak` end to end: zen passes, a deliberately leaking server fails, too few samples is
//! inconclusive, and the time series has the columns the report lists.
use serde_json::Value;

use crate::util::{echo_server, zen_output};

fn report(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not a JSON report ({e}):\n{stdout}"))
}

#[tokio::test]
async fn a_short_soak_against_zen_passes_and_writes_its_series() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("series.csv");
    let html = dir.path().join("soak.html");
    // --out FILE.json is the JSON report, as on zen stress; the series has its own flag.
    let json = dir.path().join("soak.json");
    let (code, out, err) = zen_output(
        &[
            "soak",
            "--duration",
            "12s",
            "--sample-interval",
            "200ms",
            "--warmup",
            "4s",
            "--max-growth-mb",
            "1000",
            "-c",
            "4",
            "--json",
            "--series",
            csv.to_str().unwrap(),
            "--out",
            json.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
            "--env",
            "CONVERSATION_MEMORY_LIMIT_MB=1",
            "--env",
            "ZEN_SIM_LATENCY_MS=5",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 0, "{err}\n{out}");
    let r = report(&out);
    let written = report(&std::fs::read_to_string(&json).unwrap());
    assert_eq!(written["soak"]["samples_total"], r["soak"]["samples_total"]);
    let soak = &r["soak"];
    assert_eq!(soak["status"], "pass", "{soak}");
    assert_eq!(soak["rss_source"], "pid");
    assert!(soak["target"]["samples"].as_u64().unwrap() >= 20, "{soak}");
    assert!(
        soak["conversation_peak_bytes"].as_u64().unwrap()
            <= soak["conversation_budget_bytes"].as_u64().unwrap()
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let columns: Vec<&str> = soak["series_columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(header, columns);
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len() as u64, soak["samples_total"].as_u64().unwrap());
    assert!(rows.iter().all(|r| r.split(',').count() == columns.len()));
    // The page charts memory: both sides' RSS, zen's bounded parts, the windows and the limit.
    let page = std::fs::read_to_string(&html).unwrap();
    let chart = &page[page.find("id=\"chart-memory\"").expect("a memory chart")..];
    let chart = &chart[..chart.find("</svg>").unwrap()];
    for label in [
        "target RSS",
        "generator RSS",
        "store cache",
        "warm-up",
        "deciding window",
        "limit +1000 MiB/h",
    ] {
        assert!(
            chart.contains(label),
            "{label} missing from the memory chart"
        );
    }
    assert!(chart.matches("<polyline").count() >= 3, "{chart}");
}

#[tokio::test]
async fn a_leaking_server_fails_with_its_leak_rate_recovered() {
    // 64 KiB kept per call, 100 calls a second on schedule: 6.25 MiB/s, 75 MiB in the run.
    const LEAK: f64 = 65_536.0;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("leak.csv");
    let leaky = format!("{} --leak-bytes {LEAK}", echo_server());
    let (code, out, err) = zen_output(
        &[
            "soak",
            "--stdio",
            &leaky,
            "--tool",
            "echo",
            "--args",
            r#"{"message":"leak"}"#,
            "--rate",
            "100",
            "--duration",
            "12s",
            "--sample-interval",
            "200ms",
            "--warmup",
            "3s",
            "--json",
            "--series",
            csv.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(code, 1, "{err}\n{out}");
    let soak = &report(&out)["soak"];
    assert_eq!(soak["status"], "fail");
    let reading = &soak["reading"];
    assert_eq!(reading["curve"], "rss", "not zen: the curve alone decides");
    let window = &reading["deciding"];
    let (start, end) = (
        window["start_secs"].as_f64().unwrap(),
        window["end_secs"].as_f64().unwrap(),
    );
    // The calls made in the deciding window, from the series: the leak it should recover.
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<(f64, f64)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0].parse().unwrap(), cells[7].parse().unwrap())
        })
        .filter(|(t, _)| *t >= start && *t <= end)
        .collect();
    let ((t0, ok0), (t1, ok1)) = (rows[0], rows[rows.len() - 1]);
    let calls_per_hour = (ok1 - ok0) / (t1 - t0) * 3600.0;
    let expected = LEAK * calls_per_hour / 1_048_576.0;
    let measured = window["rss_slope_mb_per_hour"].as_f64().unwrap();
    let error = (measured / expected - 1.0).abs();
    assert!(
        error < 0.2,
        "leak {expected:.0} MiB/h, measured {measured:.0} MiB/h ({:.0}% off)\n{reading}",
        error * 100.0
    );
    assert!(
        reading["projected_growth_mb"].as_f64().unwrap() > 1000.0,
        "{reading}"
    );
}

#[tokio::test]
async fn regression_a_soak_whose_every_call_fails_is_never_a_pass() {
    // Issue 25: 0 ok, 28 failed said PASS, exit 0: a flat memory line under no load proves
    // nothing. Every provider request fails here, so every chat call does.
    for extra in [&[][..], &["--max-error-rate", "1"][..]] {
        let mut args = vec![
            "soak",
            "--duration",
            "6s",
            "--sample-interval",
            "200ms",
            "--warmup",
            "1s",
            "-c",
            "2",
            "--json",
            "--env",
            "ZEN_SIM_ERROR_RATE=1",
            "--env",
            "ZEN_SIM_LATENCY_MS=5",
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = zen_output(&args, &[]).await;
        assert_eq!(code, 1, "{extra:?}: {err}\n{out}");
        let r = report(&out);
        assert_eq!(r["calls"]["ok"], 0, "{extra:?}: {}", r["calls"]);
        assert!(r["calls"]["failed"].as_u64().unwrap() > 0);
        assert_eq!(r["verdict"]["status"], "fail", "{extra:?}");
        assert_eq!(r["soak"]["status"], "fail", "{extra:?}");
        let failures = r["verdict"]["failures"].to_string();
        assert!(failures.contains("0 calls succeeded"), "{failures}");
    }
}

#[tokio::test]
async fn zen_at_its_defaults_for_a_minute_is_not_a_fail() {
    // The README's quick example: the store's page cache fills through the whole minute (it is
    // bounded at 16 MiB), which a line through the minute used to read as a leak.
    let (code, out, err) = zen_output(&["soak", "-d", "60s", "--json"], &[]).await;
    let r = report(&out);
    let soak = &r["soak"];
    assert_ne!(code, 1, "{err}\n{soak}");
    assert!(
        ["pass", "inconclusive"].contains(&soak["status"].as_str().unwrap()),
        "{soak}"
    );
    let reading = &soak["reading"];
    assert_eq!(reading["curve"], "rss minus bounded parts");
    let parts: Vec<&str> = reading["projection"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert!(parts.contains(&"store_cache"), "{parts:?}");
    assert_eq!(parts.last(), Some(&"rest"), "{parts:?}");
}

#[tokio::test]
async fn a_soak_too_short_for_enough_samples_is_refused_before_it_starts() {
    let started = std::time::Instant::now();
    let (code, out, err) = zen_output(
        &[
            "soak",
            "--duration",
            "2s",
            "--sample-interval",
            "500ms",
            "--warmup",
            "1s",
            "--json",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 2, "{err}\n{out}");
    assert!(out.is_empty(), "no run, so no report: {out}");
    assert!(err.contains("a verdict needs 20"), "{err}");
    // 1 s of judged run cannot hold 20 samples at the 100 ms minimum: only the length helps.
    assert!(!err.contains("--sample-interval 50ms"), "{err}");
    assert!(err.contains("run at least 11s"), "{err}");
    // Refused before the target was started, let alone loaded (the plan alone is 11 s).
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn a_short_soak_with_the_default_warmup_and_interval_reaches_a_verdict() {
    // The defaults scale with --duration: 20 s gives a 5 s warm-up and a sample every 250 ms.
    let (code, out, err) = zen_output(
        &[
            "soak",
            "--duration",
            "20s",
            "--max-growth-mb",
            "1000",
            "-c",
            "4",
            "--json",
            "--env",
            "ZEN_SIM_LATENCY_MS=5",
            // The store filling toward its budget is growth by design; keep it out of the slope.
            "--env",
            "CONVERSATION_MEMORY_LIMIT_MB=1",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 0, "{err}\n{out}");
    let soak = &report(&out)["soak"];
    assert_eq!(soak["status"], "pass", "{soak}");
    assert_eq!(soak["warmup_secs"], 5.0);
    assert_eq!(soak["sample_interval_secs"], 0.25);
    assert!(soak["target"]["samples"].as_u64().unwrap() >= 40, "{soak}");
}

#[tokio::test]
async fn regression_a_scenario_threshold_still_fails_a_soak_whose_memory_passes() {
    // The memory verdict used to replace the thresholds' verdict instead of joining it.
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("slow.toml");
    std::fs::write(&scenario, "[thresholds]\nmax_p99 = \"1ms\"\n").unwrap();
    let args = [
        "soak",
        "--scenario",
        scenario.to_str().unwrap(),
        "--duration",
        "6s",
        "--sample-interval",
        "100ms",
        "--warmup",
        "2s",
        "--max-growth-mb",
        "100000",
        "-c",
        "2",
        "--json",
        "--env",
        "ZEN_SIM_LATENCY_MS=20",
    ];
    let (code, out, err) = zen_output(&args, &[]).await;
    assert_eq!(code, 1, "{err}\n{out}");
    let r = report(&out);
    assert_eq!(r["soak"]["status"], "pass", "memory alone passes");
    assert_eq!(r["verdict"]["status"], "fail");
    let failures = r["verdict"]["failures"].to_string();
    assert!(failures.contains("p99"), "{failures}");
}
