//! tools/call answered by zen directly, not through rmcp's session layer. In rmcp every request
//! on a session becomes a message to the session's worker task, a request-wise channel, a hop to
//! the handler's task, an SSE stream back, and (with JSON replies) zen reading that stream again:
//! about half the server's CPU per call over HTTP. tools/call is the one request a busy client
//! repeats, and zen's tools need nothing from the session (no server-to-client messages), so the
//! gate serves a plain tools/call on a known session here, on the connection's own task, with
//! the same [`Server::call_tool_in`] the rmcp handler calls.
//!
//! "Plain" is decided conservatively: anything rmcp would check and might refuse (an Origin, a
//! Host outside loopback, a protocol version from 2026-07-28 on with its per-request metadata,
//! an unknown session) goes to rmcp as before, which gives its own answer. So this path only
//! ever serves requests rmcp would have served, with the same reply.
//!
//! Cancellation: a `notifications/cancelled` naming a call running here cancels it (looked up
//! in [`Direct::running`]); a client that closes its connection drops the call with it.
use std::borrow::Cow;
use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rmcp::model::{
    CallToolRequestParams, CancelledNotificationParam, ClientJsonRpcMessage, ClientNotification,
    JsonRpcMessage, ProtocolVersion, RequestId, ServerJsonRpcMessage, ServerResult,
};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::json::STREAM_AFTER;
use crate::serve::server::Server;

/// The header naming the session.
pub(super) const SESSION_HEADER: &str = "mcp-session-id";

/// The header naming the protocol revision of a request.
const VERSION_HEADER: &str = "mcp-protocol-version";

/// Host names rmcp accepts by default (it guards against DNS rebinding); `--allow-remote`
/// lifts the check in both.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// How often a streamed reply sends a comment while the call runs (rmcp's keep-alive period).
const SSE_PING: Duration = Duration::from_secs(15);

/// Calls served here, keyed by session and request id, so a cancel notification finds them.
type Running = HashMap<(Arc<str>, RequestId), Vec<(u64, CancellationToken)>>;

/// Numbers each registered call, so a call's end removes its own entry only.
static NEXT_ENTRY: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The direct path's state.
pub(super) struct Direct {
    /// Where calls go.
    server: Arc<Server>,
    /// Any Host is fine (`--allow-remote`, where the bearer token guards access).
    any_host: bool,
    /// Calls in flight here; an entry lives exactly as long as its call (bounded by them).
    running: Arc<Mutex<Running>>,
}

/// A tools/call this path will serve: its id and params.
pub(super) struct PlainCall {
    /// The JSON-RPC id, echoed in the reply.
    id: RequestId,
    /// The tool, its arguments and `_meta` (where the trace context is).
    params: CallToolRequestParams,
}

/// A tools/call as it comes over the wire, read straight into its params: rmcp's generic
/// message type (a tagged enum over every method, buffered before it is matched) costs several
/// times more to parse.
#[derive(Deserialize)]
struct WireCall<'a> {
    /// Must be "2.0".
    #[serde(borrow)]
    jsonrpc: Cow<'a, str>,
    /// The request id (a request without one is a notification, not a call).
    id: RequestId,
    /// Must be "tools/call".
    #[serde(borrow)]
    method: Cow<'a, str>,
    /// The call's params.
    params: CallToolRequestParams,
}

impl PlainCall {
    /// The tools/call in `body`, if that is what it is and it names no protocol revision of its
    /// own (those rmcp checks against the headers); anything else is for the generic path.
    pub(super) fn parse(body: &[u8]) -> Option<PlainCall> {
        let wire: WireCall = serde_json::from_slice(body).ok()?;
        let per_request_version = wire
            .params
            .meta
            .as_ref()
            .is_some_and(|m| m.protocol_version().is_some());
        let plain = wire.jsonrpc == "2.0" && wire.method == "tools/call" && !per_request_version;
        plain.then_some(PlainCall {
            id: wire.id,
            params: wire.params,
        })
    }
}

impl Direct {
    pub(super) fn new(server: Arc<Server>, any_host: bool) -> Self {
        Direct {
            server,
            any_host,
            running: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Headers rmcp would accept without a question: no Origin (browsers go through rmcp's
    /// check), a loopback Host, and a protocol version from before the revision whose requests
    /// carry their own metadata.
    pub(super) fn headers_are_plain(&self, headers: &HeaderMap) -> bool {
        if headers.contains_key(header::ORIGIN) {
            return false;
        }
        let host_ok = self.any_host
            || headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .and_then(|h| h.parse::<axum::http::uri::Authority>().ok())
                .is_some_and(|a| LOOPBACK_HOSTS.contains(&a.host()));
        let mut versions = headers.get_all(VERSION_HEADER).iter();
        let version_ok = match (versions.next(), versions.next()) {
            (None, _) => true,
            (Some(v), None) => v.to_str().is_ok_and(|v| {
                v < ProtocolVersion::STANDARD_HEADERS.as_str()
                    && ProtocolVersion::KNOWN_VERSIONS
                        .iter()
                        .any(|k| k.as_str() == v)
            }),
            (Some(_), Some(_)) => false,
        };
        host_ok && version_ok
    }

    /// Serve the call and answer with its JSON-RPC reply: as JSON, or, to a client that accepts
    /// SSE, as a stream once the call has run for [`STREAM_AFTER`] (as the rmcp path does).
    /// Without a session (stateless HTTP) the call cannot be named by a cancel notification:
    /// there is nothing to scope its id to.
    pub(super) async fn call(
        &self,
        session: Option<Arc<str>>,
        call: PlainCall,
        sse_allowed: bool,
    ) -> Response {
        let mut reply = Box::pin(self.reply(session, call));
        if !sse_allowed {
            return json_response(reply.await);
        }
        match tokio::time::timeout(STREAM_AFTER, &mut reply).await {
            Ok(message) => json_response(message),
            Err(_) => sse_response(reply),
        }
    }

    /// The call's reply, from a future that owns what it needs (it may outlive the request
    /// handler, inside a streamed body).
    fn reply(
        &self,
        session: Option<Arc<str>>,
        call: PlainCall,
    ) -> impl Future<Output = Bytes> + Send + 'static {
        let server = self.server.clone();
        let running = self.running.clone();
        async move {
            let PlainCall { id, params } = call;
            let ct = CancellationToken::new();
            let _entry = session.map(|s| Entry::register(running, s, id.clone(), ct.clone()));
            // The client's trace context, from the params' _meta.
            let meta = params.meta.as_ref().map(|m| &m.0);
            let span = crate::telemetry::otel::spans::tool_call(
                &params.name,
                meta.and_then(|m| m.get_traceparent()),
                meta.and_then(|m| m.get_tracestate()),
            );
            let call = server.call_tool_in(&params.name, params.arguments, None, ct, &span);
            let reply: ServerJsonRpcMessage = match call.instrument(span.clone()).await {
                Ok(result) => JsonRpcMessage::response(ServerResult::CallToolResult(result), id),
                Err(error) => JsonRpcMessage::error(error, Some(id)),
            };
            encode(&reply)
        }
    }

    /// Cancel a call running here if `message` is a cancel notification for one; true if so.
    pub(super) fn cancel(&self, session: &str, message: &ClientJsonRpcMessage) -> bool {
        let JsonRpcMessage::Notification(notification) = message else {
            return false;
        };
        let ClientNotification::CancelledNotification(cancelled) = &notification.notification
        else {
            return false;
        };
        let CancelledNotificationParam {
            request_id: Some(id),
            ..
        } = &cancelled.params
        else {
            return false;
        };
        let running = self
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match running.get(&(Arc::from(session), id.clone())) {
            Some(calls) => {
                // A reused id names every call running under it.
                for (_, ct) in calls {
                    ct.cancel();
                }
                true
            }
            None => false,
        }
    }
}

/// A call's place in [`Direct::running`], removed when the call ends, however it ends.
struct Entry {
    /// The table.
    running: Arc<Mutex<Running>>,
    /// The call's key.
    key: (Arc<str>, RequestId),
    /// Which of the calls under the key this is.
    serial: u64,
}

impl Entry {
    fn register(
        running: Arc<Mutex<Running>>,
        session: Arc<str>,
        id: RequestId,
        ct: CancellationToken,
    ) -> Entry {
        let key = (session, id);
        // A client reusing an id while its call runs: both stay cancellable, and either's end
        // leaves the other's entry in place.
        let serial = NEXT_ENTRY.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut table = running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        table.entry(key.clone()).or_default().push((serial, ct));
        drop(table);
        Entry {
            running,
            key,
            serial,
        }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let mut running = self
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(calls) = running.get_mut(&self.key) {
            calls.retain(|(serial, _)| *serial != self.serial);
            if calls.is_empty() {
                running.remove(&self.key);
            }
        }
    }
}

/// The message as JSON (a JSON-RPC error saying so in the unlikely case it cannot be).
fn encode(message: &ServerJsonRpcMessage) -> Bytes {
    serde_json::to_vec(message).map_or_else(
        |err| {
            tracing::error!(%err, "could not encode a tools/call reply");
            let error = serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32603,
            "message": format!("zen could not encode the reply ({err}); report this as a bug")}});
            Bytes::from(error.to_string())
        },
        Bytes::from,
    )
}

/// 200 with one `application/json` message.
fn json_response(body: Bytes) -> Response {
    let content_type = HeaderValue::from_static("application/json");
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// 200 with an SSE stream: a comment every [`SSE_PING`] until the reply comes, then the reply as
/// the one event. Dropping the stream (the client went away) drops the call with it.
fn sse_response(reply: Pin<Box<dyn Future<Output = Bytes> + Send>>) -> Response {
    let events = futures::stream::unfold(Some(reply), |pending| async move {
        let mut reply = pending?;
        tokio::select! {
            message = &mut reply => {
                let event = [&b"data: "[..], &message, b"\n\n"].concat();
                Some((Ok::<_, Infallible>(Bytes::from(event)), None))
            }
            () = tokio::time::sleep(SSE_PING) => {
                Some((Ok(Bytes::from_static(b": ping\n\n")), Some(reply)))
            }
        }
    });
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    (StatusCode::OK, headers, Body::from_stream(events)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_well_formed_tools_call_without_its_own_protocol_version_is_plain() {
        let call = br#"{"jsonrpc":"2.0","id":7,"method":"tools/call",
            "params":{"name":"version","arguments":{},"_meta":{"traceparent":"00-a-b-01"}}}"#;
        let plain = PlainCall::parse(call).expect("a plain tools/call");
        assert_eq!(plain.id, RequestId::Number(7));
        assert_eq!(plain.params.name, "version");
        let not_plain: [&[u8]; 5] = [
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#,
            br#"{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"version"}}"#,
            br#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"version"}}"#,
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{}}}"#,
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"version",
                "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#,
        ];
        for body in not_plain {
            assert!(
                PlainCall::parse(body).is_none(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
