//! Issue 28: the legacy HTTP+SSE transport (2024-11-05) and `--transport auto`, against the
//! official Python SDK's server in its `sse` mode (`tests/python/reach_server.py`), and zen's
//! own streamable HTTP; and `--churn`: a new client per call, its handshake reported apart.
use serde_json::Value;

use crate::interop::tools;
use crate::reach_auth::ReachServer;
use crate::util::{http_zen, zen_output};

fn report(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// `zen stress --url URL` calling the Python server's `add` (zen's `version` with `zen`), with
/// `extra` flags.
async fn stress(url: &str, tool: &str, extra: &[&str]) -> (i32, String, String) {
    let args_json = if tool == "add" {
        r#"{"a":2,"b":3}"#
    } else {
        "{}"
    };
    let mut args = vec![
        "stress", "--url", url, "--tool", tool, "--args", args_json, "-c", "4", "-n", "80",
        "--json",
    ];
    args.extend_from_slice(extra);
    zen_output(&args, &[("MCP_TOKEN", "zen-reach-secret-7f3a9c1e5b2d4068")]).await
}

#[tokio::test]
async fn the_legacy_sse_transport_loads_the_python_sdk_server_and_auto_finds_it() {
    let Some(tools) = tools() else { return };
    let server = ReachServer::start(&tools, &["--transport", "sse"]).await;
    for transport in ["sse", "auto"] {
        let (code, out, err) = stress(&server.url, "add", &["--transport", transport]).await;
        assert_eq!(code, 0, "{transport}: {err}\n{out}");
        let r = report(&out);
        assert_eq!(r["target"]["kind"], "sse", "{transport}");
        assert_eq!(r["calls"]["ok"], 80, "{transport}: {}", r["errors"]);
        assert!(r["latency"]["p50_ms"].as_f64().unwrap() > 0.0);
    }
    // Other operations and churn go over it too.
    let args = [
        "stress",
        "--url",
        &server.url,
        "--transport",
        "sse",
        "--op",
        "tools/list",
        "--op",
        "ping",
        "--churn",
        "-c",
        "4",
        "-n",
        "80",
        "--json",
    ];
    let (code, out, err) = zen_output(&args, &[]).await;
    assert_eq!(code, 0, "{err}\n{out}");
    let r = report(&out);
    assert_eq!(r["operations"].as_object().unwrap().len(), 2, "{r}");
    assert_eq!(r["handshake"]["count"], 80, "{}", r["handshake"]);
    // Streamable HTTP alone does not fall back: it names the transport to use.
    let (code, _, err) = stress(&server.url, "add", &[]).await;
    assert_eq!(code, 2, "{err}");
}

#[tokio::test]
async fn a_bearer_protected_sse_server_refuses_before_load_and_runs_with_the_token() {
    let Some(tools) = tools() else { return };
    let args = ["--transport", "sse", "--token-env", "REACH_TOKEN"];
    let server = ReachServer::start(&tools, &args).await;
    let sse = ["--transport", "sse"];
    let (code, out, err) = stress(&server.url, "add", &sse).await;
    assert_eq!(code, 2, "{err}\n{out}");
    assert!(
        err.contains("HTTP 401") && err.contains("realm=\"reach-test\""),
        "{err}"
    );
    let with_token = ["--transport", "sse", "--bearer-token-env", "MCP_TOKEN"];
    let (code, out, err) = stress(&server.url, "add", &with_token).await;
    assert_eq!(code, 0, "{err}\n{out}");
    assert!(!out.contains("7f3a9c1e5b2d4068") && !err.contains("7f3a9c1e5b2d4068"));
}

#[tokio::test]
async fn auto_stays_on_streamable_http_for_zen_and_churn_counts_every_handshake() {
    let zen = http_zen(&[], &[]).await;
    let (code, out, err) = stress(&zen.url, "version", &["--transport", "auto"]).await;
    assert_eq!(code, 0, "{err}");
    let r = report(&out);
    assert_eq!(r["target"]["kind"], "http");
    assert!(
        r.get("handshake").is_none(),
        "no churn, no handshake figures"
    );
    for protocol in ["2025-11-25", "2026-07-28"] {
        let extra = ["--churn", "--protocol", protocol];
        let (code, out, err) = stress(&zen.url, "version", &extra).await;
        assert_eq!(code, 0, "{protocol}: {err}\n{out}");
        let r = report(&out);
        assert_eq!(r["calls"]["ok"], 80, "{protocol}");
        assert_eq!(r["target"]["protocol"], protocol);
        // One handshake per call, and it is inside the call's latency.
        let handshake = &r["handshake"];
        assert_eq!(handshake["count"], 80, "{protocol}: {handshake}");
        assert!(
            handshake["p50_ms"].as_f64().unwrap() <= r["latency"]["p99_ms"].as_f64().unwrap(),
            "{protocol}: {handshake} vs {}",
            r["latency"]
        );
    }
    // Churn needs a client per call, which a stdio server cannot have.
    let (code, _, err) = zen_output(&["stress", "--churn", "-n", "1"], &[]).await;
    assert_eq!(code, 2);
    assert!(err.contains("--url"), "{err}");
}

#[tokio::test]
async fn resources_read_random_lists_every_page_on_each_http_transport() {
    // The server lists one resource per page: a client that read only the first page would
    // read only reach://page/0.
    let Some(tools) = tools() else { return };
    let dir = tempfile::tempdir().unwrap();
    for transport in ["sse", "streamable-http"] {
        let log = dir.path().join(format!("{transport}.log"));
        let log_arg = log.display().to_string();
        let args = ["--transport", transport, "--read-log", &log_arg];
        let server = ReachServer::start(&tools, &args).await;
        let args = [
            "stress",
            "--url",
            &server.url,
            "--transport",
            transport,
            "--op",
            "resources/read",
            "-c",
            "2",
            "-n",
            "60",
            "--json",
        ];
        let (code, out, err) = zen_output(&args, &[]).await;
        assert_eq!(code, 0, "{transport}: {err}\n{out}");
        assert_eq!(report(&out)["operations"]["resources/read"]["ok"], 60);
        let read = std::fs::read_to_string(&log).unwrap();
        // 60 picks among 3 resources: each is read (the chance one is not: 3 × (2/3)^60).
        for page in 0..3 {
            let uri = format!("reach://page/{page}");
            assert!(
                read.lines().any(|l| l == uri),
                "{transport}: {uri} never read"
            );
        }
    }
}
