//! The span of a tools/call and its parent from the client. MCP carries W3C trace context in
//! `params._meta` (`traceparent`, `tracestate`), so a client's trace continues into zen. The
//! children (permit waits, provider attempts and backoff, store operations) are plain
//! `tracing` spans with target `zen_otel` where the work happens; with export off none of them
//! is ever created.
use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The span of one tools/call (`tools/call <tool>`, kind server), a child of the client's span
/// when the request carried a valid `traceparent`.
pub fn tool_call(tool: &str, traceparent: Option<&str>, tracestate: Option<&str>) -> tracing::Span {
    let span = tracing::info_span!(
        target: "zen_otel",
        "tools/call",
        otel.name = format!("tools/call {tool}"),
        otel.kind = "server",
        otel.status_code = Empty,
        mcp.method.name = "tools/call",
        gen_ai.tool.name = tool,
        gen_ai.operation.name = "execute_tool",
        error.type = Empty,
    );
    if span.is_disabled() {
        return span;
    }
    if let Some(traceparent) = traceparent {
        let mut carrier = HashMap::from([("traceparent".to_string(), traceparent.to_string())]);
        if let Some(state) = tracestate {
            carrier.insert("tracestate".to_string(), state.to_string());
        }
        let parent = TraceContextPropagator::new().extract(&carrier);
        // An invalid traceparent extracts an empty context: the span then starts a new trace.
        let _ = span.set_parent(parent);
    }
    span
}

/// Mark `span` failed with `kind` (error.type and an error status).
pub fn fail(span: &tracing::Span, kind: &'static str) {
    span.record("error.type", kind);
    span.record("otel.status_code", "ERROR");
}

/// The span of one conversation-store operation (`store checkout`, `store append`, …).
pub fn store(operation: &'static str) -> tracing::Span {
    tracing::info_span!(
        target: "zen_otel",
        "store",
        otel.name = format!("store {operation}"),
        db.operation.name = operation,
    )
}
