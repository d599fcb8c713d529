//! `/metrics` read by the real Prometheus (Debian's `prometheus`): it scrapes zen every second
//! on 127.0.0.1, and its own query API must agree with zen. Without the binary the test fails,
//! saying how to install it, unless ZEN_SKIP_PROMETHEUS_TESTS=1 asks to skip it.
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{call, http_client, http_zen, is_error, snapshot, wait_for};

/// The Prometheus child, killed (by its own handle) when the test ends however it ends.
struct Prometheus(Child);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// True when Prometheus is installed; otherwise fails unless the skip variable is set.
fn available() -> bool {
    let found = Command::new("prometheus")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("ZEN_SKIP_PROMETHEUS_TESTS").is_some(),
            "prometheus is not installed: this test needs it (apt-get install -y prometheus), \
             or set ZEN_SKIP_PROMETHEUS_TESTS=1 to skip it"
        );
        eprintln!("skipped: prometheus not installed and ZEN_SKIP_PROMETHEUS_TESTS is set");
    }
    found
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Start Prometheus scraping `target` (host:port) every second.
fn start(dir: &std::path::Path, target: &str, port: u16) -> Prometheus {
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: zen\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['{target}']\n"
    );
    let path = dir.join("prometheus.yml");
    std::fs::write(&path, config).unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", path.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    Prometheus(child)
}

/// One instant query; the result vector (empty on any error, so callers can poll).
async fn query(port: u16, q: &str) -> Vec<Value> {
    let url = format!("http://127.0.0.1:{port}/api/v1/query?query={}", encode(q));
    let Ok(resp) = crate::util::http_plain().get(url).send().await else {
        return Vec::new();
    };
    let body: Value = resp.json().await.unwrap_or_default();
    body["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Percent-encoding for a query parameter (every byte but letters and digits).
fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn value(sample: &Value) -> f64 {
    sample["value"][1].as_str().unwrap().parse().unwrap()
}

/// Index of the fixed bucket holding `ms`.
fn bucket_of(ms: f64) -> usize {
    zen_model::snapshot::BUCKET_BOUNDS_MS.partition_point(|b| *b < ms)
}

#[tokio::test]
async fn prometheus_scrapes_zen_and_its_p99_agrees_with_zens() {
    if !available() {
        return;
    }
    let zen = http_zen(
        &[],
        &[("ZEN_SIM_LATENCY_MS", "2..60"), ("ZEN_SIM_SEED", "7")],
    )
    .await;
    let client = http_client(&zen.url).await;
    let calls = (0..120).map(|i| call(&client, "chat", json!({ "prompt": format!("q {i}") })));
    for r in futures::future::join_all(calls).await {
        assert!(!is_error(&r));
    }
    let ours = snapshot(&client).await["tools"]["chat"]["latency"]["p99_ms"]
        .as_f64()
        .unwrap();
    let base = zen.telemetry.clone().expect("telemetry is on");
    let target = base.trim_start_matches("http://").trim_end_matches('/');
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _prom = start(dir.path(), target, port);
    let count = r#"zen_tool_duration_seconds_count{job="zen",tool="chat"}"#;
    wait_for(
        "Prometheus to scrape zen",
        Duration::from_secs(60),
        async || {
            query(port, count)
                .await
                .first()
                .is_some_and(|s| value(s) == 120.0)
        },
    )
    .await;

    let q = r#"histogram_quantile(0.99, zen_tool_duration_seconds_bucket{job="zen",tool="chat"})"#;
    let theirs_ms = value(&query(port, q).await[0]) * 1000.0;
    let (a, b) = (bucket_of(ours), bucket_of(theirs_ms));
    assert!(
        a.abs_diff(b) <= 1,
        "zen p99 {ours} ms, Prometheus {theirs_ms} ms"
    );

    every_family_has_help_and_type(port).await;
    // Stable labels: the same series, scrape after scrape.
    let series = r#"count({job="zen",__name__=~"zen_.+"})"#;
    let before = value(&query(port, series).await[0]);
    // The time of the last scrape, from Prometheus' own `up` series.
    let last = r#"timestamp(up{job="zen"})"#;
    let seen = value(&query(port, last).await[0]);
    wait_for("two more scrapes", Duration::from_secs(30), async || {
        query(port, last)
            .await
            .first()
            .is_some_and(|s| value(s) >= seen + 2.0)
    })
    .await;
    assert_eq!(value(&query(port, series).await[0]), before);
}

/// Prometheus' metadata API lists HELP and TYPE for every zen family it scraped.
async fn every_family_has_help_and_type(port: u16) {
    let url = format!("http://127.0.0.1:{port}/api/v1/metadata");
    let meta: Value = crate::util::http_plain()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let meta = meta["data"].as_object().unwrap();
    let names = query(
        port,
        r#"count by (__name__) ({job="zen",__name__=~"zen_.+"})"#,
    )
    .await;
    assert!(names.len() > 10, "{names:?}");
    let scraped: Vec<&str> = (names.iter())
        .map(|n| n["metric"]["__name__"].as_str().unwrap())
        .collect();
    the_dashboard_uses_only_scraped_series(&scraped);
    for n in &names {
        let name = n["metric"]["__name__"].as_str().unwrap();
        let family = ["_bucket", "_count", "_sum", "_total"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| meta.contains_key(*f)))
            .unwrap_or(name);
        let m = &meta
            .get(family)
            .unwrap_or_else(|| panic!("no metadata for {name}"))[0];
        assert!(!m["help"].as_str().unwrap().is_empty(), "{name}: no HELP");
        assert_ne!(m["type"], "unknown", "{name}: no TYPE");
    }
}

/// contrib/grafana-zen.json is built on series zen really exports.
fn the_dashboard_uses_only_scraped_series(scraped: &[&str]) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/grafana-zen.json");
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str::<Value>(&text).expect("the dashboard is JSON");
    let used = text
        .split(|c: char| !(c.is_ascii_lowercase() || c == '_'))
        .filter(|w| w.starts_with("zen_"));
    for name in used {
        assert!(
            scraped.contains(&name),
            "the dashboard uses {name}, which zen does not export"
        );
    }
}
