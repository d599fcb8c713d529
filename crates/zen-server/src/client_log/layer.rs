//! The `tracing` layer that forwards a call's warnings to its client. A transport that serves a
//! call for a client who asked for messages runs the call inside [`call_span`], which carries
//! the call's [`CallLog`]; every WARN or ERROR event zen raises inside that span (in the call's
//! own task, or in a task spawned `in_current_span`, such as a provider attempt) is handed to
//! it. Events outside such a span, and calls of clients that asked for nothing, cost a lookup
//! of the event's spans and nothing more.
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;

use super::CallLog;
use crate::protocol::logging::{Level, Note};
use crate::telemetry::otel::SPAN_TARGET;

/// The target of the spans that carry a call's log (the stderr log leaves it out).
pub const CALL_TARGET: &str = "zen_client_log";

/// Whether any call has run with a client log yet. Until one does, the spans this layer would
/// walk (zen's trace spans, on every call) are not wanted, so with export off they are not
/// created at all: a server whose clients never ask for logs pays nothing for them.
static SPANS_WANTED: AtomicBool = AtomicBool::new(false);

/// The span a call runs in when its client asked for messages. The first one turns the trace
/// spans on (every call site's interest is computed again, once) before the call makes any.
pub(crate) fn call_span(log: Arc<CallLog>) -> tracing::Span {
    if !SPANS_WANTED.swap(true, Ordering::AcqRel) {
        tracing::callsite::rebuild_interest_cache();
    }
    let span = tracing::info_span!(target: CALL_TARGET, "client log");
    span.with_subscriber(|(id, dispatch)| {
        let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
        registry.span(id)?.extensions_mut().insert(Attached(log));
        Some(())
    });
    span
}

/// A call's log, in its span's extensions.
struct Attached(Arc<CallLog>);

/// Forwards WARN+ events of zen's crates raised inside a [`call_span`] to its [`CallLog`].
pub struct ClientLogLayer;

impl ClientLogLayer {
    /// The layer with the filter it needs (see [`Wanted`]). Install it beside the stderr log
    /// (`zen serve` does).
    pub fn filtered<S>() -> impl Layer<S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        ClientLogLayer.with_filter(Wanted)
    }
}

/// What the layer sees: zen's WARN and ERROR events, and the spans between them and a call's
/// span (zen's own and its trace spans, INFO and above). The spans matter: an event's spans are
/// walked through the ones this layer sees, and a provider attempt runs in a task of its own
/// whose only entered span is its trace span (`attempt`), whose parents lead to the call's.
/// Decided per call site once (static interest), so nothing else costs a thing; the spans only
/// once some call has asked for its log ([`SPANS_WANTED`]).
struct Wanted;

impl Wanted {
    fn wants(meta: &Metadata<'_>) -> bool {
        let target = meta.target();
        let zen = target.starts_with("zen_server");
        if meta.is_span() {
            let ours = zen || target == SPAN_TARGET || target == CALL_TARGET;
            ours && *meta.level() <= tracing::Level::INFO && SPANS_WANTED.load(Ordering::Acquire)
        } else {
            zen && *meta.level() <= tracing::Level::WARN
        }
    }
}

impl<S> Filter<S> for Wanted {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        Wanted::wants(meta)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if Wanted::wants(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::INFO)
    }
}

impl<S> Layer<S> for ClientLogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        for span in scope {
            let log = span.extensions().get::<Attached>().map(|a| a.0.clone());
            if let Some(log) = log {
                log.forward(note_of(event));
                return;
            }
        }
    }
}

/// The notification of an event: its level, its module as `zen::…`, its message and fields.
fn note_of(event: &Event<'_>) -> Note {
    let meta = event.metadata();
    let mut text = Text::default();
    event.record(&mut text);
    if !text.fields.is_empty() {
        if !text.message.is_empty() {
            text.message.push(' ');
        }
        text.message.push_str(&text.fields);
    }
    let target = meta.target();
    let logger = match target.strip_prefix("zen_server") {
        Some(rest) => format!("zen{rest}"),
        None => target.to_string(),
    };
    Note {
        level: Level::of_tracing(*meta.level()),
        logger,
        data: text.message,
    }
}

/// An event's message, and its other fields as `name=value`.
#[derive(Default)]
struct Text {
    /// The `message` field.
    message: String,
    /// The others, space separated.
    fields: String,
}

impl Text {
    fn field(&mut self, field: &Field) -> &mut String {
        if field.name() == "message" {
            return &mut self.message;
        }
        if !self.fields.is_empty() {
            self.fields.push(' ');
        }
        let _ = write!(self.fields, "{}=", field.name());
        &mut self.fields
    }
}

impl Visit for Text {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.field(field).push_str(value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.field(field), "{value:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client_log::SessionLog;
    use tracing_subscriber::prelude::*;

    #[test]
    fn warnings_inside_a_call_span_reach_its_log_and_others_do_not() {
        let subscriber = tracing_subscriber::registry().with(ClientLogLayer::filtered());
        let _default = tracing::subscriber::set_default(subscriber);
        let (log, mut rx) = CallLog::new(SessionLog::with_level(Level::Warning));
        tracing::warn!("outside any call");
        let span = call_span(log);
        span.in_scope(|| {
            let inner = tracing::info_span!("inner");
            inner.in_scope(|| {
                tracing::info!("below the level");
                tracing::warn!(provider = "custom", failures = 2, "circuit breaker opened");
            });
        });
        let note = rx.try_recv().expect("the warning reached the call's log");
        assert_eq!(note.level, Level::Warning);
        assert_eq!(note.logger, "zen::client_log::layer::tests");
        assert_eq!(
            note.data,
            "circuit breaker opened provider=custom failures=2"
        );
        assert!(rx.try_recv().is_err(), "one message only");
    }
}

#[cfg(test)]
mod spawned {
    use super::*;
    use crate::client_log::SessionLog;
    use tracing::Instrument;
    use tracing_subscriber::prelude::*;

    /// A provider attempt runs in a task of its own, inside its trace span (which exists even
    /// with export off): its warnings still find the call's log through the span's parents.
    /// The subscriber is `zen serve`'s (no span export, the stderr log's filter).
    #[tokio::test]
    async fn warnings_of_a_task_spawned_in_the_call_span_reach_its_log() {
        let none: Option<crate::telemetry::otel::SpanLayer> = None;
        let filter = tracing_subscriber::EnvFilter::new(format!(
            "info,rmcp=warn,{SPAN_TARGET}=off,{CALL_TARGET}=off"
        ));
        let fmt = (tracing_subscriber::fmt::layer())
            .with_writer(std::io::sink)
            .with_filter(filter);
        let subscriber = (tracing_subscriber::registry())
            .with(none)
            .with(ClientLogLayer::filtered())
            .with(fmt);
        let _default = tracing::subscriber::set_default(subscriber);
        let (log, mut rx) = CallLog::new(SessionLog::with_level(Level::Warning));
        let span = call_span(log);
        async {
            let provider = tracing::info_span!(target: "zen_otel", "chat");
            let handle = provider.in_scope(|| {
                let attempt = tracing::info_span!(target: "zen_otel", "attempt");
                let task = async { tracing::warn!("in a spawned task") };
                attempt.in_scope(|| tokio::spawn(task.in_current_span()))
            });
            handle.await.unwrap();
        }
        .instrument(span)
        .await;
        assert_eq!(rx.try_recv().expect("forwarded").data, "in a spawned task");
    }
}
