//! What zen checks on an HTTP request before rmcp sees it. rmcp answers a body that is not
//! JSON-RPC with 415 and a text line, counts nothing, and opens a session for every
//! `initialize` however many are open; this gate instead
//! - reads the body once under ZEN_MAX_MESSAGE_BYTES (413 above it, counted as oversized),
//! - answers a malformed body with 400 and a JSON-RPC parse or invalid-request error, counted,
//! - at ZEN_MAX_SESSIONS, closes a quiet session for an `initialize`, else refuses it with
//!   503, counted,
//! - answers a session DELETE with 200 instead of 202, which clients warn about,
//! - answers a request with one `application/json` message when the client accepts it
//!   (unless ZEN_SSE_REPLIES), see [`super::json`], and serves a plain tools/call itself,
//!   see [`super::direct`];
//! - keeps each session's idle clock, see [`super::sessions`].
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, ErrorCode, JsonRpcMessage};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use serde_json::{Value, json};

use super::direct::{Direct, SESSION_HEADER};
use super::json::{self, Accepts};
use super::modern::Modern;
use super::sessions::SessionClock;
use crate::protocol::classify::{self, Route};
use crate::protocol::meta;
use crate::serve::answer::Message;
use crate::serve::server::Server;

/// The gate's state: where to count, what to cap.
pub(super) struct Gate {
    /// Metrics for what the gate refuses.
    pub server: Arc<Server>,
    /// rmcp's session table, read for its size.
    pub sessions: Arc<LocalSessionManager>,
    /// ZEN_MAX_SESSIONS.
    pub max_sessions: usize,
    /// ZEN_MAX_MESSAGE_BYTES.
    pub max_body: usize,
    /// Answer a one-message reply as JSON when the client accepts it (not ZEN_SSE_REPLIES).
    pub json_replies: bool,
    /// tools/call served without rmcp's session layer (with JSON replies only).
    pub direct: Direct,
    /// MCP 2026-07-28 requests, served without rmcp.
    pub modern: Modern,
    /// Each session's last use, for ZEN_SESSION_IDLE.
    pub clock: Arc<SessionClock>,
    /// ZEN_HTTP_STATELESS: no sessions; every tools/call may take the direct path.
    pub stateless: bool,
}

/// The middleware: checks POST bodies and the session cap, fixes DELETE's status.
pub(super) async fn gate(State(gate): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    match *request.method() {
        Method::POST if is_json(&request) => gate.post(request, next).await,
        Method::DELETE => {
            gate.known_session(request.headers()).await;
            let mut response = next.run(request).await;
            if response.status() == StatusCode::ACCEPTED {
                *response.status_mut() = StatusCode::OK;
            }
            response
        }
        // Anything else (a wrong content type included) is rmcp's to answer.
        _ => {
            gate.known_session(request.headers()).await;
            next.run(request).await
        }
    }
}

impl Gate {
    async fn post(&self, request: Request, next: Next) -> Response {
        let (mut parts, body) = request.into_parts();
        let bytes = match self.read_body(body).await {
            Ok(bytes) => bytes,
            Err(response) => return response,
        };
        let read = Message::read(&bytes).ok();
        // A 2026-07-28 request is served statelessly, by zen (see `classify::http`).
        if let Some(message) = read.as_ref() {
            let header = parts
                .headers
                .get(zen_model::mcp::header::PROTOCOL_VERSION)
                .and_then(|v| v.to_str().ok());
            let named = meta::named_version(message.meta());
            let handshake = message.names_handshake_version();
            if classify::http(&message.method, named, header, handshake) == Route::Inline {
                let message = read.expect("checked just above");
                return self.modern.serve(&parts.headers, message).await;
            }
        }
        let session = self.known_session(&parts.headers).await;
        let accepts = Accepts::of(&parts.headers);
        // The hot path: a plain tools/call on a known session (or, stateless, on none),
        // answered by zen itself.
        let direct_ok = match &session {
            Some(_) => true,
            None => self.stateless && !parts.headers.contains_key(SESSION_HEADER),
        };
        if direct_ok
            && self.json_replies
            && accepts.json
            && let Some(version) = self.direct.plain_version(&parts.headers)
            && let Some(Message {
                id: Some(id),
                call: Some(params),
                ..
            }) = read
        {
            if let Some(session) = &session {
                self.clock.touch(session, true);
            }
            return self
                .direct
                .call(session.clone(), version, (id, params), accepts)
                .await;
        }
        // A session's logging/setLevel: answered here, where the session's level is kept.
        if let (Some(session), Some(message)) = (&session, &read)
            && message.method == "logging/setLevel"
            && let Some(id) = message.id.clone()
            && self.json_replies
            && accepts.json
            && self.direct.plain_version(&parts.headers).is_some()
        {
            self.clock.touch(session, true);
            return self.direct.set_level(session, (id, message), accepts);
        }
        let message = match serde_json::from_slice::<ClientJsonRpcMessage>(&bytes) {
            Ok(message) => message,
            Err(err) => return self.malformed(&bytes, &err),
        };
        let is_request = matches!(message, JsonRpcMessage::Request(_));
        if let Some(session) = &session
            && is_request
        {
            self.clock.touch(session, true);
        }
        let new_session = !parts.headers.contains_key(SESSION_HEADER);
        if new_session && let Some(refusal) = self.session_refusal(&message).await {
            return refusal;
        }
        if let Some(session) = &session
            && self.direct.cancel(session, &message)
        {
            return StatusCode::ACCEPTED.into_response();
        }
        if !self.json_replies || !accepts.json {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            let response = self.closed_meanwhile(session.as_deref(), response).await;
            return self.opened(new_session, response);
        }
        if !accepts.sse {
            // rmcp refuses a client that does not list SSE; zen answers it with JSON instead.
            parts.headers.insert(header::ACCEPT, json::both());
        }
        let response = next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
        let response = self.closed_meanwhile(session.as_deref(), response).await;
        let response = self.opened(new_session, response);
        if is_request {
            json::reply_as_json(response, accepts.sse).await
        } else {
            response
        }
    }

    /// A reply that opened a session starts its clock (a session flood's sessions are then
    /// known, and the oldest closed first at ZEN_MAX_SESSIONS).
    fn opened(&self, new_session: bool, response: Response) -> Response {
        if new_session
            && let Some(id) = response.headers().get(SESSION_HEADER)
            && let Ok(id) = id.to_str()
        {
            self.clock.opened(id);
        }
        response
    }

    /// rmcp answers 500 to a request whose session a DELETE (or the reaper) closed while it
    /// was handled: that is the client's session gone, 404 as for any unknown session.
    async fn closed_meanwhile(&self, session: Option<&str>, response: Response) -> Response {
        let Some(session) = session else {
            return response;
        };
        if response.status() != StatusCode::INTERNAL_SERVER_ERROR
            || self.sessions.sessions.read().await.contains_key(session)
        {
            return response;
        }
        let message = "the session was closed while this request was handled; initialize again";
        rpc_error(
            StatusCode::NOT_FOUND,
            ErrorCode::INVALID_REQUEST,
            message,
            None,
        )
    }

    /// The session the request names, if rmcp has it; its idle clock restarts.
    async fn known_session(&self, headers: &axum::http::HeaderMap) -> Option<Arc<str>> {
        let named = headers.get(SESSION_HEADER)?.to_str().ok()?;
        let session = self
            .sessions
            .sessions
            .read()
            .await
            .get_key_value(named)?
            .0
            .clone();
        self.clock.touch(&session, false);
        Some(session)
    }

    /// The whole body, or the reply to a body over the limit or cut short.
    async fn read_body(&self, body: Body) -> Result<Bytes, Response> {
        match Limited::new(body, self.max_body).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(err) if err.is::<LengthLimitError>() => {
                self.server.context.metrics.count_oversized();
                let text = format!(
                    "zen: request body over the {} byte limit (ZEN_MAX_MESSAGE_BYTES); put large \
                     content in files\n",
                    self.max_body
                );
                Err((StatusCode::PAYLOAD_TOO_LARGE, text).into_response())
            }
            Err(err) => {
                let text = format!("zen: could not read the request body ({err}); send it again\n");
                Err((StatusCode::BAD_REQUEST, text).into_response())
            }
        }
    }

    /// 400 with a JSON-RPC error; an unknown notification is ignored, as on stdio.
    fn malformed(&self, bytes: &[u8], err: &serde_json::Error) -> Response {
        let value = serde_json::from_slice::<Value>(bytes).ok();
        let id = value.as_ref().and_then(|v| v.get("id")).cloned();
        if value
            .as_ref()
            .is_some_and(|v| v.get("method").is_some() && id.is_none())
        {
            tracing::debug!(%err, "ignoring a notification zen does not know");
            return StatusCode::ACCEPTED.into_response();
        }
        self.server.context.metrics.count_malformed();
        tracing::warn!(%err, "malformed JSON-RPC body over HTTP");
        let (code, message) = match value {
            None => (
                ErrorCode::PARSE_ERROR,
                format!("not valid JSON ({err}); send one JSON-RPC message per request"),
            ),
            Some(_) => (
                ErrorCode::INVALID_REQUEST,
                format!("invalid JSON-RPC request: {err}"),
            ),
        };
        rpc_error(StatusCode::BAD_REQUEST, code, &message, id)
    }

    /// 503 when an `initialize` would open a session past ZEN_MAX_SESSIONS and no quiet session
    /// may be closed for it (see [`super::sessions`]).
    async fn session_refusal(&self, message: &ClientJsonRpcMessage) -> Option<Response> {
        let JsonRpcMessage::Request(request) = message else {
            return None;
        };
        if !matches!(request.request, ClientRequest::InitializeRequest(_)) {
            return None;
        }
        // Concurrent initializes may pass together: the overshoot is at most the connections
        // in flight, which ZEN_MAX_CONNECTIONS bounds.
        let open = self.sessions.sessions.read().await.len();
        if open < self.max_sessions || self.clock.make_room(&self.sessions).await {
            return None;
        }
        self.server.context.metrics.count_refused_session();
        tracing::warn!(
            open,
            "refusing a new HTTP session: ZEN_MAX_SESSIONS reached"
        );
        let message = format!(
            "zen has {open} open sessions, its limit (ZEN_MAX_SESSIONS={}): retry later, reuse \
             an existing session, or raise ZEN_MAX_SESSIONS. No session was quiet long \
             enough to close for a new client; idle sessions close after ZEN_SESSION_IDLE",
            self.max_sessions
        );
        let id = serde_json::to_value(&request.id).ok();
        Some(rpc_error(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::INTERNAL_ERROR,
            &message,
            id,
        ))
    }
}

/// Is the body declared JSON? (Other content types get rmcp's 415.)
fn is_json(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// A JSON-RPC error reply with an HTTP status.
fn rpc_error(status: StatusCode, code: ErrorCode, message: &str, id: Option<Value>) -> Response {
    let body = json!({
        "jsonrpc": "2.0",
        "id": id.unwrap_or(Value::Null),
        "error": {"code": code.0, "message": message},
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
