//! zen's stdio server: one task on one thread reads stdin, answers, and writes stdout. rmcp's
//! stdio service hopped threads several times per message (a blocking-pool read, its worker
//! task, a task per request, a writer task, a blocking-pool write), and its cost swung with how
//! the scheduler placed those threads. Here:
//! - stdin and stdout are non-blocking pipes or sockets on the reactor ([`io`]), read and
//!   written by the task that answers;
//! - the task runs on a thread of its own with a single-threaded runtime, so every message and
//!   every tools/call is handled where it is read; calls run concurrently as futures of that one
//!   task ([`requests`]);
//! - replies are gathered and written together when the task has nothing else ready (one
//!   write for a burst);
//! - a line past ZEN_MAX_MESSAGE_BYTES is answered with an error naming the limit, a malformed
//!   one is logged, counted and answered ([`lines`]);
//! - reading stops while MAX_CONCURRENT_REQUESTS + 64 calls run or 1 MiB of replies wait for
//!   the client to read them, so a client that writes without reading cannot grow memory;
//! - on stdin EOF, a failed write or a shutdown signal, reading stops and in-flight calls finish
//!   (up to ZEN_DRAIN_TIMEOUT; then they are answered with an error) before the session ends.
mod io;
mod lines;
mod requests;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::{Context as _, Result};
use futures::StreamExt;
use tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite, BufReader};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::server::Server;
use lines::Lines;
use requests::Requests;

/// Calls read beyond MAX_CONCURRENT_REQUESTS before stdin is left unread: enough to keep the
/// pool busy and let `metrics` through, few enough to keep memory flat.
const BACKLOG: usize = 64;
/// Replies waiting for the client to read them before stdin is left unread.
const OUT_LIMIT: usize = 1 << 20;
/// How long replies may take to reach a client after the drain, if it stopped reading stdout.
const FLUSH_GRACE: Duration = Duration::from_secs(5);

/// Serve this process's stdin and stdout on a thread of its own (see the module's comment)
/// until stdin closes or `shutdown` fires, then drain.
pub(crate) async fn serve_process(server: Arc<Server>, shutdown: CancellationToken) -> Result<()> {
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("zen-stdio".to_string())
        .spawn(move || {
            let served = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the stdio runtime")
                .and_then(|runtime| {
                    let served = runtime.block_on(async {
                        let (input, output) = io::stdin_stdout();
                        serve(server, input, output, shutdown).await
                    });
                    runtime.shutdown_timeout(Duration::from_millis(250));
                    served
                });
            let _ = done.send(served);
        })
        .context("cannot start the stdio thread")?;
    result
        .await
        .context("the stdio thread ended without a result")?
}

/// Serve one MCP connection over a reader/writer pair until the reader ends or `shutdown`
/// fires, then drain.
pub async fn serve<R, W>(
    server: Arc<Server>,
    reader: R,
    writer: W,
    shutdown: CancellationToken,
) -> Result<()>
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send,
{
    let max_calls = server.context.config.limits.max_concurrent_requests as usize + BACKLOG;
    let drain_timeout = server.context.config.transport.drain_timeout;
    let mut pump = Pump {
        input: BufReader::with_capacity(64 * 1024, reader),
        lines: Lines::default(),
        writer,
        written: 0,
        unflushed: false,
        requests: Requests::new(server),
        max_calls,
        shutdown: Box::pin(shutdown.cancelled_owned()),
        drain_timeout,
        drain: None,
        drained: false,
        flush_by: None,
    };
    std::future::poll_fn(|cx| pump.poll(cx)).await;
    tracing::info!("stdio session ended");
    Ok(())
}

/// The connection's state between polls.
struct Pump<R, W> {
    /// stdin, buffered; lines are cut out of its buffer without copying when whole.
    input: BufReader<R>,
    /// The line being assembled across reads.
    lines: Lines,
    /// stdout.
    writer: W,
    /// Bytes of `requests.out` already written.
    written: usize,
    /// Bytes written since the last flush.
    unflushed: bool,
    /// Reading, answering and the calls running.
    requests: Requests,
    /// Calls running at most before stdin is left unread.
    max_calls: usize,
    /// Fires on SIGTERM/Ctrl-C.
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
    /// ZEN_DRAIN_TIMEOUT.
    drain_timeout: Duration,
    /// The drain, once begun (input ended, shutdown, or stdout closed).
    drain: Option<Pin<Box<dyn Future<Output = bool> + Send>>>,
    /// The drain has finished.
    drained: bool,
    /// After the drain: the deadline for the last replies to be written.
    flush_by: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Pump<R, W> {
    /// Run until done: every step that can make progress, until none can.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let mut progress = false;
            if self.drain.is_none() && self.shutdown.as_mut().poll(cx).is_ready() {
                tracing::info!("shutdown requested: finishing in-flight calls");
                self.start_drain();
            }
            progress |= self.poll_logs(cx);
            progress |= self.poll_calls(cx);
            if self.drain.is_none() {
                progress |= self.poll_input(cx);
            }
            match self.poll_output(cx) {
                Ok(wrote) => progress |= wrote,
                Err(err) => {
                    tracing::warn!(%err, "stdout closed; replies stop");
                    self.requests.out.clear();
                    self.written = 0;
                    self.start_drain();
                }
            }
            if let Some(drain) = &mut self.drain
                && !self.drained
                && drain.as_mut().poll(cx).is_ready()
            {
                self.drained = true;
                progress = true;
            }
            if self.drained && self.requests.out.is_empty() && !self.unflushed {
                return Poll::Ready(());
            }
            if self.drained {
                let by = self
                    .flush_by
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(FLUSH_GRACE)));
                if by.as_mut().poll(cx).is_ready() {
                    tracing::warn!("stdout is not being read; dropping the replies still queued");
                    return Poll::Ready(());
                }
            }
            if !progress {
                return Poll::Pending;
            }
        }
    }

    /// Queue the calls' log messages (`crate::client_log`).
    fn poll_logs(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        while let Poll::Ready(Some(note)) = self.requests.log_rx.poll_recv(cx) {
            self.requests.queue_note(&note);
            progress = true;
        }
        progress
    }

    /// Queue the replies of finished calls (none for a call the client cancelled), each after
    /// the log messages raised before it.
    fn poll_calls(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        while let Poll::Ready(Some((id, reply))) = self.requests.calls.poll_next_unpin(cx) {
            progress = true;
            while let Ok(note) = self.requests.log_rx.try_recv() {
                self.requests.queue_note(&note);
            }
            let cancelled = (self.requests.running.remove(&id)).is_some_and(|ct| ct.is_cancelled());
            if !cancelled {
                self.requests.queue(&reply);
            }
        }
        progress
    }

    /// Read what stdin has and handle its lines, while there is room; true if anything was
    /// read. Input's end begins the drain.
    fn poll_input(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.has_room() {
            return false;
        }
        let buf = match Pin::new(&mut self.input).poll_fill_buf(cx) {
            Poll::Pending => return false,
            Poll::Ready(Ok(buf)) => buf,
            Poll::Ready(Err(err)) => {
                tracing::error!(%err, "reading stdin failed");
                self.start_drain();
                return true;
            }
        };
        let eof = buf.is_empty();
        let mut used = 0;
        loop {
            let (n, line) = self.lines.next(&buf[used..], self.requests.max_line, eof);
            used += n;
            let Some(line) = line else { break };
            self.requests.line(line);
            self.lines.done();
            let room = self.requests.calls.len() < self.max_calls
                && self.requests.out.len() - self.written < OUT_LIMIT;
            if used == buf.len() || !room {
                break;
            }
        }
        Pin::new(&mut self.input).consume(used);
        if eof {
            tracing::info!("stdin closed: finishing in-flight calls");
            self.start_drain();
        }
        true
    }

    /// Room to read: fewer calls running than the cap, and few enough replies unread.
    fn has_room(&self) -> bool {
        self.requests.calls.len() < self.max_calls
            && self.requests.out.len() - self.written < OUT_LIMIT
    }

    /// Write queued replies; true if anything was written.
    fn poll_output(&mut self, cx: &mut Context<'_>) -> std::io::Result<bool> {
        let mut wrote = false;
        while self.written < self.requests.out.len() {
            match Pin::new(&mut self.writer).poll_write(cx, &self.requests.out[self.written..]) {
                Poll::Ready(Ok(0)) => return Err(std::io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => {
                    self.written += n;
                    self.unflushed = true;
                    wrote = true;
                }
                Poll::Ready(Err(err)) => return Err(err),
                Poll::Pending => return Ok(wrote),
            }
        }
        if self.written > 0 {
            self.requests.out.clear();
            self.written = 0;
            if self.requests.out.capacity() > OUT_LIMIT {
                self.requests.out.shrink_to(64 * 1024);
            }
        }
        if self.unflushed {
            match Pin::new(&mut self.writer).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.unflushed = false,
                Poll::Ready(Err(err)) => return Err(err),
                Poll::Pending => {}
            }
        }
        Ok(wrote)
    }

    /// Stop reading and let in-flight calls finish, until the drain deadline (fixed now).
    fn start_drain(&mut self) {
        if self.drain.is_some() {
            return;
        }
        let server = self.requests.server.clone();
        let deadline = tokio::time::Instant::now() + self.drain_timeout;
        self.drain = Some(Box::pin(async move { server.drain(deadline).await }));
    }
}
