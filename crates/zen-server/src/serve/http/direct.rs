//! tools/call answered by zen directly, not through rmcp's session layer. In rmcp every request
//! on a session becomes a message to the session's worker task, a request-wise channel, a hop to
//! the handler's task, an SSE stream back, and (with JSON replies) zen reading that stream again:
//! about half the server's CPU per call over HTTP. tools/call is the one request a busy client
//! repeats, and zen's tools need nothing from the session (no server-to-client messages), so the
//! gate serves a plain tools/call on a known session here, on the connection's own task, through
//! the one request path ([`crate::serve::answer`]), which calls the same `Server::call_tool_in`
//! the rmcp handler calls and shapes the result by the same rules (no `resultType` at the 2025
//! revisions): the same bytes as rmcp's path.
//!
//! "Plain" is decided conservatively: anything rmcp would check and might refuse (an Origin, a
//! Host outside loopback, a protocol version zen does not serve, an unknown session) goes to
//! rmcp as before, which gives its own answer. (A 2026-07-28 request never comes here: it has
//! its own path, [`super::modern`].)
//!
//! Cancellation: a `notifications/cancelled` naming a call running here cancels it (looked up
//! in [`Direct::running`]); a client that closes its connection drops the call with it.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, header};
use axum::response::Response;
use rmcp::model::{
    CancelledNotificationParam, ClientJsonRpcMessage, ClientNotification, JsonRpcMessage, RequestId,
};
use tokio_util::sync::CancellationToken;

use axum::http::StatusCode;

use super::json::Accepts;
use super::replies::{call_reply, json, logged_reply, result_after};
use crate::client_log::{CallLog, SessionLogs};
use crate::protocol::headers::Guard;
use crate::protocol::params::CallParams;
use crate::protocol::versions;
use crate::serve::answer::{Answerer, Era, Message, error_reply, result_reply};

/// The header naming the session.
pub(super) const SESSION_HEADER: &str = zen_model::mcp::header::SESSION_ID;

/// The header naming the protocol revision of a request.
const VERSION_HEADER: &str = zen_model::mcp::header::PROTOCOL_VERSION;

/// Calls served here, keyed by session and request id, so a cancel notification finds them.
type Running = HashMap<(Arc<str>, RequestId), Vec<(u64, CancellationToken)>>;

/// Numbers each registered call, so a call's end removes its own entry only.
static NEXT_ENTRY: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The direct path's state.
pub(super) struct Direct {
    /// The one request path.
    answerer: Arc<Answerer>,
    /// Loopback hosts only (unless `--allow-remote`), no origins: what rmcp accepts without
    /// a question.
    guard: Guard,
    /// Calls in flight here; an entry lives exactly as long as its call (bounded by them).
    running: Arc<Mutex<Running>>,
    /// The log levels sessions set (`logging/setLevel`), shared with rmcp's handler.
    logs: Arc<SessionLogs>,
}

impl Direct {
    pub(super) fn new(answerer: Arc<Answerer>, any_host: bool, logs: Arc<SessionLogs>) -> Self {
        Direct {
            answerer,
            guard: Guard::new(&[], any_host),
            running: Arc::new(Mutex::new(HashMap::new())),
            logs,
        }
    }

    /// A session's `logging/setLevel`, answered here (the same bytes as stdio's): the level
    /// kept for the session, the start-up warnings it includes before the result.
    pub(super) fn set_level(
        &self,
        session: &str,
        (id, message): (RequestId, &Message<'_>),
        accepts: Accepts,
    ) -> Response {
        let log = self.logs.of(session);
        match self.answerer.set_level(message, &log) {
            Ok((result, notes)) => result_after(&notes, result_reply(&id, &result), accepts),
            Err(error) => json(StatusCode::OK, error_reply(Some(id), error)),
        }
    }

    /// The revision of a request rmcp would accept without a question, if this is one (see
    /// [`plain_version`]).
    pub(super) fn plain_version(&self, headers: &HeaderMap) -> Option<&'static str> {
        plain_version(&self.guard, headers)
    }

    /// Serve the call and answer with its JSON-RPC reply (see [`call_reply`]). Without a
    /// session (stateless HTTP) the call cannot be named by a cancel notification: there is
    /// nothing to scope its id to.
    pub(super) async fn call(
        &self,
        session: Option<Arc<str>>,
        version: &'static str,
        (id, params): (RequestId, CallParams),
        accepts: Accepts,
    ) -> Response {
        let ct = CancellationToken::new();
        // The session asked for log messages, and the reply can carry them (SSE).
        let log = (session.as_ref())
            .and_then(|s| self.logs.get(s))
            .filter(|_| accepts.sse)
            .map(CallLog::new);
        let entry =
            session.map(|s| Entry::register(self.running.clone(), s, id.clone(), ct.clone()));
        let (log, notes) = log.unzip();
        let reply = (self.answerer).call(Era(version), id, params, (None, ct), log);
        let reply = async move {
            let _entry = entry;
            reply.await
        };
        match notes {
            Some(notes) => logged_reply(reply, accepts, notes).await,
            None => call_reply(reply, accepts).await,
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

/// The revision of a request rmcp would accept without a question, if this is one: no Origin
/// (browsers go through rmcp's check), a Host `guard` accepts, and no protocol version or one
/// handshake revision zen serves (rmcp defaults a missing one to 2025-03-26).
fn plain_version(guard: &Guard, headers: &HeaderMap) -> Option<&'static str> {
    if headers.contains_key(header::ORIGIN) || guard.refusal(headers).is_some() {
        return None;
    }
    let mut versions = headers.get_all(VERSION_HEADER).iter();
    match (versions.next(), versions.next()) {
        (None, _) => Some(zen_model::mcp::HEADERLESS_LEGACY),
        (Some(v), None) => v
            .to_str()
            .ok()
            .and_then(versions::served)
            .filter(|v| versions::has_handshake(v)),
        (Some(_), Some(_)) => None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn only_plain_headers_take_the_direct_path() {
        let guard = Guard::new(&[], false);
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8931"));
        assert_eq!(plain_version(&guard, &headers), Some("2025-03-26"));
        headers.insert(VERSION_HEADER, HeaderValue::from_static("2025-06-18"));
        assert_eq!(plain_version(&guard, &headers), Some("2025-06-18"));
        headers.insert(VERSION_HEADER, HeaderValue::from_static("1999-01-01"));
        assert_eq!(plain_version(&guard, &headers), None);
        headers.remove(VERSION_HEADER);
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://localhost:3000"),
        );
        assert_eq!(plain_version(&guard, &headers), None);
        headers.remove(header::ORIGIN);
        headers.insert(header::HOST, HeaderValue::from_static("evil.example"));
        assert_eq!(plain_version(&guard, &headers), None);
    }
}
