//! Text bound for a terminal. A report carries text from elsewhere (a server's error messages,
//! a file from another machine), and `zen report show` once printed its escape sequences
//! verbatim: a report could retitle the terminal, hide lines or rewrite what was shown. Control
//! characters other than newline and tab are shown as visible escapes instead.
use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every control character but `\n` and `\t` written as `\xNN` (C0, DEL) or
/// `\u{NN}` (C1).
pub(crate) fn safe(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !unsafe_char(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible_text() {
        assert_eq!(safe("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(
            safe("\u{1b}]0;pwned\u{7}\u{1b}[2J\r\u{9b}x"),
            "\\x1b]0;pwned\\x07\\x1b[2J\\x0d\\u{9b}x"
        );
    }
}
