//! How an HTTP reply to one request goes out: one `application/json` message, or, to a client
//! that accepts SSE, a stream once the call has run for [`STREAM_AFTER`] (so a slow tool's client
//! sees headers and keep-alive comments). Shared by the direct tools/call path and the
//! 2026-07-28 path.
use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use tokio::sync::mpsc;

use super::json::{Accepts, STREAM_AFTER};
use crate::protocol::logging::Note;

/// How often a streamed reply sends a comment while the call runs (rmcp's keep-alive period).
const SSE_PING: Duration = Duration::from_secs(15);

/// The reply of a call: JSON if it comes within [`STREAM_AFTER`] (or the client takes only
/// JSON), else SSE (at once to a client that takes only SSE). A request without an Accept the
/// server understands takes both. Dropping the response (the client went away) drops the call
/// with it.
pub(super) async fn call_reply(
    reply: impl Future<Output = Bytes> + Send + 'static,
    accepts: Accepts,
) -> Response {
    let mut reply: Pin<Box<dyn Future<Output = Bytes> + Send>> = Box::pin(reply);
    match (accepts.json, accepts.sse) {
        (true, false) => return json(StatusCode::OK, reply.await),
        (false, true) => return sse(reply),
        _ => {}
    }
    match tokio::time::timeout(STREAM_AFTER, &mut reply).await {
        Ok(message) => json(StatusCode::OK, message),
        Err(_) => sse(reply),
    }
}

/// The reply of a call whose client asked for log messages (`crate::client_log`): as
/// [`call_reply`] until a message comes before the reply; then, to a client that accepts SSE,
/// a stream of the messages as they come and the reply last (`basic/transports/
/// streamable-http#sending-messages-to-the-server`: the server MAY send notifications before
/// the response). A client that takes only JSON gets the reply alone.
pub(super) async fn logged_reply(
    reply: impl Future<Output = Bytes> + Send + 'static,
    accepts: Accepts,
    mut notes: mpsc::Receiver<Note>,
) -> Response {
    if !accepts.sse {
        return call_reply(reply, accepts).await;
    }
    let mut reply: Pin<Box<dyn Future<Output = Bytes> + Send>> = Box::pin(reply);
    if accepts.json {
        tokio::select! {
            biased;
            Some(note) = notes.recv() => {
                return logged_sse(vec![event(&note.encode())], Some(reply), notes);
            }
            message = &mut reply => {
                let mut events = drain(&mut notes);
                if events.is_empty() {
                    return json(StatusCode::OK, message);
                }
                events.push(event(&message));
                return logged_sse(events, None, notes);
            }
            () = tokio::time::sleep(STREAM_AFTER) => {}
        }
    }
    logged_sse(Vec::new(), Some(reply), notes)
}

/// A result that follows log messages: one JSON message without them, else an SSE stream of the
/// messages and then the result (to a client that accepts SSE).
pub(super) fn result_after(notes: &[Note], result: Bytes, accepts: Accepts) -> Response {
    if notes.is_empty() || !accepts.sse {
        return json(StatusCode::OK, result);
    }
    let mut events: Vec<Bytes> = notes.iter().map(|n| event(&n.encode())).collect();
    events.push(event(&result));
    let (_, closed) = mpsc::channel(1);
    logged_sse(events, None, closed)
}

/// The SSE event of one message.
fn event(message: &[u8]) -> Bytes {
    Bytes::from([&b"data: "[..], message, b"\n\n"].concat())
}

/// The messages already queued, as events.
fn drain(notes: &mut mpsc::Receiver<Note>) -> Vec<Bytes> {
    std::iter::from_fn(|| notes.try_recv().ok())
        .map(|note| event(&note.encode()))
        .collect()
}

/// What a logged SSE reply still has to send.
struct Logged {
    /// Events ready to go, in order.
    ready: VecDeque<Bytes>,
    /// The reply, until it comes.
    reply: Option<Pin<Box<dyn Future<Output = Bytes> + Send>>>,
    /// The call's log messages.
    notes: mpsc::Receiver<Note>,
}

/// 200 with an SSE stream: `ready`, then each log message as it comes and the reply last, a
/// comment every [`SSE_PING`] meanwhile. Dropping the stream drops the call with it.
fn logged_sse(
    ready: Vec<Bytes>,
    reply: Option<Pin<Box<dyn Future<Output = Bytes> + Send>>>,
    notes: mpsc::Receiver<Note>,
) -> Response {
    let state = Logged {
        ready: ready.into(),
        reply,
        notes,
    };
    let events = futures::stream::unfold(state, |mut st| async move {
        if let Some(event) = st.ready.pop_front() {
            return Some((Ok::<_, Infallible>(event), st));
        }
        let mut reply = st.reply.take()?;
        tokio::select! {
            biased;
            Some(note) = st.notes.recv() => {
                st.reply = Some(reply);
                Some((Ok(event(&note.encode())), st))
            }
            message = &mut reply => {
                st.ready.extend(drain(&mut st.notes));
                st.ready.push_back(event(&message));
                let first = st.ready.pop_front()?;
                Some((Ok(first), st))
            }
            () = tokio::time::sleep(SSE_PING) => {
                st.reply = Some(reply);
                Some((Ok(Bytes::from_static(b": ping\n\n")), st))
            }
        }
    });
    sse_response(Body::from_stream(events))
}

/// `status` with one `application/json` message.
pub(super) fn json(status: StatusCode, body: Bytes) -> Response {
    let content_type = HeaderValue::from_static("application/json");
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// 200 with an SSE stream: a comment every [`SSE_PING`] until the reply comes, then the reply as
/// the one event. Dropping the stream (the client went away) drops the call with it.
pub(super) fn sse(reply: Pin<Box<dyn Future<Output = Bytes> + Send>>) -> Response {
    let events = futures::stream::unfold(Some(reply), |pending| async move {
        let mut reply = pending?;
        tokio::select! {
            message = &mut reply => Some((Ok::<_, Infallible>(event(&message)), None)),
            () = tokio::time::sleep(SSE_PING) => {
                Some((Ok(Bytes::from_static(b": ping\n\n")), Some(reply)))
            }
        }
    });
    sse_response(Body::from_stream(events))
}

/// 200 with an SSE body, and the headers an SSE reply carries.
fn sse_response(body: Body) -> Response {
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        // Proxies must not hold the stream back (`2026-07-28/basic/transports/streamable-http#receiving-messages`).
        (
            axum::http::HeaderName::from_static("x-accel-buffering"),
            HeaderValue::from_static("no"),
        ),
    ];
    (StatusCode::OK, headers, body).into_response()
}
