//! Server-sent events as a streamable HTTP reply carries them: only `data:` matters (several
//! `data:` lines join with a newline); `id:`, `event:`, `retry:` and comments are skipped, and an
//! event without data (rmcp's priming event) yields nothing.

/// Bytes received but not yet split into events, and the data of the event being read.
#[derive(Default)]
pub struct SseEvents {
    /// Received bytes not yet consumed as whole lines.
    pending: Vec<u8>,
    /// The `data:` of the current event so far.
    data: Vec<u8>,
    /// The current event has at least one `data:` line.
    has_data: bool,
}

impl SseEvents {
    /// Append received bytes.
    pub fn push(&mut self, chunk: &[u8]) {
        self.pending.extend_from_slice(chunk);
    }

    /// Bytes held (to cap the stream's memory).
    pub fn buffered(&self) -> usize {
        self.pending.len() + self.data.len()
    }

    /// The data of the next complete event with data, if one has fully arrived.
    pub fn next_event(&mut self) -> Option<Vec<u8>> {
        let mut start = 0;
        let mut found = None;
        while let Some(nl) = self.pending[start..].iter().position(|b| *b == b'\n') {
            let end = start + nl;
            let line = &self.pending[start..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            start = end + 1;
            if line.is_empty() {
                // The spec dispatches no event whose data is empty (rmcp's priming event).
                self.has_data = false;
                if !self.data.is_empty() {
                    found = Some(std::mem::take(&mut self.data));
                    break;
                }
            } else if let Some(value) = line.strip_prefix(b"data:") {
                let value = value.strip_prefix(b" ").unwrap_or(value);
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
        }
        self.pending.drain(..start);
        found
    }

    /// At the end of the stream: the data of an event cut off before its blank line.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        if !self.pending.is_empty() {
            self.pending.push(b'\n');
        }
        self.pending.push(b'\n');
        self.next_event()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priming_event_is_skipped_and_split_chunks_join() {
        let mut sse = SseEvents::default();
        sse.push(b"id: 0\nretry: 3000\ndata:\n\n: comment\nda");
        assert_eq!(sse.next_event(), None);
        sse.push(b"ta: {\"a\":\r\ndata: 1}\r\n\r\ndata: x\n");
        assert_eq!(sse.next_event().as_deref(), Some(&b"{\"a\":\n1}"[..]));
        assert_eq!(sse.next_event(), None);
        assert_eq!(sse.finish().as_deref(), Some(&b"x"[..]));
    }
}
