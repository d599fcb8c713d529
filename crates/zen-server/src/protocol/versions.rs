//! The revisions zen serves (`2026-07-28/basic/versioning`).
use rmcp::model::ProtocolVersion;
use zen_model::mcp;

/// Every revision zen serves, newest first: the ones it also speaks as a client
/// ([`mcp::VERSIONS`]) and 2024-11-05, which older clients still name in `initialize`. The
/// list `server/discover` advertises and a -32022 names.
pub(crate) const SERVED: [&str; 5] = [
    mcp::MODERN,
    mcp::LATEST_LEGACY,
    "2025-06-18",
    mcp::HEADERLESS_LEGACY,
    "2024-11-05",
];

/// The revision zen calls `version`, if it serves it.
pub(crate) fn served(version: &str) -> Option<&'static str> {
    SERVED.iter().copied().find(|v| *v == version)
}

/// The revisions with an `initialize` handshake, which legacy state is scoped to
/// (`2026-07-28/basic/versioning#backward-compatibility-with-initialization-based-versions`).
pub(crate) fn has_handshake(version: &str) -> bool {
    version < mcp::MODERN
}

/// What zen answers to an `initialize` naming `requested`
/// (`2025-11-25/basic/lifecycle#version-negotiation`): that revision when zen serves it with a
/// handshake, else the newest handshake revision zen serves (a client asking for 2026-07-28 in
/// `initialize` gets 2025-11-25: there is no handshake at 2026-07-28).
#[cfg(test)]
pub(crate) fn negotiate(requested: &str) -> &'static str {
    served(requested)
        .filter(|v| has_handshake(v))
        .unwrap_or(mcp::LATEST_LEGACY)
}

/// rmcp's name for a revision zen serves.
pub(crate) fn rmcp(version: &'static str) -> ProtocolVersion {
    ProtocolVersion::KNOWN_VERSIONS
        .iter()
        .find(|known| known.as_str() == version)
        .cloned()
        .unwrap_or(ProtocolVersion::LATEST_WITH_INITIALIZE)
}

/// [`SERVED`] as rmcp's type (what the rmcp handler advertises too, so both paths agree).
pub(crate) fn rmcp_served() -> Vec<ProtocolVersion> {
    SERVED.iter().map(|v| rmcp(v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initialize_agrees_to_a_handshake_revision_and_only_to_one() {
        assert_eq!(negotiate("2025-06-18"), "2025-06-18");
        assert_eq!(negotiate("2024-11-05"), "2024-11-05");
        assert_eq!(negotiate("2026-07-28"), "2025-11-25");
        assert_eq!(negotiate("1999-01-01"), "2025-11-25");
        assert_eq!(rmcp_served().len(), SERVED.len());
        assert!(SERVED.iter().all(|v| rmcp(v).as_str() == *v));
    }
}
