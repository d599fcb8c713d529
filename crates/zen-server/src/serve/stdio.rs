//! zen's own stdio transport for rmcp, instead of rmcp's line codec, for three reasons:
//! - a malformed line is logged to stderr, counted and answered (rmcp skips it silently), and an
//!   oversized one is answered with an error naming the limit;
//! - replies are written by one task that flushes only when its queue is empty, so a burst of
//!   replies costs one write syscall instead of one each;
//! - it stops reading stdin while MAX_CONCURRENT_REQUESTS + BACKLOG requests wait for their
//!   replies to reach the writer, so a client that writes without reading cannot grow memory;
//! - on stdin EOF or a shutdown signal it stops reading and lets in-flight calls finish (up to
//!   the drain timeout) before ending the session; rmcp's own drain is a fixed 5 s.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    ClientNotification, ClientRequest, ErrorCode, ErrorData, JsonRpcMessage, RequestId,
};
use rmcp::service::{RoleServer, RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::server::Server;

/// Outgoing messages queued for the writer task.
const OUT_QUEUE: usize = 1024;
/// Requests read beyond MAX_CONCURRENT_REQUESTS before stdin is left unread: enough to keep the
/// pool busy and let `metrics` through, few enough to keep memory flat.
const BACKLOG: usize = 64;

/// The stdio transport: read lines from `R`, write replies to stdout-like `W`.
pub(crate) struct StdioTransport<R> {
    /// Buffered input; read through `fill_buf`/`consume` so a cancelled read loses nothing.
    reader: BufReader<R>,
    /// The line being assembled (survives a cancelled `receive`).
    line: Vec<u8>,
    /// Bytes of an oversized line seen so far; its start is kept to find the request id.
    oversized: Option<usize>,
    /// Messages to the writer task.
    out: mpsc::Sender<TxJsonRpcMessage<RoleServer>>,
    /// The writer task, awaited on close so every reply is flushed.
    writer: Option<JoinHandle<()>>,
    /// Cancelled by SIGTERM/Ctrl-C.
    shutdown: CancellationToken,
    /// Set once input ended or shutdown began: stop reading, drain until then, end. A deadline
    /// fixed once, because rmcp drops and re-polls `receive` whenever a reply goes out.
    drain_deadline: Option<tokio::time::Instant>,
    /// The host: metrics for bad lines, and the in-flight calls to drain.
    server: Arc<Server>,
    /// Largest line accepted.
    max_line: usize,
    /// How long in-flight calls may finish once draining.
    drain_timeout: Duration,
    /// One permit per request read and not yet answered: none left, no more reading.
    permits: Arc<Semaphore>,
    /// The permit for the next line, taken before reading it (kept if `receive` is cancelled).
    next_permit: Option<OwnedSemaphorePermit>,
    /// Requests waiting for their reply, each holding its permit until the reply is queued.
    waiting: HashMap<RequestId, OwnedSemaphorePermit>,
}

impl<R: AsyncRead + Unpin + Send> StdioTransport<R> {
    pub(crate) fn new<W: AsyncWrite + Unpin + Send + 'static>(
        reader: R,
        writer: W,
        server: Arc<Server>,
        shutdown: CancellationToken,
    ) -> Self {
        let (out, rx) = mpsc::channel(OUT_QUEUE);
        let in_flight = server.context.config.limits.max_concurrent_requests as usize + BACKLOG;
        let writer = tokio::spawn(write_loop(rx, writer));
        StdioTransport {
            reader: BufReader::with_capacity(64 * 1024, reader),
            line: Vec::new(),
            oversized: None,
            out,
            writer: Some(writer),
            shutdown,
            drain_deadline: None,
            max_line: server.context.config.transport.max_message_bytes,
            drain_timeout: server.context.config.transport.drain_timeout,
            server,
            permits: Arc::new(Semaphore::new(in_flight)),
            next_permit: None,
            waiting: HashMap::new(),
        }
    }

    fn start_draining(&mut self) {
        self.drain_deadline = Some(tokio::time::Instant::now() + self.drain_timeout);
    }

    /// Read until a whole line is in `self.line`; `false` at EOF. Cancel-safe. Waits first for
    /// a permit: the backpressure that keeps a flood of unanswered requests out of memory.
    async fn read_line(&mut self) -> std::io::Result<bool> {
        if self.next_permit.is_none() {
            let permit = self.permits.clone().acquire_owned().await;
            self.next_permit = Some(permit.expect("the semaphore is never closed"));
        }
        loop {
            let buf = self.reader.fill_buf().await?;
            if buf.is_empty() {
                // A last message without its newline is still a message; the next read is EOF.
                return Ok(!self.line.is_empty() || self.oversized.is_some());
            }
            let (chunk, done) = match memchr(buf) {
                Some(i) => (&buf[..=i], true),
                None => (buf, false),
            };
            let n = chunk.len();
            match &mut self.oversized {
                Some(seen) => *seen += n,
                None if self.line.len() + n > self.max_line => {
                    // Too long: keep only the start (to find the id) and count the rest.
                    let total = self.line.len() + n;
                    self.line.extend_from_slice(&chunk[..n.min(4096)]);
                    self.line.truncate(4096);
                    self.oversized = Some(total);
                }
                None => self.line.extend_from_slice(chunk),
            }
            self.reader.consume(n);
            if done {
                return Ok(true);
            }
        }
    }

    /// Turn one complete line into a message, or answer/log it. `None`: nothing to deliver.
    fn parse_line(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        let mut line = std::mem::take(&mut self.line);
        let message = self.parse(&line);
        // Keep the buffer for the next line, unless one large message grew it.
        if line.capacity() <= 64 * 1024 {
            line.clear();
            self.line = line;
        }
        message
    }

    fn parse(&mut self, line: &[u8]) -> Option<RxJsonRpcMessage<RoleServer>> {
        if let Some(size) = self.oversized.take() {
            self.server.context.metrics.count_oversized();
            let id = find_id(line);
            tracing::warn!(
                size,
                limit = self.max_line,
                ?id,
                "message over ZEN_MAX_MESSAGE_BYTES"
            );
            let message = format!(
                "message of about {size} bytes is over the {} byte limit (ZEN_MAX_MESSAGE_BYTES); \
                 put large content in files",
                self.max_line
            );
            self.send_error(ErrorData::invalid_request(message, None), id);
            return None;
        }
        let text = trim_line(line);
        if text.is_empty() {
            return None;
        }
        match serde_json::from_slice::<RxJsonRpcMessage<RoleServer>>(text) {
            Ok(mut message) => {
                // Count a tool call for the drain now, before its handler task even starts.
                if let JsonRpcMessage::Request(request) = &mut message {
                    if let ClientRequest::CallToolRequest(call) = &mut request.request {
                        call.extensions.insert(self.server.admit());
                    }
                    if let Some(permit) = self.next_permit.take() {
                        self.waiting.insert(request.id.clone(), permit);
                    }
                }
                if let JsonRpcMessage::Notification(note) = &message
                    && let ClientNotification::CancelledNotification(cancelled) = &note.notification
                    && let Some(id) = &cancelled.params.request_id
                {
                    // rmcp drops the reply of a cancelled request: its permit goes back now.
                    self.waiting.remove(id);
                }
                Some(message)
            }
            Err(err) => {
                // An invalid UTF-8 byte fails the whole parse; read it lossily to find the id,
                // so the client's call is answered instead of hanging.
                let value = serde_json::from_slice::<serde_json::Value>(text)
                    .ok()
                    .or_else(|| serde_json::from_str(&String::from_utf8_lossy(text)).ok());
                let id = value.as_ref().and_then(|v| id_of(v.get("id")?));
                let is_notification = value
                    .as_ref()
                    .is_some_and(|v| v.get("method").is_some() && v.get("id").is_none());
                if is_notification {
                    // Unknown notifications are ignored, as the MCP SDKs do.
                    tracing::debug!(%err, "ignoring a notification zen does not know");
                    return None;
                }
                self.server.context.metrics.count_malformed();
                let preview: String = String::from_utf8_lossy(&text[..text.len().min(120)]).into();
                tracing::warn!(%err, %preview, "ignoring a malformed message on stdin");
                // With no readable id the error goes out without one, as MCP 2026-07-28 (which
                // rmcp follows) says: the client's log then shows what it sent wrong.
                let error = match value {
                    // Not JSON, or JSON only once bad UTF-8 bytes are replaced: a parse error.
                    None => not_json(&err),
                    Some(_) if std::str::from_utf8(text).is_err() => not_json(&err),
                    Some(_) => {
                        ErrorData::invalid_request(format!("invalid JSON-RPC request: {err}"), None)
                    }
                };
                self.send_error(error, id);
                None
            }
        }
    }

    fn send_error(&self, error: ErrorData, id: Option<RequestId>) {
        let error = TxJsonRpcMessage::<RoleServer>::error(error, id);
        if self.out.try_send(error).is_err() {
            self.server.context.metrics.count_dropped_reply();
            tracing::warn!("reply queue full; dropped an error reply to a bad message");
        }
    }
}

impl<R: AsyncRead + Unpin + Send + 'static> Transport<RoleServer> for StdioTransport<R> {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let out = self.out.clone();
        let id = match &item {
            JsonRpcMessage::Response(response) => Some(&response.id),
            JsonRpcMessage::Error(error) => error.id.as_ref(),
            _ => None,
        };
        // Released once the reply is in the writer's queue, not before: replies stuck behind
        // an unread stdout keep their requests counted.
        let permit = id.and_then(|id| self.waiting.remove(id));
        async move {
            let sent = out.send(item).await;
            drop(permit);
            sent.map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stdout is closed")
            })
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        loop {
            if let Some(deadline) = self.drain_deadline {
                // Cancel-safe: the drain only waits, and toward the same deadline each time.
                self.server.drain(deadline).await;
                return None;
            }
            let shutdown = self.shutdown.clone();
            tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    tracing::info!("shutdown requested: finishing in-flight calls");
                    self.start_draining();
                }
                read = self.read_line() => match read {
                    Ok(true) => {
                        if let Some(message) = self.parse_line() {
                            return Some(message);
                        }
                    }
                    Ok(false) => {
                        tracing::info!("stdin closed: finishing in-flight calls");
                        self.start_draining();
                    }
                    Err(err) => {
                        tracing::error!(%err, "reading stdin failed");
                        self.start_draining();
                    }
                },
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        // Closing our sender lets the writer flush what is queued and stop.
        let (closed, _) = mpsc::channel(1);
        self.out = closed;
        if let Some(mut writer) = self.writer.take() {
            // A client that stopped reading stdout would block the writer forever.
            if tokio::time::timeout(Duration::from_secs(5), &mut writer)
                .await
                .is_err()
            {
                tracing::warn!("stdout is not being read; dropping the replies still queued");
                writer.abort();
            }
        }
        Ok(())
    }
}

/// Write replies, flushing only when the queue runs dry.
async fn write_loop<W: AsyncWrite + Unpin>(
    mut rx: mpsc::Receiver<TxJsonRpcMessage<RoleServer>>,
    writer: W,
) {
    let mut out = BufWriter::with_capacity(64 * 1024, writer);
    let mut buf = Vec::with_capacity(4096);
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(message) = next {
            buf.clear();
            if let Err(err) = serde_json::to_writer(&mut buf, &message) {
                tracing::error!(%err, "cannot serialise a reply");
            } else {
                buf.push(b'\n');
                if let Err(err) = out.write_all(&buf).await {
                    tracing::warn!(%err, "stdout closed; replies stop");
                    return;
                }
            }
            next = rx.try_recv().ok();
        }
        if let Err(err) = out.flush().await {
            tracing::warn!(%err, "stdout closed; replies stop");
            return;
        }
    }
}

fn not_json(err: &serde_json::Error) -> ErrorData {
    let message = format!("not valid JSON ({err}); send one UTF-8 JSON-RPC message per line");
    ErrorData::new(ErrorCode::PARSE_ERROR, message, None)
}

fn memchr(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|b| *b == b'\n')
}

/// Strip the newline, a carriage return and a UTF-8 byte order mark.
fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    line.trim_ascii()
}

fn id_of(value: &serde_json::Value) -> Option<RequestId> {
    serde_json::from_value(value.clone()).ok()
}

/// Find `"id": <number or string>` near the start of a (truncated) JSON-RPC message.
fn find_id(start: &[u8]) -> Option<RequestId> {
    let text = std::str::from_utf8(start).ok().or_else(|| {
        let valid = std::str::from_utf8(start).err()?.valid_up_to();
        std::str::from_utf8(&start[..valid]).ok()
    })?;
    let after = &text[text.find("\"id\"")? + 4..];
    let after = after.trim_start().strip_prefix(':')?.trim_start();
    let end = if let Some(rest) = after.strip_prefix('"') {
        rest.find('"')? + 2
    } else {
        after
            .find(|c: char| !(c.is_ascii_digit() || c == '-'))
            .unwrap_or(after.len())
    };
    id_of(&serde_json::from_str(&after[..end]).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_ids_in_truncated_messages() {
        assert_eq!(
            find_id(br#"{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"argu"#),
            Some(RequestId::Number(42))
        );
        assert_eq!(
            find_id(br#"{"id" : "abc", "jsonrpc""#),
            Some(RequestId::String("abc".into()))
        );
        assert_eq!(
            find_id(br#"{"jsonrpc":"2.0","method":"x","params":{"#),
            None
        );
    }

    #[test]
    fn trims_line_endings_and_bom() {
        assert_eq!(trim_line(b"\xEF\xBB\xBF{}\r\n"), b"{}");
        assert_eq!(trim_line(b"  \n"), b"");
    }
}
