//! OpenTelemetry export from a real `zen serve` to an OTLP receiver on 127.0.0.1, over
//! http/protobuf and gRPC: the semantic-convention metrics, the span tree of a tools/call, and a
//! client's trace continued through `params._meta.traceparent`.
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, MetaObject, RequestMetaObject};
use serde_json::json;

use crate::otlp_receiver::{self, Received, Shared, attrs};
use crate::util::{call, http_client, http_zen, is_error, telemetry_get, telemetry_snapshot};

/// The client's trace: trace id and the client span zen's span must hang under.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN: &str = "00f067aa0ba902b7";

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// A point of metric `name` whose attributes include all of `want`.
fn point(got: &Received, name: &str, want: &[(&str, &str)]) -> Option<f64> {
    (got.points.iter())
        .filter(|p| p.name == name)
        .find(|p| {
            want.iter()
                .all(|(k, v)| p.attrs.get(*k).is_some_and(|a| a == v))
        })
        .map(|p| p.value)
}

/// Everything the export should have delivered, or what is still missing.
fn missing(got: &Received) -> Vec<String> {
    let mut missing = Vec::new();
    let mut need = |ok: bool, what: &str| {
        if !ok {
            missing.push(what.to_string());
        }
    };
    let tool = [
        ("mcp.method.name", "tools/call"),
        ("gen_ai.tool.name", "chat"),
    ];
    let provider = [
        ("gen_ai.provider.name", "simulated"),
        ("gen_ai.operation.name", "chat"),
    ];
    need(
        point(got, "gen_ai.client.operation.duration", &provider).is_some_and(|n| n >= 1.0),
        "gen_ai.client.operation.duration",
    );
    // One chat per model: each request's duration says which model it was for.
    for model in ["alpha", "beta"] {
        let attrs = [
            ("gen_ai.provider.name", "simulated"),
            ("gen_ai.request.model", model),
            ("gen_ai.operation.name", "chat"),
        ];
        need(
            point(got, "gen_ai.client.operation.duration", &attrs) == Some(1.0),
            &format!("gen_ai.client.operation.duration with gen_ai.request.model={model} (1 call)"),
        );
    }
    let without_model = (got.points.iter())
        .filter(|p| p.name == "gen_ai.client.operation.duration")
        .find(|p| !p.attrs.contains_key("gen_ai.request.model"));
    assert!(
        without_model.is_none(),
        "every gen_ai.client.operation.duration point names its model: {without_model:?}"
    );
    for kind in ["input", "output"] {
        let attrs = [
            ("gen_ai.provider.name", "simulated"),
            ("gen_ai.token.type", kind),
        ];
        need(
            point(got, "gen_ai.client.token.usage", &attrs).is_some(),
            &format!("gen_ai.client.token.usage {kind}"),
        );
    }
    let failed = [("gen_ai.tool.name", "chat"), ("error.type", "tool_error")];
    need(
        point(got, "mcp.server.operation.duration", &failed) == Some(1.0),
        "mcp.server.operation.duration with error.type=tool_error (1 call)",
    );
    let ok_only = (got.points.iter()).any(|p| {
        p.name == "mcp.server.operation.duration"
            && tool
                .iter()
                .all(|(k, v)| p.attrs.get(*k).is_some_and(|a| a == v))
            && !p.attrs.contains_key("error.type")
            && p.value == 2.0
    });
    need(
        ok_only,
        "mcp.server.operation.duration for the 2 ok chats, no error.type",
    );
    for (name, attrs) in [
        ("zen.pool.limit", [("zen.pool.name", "global")]),
        ("zen.breaker.state", [("zen.breaker.state", "closed")]),
        ("zen.store.threads", [("zen.store.kind", "sqlite")]),
    ] {
        need(point(got, name, &attrs).is_some(), name);
    }
    need(
        point(
            got,
            "zen.pool.queue.wait.duration",
            &[("zen.pool.name", "simulated")],
        )
        .is_some(),
        "zen.pool.queue.wait.duration",
    );
    need(
        tree(got).is_ok(),
        &format!("span tree: {:?}", tree(got).err()),
    );
    missing
}

/// The traced call's span tree: `tools/call chat` under the client's span, with its children.
fn tree(got: &Received) -> Result<(), String> {
    let root = (got.spans.iter())
        .find(|s| s.name == "tools/call chat" && hex(&s.trace_id) == TRACE_ID)
        .ok_or("no tools/call chat span in the client's trace")?;
    if hex(&root.parent_span_id) != CLIENT_SPAN {
        return Err(format!(
            "parent {} is not the client's span",
            hex(&root.parent_span_id)
        ));
    }
    let a = attrs(&root.attributes);
    if a.get("gen_ai.tool.name").map(String::as_str) != Some("chat") || root.kind != 2 {
        return Err(format!("root attributes {a:?}, kind {}", root.kind));
    }
    let children_of = |id: &[u8]| -> Vec<&opentelemetry_proto::tonic::trace::v1::Span> {
        got.spans
            .iter()
            .filter(|s| s.parent_span_id == id)
            .collect()
    };
    let children = children_of(&root.span_id);
    let names: Vec<&str> = children.iter().map(|s| s.name.as_str()).collect();
    for want in ["wait global permit", "wait provider permit", "store append"] {
        if !names.contains(&want) {
            return Err(format!("no '{want}' under tools/call chat: {names:?}"));
        }
    }
    let provider = (children.iter())
        .find(|s| s.name.starts_with("chat "))
        .ok_or(format!("no provider span under tools/call chat: {names:?}"))?;
    let pa = attrs(&provider.attributes);
    if pa.get("gen_ai.provider.name").map(String::as_str) != Some("simulated")
        || !pa.contains_key("gen_ai.request.model")
        || !pa.contains_key("gen_ai.usage.input_tokens")
    {
        return Err(format!("provider span attributes {pa:?}"));
    }
    if !children_of(&provider.span_id)
        .iter()
        .any(|s| s.name == "attempt")
    {
        return Err("no attempt span under the provider span".into());
    }
    let failed = (got.spans.iter())
        .find(|s| s.name == "tools/call chat" && attrs(&s.attributes).contains_key("error.type"))
        .ok_or("no tools/call chat span with error.type for the failed call")?;
    let fa = attrs(&failed.attributes);
    let status = failed.status.as_ref().map_or(0, |s| s.code);
    if fa.get("error.type").map(String::as_str) != Some("tool_error") || status != 2 {
        return Err(format!("failed call: attributes {fa:?}, status {status}"));
    }
    Ok(())
}

async fn exports_over(protocol: &str) {
    let shared = Shared::default();
    let endpoint = match protocol {
        "grpc" => otlp_receiver::grpc(shared.clone()),
        _ => otlp_receiver::http(shared.clone()).await,
    };
    let zen = http_zen(
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-zen-test=otel-token"),
            ("OTEL_SERVICE_NAME", "zen-under-test"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment.name=test",
            ),
            ("OTEL_METRIC_EXPORT_INTERVAL", "200"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            // Two models, so the per-model duration is seen to carry the right one.
            ("ZEN_SIM_MODELS", "alpha,beta"),
        ],
    )
    .await;
    let client = http_client(&zen.url).await;
    let mut params = CallToolRequestParams::new("chat")
        .with_arguments(json!({"prompt": "hello"}).as_object().unwrap().clone());
    let mut meta = MetaObject::new();
    meta.set_traceparent(format!("00-{TRACE_ID}-{CLIENT_SPAN}-01"));
    meta.set_tracestate("client=test");
    params.meta = Some(RequestMetaObject(meta));
    let traced = client.call_tool(params).await.expect("tools/call");
    assert!(!is_error(&traced), "{traced:?}");
    let plain = call(&client, "chat", json!({"prompt": "again", "model": "beta"})).await;
    assert!(!is_error(&plain));
    let bad = call(
        &client,
        "chat",
        json!({"prompt": "x", "continuation_id": "nope"}),
    )
    .await;
    assert!(is_error(&bad), "a bad continuation_id is a tool error");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = missing(&shared.lock().unwrap());
        if left.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() <= deadline,
            "over {protocol}, missing: {left:#?}\nstderr:\n{}",
            zen.stderr.text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    {
        let got = shared.lock().unwrap();
        assert_eq!(
            got.resource.get("service.name").map(String::as_str),
            Some("zen-under-test")
        );
        // Regression: the span processor wrapper did not pass the resource on, so spans went
        // out without service.name (seen only when a span export arrived last).
        assert_eq!(
            got.span_resource.get("service.name").map(String::as_str),
            Some("zen-under-test"),
            "spans carry the resource: {:?}",
            got.span_resource
        );
        assert_eq!(
            got.resource
                .get("deployment.environment.name")
                .map(String::as_str),
            Some("test")
        );
        assert_eq!(
            got.headers.get("x-zen-test").map(String::as_str),
            Some("otel-token")
        );
    }
    let snap = telemetry_snapshot(zen.telemetry.as_deref().unwrap()).await;
    assert!(
        snap["otel"]["spans_exported"].as_u64().unwrap() > 0,
        "{}",
        snap["otel"]
    );
    assert_eq!(snap["otel"]["spans_dropped"], 0);
    let text = telemetry_get(zen.telemetry.as_deref().unwrap(), "/metrics").await;
    assert!(
        text.contains("zen_otel_spans_total{outcome=\"dropped\"} 0"),
        "/metrics shows the exporter's drops:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn zen_exports_semconv_metrics_and_a_client_trace_over_http_protobuf() {
    exports_over("http/protobuf").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn zen_exports_semconv_metrics_and_a_client_trace_over_grpc() {
    exports_over("grpc").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_otel_variables_nothing_is_exported_and_the_snapshot_says_so() {
    let zen = http_zen(
        &[],
        &[("OTEL_SDK_DISABLED", "true"), ("OTEL_SERVICE_NAME", "x")],
    )
    .await;
    let snap = telemetry_snapshot(zen.telemetry.as_deref().unwrap()).await;
    assert!(snap.get("otel").is_none(), "{}", snap["otel"]);
    assert!(!zen.stderr.text().contains("OpenTelemetry export on"));
}

/// A collector that accepts connections and never answers (a hung collector).
async fn silent_collector() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            // Held open, never read: at most a few, the exporter sends one export at a time.
            if held.len() < 64 {
                held.push(socket);
            }
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_collector_that_never_answers_costs_calls_nothing_and_dropped_spans_are_counted() {
    let endpoint = silent_collector().await;
    let zen = http_zen(
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "4"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "2"),
            ("OTEL_BSP_SCHEDULE_DELAY", "10"),
        ],
    )
    .await;
    let client = http_client(&zen.url).await;
    let started = std::time::Instant::now();
    for _ in 0..40 {
        let r = call(&client, "version", json!({})).await;
        assert!(!is_error(&r), "{r:?}");
    }
    // The export is stuck on the hung collector (its timeout is 10 s): the calls did not wait.
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "40 calls took {took:?}");
    let snap = telemetry_snapshot(zen.telemetry.as_deref().unwrap()).await;
    let otel = &snap["otel"];
    assert!(otel["spans_dropped"].as_u64().unwrap() >= 30, "{otel}");
    assert!(otel["spans_queued"].as_u64().unwrap() <= 4, "{otel}");
    let warned = zen.stderr.text();
    assert!(warned.contains("span queue full"), "{warned}");
}

#[tokio::test(flavor = "multi_thread")]
async fn what_is_still_queued_at_sigterm_is_flushed_before_zen_exits() {
    let shared = Shared::default();
    let endpoint = otlp_receiver::http(shared.clone()).await;
    // Intervals far past the test: only the flush at exit can deliver anything.
    let mut zen = http_zen(
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_METRIC_EXPORT_INTERVAL", "600000"),
            ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
        ],
    )
    .await;
    let client = http_client(&zen.url).await;
    assert!(!is_error(&call(&client, "version", json!({})).await));
    {
        let got = shared.lock().unwrap();
        assert!(
            got.spans.is_empty(),
            "nothing is exported before the exit: {} spans",
            got.spans.len()
        );
    }
    drop(client);
    let pid = zen.child.id().expect("zen is running") as libc::pid_t;
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = tokio::time::timeout(Duration::from_secs(15), zen.child.wait())
        .await
        .expect("zen exits within 15 s of SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}\n{}", zen.stderr.text());
    let got = shared.lock().unwrap();
    assert!(
        got.spans.iter().any(|s| s.name == "tools/call version"),
        "the call's span was flushed at exit: {:?}",
        got.spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    assert!(
        point(
            &got,
            "mcp.server.operation.duration",
            &[("gen_ai.tool.name", "version")]
        )
        .is_some_and(|n| n >= 1.0),
        "the call's duration was flushed at exit: {:?}",
        got.points.iter().map(|p| &p.name).collect::<Vec<_>>()
    );
}
