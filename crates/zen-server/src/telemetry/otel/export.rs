//! The exporter's own figures: spans are held in one bounded queue and a span that finds it full
//! is dropped and counted (never waited for); failed exports are counted too. The counts reach
//! the snapshot (and so /metrics and the log) through [`export_stats`].
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

use zen_model::snapshot::OtelStats;

/// Process-wide counts (one exporter per process).
struct Counters {
    /// Spans handed to the queue and not yet exported (or failed): the queue's fill.
    pending: AtomicUsize,
    /// Spans dropped because the queue was full.
    spans_dropped: AtomicU64,
    /// Spans the collector accepted.
    spans_exported: AtomicU64,
    /// Spans in batches the collector refused or never received.
    spans_failed: AtomicU64,
    /// Metric exports that reached the collector.
    metric_exports: AtomicU64,
    /// Metric exports that failed (the next one carries the totals again: cumulative).
    metric_exports_failed: AtomicU64,
    /// Set once export starts, so a snapshot without export says so.
    enabled: std::sync::atomic::AtomicBool,
}

static COUNTERS: Counters = Counters {
    pending: AtomicUsize::new(0),
    spans_dropped: AtomicU64::new(0),
    spans_exported: AtomicU64::new(0),
    spans_failed: AtomicU64::new(0),
    metric_exports: AtomicU64::new(0),
    metric_exports_failed: AtomicU64::new(0),
    enabled: std::sync::atomic::AtomicBool::new(false),
};

/// The exporter's figures, none when export is off.
pub fn export_stats_if_on() -> Option<OtelStats> {
    COUNTERS.enabled.load(Ordering::Relaxed).then(export_stats)
}

/// The exporter's figures now.
pub fn export_stats() -> OtelStats {
    let c = &COUNTERS;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    OtelStats {
        spans_queued: c.pending.load(Ordering::Relaxed) as u64,
        spans_dropped: load(&c.spans_dropped),
        spans_exported: load(&c.spans_exported),
        spans_failed: load(&c.spans_failed),
        metric_exports: load(&c.metric_exports),
        metric_exports_failed: load(&c.metric_exports_failed),
    }
}

/// The batch processor behind a queue bound of our own: a span past the bound is dropped and
/// counted at once, so ending a span never waits and no drop goes unseen.
#[derive(Debug)]
pub struct BoundedProcessor<P> {
    /// The SDK's batch processor (its queue is larger than `max_queue`).
    inner: P,
    /// Spans allowed to wait for export.
    max_queue: usize,
}

impl<P> BoundedProcessor<P> {
    /// Wrap the batch processor, letting at most `max_queue` spans wait for export; turns the
    /// exporter's figures on.
    pub fn new(inner: P, max_queue: usize) -> Self {
        COUNTERS.enabled.store(true, Ordering::Relaxed);
        BoundedProcessor { inner, max_queue }
    }
}

impl<P: SpanProcessor> SpanProcessor for BoundedProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        let taken = COUNTERS
            .pending
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.max_queue).then_some(n + 1)
            });
        match taken {
            Ok(_) => self.inner.on_end(span),
            Err(_) => {
                if COUNTERS.spans_dropped.fetch_add(1, Ordering::Relaxed) == 0 {
                    tracing::warn!(
                        max_queue = self.max_queue,
                        "OpenTelemetry span queue full: spans are dropped (counted in the \
                         snapshot's otel.spans_dropped) rather than slow calls"
                    );
                }
            }
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    /// Passed on, or the batch processor's exporter never learns the resource and every span
    /// is exported without `service.name` (the trait's default does nothing).
    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.inner.set_resource(resource);
    }
}

/// The OTLP span exporter, counting what it sends and freeing the queue's room.
#[derive(Debug)]
pub struct CountingSpanExporter<E> {
    /// The OTLP exporter.
    inner: E,
}

impl<E> CountingSpanExporter<E> {
    /// Wrap the OTLP span exporter.
    pub fn new(inner: E) -> Self {
        CountingSpanExporter { inner }
    }
}

impl<E: SpanExporter + 'static> SpanExporter for CountingSpanExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len();
        let result = self.inner.export(batch).await;
        COUNTERS.pending.fetch_sub(n, Ordering::Relaxed);
        let counter = match result {
            Ok(()) => &COUNTERS.spans_exported,
            Err(_) => &COUNTERS.spans_failed,
        };
        counter.fetch_add(n as u64, Ordering::Relaxed);
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.inner.set_resource(resource);
    }
}

/// The OTLP metric exporter, counting exports and failures.
pub struct CountingMetricExporter<E> {
    /// The OTLP exporter.
    inner: E,
}

impl<E> CountingMetricExporter<E> {
    /// Wrap the OTLP metric exporter.
    pub fn new(inner: E) -> Self {
        CountingMetricExporter { inner }
    }
}

impl<E: PushMetricExporter> PushMetricExporter for CountingMetricExporter<E> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let result = self.inner.export(metrics).await;
        let counter = match result {
            Ok(()) => &COUNTERS.metric_exports,
            Err(_) => &COUNTERS.metric_exports_failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        result
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}
