//! What the stdio server does with each message it reads: framing errors answered, requests
//! routed by era ([`crate::protocol::classify::stdio`]) and answered through the one request
//! path ([`crate::serve::answer`]), tools/calls started (and cancelled by
//! `notifications/cancelled`), the legacy handshake's revision kept for the process.
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Bytes;
use futures::stream::FuturesUnordered;
use rmcp::ErrorData;
use rmcp::model::{CancelledNotificationParam, RequestId};
use tokio_util::sync::CancellationToken;

use tokio::sync::mpsc;

use super::lines::{Line, find_id, salvage, trim};
use crate::client_log::{CallLog, SessionLog};
use crate::protocol::classify::{self, Route};
use crate::protocol::logging::{self, Note};
use crate::protocol::meta;
use crate::serve::answer::{Answerer, Era, Message, Unreadable, error_reply, result_reply};
use crate::serve::server::Server;

/// Log messages of the connection's calls waiting for stdout; past this they are dropped and
/// counted (the rate limit keeps a session well under it).
const LOG_QUEUE: usize = 64;

/// A tools/call running, with its id: its reply when done.
pub(super) type Call = Pin<Box<dyn Future<Output = (RequestId, Bytes)> + Send>>;

/// The server side of one stdio connection, between reading a line and queueing its reply.
pub(super) struct Requests {
    /// The host: admission, metrics for bad lines.
    pub server: Arc<Server>,
    /// The one request path.
    answerer: Answerer,
    /// Calls running, polled by the connection's own task (no spawn, no thread hop).
    pub calls: FuturesUnordered<Call>,
    /// Each running call's cancellation, by id: `notifications/cancelled` finds it here, and a
    /// call cancelled so gets no reply (`basic/utilities/cancellation`: the receiver SHOULD NOT
    /// respond). An entry lives as long as its call.
    pub running: HashMap<RequestId, CancellationToken>,
    /// The revision an `initialize` agreed to: legacy semantics for the process from then on.
    handshake: Option<&'static str>,
    /// Replies to write, in order.
    pub out: Vec<u8>,
    /// ZEN_MAX_MESSAGE_BYTES.
    pub max_line: usize,
    /// The level `logging/setLevel` set for this connection (`crate::client_log`).
    log: Arc<SessionLog>,
    /// Where the calls' log messages go (every call of the connection shares it).
    log_tx: mpsc::Sender<Note>,
    /// Drained onto stdout by the connection's task, before each reply.
    pub log_rx: mpsc::Receiver<Note>,
}

impl Requests {
    pub(super) fn new(server: Arc<Server>) -> Requests {
        let (log_tx, log_rx) = mpsc::channel(LOG_QUEUE);
        Requests {
            log: Arc::new(SessionLog::default()),
            log_tx,
            log_rx,
            answerer: Answerer::new(server.clone()),
            max_line: server.context.config.transport.max_message_bytes,
            server,
            calls: FuturesUnordered::new(),
            running: HashMap::new(),
            handshake: None,
            out: Vec::with_capacity(64 * 1024),
        }
    }

    /// Queue one reply (one line).
    pub(super) fn queue(&mut self, reply: &[u8]) {
        self.out.extend_from_slice(reply);
        self.out.push(b'\n');
    }

    /// Queue one log message.
    pub(super) fn queue_note(&mut self, note: &Note) {
        self.queue(&note.encode());
    }

    /// Handle one line read from stdin.
    pub(super) fn line(&mut self, line: Line<'_>) {
        match line {
            Line::Oversized(start, size) => {
                self.server.context.metrics.count_oversized();
                let id = find_id(start);
                tracing::warn!(
                    size,
                    limit = self.max_line,
                    ?id,
                    "message over ZEN_MAX_MESSAGE_BYTES"
                );
                let message = format!(
                    "message of about {size} bytes is over the {} byte limit \
                     (ZEN_MAX_MESSAGE_BYTES); put large content in files",
                    self.max_line
                );
                self.queue(&error_reply(id, ErrorData::invalid_request(message, None)));
            }
            Line::Whole(bytes) => {
                let text = trim(bytes);
                if !text.is_empty() {
                    self.message(text);
                }
            }
        }
    }

    fn message(&mut self, text: &[u8]) {
        let message = match Message::read(text) {
            Ok(message) => message,
            Err(Unreadable { error, id }) => return self.unreadable(text, error, id),
        };
        let Some(id) = message.id.clone() else {
            return self.notification(&message);
        };
        let named = meta::named_version(message.meta());
        let era = match classify::stdio(&message.method, named, self.handshake.is_some()) {
            Route::Inline => match inline_era(&message, named.is_some()) {
                Ok(era) => era,
                Err(error) => return self.queue(&error_reply(Some(id), error)),
            },
            Route::Handshake => return self.handshake(id, &message),
            Route::Legacy => Era(self.handshake.unwrap_or(zen_model::mcp::LATEST_LEGACY)),
        };
        let log = match self.call_log(era, &message) {
            Ok(log) => log,
            Err(error) => return self.queue(&error_reply(Some(id), error)),
        };
        if message.method == "logging/setLevel" && !era.modern() {
            return match self.answerer.set_level(&message, &self.log) {
                Ok((result, notes)) => {
                    for note in &notes {
                        self.queue_note(note);
                    }
                    self.queue(&result_reply(&id, &result));
                }
                Err(error) => self.queue(&error_reply(Some(id), error)),
            };
        }
        if let Some(params) = message.call {
            let ct = CancellationToken::new();
            self.running.insert(id.clone(), ct.clone());
            // Counted for the drain from now, so a call read just before stdin closes is
            // finished, not refused.
            let admitted = Some(self.server.admit());
            let call = (self.answerer).call(era, id.clone(), params, (admitted, ct), log);
            self.calls.push(Box::pin(async move { (id, call.await) }));
        } else {
            let reply = match self.answerer.answer(era, &message) {
                Ok(result) => result_reply(&id, &result),
                Err(error) => error_reply(Some(id), error),
            };
            self.queue(&reply);
        }
    }

    /// Where a request's log messages go, if its client asked for them: a 2026-07-28 request
    /// by its `_meta` logLevel (-32602 when that names no level), a legacy one by the
    /// connection's `logging/setLevel`.
    fn call_log(&self, era: Era, message: &Message<'_>) -> Result<Option<Arc<CallLog>>, ErrorData> {
        let session = if era.modern() {
            match logging::meta_level(message.meta())? {
                Some(level) => SessionLog::with_level(level),
                None => return Ok(None),
            }
        } else if self.log.level().is_some() {
            self.log.clone()
        } else {
            return Ok(None);
        };
        let calls = message.call.is_some();
        Ok(calls.then(|| CallLog::sharing(session, self.log_tx.clone())))
    }

    /// `initialize`: legacy semantics for the process at the revision agreed.
    fn handshake(&mut self, id: RequestId, message: &Message<'_>) {
        match self.answerer.initialize(message) {
            Ok((result, version)) => {
                self.handshake = Some(version);
                self.queue(&result_reply(&id, &result));
            }
            Err(error) => self.queue(&error_reply(Some(id), error)),
        }
    }

    /// A notification: a cancellation cancels its call; the rest need nothing (unknown ones
    /// are ignored, as the MCP SDKs do).
    fn notification(&mut self, message: &Message<'_>) {
        if message.method != "notifications/cancelled" {
            return;
        }
        let params = message
            .params
            .map_or("null", serde_json::value::RawValue::get);
        if let Ok(CancelledNotificationParam {
            request_id: Some(id),
            ..
        }) = serde_json::from_str(params)
            && let Some(ct) = self.running.get(&id)
        {
            ct.cancel();
        }
    }

    /// A line that is not a readable message: answered with its error (and its id, when a
    /// lenient read finds one), counted and logged; a broken notification is ignored.
    fn unreadable(&mut self, text: &[u8], error: ErrorData, id: Option<RequestId>) {
        let (found, notification) = match id {
            Some(id) => (Some(id), false),
            None => salvage(text),
        };
        if notification {
            tracing::debug!(error = %error.message, "ignoring a notification zen cannot read");
            return;
        }
        self.server.context.metrics.count_malformed();
        let preview = String::from_utf8_lossy(&text[..text.len().min(120)]).into_owned();
        tracing::warn!(error = %error.message, %preview, "ignoring a malformed message on stdin");
        self.queue(&error_reply(found, error));
    }
}

/// The era of a request served on its own: its `_meta` complete (-32602) and naming a revision
/// zen serves (-32022). `named`: the request named a revision at all (without one, on stdio,
/// the client also skipped the handshake, and the error says both ways in).
fn inline_era(message: &Message<'_>, named: bool) -> Result<Era, ErrorData> {
    let version = meta::required_fields(message.meta()).map_err(|error| {
        if named {
            error
        } else {
            ErrorData::invalid_params(
                format!(
                    "{}; a 2025 client begins with initialize instead",
                    error.message
                ),
                None,
            )
        }
    })?;
    meta::supported(version).map(Era)
}
