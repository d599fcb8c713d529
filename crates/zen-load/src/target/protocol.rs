//! Which MCP revision a load run speaks to its target (`--protocol`, a scenario's
//! `[target] protocol`). `auto` is what a dual-era client does
//! (`2026-07-28/basic/versioning#backward-compatibility-with-initialization-based-versions`):
//! `server/discover` at 2026-07-28 first, the `initialize` handshake at 2025-11-25 when the
//! server does not know the modern revision.
use std::fmt;

use zen_model::mcp;

/// The revision a session asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// Probe with `server/discover`; fall back to the handshake for a legacy server.
    #[default]
    Auto,
    /// Exactly this revision (one of [`mcp::VERSIONS`]): a server that does not speak it is a
    /// setup error, not a fallback.
    Pinned(&'static str),
}

impl Protocol {
    /// `auto` or a revision zen speaks.
    pub fn parse(text: &str) -> Result<Protocol, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("auto") {
            return Ok(Protocol::Auto);
        }
        mcp::known(text).map(Protocol::Pinned).ok_or_else(|| {
            format!(
                "'{text}' is not a protocol zen speaks: auto, {}",
                mcp::VERSIONS.join(", ")
            )
        })
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::Auto => f.write_str("auto"),
            Protocol::Pinned(version) => f.write_str(version),
        }
    }
}

/// The protocol of each of `sessions` sessions: the choices round robin, at least one session
/// each (a mixed run compares the eras on one server).
pub(crate) fn per_session(choices: &[Protocol], sessions: u32) -> Vec<Protocol> {
    let choices = if choices.is_empty() {
        &[Protocol::Auto][..]
    } else {
        choices
    };
    let total = (sessions as usize).max(choices.len());
    (0..total).map(|i| choices[i % choices.len()]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_and_spread_over_the_sessions() {
        assert_eq!(Protocol::parse("AUTO"), Ok(Protocol::Auto));
        assert_eq!(
            Protocol::parse("2025-06-18"),
            Ok(Protocol::Pinned("2025-06-18"))
        );
        let err = Protocol::parse("2024-11-05").unwrap_err();
        assert!(err.contains("2026-07-28") && err.contains("auto"), "{err}");
        let both = [
            Protocol::Pinned(mcp::MODERN),
            Protocol::Pinned(mcp::LATEST_LEGACY),
        ];
        assert_eq!(per_session(&both, 1).len(), 2);
        assert_eq!(per_session(&both, 3)[2], both[0]);
        assert_eq!(per_session(&[], 2), vec![Protocol::Auto; 2]);
    }
}
