//! A hostile OpenAI-compatible provider on 127.0.0.1:0, raw tokio TCP so nothing between it and
//! zen smooths its behaviour: 429 with any Retry-After, a huge announced body, a chunked body
//! that never ends, a hang, a 500. Every streaming reply stops as soon as zen disconnects (a
//! write fails), and the open-connection count says when that happened.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// What the server answers every request with.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// 429 with this exact `Retry-After` value.
    RateLimited(String),
    /// 500 with this error message in an OpenAI-style JSON body.
    ServerError(String),
    /// 200 announcing (Content-Length) and sending this many bytes.
    Huge(u64),
    /// 200, chunked, a body that never ends.
    Endless,
    /// Reads the request and never answers; waits for the client to go away.
    Hang,
}

/// What the server saw and did, shared with its connection tasks.
struct Shared {
    /// The reply every request gets; tests change it between calls.
    reply: Mutex<Reply>,
    /// Requests read in all.
    requests: AtomicU64,
    /// Body bytes written in all (what zen could have had to hold).
    bytes_sent: AtomicU64,
    /// Connections open now; a watch so a test can await "all closed" without polling.
    open: watch::Sender<u64>,
}

/// The running server; dropping it stops the accept loop and every connection.
pub(crate) struct Hostile {
    /// Base URL for CUSTOM_API_URL, e.g. http://127.0.0.1:PORT/v1.
    pub url: String,
    /// State shared with the connection tasks.
    shared: Arc<Shared>,
    /// The accept loop; it owns the connections' JoinSet, so aborting it ends them too.
    task: JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Decrements the open-connection count however a connection task ends (abort included).
struct OpenGuard(Arc<Shared>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.send_modify(|n| *n -= 1);
    }
}

/// A body piece: big enough to stream fast, small enough to stop soon after zen leaves.
const PIECE: usize = 64 * 1024;

impl Hostile {
    pub(crate) async fn start(reply: Reply) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            reply: Mutex::new(reply),
            requests: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            open: watch::Sender::new(0),
        });
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        Hostile { url, shared, task }
    }

    pub(crate) fn set(&self, reply: Reply) {
        *self.shared.reply.lock().unwrap() = reply;
    }

    pub(crate) fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    pub(crate) fn bytes_sent(&self) -> u64 {
        self.shared.bytes_sent.load(Ordering::Relaxed)
    }

    /// Wait (at most `limit`) until zen has closed every connection, so the server stopped.
    pub(crate) async fn all_closed(&self, limit: Duration) {
        let mut open = self.shared.open.subscribe();
        tokio::time::timeout(limit, open.wait_for(|n| *n == 0))
            .await
            .unwrap_or_else(|_| panic!("connections still open after {limit:?}"))
            .unwrap();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            return;
        };
        shared.open.send_modify(|n| *n += 1);
        let guard = OpenGuard(shared.clone());
        connections.spawn(async move {
            let _ = serve(socket, &guard.0).await;
            drop(guard);
        });
        // Reap finished connections so the set does not grow.
        while connections.try_join_next().is_some() {}
    }
}

/// One request, one reply, then close (`connection: close`, so zen never reuses it).
async fn serve(mut socket: TcpStream, shared: &Shared) -> std::io::Result<()> {
    read_request(&mut socket).await?;
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let reply = shared.reply.lock().unwrap().clone();
    match reply {
        Reply::RateLimited(value) => {
            let body = r#"{"error":{"message":"slow down"}}"#;
            let head = format!("HTTP/1.1 429 Too Many Requests\r\nretry-after: {value}\r\n");
            send_small(&mut socket, &head, body).await
        }
        Reply::ServerError(message) => {
            let body = serde_json::json!({"error": {"message": message}}).to_string();
            send_small(&mut socket, "HTTP/1.1 500 Internal Server Error\r\n", &body).await
        }
        Reply::Huge(len) => send_huge(&mut socket, len, shared).await,
        Reply::Endless => send_endless(&mut socket, shared).await,
        // Returns when zen closes the connection (0 bytes) or resets it.
        Reply::Hang => socket.read(&mut [0; 1024]).await.map(drop),
    }
}

/// Read the request head and its Content-Length body, and discard them.
async fn read_request(socket: &mut TcpStream) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut piece = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = socket.read(&mut piece).await?;
        if n == 0 || buf.len() > 64 * 1024 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&piece[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap_or(0));
    let mut left = (head_end + length).saturating_sub(buf.len());
    while left > 0 {
        let n = socket.read(&mut piece).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        left = left.saturating_sub(n);
    }
    Ok(())
}

async fn send_small(
    socket: &mut TcpStream,
    status_and_headers: &str,
    body: &str,
) -> std::io::Result<()> {
    let reply = format!(
        "{status_and_headers}content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(reply.as_bytes()).await
}

/// A valid-looking start of a completion whose content string never closes.
const BODY_START: &[u8] = br#"{"choices":[{"index":0,"message":{"role":"assistant","content":""#;

async fn send_huge(socket: &mut TcpStream, len: u64, shared: &Shared) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(BODY_START).await?;
    let piece = vec![b'x'; PIECE];
    let mut left = len.saturating_sub(BODY_START.len() as u64);
    while left > 0 {
        let n = left.min(PIECE as u64) as usize;
        socket.write_all(&piece[..n]).await?;
        shared.bytes_sent.fetch_add(n as u64, Ordering::Relaxed);
        left -= n as u64;
    }
    Ok(())
}

async fn send_endless(socket: &mut TcpStream, shared: &Shared) -> std::io::Result<()> {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
    socket.write_all(head.as_bytes()).await?;
    let mut frame = format!("{:x}\r\n", BODY_START.len()).into_bytes();
    frame.extend_from_slice(BODY_START);
    frame.extend_from_slice(b"\r\n");
    socket.write_all(&frame).await?;
    let mut frame = format!("{PIECE:x}\r\n").into_bytes();
    frame.extend(std::iter::repeat_n(b'x', PIECE));
    frame.extend_from_slice(b"\r\n");
    // Ends only when a write fails: zen dropped the connection.
    loop {
        socket.write_all(&frame).await?;
        shared.bytes_sent.fetch_add(PIECE as u64, Ordering::Relaxed);
    }
}
