//! `zen stress --url A --url B`: the sessions are spread over two real zen serve instances on
//! one real redis-server (shared conversations and shared limits), and the report gives each
//! instance's share and the total.
use crate::redis_util::RedisServer;
use std::time::Duration;

use crate::util::{http_zen, telemetry_get, telemetry_snapshot, wait_for, zen_output};

#[tokio::test]
async fn stress_spreads_its_sessions_over_two_instances_and_reports_each_and_the_total() {
    if !crate::redis_util::available() {
        return;
    }
    let redis = RedisServer::start().await;
    let url = redis.url();
    let env = [
        ("ZEN_STORE", url.as_str()),
        ("ZEN_SHARED_LIMITS", url.as_str()),
        ("ZEN_PROVIDER_LIMITS", "simulated=4"),
        ("ZEN_SIM_LATENCY_MS", "20"),
    ];
    let a = http_zen(&[], &env).await;
    let b = http_zen(&[], &env).await;
    let args = [
        "stress",
        "--url",
        &a.url,
        "--url",
        &b.url,
        "--sessions",
        "4",
        "-c",
        "8",
        "-n",
        "80",
        "--json",
    ];
    let (code, out, err) = zen_output(&args, &[]).await;
    assert_eq!(code, 0, "{err}\n{out}");
    let r: serde_json::Value = serde_json::from_str(&out).expect("JSON report");
    assert_eq!(r["calls"]["ok"], 80, "{}", r["calls"]);
    let targets = r["targets"].as_array().expect("per-target shares");
    assert_eq!(targets.len(), 2, "{targets:?}");
    let mut total = 0;
    for (t, zen) in targets.iter().zip([&a, &b]) {
        assert_eq!(t["label"], zen.url.as_str());
        assert_eq!(t["sessions"], 2);
        // Workers take calls from one counter: each instance gets about half, never none.
        let ok = t["ok"].as_u64().unwrap();
        assert!(ok >= 20, "calls are spread over both: {t}");
        assert_eq!(t["failed"], 0);
        // Each instance served what the report says it did, under the cluster's limit of 4.
        let snap = telemetry_snapshot(zen.telemetry.as_deref().unwrap()).await;
        assert_eq!(snap["tools"]["chat"]["total_operations"], ok);
        total += ok;
        assert_eq!(snap["limits"]["backend"], "redis");
        assert!(snap["pools"][1]["peak_in_use"].as_u64().unwrap() <= 4);
        // /metrics carries the cluster's figures too, from the same snapshot. The cluster's
        // lease count is sampled once per keeper tick: wait for the tick after the run.
        let base = zen.telemetry.as_deref().unwrap();
        let released = "zen_cluster_leases_held{provider=\"simulated\"} 0";
        wait_for(
            "the keeper to see the leases released",
            Duration::from_secs(10),
            async || telemetry_get(base, "/metrics").await.contains(released),
        )
        .await;
        let metrics = telemetry_get(base, "/metrics").await;
        for series in [
            "zen_limits_healthy{backend=\"redis\"} 1",
            "zen_cluster_limit{provider=\"simulated\"} 4",
            "zen_cluster_leases_held{provider=\"simulated\"} 0",
            "zen_limits_failures_total{reason=\"unavailable\"} 0",
        ] {
            assert!(metrics.contains(series), "{series} missing:\n{metrics}");
        }
    }
    assert_eq!(total, 80);
    let (code, text, err) = zen_output(&args[..args.len() - 1], &[]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        text.matches("  target     http://127.0.0.1:").count(),
        2,
        "{text}"
    );
}
