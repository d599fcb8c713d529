//! The last lines a spawned target wrote to stderr, kept for error messages (never mixed into
//! our output).
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// Lines of the target's stderr kept for error messages.
const TAIL_LINES: usize = 20;

/// The last lines a spawned target wrote to stderr (never mixed into our output).
#[derive(Clone, Default)]
pub(crate) struct StderrTail(Arc<Mutex<VecDeque<String>>>);

impl StderrTail {
    pub(crate) fn follow(
        stream: impl AsyncRead + Unpin + Send + 'static,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let tail = StderrTail::default();
        let sink = tail.clone();
        let task = tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut q = sink
                    .0
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if q.len() == TAIL_LINES {
                    q.pop_front();
                }
                q.push_back(line);
            }
        });
        (tail, task)
    }

    /// The kept lines, joined.
    pub(crate) fn text(&self) -> String {
        let q = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        q.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

/// The tail as the end of an error message.
pub(crate) fn tail_section(tail: &StderrTail) -> String {
    let text = tail.text();
    if text.is_empty() {
        " (it wrote nothing to stderr)".to_string()
    } else {
        format!("\nits stderr ended with:\n{text}")
    }
}
