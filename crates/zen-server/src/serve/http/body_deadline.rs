//! A deadline for the whole of a request body (ZEN_BODY_TIMEOUT). hyper's header timeout ends
//! with the headers, and a request counts as in flight from then on, so the idle timeout never
//! fires either: a client that announces `Content-Length: 1000` and sends one byte held its
//! connection (and a slot under ZEN_MAX_CONNECTIONS) for as long as it liked. Here every body
//! is wrapped: once the deadline passes before the body's last byte, the reader gets an error,
//! the request is answered 408 with `Connection: close`, and the connection is counted and
//! closed. A body read whole in time (or never read) costs one timer, dropped with it.
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::Sleep;

/// The error a reader of a late body gets.
#[derive(Debug)]
pub(super) struct BodyTimeout(Duration);

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the request body did not arrive whole within {} (ZEN_BODY_TIMEOUT)",
            zen_model::units::seconds(self.0)
        )
    }
}

impl std::error::Error for BodyTimeout {}

/// Set when a request's body missed its deadline: the connection answers 408 and closes.
#[derive(Clone, Default)]
pub(super) struct Expired(Arc<AtomicBool>);

impl Expired {
    pub(super) fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A request body that must end within its deadline.
pub(super) struct TimedBody {
    /// The body as hyper reads it.
    inner: Incoming,
    /// When the last byte must have come; `None` once the body has ended.
    deadline: Option<Pin<Box<Sleep>>>,
    /// ZEN_BODY_TIMEOUT, for the error text.
    limit: Duration,
    /// Raised when the deadline passes first.
    expired: Expired,
}

impl TimedBody {
    /// `inner`, which must end within `limit` from now; `expired` is raised if it does not.
    pub(super) fn new(inner: Incoming, limit: Duration, expired: Expired) -> Self {
        let deadline = (!inner.is_end_stream()).then(|| Box::pin(tokio::time::sleep(limit)));
        TimedBody {
            inner,
            deadline,
            limit,
            expired,
        }
    }
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                if frame.is_none() || this.inner.is_end_stream() {
                    this.deadline = None;
                }
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                let late = (this.deadline.as_mut()).is_some_and(|d| d.as_mut().poll(cx).is_ready());
                if !late {
                    return Poll::Pending;
                }
                this.deadline = None;
                this.expired.0.store(true, Ordering::Relaxed);
                Poll::Ready(Some(Err(Box::new(BodyTimeout(this.limit)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// `body` under `limit`; the flag says afterwards whether it missed it.
pub(super) fn timed(body: Incoming, limit: Duration) -> (Expired, Body) {
    let expired = Expired::default();
    let body = Body::new(TimedBody::new(body, limit, expired.clone()));
    (expired, body)
}

/// 408 with `Connection: close`: whatever the handler answered to a body cut short is
/// replaced, and hyper closes the connection after writing it.
pub(super) fn timeout_response(limit: Duration) -> Response {
    let text = format!(
        "zen: {}; send the whole body at once, or raise ZEN_BODY_TIMEOUT\n",
        BodyTimeout(limit)
    );
    let mut response = (StatusCode::REQUEST_TIMEOUT, text).into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
