//! stdio's framing (`2026-07-28/basic/transports/stdio`: one UTF-8 JSON-RPC message per line):
//! bytes from stdin become lines, a line past ZEN_MAX_MESSAGE_BYTES keeps only its start (to
//! find the request's id for the error reply) while the rest is counted and dropped, so no line
//! grows memory past the limit.
use rmcp::model::RequestId;

/// Bytes kept of an oversized line: enough to find its id.
const KEPT: usize = 4096;

/// A line being assembled across reads.
#[derive(Default)]
pub(super) struct Lines {
    /// The line so far (when it spans reads).
    line: Vec<u8>,
    /// Bytes of an oversized line seen so far.
    oversized: Option<usize>,
}

/// One line out of the input.
#[derive(Clone, Copy)]
pub(super) enum Line<'a> {
    /// A whole line (its newline included).
    Whole(&'a [u8]),
    /// A line over the limit: its start and its size.
    Oversized(&'a [u8], usize),
}

impl Lines {
    /// Take the next line out of `buf` (`limit`: the largest line accepted); the bytes used,
    /// and the line if one is complete. `eof`: `buf` is all there will be.
    pub(super) fn next<'a>(
        &'a mut self,
        buf: &'a [u8],
        limit: usize,
        eof: bool,
    ) -> (usize, Option<Line<'a>>) {
        let end = buf.iter().position(|b| *b == b'\n');
        let (chunk, complete) = match end {
            Some(i) => (&buf[..=i], true),
            None => (
                buf,
                eof && (!buf.is_empty() || !self.line.is_empty() || self.oversized.is_some()),
            ),
        };
        let used = chunk.len();
        if let Some(seen) = &mut self.oversized {
            *seen += used;
        } else if self.line.len() + used > limit {
            let total = self.line.len() + used;
            let room = KEPT.saturating_sub(self.line.len());
            self.line.extend_from_slice(&chunk[..used.min(room)]);
            self.oversized = Some(total);
        } else if complete && self.line.is_empty() {
            // The common case: the whole line is in this read; no copy.
            return (used, Some(Line::Whole(chunk)));
        } else {
            self.line.extend_from_slice(chunk);
        }
        if !complete {
            return (used, None);
        }
        let line = match self.oversized.take() {
            Some(size) => Line::Oversized(&self.line, size),
            None => Line::Whole(&self.line),
        };
        (used, Some(line))
    }

    /// Forget the line just handed out (keeping the buffer unless one large line grew it).
    pub(super) fn done(&mut self) {
        self.line.clear();
        if self.line.capacity() > 64 * 1024 {
            self.line = Vec::new();
        }
    }
}

/// Strip the newline, a carriage return, a UTF-8 byte order mark and surrounding white space.
pub(super) fn trim(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    line.trim_ascii()
}

/// Find `"id": <number or string>` near the start of a (truncated) JSON-RPC message.
pub(super) fn find_id(start: &[u8]) -> Option<RequestId> {
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
    serde_json::from_str(&after[..end]).ok()
}

/// What a line that is not a readable message still says, read leniently (invalid UTF-8
/// replaced): its id, and whether it is a notification (a method and no id).
pub(super) fn salvage(line: &[u8]) -> (Option<RequestId>, bool) {
    let value = serde_json::from_slice::<serde_json::Value>(line)
        .ok()
        .or_else(|| serde_json::from_str(&String::from_utf8_lossy(line)).ok());
    let Some(value) = value else {
        return (None, false);
    };
    let id = value
        .get("id")
        .and_then(|id| serde_json::from_value(id.clone()).ok());
    let notification = value.get("method").is_some() && value.get("id").is_none();
    (id, notification)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_cut_at_newlines_and_oversized_ones_keep_only_their_start() {
        let mut lines = Lines::default();
        let (used, line) = lines.next(b"{\"a\":1}\n{\"b\"", 100, false);
        assert_eq!(used, 8);
        assert!(matches!(line, Some(Line::Whole(b"{\"a\":1}\n"))));
        let (used, line) = lines.next(b"{\"b\"", 100, false);
        assert_eq!((used, line.is_none()), (4, true));
        let (_, line) = lines.next(b":2}", 100, true);
        assert!(matches!(line, Some(Line::Whole(b"{\"b\":2}"))));
        lines.done();
        let big = vec![b'x'; 300];
        let (_, line) = lines.next(&big, 100, false);
        assert!(line.is_none());
        let (_, line) = lines.next(b"yy\n", 100, false);
        assert!(matches!(line, Some(Line::Oversized(start, 303)) if start.len() == 300));
    }

    #[test]
    fn ids_are_found_in_truncated_or_broken_messages() {
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
        assert_eq!(
            salvage(b"{\"id\":9,\"x\":\"\xff\"}"),
            (Some(RequestId::Number(9)), false)
        );
        assert_eq!(salvage(b"{\"method\":\"n\",\"x\":\"\xff\"}"), (None, true));
        assert_eq!(trim(b"\xEF\xBB\xBF{}\r\n"), b"{}");
    }
}
