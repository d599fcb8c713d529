//! A lean streamable HTTP MCP client for the load's hot path. rmcp's client routes every call
//! through its worker task and channels (~70 % of the generator's CPU over HTTP); here a call is
//! one POST on the shared keep-alive pool, awaited by the engine's own task: no spawn, no
//! channel. It speaks the spec's client side: `initialize` then `notifications/initialized`,
//! the `Mcp-Session-Id` the server gave (none for a stateless server) and `MCP-Protocol-Version`
//! on every later request, replies as `application/json` or as an SSE stream, and a DELETE of
//! the session at the end.
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Uri};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientConfig, ErrorData, Implementation,
    InitializeResult, Tool,
};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::target::http_pool::{Pool, Reply as HttpReply};
use zen_model::sse::SseEvents;

/// What a POST accepts: the spec requires a client to take either form.
const ACCEPT_BOTH: HeaderValue = HeaderValue::from_static("application/json, text/event-stream");
const JSON: HeaderValue = HeaderValue::from_static("application/json");
const SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
const PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");
/// The largest reply read: a server streaming without end cannot grow our memory.
const MAX_REPLY_BYTES: usize = 64 << 20;
/// tools/list pages followed at most (a server that always sends a cursor cannot loop us).
const MAX_TOOL_PAGES: usize = 100;

/// Why a request failed, classified as the report counts it.
#[derive(Debug)]
pub(crate) enum CallError {
    /// The server answered with a JSON-RPC error.
    JsonRpc { code: i32, message: String },
    /// The request or its reply did not get through (HTTP status, connection, framing).
    Transport(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::JsonRpc { code, message } => write!(f, "{message} ({code})"),
            CallError::Transport(text) => f.write_str(text),
        }
    }
}

/// One initialized MCP session on a streamable HTTP endpoint.
pub(crate) struct HttpSession {
    /// The target's shared keep-alive pool (cheap to clone: shared inside).
    pool: Pool,
    /// The MCP endpoint.
    uri: Uri,
    /// `Mcp-Session-Id` from initialize; `None` when the server is stateless.
    session_id: Option<HeaderValue>,
    /// The negotiated protocol version, sent as `MCP-Protocol-Version` after initialize.
    protocol: Option<HeaderValue>,
    /// JSON-RPC ids: unique within the session without a lock.
    next_id: AtomicU64,
    /// serverInfo from initialize.
    pub server: Implementation,
}

/// An outgoing JSON-RPC request, serialized straight from borrowed parts.
#[derive(Serialize)]
struct Request<'a, P> {
    jsonrpc: &'static str,
    id: u64,
    method: &'a str,
    params: P,
}

/// An incoming message that may be our response (a notification or a server request is not).
#[derive(Deserialize)]
struct Reply<R> {
    id: Option<Value>,
    method: Option<IgnoredAny>,
    result: Option<R>,
    error: Option<ErrorData>,
}

/// Just enough of a message to tell whether it answers our request (SSE streams carry others).
#[derive(Deserialize)]
struct Probe {
    id: Option<Value>,
    method: Option<IgnoredAny>,
}

/// A tools/call result read only for `isError`; `content`, which the spec requires, is
/// checked to be there and skipped, not built.
#[derive(Deserialize)]
struct IsError {
    #[serde(rename = "isError")]
    is_error: Option<bool>,
    /// Required, so a result without it is still an unreadable reply.
    #[serde(rename = "content")]
    _content: IgnoredAny,
}

/// A tools/call reply: `isError` read, the JSON-RPC message kept to parse the rest on demand.
pub(crate) struct LazyResult {
    /// The tool reported failure.
    pub is_error: bool,
    /// The whole JSON-RPC response, already checked to answer the call.
    message: Vec<u8>,
}

impl LazyResult {
    /// The whole result (an unreadable one, which cannot happen after the check, is empty).
    pub(crate) fn parse(&self) -> CallToolResult {
        #[derive(Deserialize)]
        struct Full {
            result: CallToolResult,
        }
        serde_json::from_slice::<Full>(&self.message)
            .map_or_else(|_| CallToolResult::success(Vec::new()), |full| full.result)
    }
}

/// A response read by [`HttpSession::exchange`].
struct Exchanged<R> {
    /// Its result.
    result: R,
    /// The `Mcp-Session-Id` header, if any.
    session_id: Option<HeaderValue>,
    /// The JSON-RPC message it came in.
    message: Vec<u8>,
}

/// One tools/list page.
#[derive(Deserialize)]
struct ToolsPage {
    tools: Vec<Tool>,
    #[serde(rename = "nextCursor")]
    next_cursor: Option<String>,
}

impl HttpSession {
    /// Initialize a session at `url` over the target's `pool` (the caller bounds the time).
    pub(crate) async fn connect(
        pool: &Pool,
        url: &str,
        config: &ClientConfig,
    ) -> Result<Self, CallError> {
        let uri = endpoint(url)?;
        let mut session = HttpSession {
            pool: pool.clone(),
            uri,
            session_id: None,
            protocol: None,
            next_id: AtomicU64::new(0),
            server: Implementation::new("unknown", "?"),
        };
        let exchanged: Exchanged<InitializeResult> = session.exchange("initialize", config).await?;
        let init = exchanged.result;
        session.session_id = exchanged.session_id;
        session.protocol = HeaderValue::from_str(&init.protocol_version.to_string()).ok();
        session.server = init.server_info;
        session.initialized().await?;
        Ok(session)
    }

    /// One tools/call: whether the tool failed now, the rest when asked ([`LazyResult`]).
    pub(crate) async fn call_tool(
        &self,
        params: &CallToolRequestParams,
    ) -> Result<LazyResult, CallError> {
        let exchanged: Exchanged<IsError> = self.exchange("tools/call", params).await?;
        Ok(LazyResult {
            is_error: exchanged.result.is_error == Some(true),
            message: exchanged.message,
        })
    }

    /// Every tool the server lists, following pagination.
    pub(crate) async fn list_all_tools(&self) -> Result<Vec<Tool>, CallError> {
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_TOOL_PAGES {
            let params = match &cursor {
                Some(c) => serde_json::json!({ "cursor": c }),
                None => serde_json::json!({}),
            };
            let page: ToolsPage = self.exchange("tools/list", params).await?.result;
            tools.extend(page.tools);
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        Ok(tools)
    }

    /// End the session on the server (spec: DELETE with its id); a stateless one has none.
    pub(crate) async fn close(&self) {
        if self.session_id.is_some() {
            let mut headers = self.headers();
            headers.remove(CONTENT_TYPE);
            let _ = (self.pool)
                .send(Method::DELETE, &self.uri, headers, Bytes::new())
                .await;
        }
    }

    /// `notifications/initialized`: the server answers 202 with no body.
    async fn initialized(&self) -> Result<(), CallError> {
        let body = br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        let resp = self.post(Bytes::from_static(body)).await?;
        if !resp.status.is_success() {
            return Err(status_error(resp).await);
        }
        Ok(())
    }

    /// POST one request and read its response.
    async fn exchange<P: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        params: P,
    ) -> Result<Exchanged<R>, CallError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let request = Request {
            jsonrpc: "2.0",
            id,
            method,
            params,
        };
        let body = serde_json::to_vec(&request)
            .map_err(|e| CallError::Transport(format!("cannot encode {method}: {e}")))?;
        let resp = self.post(Bytes::from(body)).await?;
        if !resp.status.is_success() {
            return Err(status_error(resp).await);
        }
        let session_id = resp.headers.get(SESSION_ID).cloned();
        let kind = resp.headers.get(CONTENT_TYPE).cloned();
        let kind = kind.as_ref().and_then(|v| v.to_str().ok()).unwrap_or("");
        let message = if kind.starts_with("text/event-stream") {
            read_sse(resp, id).await?
        } else if kind.starts_with("application/json") {
            read_capped(resp).await?
        } else {
            return Err(CallError::Transport(format!(
                "{method}: the server replied with content type '{kind}', not JSON or SSE"
            )));
        };
        Ok(Exchanged {
            result: answer(&message, id)?,
            session_id,
            message,
        })
    }

    async fn post(&self, body: Bytes) -> Result<HttpReply, CallError> {
        let headers = self.headers();
        (self.pool)
            .send(Method::POST, &self.uri, headers, body)
            .await
            .map_err(CallError::Transport)
    }

    /// The headers of every request after initialize.
    fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(ACCEPT, ACCEPT_BOTH);
        headers.insert(CONTENT_TYPE, JSON);
        if let Some(id) = &self.session_id {
            headers.insert(SESSION_ID, id.clone());
        }
        if let Some(v) = &self.protocol {
            headers.insert(PROTOCOL_VERSION, v.clone());
        }
        headers
    }
}

/// The endpoint as an absolute http(s) URI.
fn endpoint(url: &str) -> Result<Uri, CallError> {
    let uri: Uri = url
        .parse()
        .map_err(|e| CallError::Transport(format!("'{url}' is not a URL: {e}")))?;
    match (uri.scheme_str(), uri.authority()) {
        (Some("http" | "https"), Some(_)) => Ok(uri),
        _ => Err(CallError::Transport(format!(
            "'{url}' is not an http:// or https:// URL with a host"
        ))),
    }
}

/// A non-2xx reply, with the start of its body (servers say why there).
async fn status_error(mut resp: HttpReply) -> CallError {
    let status = resp.status;
    let mut body = Vec::new();
    while body.len() < 4096
        && let Ok(Some(chunk)) = resp.chunk().await
    {
        body.extend_from_slice(&chunk);
    }
    let body: String = String::from_utf8_lossy(&body).chars().take(300).collect();
    CallError::Transport(format!("HTTP {status}: {body}"))
}

/// A JSON body, read up to the cap.
async fn read_capped(mut resp: HttpReply) -> Result<Vec<u8>, CallError> {
    let hint = resp.content_length().unwrap_or(0) as usize;
    let mut body = Vec::with_capacity(hint.min(MAX_REPLY_BYTES));
    while let Some(chunk) = resp.chunk().await.map_err(CallError::Transport)? {
        if body.len() + chunk.len() > MAX_REPLY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An SSE reply: events until the one that answers request `id` (skipping the empty priming
/// event, notifications and server requests); that event's data.
async fn read_sse(mut resp: HttpReply, id: u64) -> Result<Vec<u8>, CallError> {
    let mut events = SseEvents::default();
    loop {
        while let Some(data) = events.next_event() {
            if is_answer(&data, id) {
                return Ok(data);
            }
        }
        match resp.chunk().await.map_err(CallError::Transport)? {
            Some(chunk) if events.buffered() + chunk.len() > MAX_REPLY_BYTES => {
                return Err(too_large());
            }
            Some(chunk) => events.push(&chunk),
            None => {
                if let Some(data) = events.finish()
                    && is_answer(&data, id)
                {
                    return Ok(data);
                }
                return Err(CallError::Transport(format!(
                    "the SSE stream ended without a response to request {id}"
                )));
            }
        }
    }
}

fn is_answer(data: &[u8], id: u64) -> bool {
    serde_json::from_slice::<Probe>(data)
        .is_ok_and(|p| p.method.is_none() && p.id.and_then(|v| v.as_u64()) == Some(id))
}

/// The result of the response to request `id` in `data`, or its JSON-RPC error.
fn answer<R: DeserializeOwned>(data: &[u8], id: u64) -> Result<R, CallError> {
    let reply: Reply<R> = serde_json::from_slice(data)
        .map_err(|e| CallError::Transport(format!("unreadable JSON-RPC reply: {e}")))?;
    if reply.method.is_some() || reply.id.as_ref().and_then(Value::as_u64) != Some(id) {
        return Err(CallError::Transport(format!(
            "the reply does not answer request {id}"
        )));
    }
    match (reply.result, reply.error) {
        (_, Some(e)) => Err(CallError::JsonRpc {
            code: e.code.0,
            message: e.message.into_owned(),
        }),
        (Some(result), None) => Ok(result),
        (None, None) => Err(CallError::Transport(format!(
            "the response to request {id} has neither result nor error"
        ))),
    }
}

fn too_large() -> CallError {
    CallError::Transport(format!("a reply exceeded {} MiB", MAX_REPLY_BYTES >> 20))
}
