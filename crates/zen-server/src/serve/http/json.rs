//! One JSON reply instead of an SSE stream. rmcp's session mode answers every request with
//! `text/event-stream` (an empty priming event, the reply, the stream's end) and refuses a client
//! that accepts only `application/json` (406). The spec lets a server answer a request with a
//! single `application/json` message, and for a request whose reply is one message that is
//! cheaper on both sides (one write, no chunked stream) and readable by clients whose SSE parser
//! chokes on the empty priming event. So, when the client accepts JSON, the gate
//! - tells rmcp the client accepts both (rmcp keeps its session, header and Origin checks),
//! - reads rmcp's SSE stream up to the first JSON-RPC response or error, and answers with it as
//!   `application/json` with rmcp's headers (the session id among them);
//! - streams only when there is something to stream: if the handler sends a notification or a
//!   request before its reply, and the client accepts SSE, the reply stays the SSE stream (the
//!   events read so far, then the rest); likewise when the reply takes longer than 5 s, so a
//!   slow tool's client sees headers and keep-alive pings. A client that accepts only JSON gets
//!   the reply alone, whenever it comes.
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use futures::StreamExt;
use http_body_util::BodyExt;
use zen_model::sse::SseEvents;

/// Most bytes of SSE read while looking for the reply; past it the stream is passed on as it is
/// (or, to a JSON-only client, refused), so a huge reply is never buffered twice.
const MAX_BUFFERED: usize = 16 * 1024 * 1024;

/// How long a client that accepts SSE waits for a JSON reply before it gets the stream instead.
pub(super) const STREAM_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

/// What a request's `Accept` header allows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Accepts {
    /// `application/json` (or `*/*`, `application/*`) with a non-zero weight.
    pub json: bool,
    /// `text/event-stream` (or `*/*`, `text/*`) with a non-zero weight.
    pub sse: bool,
}

impl Accepts {
    /// Parse every `Accept` header of a request.
    pub(super) fn of(headers: &HeaderMap) -> Self {
        let mut accepts = Accepts {
            json: false,
            sse: false,
        };
        for range in headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
        {
            let mut parts = range.split(';');
            let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
            });
            if refused {
                continue;
            }
            let any = essence == "*/*";
            accepts.json |= any || essence == "application/json" || essence == "application/*";
            accepts.sse |= any || essence == "text/event-stream" || essence == "text/*";
        }
        accepts
    }
}

/// The `Accept` value rmcp requires of a POST.
pub(super) fn both() -> HeaderValue {
    HeaderValue::from_static("application/json, text/event-stream")
}

/// rmcp's reply, as one JSON message when it is one (see the module's comment).
pub(super) async fn reply_as_json(response: Response, sse_allowed: bool) -> Response {
    let is_sse = response.status() == StatusCode::OK
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
    if !is_sse {
        return response;
    }
    let switch_at = tokio::time::Instant::now() + STREAM_AFTER;
    let (mut parts, mut body) = response.into_parts();
    // Every byte read, to hand on as it came if the reply stays a stream; the events in it.
    let mut buffered = Vec::new();
    let mut events = SseEvents::default();
    loop {
        // Complete events so far: look for the reply among them.
        while let Some(data) = events.next_event() {
            match classify(data) {
                Event::Reply(data) => {
                    parts.headers.insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                    parts.headers.remove(header::CACHE_CONTROL);
                    return Response::from_parts(parts, Body::from(data));
                }
                Event::Message if sse_allowed => return resume_sse(parts, buffered, body),
                Event::Message | Event::Nothing => {}
            }
        }
        if buffered.len() > MAX_BUFFERED {
            return if sse_allowed {
                resume_sse(parts, buffered, body)
            } else {
                unavailable(
                    "the reply is larger than zen buffers for a JSON answer; accept text/event-stream",
                )
            };
        }
        let frame = if sse_allowed {
            match tokio::time::timeout_at(switch_at, body.frame()).await {
                Ok(frame) => frame,
                Err(_) => return resume_sse(parts, buffered, body),
            }
        } else {
            body.frame().await
        };
        match frame {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    buffered.extend_from_slice(&data);
                    events.push(&data);
                }
            }
            Some(Err(err)) => {
                tracing::debug!(%err, "an SSE reply failed before its message");
                return unavailable("the reply stream failed before its message");
            }
            None if sse_allowed => return resume_sse(parts, buffered, Body::empty()),
            None => return unavailable("the reply stream ended without a message"),
        }
    }
}

/// The SSE stream as rmcp sent it: the bytes read so far, then the rest of the body.
fn resume_sse(parts: axum::http::response::Parts, read: Vec<u8>, rest: Body) -> Response {
    let head = futures::stream::once(async move { Ok::<_, axum::Error>(Bytes::from(read)) });
    let stream = head.chain(rest.into_data_stream());
    Response::from_parts(parts, Body::from_stream(stream))
}

fn unavailable(why: &str) -> Response {
    let mut response = Response::new(Body::from(format!("zen: {why}\n")));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}

/// What one SSE event carries.
#[derive(Debug, PartialEq)]
enum Event {
    /// A JSON-RPC response or error: the reply.
    Reply(Vec<u8>),
    /// A notification or request from the server.
    Message,
    /// No data (a priming event, a keep-alive comment).
    Nothing,
}

/// What an event's data is: the reply, another message, or nothing (white space).
fn classify(data: Vec<u8>) -> Event {
    /// Only whether the message names a method (a request or notification) matters.
    #[derive(serde::Deserialize)]
    struct Probe {
        /// Present on requests and notifications, absent on replies.
        method: Option<serde::de::IgnoredAny>,
    }
    if data.iter().all(u8::is_ascii_whitespace) {
        return Event::Nothing;
    }
    match serde_json::from_slice::<Probe>(&data) {
        Ok(Probe { method: None }) => Event::Reply(data),
        _ => Event::Message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(value: &str) -> Accepts {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        Accepts::of(&headers)
    }

    #[test]
    fn accept_headers_are_read_with_their_weights() {
        let both = accepts("application/json, text/event-stream");
        assert!(both.json && both.sse);
        let json = accepts("application/json");
        assert!(json.json && !json.sse);
        let refused = accepts("application/json;q=0, text/event-stream");
        assert!(!refused.json && refused.sse);
        assert!(accepts("*/*").json && accepts("*/*").sse);
    }

    #[test]
    fn events_are_classified() {
        // rmcp's priming event carries no data: the reader yields nothing for it.
        let mut events = SseEvents::default();
        events.push(b"data: \nid: 0\nretry: 3000\n\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\nid: 1\r\n\n");
        let reply = events.next_event().unwrap();
        assert_eq!(
            classify(reply),
            Event::Reply(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#.to_vec())
        );
        let note = b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}".to_vec();
        assert_eq!(classify(note), Event::Message);
        assert_eq!(classify(b" ".to_vec()), Event::Nothing);
    }
}
