//! stdin and stdout as readiness-driven async streams. tokio's own `stdin()`/`stdout()` run
//! every read and write on the blocking thread pool: a thread hop each way per batch of
//! messages, which cost zen more CPU per call than the call itself. A pipe or a socket (what
//! MCP clients spawn servers with) is set non-blocking and registered with the runtime's
//! reactor instead, so the thread that serves the messages also reads and writes them. Anything
//! else (a file, a terminal) falls back to tokio's blocking-pool streams.
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::FileTypeExt;

use tokio::io::{AsyncRead, AsyncWrite};

/// A boxed reader of stdin.
pub(crate) type Input = Box<dyn AsyncRead + Unpin + Send>;
/// A boxed writer of stdout.
pub(crate) type Output = Box<dyn AsyncWrite + Unpin + Send>;

/// This process's stdin and stdout, registered with the current runtime when they are pipes or
/// sockets. Must be called inside the runtime that will poll them.
pub(crate) fn stdin_stdout() -> (Input, Output) {
    let input = readiness_input().unwrap_or_else(|why| {
        tracing::debug!(%why, "stdin is read through the blocking pool");
        Box::new(tokio::io::stdin())
    });
    let output = readiness_output().unwrap_or_else(|why| {
        tracing::debug!(%why, "stdout is written through the blocking pool");
        Box::new(tokio::io::stdout())
    });
    (input, output)
}

fn readiness_input() -> std::io::Result<Input> {
    let fd = std::io::stdin().as_fd().try_clone_to_owned()?;
    Ok(match kind(&fd)? {
        Kind::Pipe => Box::new(tokio::net::unix::pipe::Receiver::from_file(File::from(fd))?),
        Kind::Socket => Box::new(socket(fd)?),
    })
}

fn readiness_output() -> std::io::Result<Output> {
    let fd = std::io::stdout().as_fd().try_clone_to_owned()?;
    Ok(match kind(&fd)? {
        Kind::Pipe => Box::new(tokio::net::unix::pipe::Sender::from_file(File::from(fd))?),
        Kind::Socket => Box::new(socket(fd)?),
    })
}

/// What a standard stream is connected to.
enum Kind {
    /// A FIFO (what `pipe(2)` makes: Python's and Rust's process spawning).
    Pipe,
    /// A Unix socket (what libuv gives a child's stdio: Node-based clients).
    Socket,
}

fn kind(fd: &OwnedFd) -> std::io::Result<Kind> {
    let file = File::from(fd.try_clone()?);
    let kind = file.metadata()?.file_type();
    if kind.is_fifo() {
        Ok(Kind::Pipe)
    } else if kind.is_socket() {
        Ok(Kind::Socket)
    } else {
        Err(std::io::Error::other("neither a pipe nor a socket"))
    }
}

/// A Unix socket fd as a non-blocking tokio stream.
fn socket(fd: OwnedFd) -> std::io::Result<tokio::net::UnixStream> {
    let stream = std::os::unix::net::UnixStream::from(fd);
    stream.set_nonblocking(true)?;
    tokio::net::UnixStream::from_std(stream)
}
