//! zen serve over streamable HTTP on an ephemeral port.
use serde_json::json;

use crate::util::{
    call, http_client, http_zen, is_error, snapshot, telemetry_get, telemetry_snapshot, text,
};

#[tokio::test]
async fn http_sessions_chat_continue_and_share_one_host() {
    let zen = http_zen(&[], &[("ZEN_SIM_LATENCY_MS", "5")]).await;
    let a = http_client(&zen.url).await;
    let b = http_client(&zen.url).await;
    let tools = a.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 20);
    let first = call(&a, "chat", json!({"prompt": "hello over http"})).await;
    assert!(!is_error(&first), "{}", text(&first));
    let id = first.structured_content.unwrap()["continuation_id"]
        .as_str()
        .unwrap()
        .to_string();
    // Another session continues the same conversation: threads are server-wide.
    let second = call(
        &b,
        "chat",
        json!({"prompt": "again", "continuation_id": id}),
    )
    .await;
    assert!(
        text(&second).contains("Read 4 messages"),
        "{}",
        text(&second)
    );
    let bad = call(&b, "chat", json!({"prompt": 1})).await;
    assert!(is_error(&bad));
    let err = b
        .call_tool(rmcp::model::CallToolRequestParams::new("nope"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown tool 'nope'"), "{err}");
    let snap = snapshot(&a).await;
    assert_eq!(snap["server"]["transport"], "http");
    assert_eq!(snap["tools"]["chat"]["total_operations"], 3);
    assert_eq!(snap["tools"]["chat"]["total_errors"], 1);
}

#[tokio::test]
async fn telemetry_serves_the_snapshot_and_prometheus_text() {
    let zen = http_zen(&[], &[("ZEN_SIM_LATENCY_MS", "5")]).await;
    let client = http_client(&zen.url).await;
    for _ in 0..3 {
        assert!(!is_error(
            &call(&client, "chat", json!({"prompt": "x"})).await
        ));
    }
    assert!(is_error(&call(&client, "chat", json!({})).await));
    let base = zen.telemetry.clone().expect("telemetry url in the log");
    let snap = telemetry_snapshot(&base).await;
    assert_eq!(snap["tools"]["chat"]["total_operations"], 4);
    assert_eq!(snap["tools"]["chat"]["errors"]["tool_error"], 1);
    let text = telemetry_get(&base, "/metrics").await;
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("valid Prometheus text");
    let value = |name: &str, labels: &[(&str, &str)]| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map_or_else(
                || panic!("{name} {labels:?} missing from:\n{text}"),
                |s| match s.value {
                    prometheus_parse::Value::Counter(v)
                    | prometheus_parse::Value::Gauge(v)
                    | prometheus_parse::Value::Untyped(v) => v,
                    _ => f64::NAN,
                },
            )
    };
    assert_eq!(
        value(
            "zen_tool_calls_total",
            &[("tool", "chat"), ("outcome", "ok")]
        ),
        3.0
    );
    assert_eq!(
        value(
            "zen_tool_calls_total",
            &[("tool", "chat"), ("outcome", "tool_error")]
        ),
        1.0
    );
    assert_eq!(value("zen_pool_limit", &[("pool", "global")]), 50.0);
    assert_eq!(value("zen_pool_limit", &[("pool", "simulated")]), 32.0);
    assert_eq!(value("zen_pool_in_use", &[("pool", "global")]), 0.0);
    assert!(value("zen_process_resident_memory_bytes", &[]) >= 0.0);
    // The bounded parts of memory, each with its cap (what `zen soak` projects to the cap).
    let cache = [("part", "store_cache")];
    let cap = value("zen_memory_bounded_cap_bytes", &cache);
    assert!(
        cap >= 16.0 * 1024.0 * 1024.0,
        "ZEN_STORE_CACHE_MB's 16 MiB: {cap}"
    );
    assert!(value("zen_memory_bounded_bytes", &cache) <= cap);
    let histograms = [("part", "histograms")];
    assert!(
        value("zen_memory_bounded_bytes", &histograms) > 0.0,
        "chat made its own"
    );
    assert!(value("zen_heap_bytes", &[("state", "in_use")]) > 0.0);
    assert!(
        text.contains("zen_tool_duration_seconds_bucket{tool=\"chat\",le=\"+Inf\"} 4"),
        "{text}"
    );
}
