//! The legacy HTTP+SSE transport (protocol 2024-11-05, `2024-11-05/basic/transports#http-with-sse`):
//! the client GETs an SSE stream whose first event (`endpoint`) names the URL to POST messages
//! to; each POST is accepted (202) and its response arrives on the stream. Servers built on
//! older SDKs (`transport="sse"`) serve only this. One reader task per session routes the
//! stream's responses to the calls awaiting them by id; a call's latency runs from its POST to
//! the matching message. The stream's buffer and every wait are bounded.
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use hyper::{Method, Uri};
use rmcp::model::{
    CallToolResult, ClientCapabilities, ClientConfig, ErrorData, Implementation, InitializeResult,
};
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::Value;
use tokio::sync::oneshot;

use super::pool::Pool;
use super::session::endpoint;
use crate::target::outcome::CallError;
use zen_model::sse::SseEvents;

/// The most bytes the stream may hold unparsed (one message larger than this ends it).
const MAX_BUFFERED: usize = 64 << 20;
/// How long the server may take to name its POST endpoint.
const ENDPOINT_WAIT: Duration = Duration::from_secs(30);
/// The most of a refused POST's body kept for the message.
const MAX_ERROR_CHARS: usize = 300;

/// Calls awaiting their response, by JSON-RPC id.
type Pending = Mutex<HashMap<u64, oneshot::Sender<Vec<u8>>>>;

/// One session on a legacy HTTP+SSE server.
pub(crate) struct SseSession {
    /// The target's pool: the stream's GET and every POST.
    pool: Pool,
    /// Where messages are POSTed (the `endpoint` event, resolved against the stream's URL).
    post: Uri,
    /// Calls awaiting their response.
    pending: Arc<Pending>,
    /// JSON-RPC ids, unique within the session.
    next_id: AtomicU64,
    /// The stream ended (the server closed it, or it broke): every call fails from here.
    closed: Arc<AtomicBool>,
    /// The reader, stopped when the session ends.
    reader: tokio::task::JoinHandle<()>,
    /// serverInfo from initialize.
    pub server: Implementation,
    /// The revision initialize agreed.
    pub protocol: String,
    /// The stream's URL and the revision asked for (a churned session starts the same way).
    origin: (String, &'static str),
}

/// Just enough of a message to route it.
#[derive(Deserialize)]
struct Probe {
    /// The id it answers.
    id: Option<Value>,
    /// Present on notifications and server requests (not ours to route).
    method: Option<IgnoredAny>,
}

/// A response: its result or its error.
#[derive(Deserialize)]
struct Response<R> {
    result: Option<R>,
    error: Option<ErrorData>,
}

/// Takes a call's waiter out of the table when the call ends, however it ends (a timeout drops
/// the call's future): the table holds only calls in flight.
struct Waiting<'a> {
    pending: &'a Pending,
    id: u64,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        lock(self.pending).remove(&self.id);
    }
}

fn lock(pending: &Pending) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<Vec<u8>>>> {
    pending
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SseSession {
    /// Open the stream at `url`, wait for its endpoint, then `initialize` at `version` as
    /// `client` and send `notifications/initialized` (the caller bounds the time).
    pub(crate) async fn connect(
        pool: &Pool,
        url: &str,
        version: &'static str,
        client: &Implementation,
    ) -> Result<SseSession, CallError> {
        let stream_uri = endpoint(url)?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        let mut reply = (pool
            .send(Method::GET, &stream_uri, headers, Bytes::new())
            .await)
            .map_err(CallError::Transport)?;
        if !reply.status.is_success() {
            let challenge = (reply.headers.get(hyper::header::WWW_AUTHENTICATE))
                .map(|c| {
                    format!(
                        "WWW-Authenticate: {}; ",
                        String::from_utf8_lossy(c.as_bytes())
                    )
                })
                .unwrap_or_default();
            return Err(CallError::Http {
                status: reply.status.as_u16(),
                body: format!("{challenge}GET {url} for the SSE stream was refused"),
            });
        }
        let kind = reply
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if !kind.is_some_and(|k| k.starts_with("text/event-stream")) {
            return Err(CallError::Transport(format!(
                "GET {url} answered {}, not an SSE stream (text/event-stream): is it the legacy \
                 SSE endpoint (often /sse)?",
                kind.unwrap_or("no content type")
            )));
        }
        let mut events = SseEvents::default();
        let first = tokio::time::timeout(ENDPOINT_WAIT, async {
            loop {
                if let Some(data) = events.next_event() {
                    return Ok(data);
                }
                match reply.chunk().await.map_err(CallError::Transport)? {
                    Some(chunk) => events.push(&chunk),
                    None => {
                        return Err(CallError::Transport(
                            "the SSE stream ended before its endpoint event".into(),
                        ));
                    }
                }
            }
        })
        .await
        .map_err(|_| CallError::Transport("the SSE stream named no endpoint in 30s".into()))??;
        let post = resolve(&stream_uri, &String::from_utf8_lossy(&first))?;
        let pending: Arc<Pending> = Arc::default();
        let closed = Arc::new(AtomicBool::new(false));
        let reader = tokio::spawn(read_stream(reply, events, pending.clone(), closed.clone()));
        let mut session = SseSession {
            pool: pool.clone(),
            post,
            pending,
            next_id: AtomicU64::new(0),
            closed,
            reader,
            server: Implementation::new("unknown", "?"),
            protocol: String::new(),
            origin: (url.to_string(), version),
        };
        let config = ClientConfig::new(ClientCapabilities::default(), client.clone())
            .with_protocol_version(super::lifecycle::rmcp_version(version));
        let init: InitializeResult = session.request("initialize", &config).await?;
        session.server = init.server_info;
        session.protocol = init.protocol_version.to_string();
        let note = br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        session.post_body(Bytes::from_static(note)).await?;
        Ok(session)
    }

    /// One request: POST it, then await its response on the stream.
    pub(crate) async fn request<P: serde::Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        params: &P,
    ) -> Result<R, CallError> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(CallError::Transport("the SSE stream has closed".into()));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = super::modern::legacy_body(id, method, params)
            .map_err(|e| CallError::Transport(format!("cannot encode {method}: {e}")))?;
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id, tx);
        let _waiting = Waiting {
            pending: &self.pending,
            id,
        };
        self.post_body(Bytes::from(body)).await?;
        let message = rx.await.map_err(|_| {
            CallError::Transport(format!(
                "the SSE stream closed before the reply to {method}"
            ))
        })?;
        let response: Response<R> = serde_json::from_slice(&message)
            .map_err(|e| CallError::Transport(format!("unreadable reply to {method}: {e}")))?;
        match (response.result, response.error) {
            (_, Some(e)) => Err(CallError::json_rpc(
                e.code.0,
                e.message.into_owned(),
                e.data,
                None,
            )),
            (Some(result), None) => Ok(result),
            (None, None) => Err(CallError::Transport(format!(
                "the reply to {method} has neither result nor error"
            ))),
        }
    }

    /// One tools/call.
    pub(crate) async fn call_tool(
        &self,
        params: &rmcp::model::CallToolRequestParams,
    ) -> Result<CallToolResult, CallError> {
        self.request("tools/call", params).await
    }

    /// Every tool the server lists (one page: legacy SSE servers rarely paginate; a cursor is
    /// followed up to 100 pages).
    pub(crate) async fn list_all_tools(&self) -> Result<Vec<rmcp::model::Tool>, CallError> {
        #[derive(Deserialize)]
        struct Page {
            tools: Vec<rmcp::model::Tool>,
            #[serde(rename = "nextCursor")]
            next_cursor: Option<String>,
        }
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..100 {
            let params = match &cursor {
                Some(c) => serde_json::json!({ "cursor": c }),
                None => serde_json::json!({}),
            };
            let page: Page = self.request("tools/list", &params).await?;
            tools.extend(page.tools);
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        Ok(tools)
    }

    /// A new session on the same stream URL and revision, as the client `client` (`--churn`).
    pub(crate) async fn fresh(&self, client: &Implementation) -> Result<SseSession, CallError> {
        let (url, version) = &self.origin;
        SseSession::connect(&self.pool, url, version, client).await
    }

    /// The stream is gone: every later call would fail at once.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// End the session: stop reading (the server sees the stream close).
    pub(crate) fn close(&self) {
        self.reader.abort();
    }

    /// POST one message; the server accepts it (202) and answers on the stream.
    async fn post_body(&self, body: Bytes) -> Result<(), CallError> {
        let mut headers = HeaderMap::with_capacity(2);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let mut reply = (self
            .pool
            .send(Method::POST, &self.post, headers, body)
            .await)
            .map_err(CallError::Transport)?;
        let status = reply.status;
        // Drain the (short) body so the connection goes back to the pool.
        let mut text = Vec::new();
        while let Ok(Some(chunk)) = reply.chunk().await {
            if text.len() < MAX_ERROR_CHARS {
                text.extend_from_slice(&chunk);
            }
        }
        if status.is_success() {
            return Ok(());
        }
        let body: String = String::from_utf8_lossy(&text)
            .chars()
            .take(MAX_ERROR_CHARS)
            .collect();
        Err(CallError::Http {
            status: status.as_u16(),
            body,
        })
    }
}

impl Drop for SseSession {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// The endpoint event's URL, resolved against the stream's (it is usually a path with the
/// session's id in its query).
fn resolve(stream: &Uri, endpoint: &str) -> Result<Uri, CallError> {
    let endpoint = endpoint.trim();
    if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
        return endpoint.parse().map_err(|e| {
            CallError::Transport(format!("the endpoint event '{endpoint}' is not a URL: {e}"))
        });
    }
    if !endpoint.starts_with('/') {
        return Err(CallError::Transport(format!(
            "the SSE stream's first event is not an endpoint: '{}'",
            endpoint.chars().take(100).collect::<String>()
        )));
    }
    let authority = stream
        .authority()
        .map_or("", hyper::http::uri::Authority::as_str);
    let scheme = stream.scheme_str().unwrap_or("http");
    format!("{scheme}://{authority}{endpoint}")
        .parse()
        .map_err(|e| CallError::Transport(format!("the endpoint '{endpoint}' is not a path: {e}")))
}

/// Route the stream's responses to their callers until it ends; then fail every waiting call.
async fn read_stream(
    mut reply: super::pool::Reply,
    mut events: SseEvents,
    pending: Arc<Pending>,
    closed: Arc<AtomicBool>,
) {
    loop {
        while let Some(data) = events.next_event() {
            let Ok(probe) = serde_json::from_slice::<Probe>(&data) else {
                continue;
            };
            if probe.method.is_some() {
                continue;
            }
            if let Some(id) = probe.id.as_ref().and_then(Value::as_u64)
                && let Some(waiter) = lock(&pending).remove(&id)
            {
                let _ = waiter.send(data);
            }
        }
        match reply.chunk().await {
            Ok(Some(chunk)) if events.buffered() + chunk.len() <= MAX_BUFFERED => {
                events.push(&chunk);
            }
            _ => break,
        }
    }
    closed.store(true, Ordering::Relaxed);
    // Dropping the senders wakes every waiting call with "closed".
    lock(&pending).clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_resolves_against_the_stream() {
        let stream: Uri = "http://127.0.0.1:9/sse".parse().unwrap();
        let post = resolve(&stream, "/messages/?session_id=ab").unwrap();
        assert_eq!(
            post.to_string(),
            "http://127.0.0.1:9/messages/?session_id=ab"
        );
        assert!(resolve(&stream, r#"{"jsonrpc":"2.0"}"#).is_err());
        let full = resolve(&stream, "https://x.example/m").unwrap();
        assert_eq!(full.host(), Some("x.example"));
    }
}
