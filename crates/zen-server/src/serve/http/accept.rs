//! zen's HTTP accept loop (for MCP and for the telemetry listener), instead of `axum::serve`, which has no header timeout, no idle
//! timeout and no connection cap: 1 100 clients trickling headers each hold a descriptor until
//! the process runs out. Here
//! - a connection is accepted only with a permit (ZEN_MAX_CONNECTIONS, lowered to fit the
//!   descriptor limit): past the cap new clients wait in the kernel's backlog while accepted
//!   ones keep working;
//! - a request's headers must arrive within ZEN_HEADER_TIMEOUT (hyper closes it otherwise),
//!   and its body within ZEN_BODY_TIMEOUT after them (408, then closed: [`super::body_deadline`]);
//! - a kept-alive connection with no request in flight for ZEN_HTTP_IDLE_TIMEOUT is closed;
//! - connections are kept alive (HTTP/1.1's default) and written without Nagle's delay.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_service::Service;

use super::body_deadline;
use crate::config::BoundsConfig;
use crate::metrics::ConnectionClose;
use crate::tools::ToolContext;

/// Where the connections zen closes itself are counted.
pub(crate) type OnClose = Arc<dyn Fn(ConnectionClose) + Send + Sync>;

/// Closes counted in the server's metrics (`protocol.header_timeouts`, …).
pub(crate) fn counted(context: &Arc<ToolContext>) -> OnClose {
    let context = context.clone();
    Arc::new(move |why| context.metrics.count_closed_connection(why))
}

/// Descriptors kept back from the connection cap: log files, the telemetry listener, its
/// clients, provider connections.
const RESERVED_FDS: u64 = 128;

/// How connections are bounded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnLimits {
    /// Connections open at once.
    pub(crate) max: usize,
    /// Longest time to receive a request's headers.
    pub(crate) header_timeout: Duration,
    /// Longest time to receive a request's body, from the end of its headers.
    pub(crate) body_timeout: Duration,
    /// Longest time a connection may sit with no request in flight.
    pub(crate) idle_timeout: Duration,
}

impl ConnLimits {
    /// The timeouts of ZEN_HEADER_TIMEOUT, ZEN_BODY_TIMEOUT and ZEN_HTTP_IDLE_TIMEOUT, and a
    /// cap of `max` connections.
    pub(crate) fn of(bounds: &BoundsConfig, max: usize) -> Self {
        ConnLimits {
            max,
            header_timeout: bounds.header_timeout,
            body_timeout: bounds.body_timeout,
            idle_timeout: bounds.http_idle_timeout,
        }
    }

    /// The cap lowered to what the descriptor limit allows (after raising it to the hard limit).
    pub(crate) fn fit_to_descriptors(mut self) -> Self {
        let soft = zen_os::ffi::raise_open_file_limit();
        let room = soft.saturating_sub(RESERVED_FDS).max(1) as usize;
        if self.max > room {
            tracing::warn!(
                requested = self.max,
                allowed = room,
                nofile = soft,
                "ZEN_MAX_CONNECTIONS is above what the descriptor limit (ulimit -n) allows; lowered"
            );
            self.max = room;
        }
        self
    }
}

/// Accept and serve connections until `stop`; then every connection is shut down gracefully
/// (requests in flight finish). The returned tracker ends when the last connection has.
pub(crate) async fn run(
    listener: TcpListener,
    router: axum::Router,
    limits: ConnLimits,
    on_close: OnClose,
    stop: CancellationToken,
) -> TaskTracker {
    let permits = Arc::new(Semaphore::new(limits.max));
    let connections = TaskTracker::new();
    while let Some((stream, permit)) = accept(&listener, &permits, &stop).await {
        let close = on_close.clone();
        let conn = serve_connection(stream, router.clone(), limits, close, stop.clone(), permit);
        connections.spawn(conn);
    }
    connections.close();
    connections
}

/// The next connection with its permit; `None` once `stop` fires.
async fn accept(
    listener: &TcpListener,
    permits: &Arc<Semaphore>,
    stop: &CancellationToken,
) -> Option<(TcpStream, OwnedSemaphorePermit)> {
    let permit = tokio::select! {
        () = stop.cancelled() => return None,
        permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
    };
    loop {
        tokio::select! {
            () = stop.cancelled() => return None,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => return Some((stream, permit)),
                Err(err) => {
                    // EMFILE and friends: back off instead of spinning on a full table.
                    tracing::warn!(%err, "accepting an HTTP connection failed; retrying in 100 ms");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
}

/// Serve one connection; closes it when idle too long or when `stop` fires.
async fn serve_connection(
    stream: TcpStream,
    router: axum::Router,
    limits: ConnLimits,
    on_close: OnClose,
    stop: CancellationToken,
    _permit: OwnedSemaphorePermit,
) {
    // Replies are small writes: without this, Nagle holds the second one back until the
    // client's delayed ACK (~40 ms), which is why rmcp's client turns keep-alive off.
    if let Err(err) = stream.set_nodelay(true) {
        tracing::debug!(%err, "could not set TCP_NODELAY on an HTTP connection");
    }
    let activity = Arc::new(Activity::new());
    let tracked = activity.clone();
    let body_closed = on_close.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let busy = tracked.begin();
        let mut router = router.clone();
        let (parts, body) = request.into_parts();
        let (expired, body) = body_deadline::timed(body, limits.body_timeout);
        let on_close = body_closed.clone();
        async move {
            let mut response = router.call(hyper::Request::from_parts(parts, body)).await?;
            if expired.is_set() {
                on_close(ConnectionClose::BodyTimeout);
                response = body_deadline::timeout_response(limits.body_timeout);
            }
            // The request counts as in flight until its body (an SSE stream) is finished.
            Ok::<_, std::convert::Infallible>(
                response.map(|body| Body::new(Tracked { body, _busy: busy })),
            )
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        let idle_at = activity.idle_deadline(limits.idle_timeout);
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(err) = result {
                    if err.is_timeout() {
                        on_close(ConnectionClose::HeaderTimeout);
                    }
                    tracing::debug!(%err, "HTTP connection ended with an error");
                }
                return;
            }
            () = stop.cancelled(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(idle_at), if !closing => {
                if activity.is_idle_for(limits.idle_timeout) {
                    closing = true;
                    on_close(ConnectionClose::Idle);
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Requests in flight on one connection, and when it was last busy.
struct Activity {
    /// Requests whose responses are not finished.
    in_flight: AtomicUsize,
    /// Milliseconds from `origin` when the last request began or ended.
    last_ms: AtomicU64,
    /// When the connection was accepted.
    origin: Instant,
}

impl Activity {
    fn new() -> Self {
        Activity {
            in_flight: AtomicUsize::new(0),
            last_ms: AtomicU64::new(0),
            origin: Instant::now(),
        }
    }

    fn touch(&self) {
        let now = self.origin.elapsed().as_millis() as u64;
        self.last_ms.store(now, Ordering::Relaxed);
    }

    fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.touch();
        Busy(self.clone())
    }

    /// When the connection would have been idle for `idle`, if nothing happens first.
    fn idle_deadline(&self, idle: Duration) -> Instant {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return Instant::now() + idle;
        }
        self.origin + Duration::from_millis(self.last_ms.load(Ordering::Relaxed)) + idle
    }

    fn is_idle_for(&self, idle: Duration) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0 && Instant::now() >= self.idle_deadline(idle)
    }
}

/// One request in flight; dropped when its response body ends (or is abandoned).
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A response body that keeps its request counted as in flight until it is dropped.
struct Tracked {
    /// The real body.
    body: Body,
    /// Held, never read.
    _busy: Busy,
}

impl http_body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
