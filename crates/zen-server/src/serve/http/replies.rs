//! How an HTTP reply to one request goes out: one `application/json` message, or, to a client
//! that accepts SSE, a stream once the call has run for [`STREAM_AFTER`] (so a slow tool's client
//! sees headers and keep-alive comments). Shared by the direct tools/call path and the
//! 2026-07-28 path.
use std::convert::Infallible;
use std::pin::Pin;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::json::{Accepts, STREAM_AFTER};

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
        // Proxies must not hold the stream back (`2026-07-28/basic/transports/streamable-http#receiving-messages`).
        (
            axum::http::HeaderName::from_static("x-accel-buffering"),
            HeaderValue::from_static("no"),
        ),
    ];
    (StatusCode::OK, headers, Body::from_stream(events)).into_response()
}
