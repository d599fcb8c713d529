//! Server-sent events as a streamable HTTP reply carries them, read incrementally: the one SSE
//! reader of zen (the server's JSON replies and the load client both use it). Lines end in CRLF,
//! LF or CR, mixed freely (the SSE spec allows all three); only `data:` matters (several `data:`
//! lines join with a newline); `id:`, `event:`, `retry:` and comments are skipped; an event
//! without data (rmcp's priming event) yields nothing.

/// Bytes received but not yet split into events, and the data of the event being read.
#[derive(Debug, Default)]
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
        self.next_event_inner(false)
    }

    /// At the end of the stream: the data of an event cut off before its blank line.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        if let Some(event) = self.next_event_inner(true) {
            return Some(event);
        }
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.line(&line);
        }
        self.has_data = false;
        (!self.data.is_empty()).then(|| std::mem::take(&mut self.data))
    }

    fn next_event_inner(&mut self, at_end: bool) -> Option<Vec<u8>> {
        let mut start = 0;
        let mut found = None;
        while let Some(offset) = self.pending[start..]
            .iter()
            .position(|b| *b == b'\n' || *b == b'\r')
        {
            let end = start + offset;
            let next = match self.pending[end] {
                // A CR may be the first half of a CRLF still in flight: wait for the next byte.
                b'\r' if end + 1 == self.pending.len() && !at_end => break,
                b'\r' if self.pending.get(end + 1) == Some(&b'\n') => end + 2,
                _ => end + 1,
            };
            let line = self.pending[start..end].to_vec();
            start = next;
            if line.is_empty() {
                // The spec dispatches no event whose data is empty (rmcp's priming event).
                self.has_data = false;
                if !self.data.is_empty() {
                    found = Some(std::mem::take(&mut self.data));
                    break;
                }
            } else {
                self.line(&line);
            }
        }
        self.pending.drain(..start);
        found
    }

    /// One non-empty line of the current event.
    fn line(&mut self, line: &[u8]) {
        if let Some(value) = line.strip_prefix(b"data:") {
            let value = value.strip_prefix(b" ").unwrap_or(value);
            if self.has_data {
                self.data.push(b'\n');
            }
            self.data.extend_from_slice(value);
            self.has_data = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(chunks: &[&[u8]]) -> Vec<String> {
        let mut sse = SseEvents::default();
        let mut out = Vec::new();
        for chunk in chunks {
            sse.push(chunk);
            while let Some(e) = sse.next_event() {
                out.push(String::from_utf8(e).unwrap());
            }
        }
        out.extend(sse.finish().map(|e| String::from_utf8(e).unwrap()));
        out
    }

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

    #[test]
    fn line_endings_may_be_mixed_in_one_stream() {
        assert_eq!(
            events(&[b"data: a\r\n\ndata: b\n\r\ndata: c\r\rdata: d\n\n"]),
            ["a", "b", "c", "d"]
        );
        // A CRLF split across two chunks is one line end, not a CR then an empty line.
        assert_eq!(events(&[b"data: a\r", b"\ndata: b\r\n\r\n"]), ["a\nb"]);
    }
}
