//! Load shapes (`--stages`, `[[stages]]`) end to end: the real binary against the spawned zen,
//! read back through the JSON report's per-second series.
use serde_json::Value;

use crate::util::zen_output;

fn report(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not a JSON report ({e}):\n{stdout}"))
}

/// The series' in-flight at about `t` seconds into the run (the point whose interval ends nearest).
fn in_flight_near(series: &[Value], t: f64) -> u64 {
    let end = |p: &Value| p["t"].as_f64().unwrap() + p["secs"].as_f64().unwrap();
    series
        .iter()
        .min_by(|a, b| (end(a) - t).abs().total_cmp(&(end(b) - t).abs()))
        .map(|p| p["in_flight"].as_u64().unwrap())
        .unwrap()
}

#[tokio::test]
async fn closed_loop_stages_the_calls_in_flight_follow_the_ramp() {
    // 0 → 4 over 2 s, 4 → 12 over 2 s, 12 → 0 over 2 s; calls take 50 ms, so the workers the
    // shape allows are nearly always in a call when the series samples them.
    let (code, out, err) = zen_output(
        &["stress", "--stages", "2s:4,2s:12,2s:0", "--json"],
        &[("ZEN_SIM_LATENCY_MS", "50")],
    )
    .await;
    assert_eq!(code, 0, "{err}\n{out}");
    let r = report(&out);
    let stages = r["load"]["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 3);
    assert_eq!(r["load"]["concurrency"], 12, "the peak of the stages");
    let series = r["series"].as_array().unwrap();
    assert!(series.len() >= 5, "{series:#?}");
    // The target is 2 at 1 s, 4 at 2 s, 8 at 3 s, 12 at 4 s, 6 at 5 s: a tolerance of a few
    // calls either side, since a worker is between calls for a moment now and then.
    let seen: Vec<u64> = [1.0, 2.0, 3.0, 4.0, 5.0]
        .iter()
        .map(|t| in_flight_near(series, *t))
        .collect();
    let msg = format!("in flight at 1..5 s: {seen:?}");
    assert!(seen[0] <= 4, "{msg}");
    assert!((2..=6).contains(&seen[1]), "{msg}");
    assert!((5..=10).contains(&seen[2]), "{msg}");
    assert!((9..=12).contains(&seen[3]), "{msg}");
    assert!((3..=9).contains(&seen[4]), "{msg}");
    assert!(seen[3] > seen[1] && seen[3] > seen[4], "{msg}");
    // Never more than the peak; about 32 worker-seconds of 50 ms calls in all.
    assert!(r["calls"]["peak_in_flight"].as_u64().unwrap() <= 12);
    let ok = r["calls"]["ok"].as_u64().unwrap();
    assert!((300..=700).contains(&ok), "{ok} calls");
}

#[tokio::test]
async fn open_loop_stages_send_exactly_the_calls_the_ramp_holds() {
    // 0 → 20 calls/s over 1 s holds 10 calls, then 20 calls/s for 1 s holds 20.
    let (code, out, err) = zen_output(
        &["stress", "--stages", "1s:20,1s:20", "--rate", "--json"],
        &[("ZEN_SIM_LATENCY_MS", "5")],
    )
    .await;
    assert_eq!(code, 0, "{err}\n{out}");
    let r = report(&out);
    assert_eq!(r["load"]["model"], "open");
    assert_eq!(r["calls"]["ok"], 30, "{}", r["calls"]);
    assert_eq!(r["calls"]["unsent"], 0);
    let series = r["series"].as_array().unwrap();
    let first = series[0]["calls"].as_u64().unwrap();
    assert!(
        first <= 12,
        "the ramp's first second holds ~10 calls: {series:#?}"
    );
}

#[tokio::test]
async fn scenario_stages_run_and_bad_stage_flags_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ramp.toml");
    std::fs::write(
        &path,
        "[[stages]]\nduration = \"1s\"\ntarget = 3\n[[stages]]\nduration = \"1s\"\ntarget = 0\n",
    )
    .unwrap();
    let (code, out, err) = zen_output(
        &["stress", "--scenario", path.to_str().unwrap(), "--json"],
        &[("ZEN_SIM_LATENCY_MS", "20")],
    )
    .await;
    assert_eq!(code, 0, "{err}\n{out}");
    let r = report(&out);
    assert_eq!(r["load"]["stages"][0]["target"], 3.0);
    assert!(r["calls"]["ok"].as_u64().unwrap() > 0);
    for (args, says) in [
        (&["--stages", "10s"][..], "DURATION:TARGET"),
        (&["--stages", "1s:5", "--rate", "10"][..], "without a value"),
        (&["--stages", "1s:5", "-c", "3"][..], "cannot be used with"),
        (&["--rate"][..], "goes with --stages"),
    ] {
        let mut all = vec!["stress"];
        all.extend_from_slice(args);
        let (code, _, err) = zen_output(&all, &[]).await;
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[tokio::test]
async fn find_ceiling_against_zen_lands_near_its_known_capacity() {
    // 20 calls served at once, each taking 100 ms at the provider: 200 calls/s at most. Past it
    // the queue grows and the open loop's p99 (from intended send times) breaks 300 ms.
    let started = std::time::Instant::now();
    let (code, out, err) = zen_output(
        &[
            "stress",
            "--find-ceiling",
            "--max-p99",
            "300ms",
            "--step-duration",
            "2s",
            "--start-rate",
            "25",
            "--json",
        ],
        &[
            ("ZEN_SIM_LATENCY_MS", "100"),
            ("MAX_CONCURRENT_REQUESTS", "20"),
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}\n{out}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    let r = report(&out);
    let ceiling = &r["ceiling"];
    let rate = ceiling["calls_per_s"].as_f64().unwrap();
    assert!((140.0..=260.0).contains(&rate), "{rate}: {ceiling:#}");
    let steps = ceiling["steps"].as_array().unwrap();
    assert!(
        steps.iter().any(|s| s["ok"] == false),
        "a step broke the limits"
    );
    assert!(steps.iter().any(|s| s["phase"] == "bisect"), "{ceiling:#}");
    // Every step was printed as it ran, and the report is the step at the answer.
    assert_eq!(err.matches("calls/s  p99").count(), steps.len(), "{err}");
    assert_eq!(r["load"]["rate_per_sec"], rate);
    assert_eq!(r["verdict"]["status"], "pass");
    // Without --max-p99 there is nothing to search for.
    let (code, _, err) = zen_output(&["stress", "--find-ceiling"], &[]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--max-p99"), "{err}");
}
