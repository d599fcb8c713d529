//! OpenTelemetry export over OTLP, configured only by the standard `OTEL_*` variables and off
//! (no layer, no thread, no instrument) when none is set.
//!
//! - Traces: zen's spans carry the target [`SPAN_TARGET`]; the log output filters that target
//!   out, so with export off they are never created. A tools/call span takes its parent from
//!   the request's `params._meta.traceparent` (see [`spans`]).
//! - Metrics: read from the one `Snapshot` (see [`replay`]); nothing is recorded on the call
//!   path, so export on or off costs a call nothing.
//! - Neither blocks a call: spans go through a bounded queue (dropped ones counted in
//!   [`export`]), and the SDK exports on its own threads.
use std::time::Duration;

use anyhow::{Context, Result, bail};
use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{MetricExporter, Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;

pub mod export;
pub mod replay;
pub mod spans;

pub use export::export_stats;
use zen_model::snapshot::SnapshotSource;

/// Whatever produces the snapshot the metrics are read from (the server's tool context).
pub type Source = std::sync::Arc<dyn SnapshotSource>;

/// The tracing target of every span zen exports; the log output never shows it.
pub const SPAN_TARGET: &str = "zen_otel";

/// Spans waiting for export at most; past it they are dropped and counted, never waited for.
/// OTEL_BSP_MAX_QUEUE_SIZE sets it (the SDK's own queue is made larger, so only ours drops).
const DEFAULT_MAX_QUEUE: usize = 2048;

/// The longest zen's exit waits for the last export.
const FLUSH_DEADLINE: Duration = Duration::from_secs(3);

/// The variables that switch export on: any one of them set and non-empty. (Tests clear these
/// and OTEL_SDK_DISABLED from the developer's environment.)
pub const SWITCHES: [&str; 9] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_METRIC_EXPORT_INTERVAL",
    "OTEL_BSP_SCHEDULE_DELAY",
];

/// Whether and how to export, as the environment says.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// No OTEL_* variable set, or OTEL_SDK_DISABLED=true.
    Off,
    /// Export with this OTLP protocol.
    Export(Protocol),
}

/// Read the plan from the environment; a protocol zen cannot speak is an error (exit 2).
pub fn plan_from(var: impl Fn(&str) -> Option<String>) -> Result<Plan> {
    let set = |name: &str| var(name).is_some_and(|v| !v.trim().is_empty());
    if var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        return Ok(Plan::Off);
    }
    if !SWITCHES.iter().any(|name| set(name)) {
        return Ok(Plan::Off);
    }
    let protocol = var("OTEL_EXPORTER_OTLP_PROTOCOL").unwrap_or_default();
    match protocol.trim() {
        "" | "http/protobuf" => Ok(Plan::Export(Protocol::HttpBinary)),
        #[cfg(feature = "otlp-grpc")]
        "grpc" => Ok(Plan::Export(Protocol::Grpc)),
        #[cfg(not(feature = "otlp-grpc"))]
        "grpc" => bail!(
            "OTEL_EXPORTER_OTLP_PROTOCOL 'grpc': this zen was built without gRPC export (cargo \
             feature otlp-grpc); use http/protobuf, or rebuild with default features"
        ),
        other => bail!(
            "OTEL_EXPORTER_OTLP_PROTOCOL '{other}' is not supported: use http/protobuf (the \
             default) or grpc"
        ),
    }
}

/// Export running: the providers to flush and stop when zen exits.
pub struct Otel {
    /// Exports spans (batch processor on its own thread).
    tracer_provider: SdkTracerProvider,
    /// Exports metrics (periodic reader on its own thread).
    meter_provider: SdkMeterProvider,
    /// How often the snapshot is read into the instruments.
    replay_every: Duration,
    /// Stops the snapshot reader.
    stop: CancellationToken,
    /// The snapshot reader, awaited at exit so its last read is exported.
    replay: Option<tokio::task::JoinHandle<()>>,
}

/// A tracing layer that hands zen's spans to OpenTelemetry.
pub type SpanLayer = Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>;

impl Otel {
    /// Start export if the environment asks for it. Must run inside the tokio runtime (the gRPC
    /// client spawns its connection task there).
    pub fn from_env() -> Result<Option<(Otel, SpanLayer)>> {
        let Plan::Export(protocol) = plan_from(|name| std::env::var(name).ok())? else {
            return Ok(None);
        };
        zen_os::tls::use_ring();
        let resource = resource();
        let tracer_provider = tracer_provider(protocol, resource.clone())?;
        let metrics = metric_exporter(protocol)?;
        let reader = PeriodicReader::builder(export::CountingMetricExporter::new(metrics)).build();
        let meter_provider = SdkMeterProvider::builder()
            .with_reader(reader)
            .with_resource(resource)
            .build();
        let tracer = tracer_provider.tracer("zen");
        // Only the semantic-convention attributes: no source location, thread, target or
        // busy/idle timings on every span (they cost time per call and say nothing to a user).
        let layer = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_filter(Targets::new().with_target(SPAN_TARGET, tracing::Level::TRACE));
        let interval = env_millis("OTEL_METRIC_EXPORT_INTERVAL").unwrap_or(60_000);
        let otel = Otel {
            tracer_provider,
            meter_provider,
            // Often enough that an export carries figures at most a fraction of its interval
            // old, rarely enough to cost nothing (one snapshot a second at most).
            replay_every: Duration::from_millis((interval / 2).clamp(50, 1000)),
            stop: CancellationToken::new(),
            replay: None,
        };
        tracing::info!(?protocol, "OpenTelemetry export on");
        Ok(Some((otel, Box::new(layer))))
    }

    /// Start reading the snapshot into the metric instruments.
    pub fn start_metrics(&mut self, source: Source) {
        let meter = opentelemetry::metrics::MeterProvider::meter(&self.meter_provider, "zen");
        self.replay = Some(tokio::spawn(replay::run(
            meter,
            source,
            self.replay_every,
            self.stop.clone(),
        )));
    }

    /// Flush what is queued and stop; bounded by the SDK's export timeouts, off the runtime's
    /// worker threads since the exporters block.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(replay) = self.replay.take() {
            let _ = replay.await;
        }
        let flush = tokio::task::spawn_blocking(move || {
            let metrics = self.meter_provider.shutdown();
            let spans = self.tracer_provider.shutdown();
            (metrics, spans)
        });
        // A hung collector must not hold zen's exit: past the deadline the flush is abandoned.
        if let Ok(Ok((metrics, spans))) = tokio::time::timeout(FLUSH_DEADLINE, flush).await {
            if let Err(err) = metrics.and(spans) {
                tracing::warn!(%err, "OpenTelemetry export did not flush at exit");
            }
        } else {
            tracing::warn!(
                "OpenTelemetry export did not flush within {FLUSH_DEADLINE:?} at exit; the last \
             spans and figures are lost"
            );
        }
        let stats = export_stats();
        if stats.spans_dropped > 0 {
            tracing::warn!(
                dropped = stats.spans_dropped,
                "spans dropped because the export queue was full"
            );
        }
    }
}

/// service.name (OTEL_SERVICE_NAME, else `zen`), service.version and OTEL_RESOURCE_ATTRIBUTES.
fn resource() -> Resource {
    let builder = Resource::builder().with_attribute(KeyValue::new(
        "service.version",
        zen_model::VERSION.to_string(),
    ));
    // The SDK reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES itself; without a name it
    // would say `unknown_service`.
    match std::env::var("OTEL_SERVICE_NAME") {
        Ok(name) if !name.trim().is_empty() => builder.build(),
        _ => builder.with_service_name("zen").build(),
    }
}

fn tracer_provider(protocol: Protocol, resource: Resource) -> Result<SdkTracerProvider> {
    let exporter = match protocol {
        #[cfg(feature = "otlp-grpc")]
        Protocol::Grpc => SpanExporter::builder().with_tonic().build(),
        _ => (SpanExporter::builder().with_http())
            .with_protocol(protocol)
            .build(),
    }
    .context("cannot set up the OTLP span exporter (check OTEL_EXPORTER_OTLP_*)")?;
    let max_queue = env_millis("OTEL_BSP_MAX_QUEUE_SIZE").map_or(DEFAULT_MAX_QUEUE, |n| n as usize);
    // The SDK's queue has room for ours and more, so the one place spans are dropped is ours,
    // where they are counted.
    let config = BatchConfigBuilder::default()
        .with_max_queue_size(max_queue.saturating_mul(2).max(64))
        .build();
    let batch = BatchSpanProcessor::builder(export::CountingSpanExporter::new(exporter))
        .with_batch_config(config)
        .build();
    Ok(SdkTracerProvider::builder()
        .with_span_processor(export::BoundedProcessor::new(batch, max_queue))
        .with_resource(resource)
        .build())
}

fn metric_exporter(protocol: Protocol) -> Result<MetricExporter> {
    match protocol {
        #[cfg(feature = "otlp-grpc")]
        Protocol::Grpc => MetricExporter::builder().with_tonic().build(),
        _ => (MetricExporter::builder().with_http())
            .with_protocol(protocol)
            .build(),
    }
    .context("cannot set up the OTLP metric exporter (check OTEL_EXPORTER_OTLP_*)")
}

/// A whole number from the environment (milliseconds or a count), if set and valid.
fn env_millis(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(vars: &[(&str, &str)]) -> Result<Plan> {
        plan_from(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn export_is_off_without_otel_variables_or_when_the_sdk_is_disabled() {
        assert_eq!(plan(&[]).unwrap(), Plan::Off);
        assert_eq!(plan(&[("OTEL_SERVICE_NAME", " ")]).unwrap(), Plan::Off);
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318");
        assert_eq!(
            plan(&[endpoint]).unwrap(),
            Plan::Export(Protocol::HttpBinary)
        );
        assert_eq!(
            plan(&[endpoint, ("OTEL_SDK_DISABLED", "TRUE")]).unwrap(),
            Plan::Off
        );
        let grpc = ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
        #[cfg(feature = "otlp-grpc")]
        assert_eq!(plan(&[grpc]).unwrap(), Plan::Export(Protocol::Grpc));
        #[cfg(not(feature = "otlp-grpc"))]
        assert!(plan(&[grpc]).unwrap_err().to_string().contains("otlp-grpc"));
    }

    #[test]
    fn a_protocol_zen_cannot_speak_is_refused_with_the_ones_it_can() {
        let err = plan(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("'http/json'") && text.contains("grpc"),
            "{text}"
        );
    }
}
