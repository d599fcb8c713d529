//! Families rendered from optional parts of the snapshot: tokens, and the OpenTelemetry
//! exporter's own figures (present only when export is on).
use prometheus_client::encoding::DescriptorEncoder;

use super::{counter, gauge};
use crate::snapshot::{OtelStats, TokenStats};

/// `zen_tokens_total{provider,model,type}`: prompt and completion tokens as providers reported.
pub(super) fn token_counters(
    enc: &mut DescriptorEncoder,
    tokens: &[TokenStats],
) -> std::fmt::Result {
    let rows: Vec<_> = (tokens.iter())
        .flat_map(|t| {
            let labels = |kind| {
                vec![
                    ("provider", t.provider.as_str()),
                    ("model", t.model.as_str()),
                    ("type", kind),
                ]
            };
            [
                (labels("prompt"), t.prompt_tokens),
                (labels("completion"), t.completion_tokens),
            ]
        })
        .collect();
    counter(
        enc,
        "zen_tokens",
        "Tokens used, as the providers reported them: prompt (sent) and completion (received).",
        &rows,
    )
}

/// `zen_otel_spans_total{outcome}`, `zen_otel_spans_queued`, `zen_otel_metric_exports_total`:
/// what the OpenTelemetry exporter sent, and what it dropped rather than slow a call.
pub(super) fn otel_families(enc: &mut DescriptorEncoder, o: &OtelStats) -> std::fmt::Result {
    let rows = [
        (vec![("outcome", "exported")], o.spans_exported),
        (vec![("outcome", "dropped")], o.spans_dropped),
        (vec![("outcome", "failed")], o.spans_failed),
    ];
    counter(
        enc,
        "zen_otel_spans",
        "Spans ended: exported, dropped (queue full) or in a failed export.",
        &rows,
    )?;
    gauge(
        enc,
        "zen_otel_spans_queued",
        "Spans waiting for export now.",
        &[(vec![], o.spans_queued as f64)],
    )?;
    let rows = [
        (vec![("outcome", "ok")], o.metric_exports),
        (vec![("outcome", "failed")], o.metric_exports_failed),
    ];
    counter(
        enc,
        "zen_otel_metric_exports",
        "OTLP metric exports, by outcome.",
        &rows,
    )
}
