//! The metrics collector's figures against the calls a test made: through the `metrics` tool
//! of a real Server, and through `/metrics` of the real binary (pool and provider families).

use serde_json::{Value, json};

use crate::app_util::{app, breaker_never_opens, call, config, is_error, text};

/// Bad arguments and unknown models: tool errors that never reach a provider.
fn bad_calls() -> Vec<Value> {
    vec![
        json!({}),
        json!({"prompt": 5}),
        json!({"prompt": "x", "temperature": 3}),
        json!({"prompt": "x", "promt": "typo"}),
        json!({"prompt": "  "}),
        json!({"prompt": "x", "model": "gpt-9000"}),
        json!({"prompt": "x", "continuation_id": "not-a-uuid"}),
    ]
}

#[derive(Debug, Default, PartialEq)]
struct Seen {
    ok: u64,
    tool_error: u64,
    provider_error: u64,
}

impl Seen {
    fn note(&mut self, is_error: bool, text: &str) {
        if !is_error {
            self.ok += 1;
        } else if text.starts_with("provider simulated returned HTTP 500") {
            self.provider_error += 1;
        } else {
            assert!(
                text.starts_with("invalid arguments") || text.contains("unknown model"),
                "{text}"
            );
            self.tool_error += 1;
        }
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[tokio::test(start_paused = true)]
async fn the_metrics_tool_counts_match_a_mix_of_ok_tool_and_provider_errors() {
    let mut c = config(10);
    c.sim.sim_error_rate = 0.5;
    c.providers.max_retries = 1; // one attempt: each provider error is one 500
    c.providers.breakers = breaker_never_opens();
    let app = app(c).await;
    let mut seen = Seen::default();
    for i in 0..30 {
        let r = call(&app, "chat", json!({ "prompt": format!("call {i}") })).await;
        seen.note(is_error(&r), &text(&r));
    }
    for args in bad_calls() {
        let r = call(&app, "chat", args).await;
        seen.note(is_error(&r), &text(&r));
    }
    assert_eq!(seen.tool_error, 7);
    assert!(
        seen.ok > 0 && seen.provider_error > 0,
        "a mix is needed: {seen:?}"
    );
    for _ in 0..2 {
        assert!(!is_error(&call(&app, "version", json!({})).await));
    }

    let result = call(&app, "metrics", json!({"detail": true})).await;
    assert!(!is_error(&result));
    let snap: Value = serde_json::from_str(&text(&result)).unwrap();
    assert_eq!(result.structured_content.as_ref(), Some(&snap));
    assert!(snap["tools"]["chat"]["latency"]["hdr"].is_string());

    let chat = &snap["tools"]["chat"];
    assert_eq!(chat["total_operations"], 37);
    assert_eq!(chat["total_errors"], seen.tool_error + seen.provider_error);
    assert_eq!(chat["errors"]["tool_error"], seen.tool_error);
    assert_eq!(chat["errors"]["provider_error"], seen.provider_error);
    assert_eq!(chat["errors"]["timeout"], 0);
    assert_eq!(chat["errors"]["rejected"], 0);
    let rate = (seen.tool_error + seen.provider_error) as f64 / 37.0;
    assert!(close(chat["error_rate"].as_f64().unwrap(), rate), "{chat}");
    assert_eq!(chat["latency"]["count"], 37);
    assert_eq!(chat["in_flight"], 0);

    assert_eq!(snap["tools"]["version"]["total_operations"], 2);
    assert_eq!(snap["tools"]["version"]["error_rate"], 0.0);
    // The metrics call reading this snapshot is in flight, not yet counted.
    assert_eq!(snap["tools"]["metrics"]["total_operations"], 0);
    assert_eq!(snap["tools"]["metrics"]["in_flight"], 1);
    assert_eq!(snap["totals"]["total_operations"], 39);
    assert_eq!(snap["totals"]["in_flight"], 1);
    let total_rate = (seen.tool_error + seen.provider_error) as f64 / 39.0;
    assert!(close(
        snap["totals"]["error_rate"].as_f64().unwrap(),
        total_rate
    ));

    // Only the 30 valid chats became provider requests.
    let provider = &snap["providers"]["simulated"]["calls"];
    assert_eq!(provider["total_operations"], 30);
    assert_eq!(provider["errors"]["provider_error"], seen.provider_error);
    assert!(close(
        provider["error_rate"].as_f64().unwrap(),
        seen.provider_error as f64 / 30.0
    ));
    assert_eq!(snap["providers"]["simulated"]["retries_total"], 0);
    assert_eq!(snap["pools"][0]["acquired_total"], 39); // 37 chats and 2 versions; metrics skips the pool
    assert_eq!(snap["pools"][1]["acquired_total"], 30);
    assert_eq!(snap["conversations"]["threads"], seen.ok);
    the_summary_is_short_and_agrees(&app, &seen).await;
}

/// The default `metrics` reply: a summary a person reads at a glance, in at most 3 000 bytes,
/// whose figures are the snapshot's.
async fn the_summary_is_short_and_agrees(app: &zen_server::serve::Server, seen: &Seen) {
    let result = call(app, "metrics", json!({})).await;
    assert!(!is_error(&result));
    let summary = text(&result);
    assert!(summary.len() <= 3000, "{} bytes:\n{summary}", summary.len());
    for needle in [
        "chat",
        "version",
        "pool global",
        "provider simulated",
        "model simulated/",
        "store:",
        "memory:",
    ] {
        assert!(summary.contains(needle), "{needle} missing:\n{summary}");
    }
    assert!(summary.contains("{\"detail\": true}"), "{summary}");
    let s = result
        .structured_content
        .expect("the summary has structured content");
    assert!(serde_json::to_string(&s).unwrap().len() <= 3000, "{s}");
    assert_eq!(s["tools"]["chat"]["calls"], 37);
    assert_eq!(
        s["tools"]["chat"]["errors"],
        seen.tool_error + seen.provider_error
    );
    assert_eq!(s["providers"]["simulated"]["calls"], 30);
    // Per model: the provider's 30 requests, with their latency.
    let models = s["models"].as_array().expect("models in the summary");
    assert_eq!(
        models
            .iter()
            .map(|m| m["calls"].as_u64().unwrap())
            .sum::<u64>(),
        30
    );
    assert!(
        models
            .iter()
            .all(|m| m["p99_ms"].as_f64().unwrap() >= m["p50_ms"].as_f64().unwrap())
    );
    assert!(
        s["providers"]["simulated"]["prompt_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(s["store"]["threads"], seen.ok);
    assert!(s["tools"]["chat"]["p99_ms"].as_f64().unwrap() > 0.0);
    let bad = call(app, "metrics", json!({"detail": "yes"})).await;
    assert!(is_error(&bad), "{}", text(&bad));
}

/// `/metrics` of the real binary: valid Prometheus text whose pool and provider families agree
/// with the calls made and with the `metrics` tool.
#[tokio::test]
async fn prometheus_pool_and_provider_families_match_the_calls_made() {
    use crate::util::{call, http_client, http_zen, is_error, snapshot, text};
    let env = [
        ("ZEN_SIM_LATENCY_MS", "2"),
        ("ZEN_SIM_ERROR_RATE", "0.5"),
        ("ZEN_SIM_SEED", "11"),
        ("ZEN_MAX_RETRIES", "1"),
        ("ZEN_BREAKERS", "simulated=1000/1s"),
        ("ZEN_PROVIDER_LIMITS", "simulated=3"),
    ];
    let zen = http_zen(&[], &env).await;
    let client = http_client(&zen.url).await;
    let mut seen = Seen::default();
    let calls = (0..12).map(|i| call(&client, "chat", json!({ "prompt": format!("call {i}") })));
    for r in futures::future::join_all(calls).await {
        seen.note(is_error(&r), &text(&r));
    }
    for args in &bad_calls()[..3] {
        let r = call(&client, "chat", args.clone()).await;
        seen.note(is_error(&r), &text(&r));
    }
    assert!(
        seen.ok > 0 && seen.provider_error > 0,
        "a mix is needed: {seen:?}"
    );

    let base = zen.telemetry.clone().expect("telemetry url in the log");
    let body = crate::util::http_plain()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let scrape = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string())))
        .expect("valid Prometheus text");
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let found: Vec<f64> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            })
            .collect();
        assert_eq!(found.len(), 1, "{name} {labels:?} in:\n{body}");
        found[0]
    };
    let histogram = |name: &str,
                     labels: &[(&str, &str)]|
     -> Vec<prometheus_parse::HistogramCount> {
        let found: Vec<_> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .filter_map(|s| match &s.value {
                prometheus_parse::Value::Histogram(buckets) => Some(buckets.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(found.len(), 1, "histogram {name} {labels:?} in:\n{body}");
        found[0].clone()
    };
    let sim = ("provider", "simulated");
    assert_eq!(
        value("zen_provider_calls_total", &[sim, ("outcome", "ok")]),
        seen.ok as f64
    );
    assert_eq!(
        value(
            "zen_provider_calls_total",
            &[sim, ("outcome", "provider_error")]
        ),
        seen.provider_error as f64
    );
    assert_eq!(
        value("zen_provider_calls_total", &[sim, ("outcome", "timeout")]),
        0.0
    );
    assert_eq!(value("zen_provider_in_flight", &[sim]), 0.0);
    assert_eq!(value("zen_provider_retries_total", &[sim]), 0.0);
    assert_eq!(value("zen_breaker_state", &[sim, ("state", "closed")]), 1.0);
    assert_eq!(value("zen_breaker_state", &[sim, ("state", "open")]), 0.0);
    assert_eq!(value("zen_breaker_opened_total", &[sim]), 0.0);
    // The provider latency histogram holds each provider request once.
    assert_eq!(
        value("zen_provider_duration_seconds_count", &[sim]),
        (seen.ok + seen.provider_error) as f64
    );
    let buckets = histogram("zen_provider_duration_seconds", &[sim]);
    assert_eq!(buckets.last().map(|b| b.count), Some(12.0));
    // 2 ms of simulated latency: every request is in the 2.5 ms bucket or above, none under 1 ms.
    assert_eq!(buckets[0].count, 0.0);

    let global = ("pool", "global");
    let pool = ("pool", "simulated");
    assert_eq!(value("zen_pool_acquired_total", &[global]), 15.0);
    assert_eq!(value("zen_pool_acquired_total", &[pool]), 12.0);
    assert_eq!(value("zen_pool_limit", &[pool]), 3.0);
    // 12 calls at once into 3 permits: all 3 were used.
    assert_eq!(value("zen_pool_peak_in_use", &[pool]), 3.0);
    for p in [global, pool] {
        assert_eq!(value("zen_pool_in_use", &[p]), 0.0);
        assert_eq!(value("zen_pool_waiting", &[p]), 0.0);
        assert_eq!(
            value("zen_rejected_total", &[p, ("reason", "queue_timeout")]),
            0.0
        );
        assert_eq!(
            value("zen_rejected_total", &[p, ("reason", "shutting_down")]),
            0.0
        );
        assert_eq!(
            value("zen_pool_queue_wait_seconds_count", &[p]),
            value("zen_pool_acquired_total", &[p])
        );
    }
    // Queue waits: cumulative buckets that never decrease and end at the count.
    for p in [global, pool] {
        let buckets = histogram("zen_pool_queue_wait_seconds", &[p]);
        assert_eq!(buckets.len(), 17, "16 bounds and +Inf");
        assert!(
            buckets.windows(2).all(|w| w[0].count <= w[1].count),
            "{buckets:?}"
        );
        let last = buckets.last().unwrap();
        assert!(last.less_than.is_infinite());
        assert_eq!(last.count, value("zen_pool_queue_wait_seconds_count", &[p]));
    }

    // The metrics tool agrees with the scrape (it takes no global permit of its own).
    let snap = snapshot(&client).await;
    assert_eq!(
        snap["providers"]["simulated"]["calls"]["errors"]["provider_error"],
        seen.provider_error
    );
    assert_eq!(
        snap["tools"]["chat"]["errors"]["tool_error"],
        seen.tool_error
    );
    assert_eq!(snap["pools"][0]["acquired_total"], 15);
}
