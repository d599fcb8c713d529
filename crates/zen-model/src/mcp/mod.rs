//! MCP's wire vocabulary that zen's server and its load client share: the protocol versions, the
//! HTTP header names, the per-request `_meta` keys, the error codes of the 2026-07-28 revision
//! and the header value codec. Data and pure functions only: the rules that use them (which
//! request is of which era, what a server answers) live in `zen_server::protocol`, the client's
//! in `zen_load::target`. Sections are those of <https://modelcontextprotocol.io/specification>.
pub mod header_value;

/// The revision without a handshake: every request carries its version and capabilities
/// (`2026-07-28/basic/versioning`, "Modern").
pub const MODERN: &str = "2026-07-28";

/// The newest revision with an `initialize` handshake (`2025-11-25/basic/lifecycle`).
pub const LATEST_LEGACY: &str = "2025-11-25";

/// The revision a legacy HTTP request without an `MCP-Protocol-Version` header is taken to
/// speak (`2025-06-18/basic/transports#protocol-version-header`: "the server SHOULD assume
/// protocol version 2025-03-26").
pub const HEADERLESS_LEGACY: &str = "2025-03-26";

/// Every revision zen speaks, as a server and as a client, newest first: the modern one, then
/// the handshake revisions ("Legacy", `2026-07-28/basic/versioning#terminology`).
pub const VERSIONS: [&str; 4] = [MODERN, LATEST_LEGACY, "2025-06-18", HEADERLESS_LEGACY];

/// The handshake revisions zen speaks, newest first.
pub const LEGACY_VERSIONS: [&str; 3] = [LATEST_LEGACY, "2025-06-18", HEADERLESS_LEGACY];

/// The name zen's version string has among [`VERSIONS`], if it is one (so callers can keep a
/// `&'static str`).
pub fn known(version: &str) -> Option<&'static str> {
    VERSIONS.iter().copied().find(|v| *v == version)
}

/// A modern revision: per-request metadata instead of a handshake
/// (`2026-07-28/basic/versioning#terminology`). Dates compare as strings; unknown strings
/// (`v999.0.0` sorts after every date) are not modern, they are unknown.
pub fn is_modern(version: &str) -> bool {
    known(version).is_some_and(|v| v >= MODERN)
}

/// HTTP header names, lower case (`2026-07-28/basic/transports/streamable-http#request-metadata`;
/// names compare case-insensitively, `#case-sensitivity`).
pub mod header {
    /// The request's protocol revision; on every POST at 2026-07-28, after `initialize` before.
    pub const PROTOCOL_VERSION: &str = "mcp-protocol-version";
    /// The body's `method`, verbatim (2026-07-28, `#standard-request-headers`).
    pub const METHOD: &str = "mcp-method";
    /// `params.name` of tools/call and prompts/get, `params.uri` of resources/read.
    pub const NAME: &str = "mcp-name";
    /// Prefix of the headers mirroring `x-mcp-header` tool arguments (`#custom-headers`).
    pub const PARAM_PREFIX: &str = "mcp-param-";
    /// The legacy session (2025 revisions; ignored at 2026-07-28).
    pub const SESSION_ID: &str = "mcp-session-id";
}

/// Keys of `params._meta` and `result._meta` (`2026-07-28/basic#meta`).
pub mod meta {
    /// The request's revision (required on every modern request).
    pub const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
    /// The client's capabilities for this request (required; `{}` declares none).
    pub const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
    /// Who the client is (SHOULD be sent; a server MUST NOT require it).
    pub const CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
    /// Who the server is, in every modern result's `_meta` (SHOULD).
    pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
    /// Opts one request in to `notifications/message`.
    pub const LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
}

/// JSON-RPC error codes (`2026-07-28/basic#error-codes`).
pub mod code {
    /// Invalid JSON.
    pub const PARSE_ERROR: i32 = -32700;
    /// Not a JSON-RPC request.
    pub const INVALID_REQUEST: i32 = -32600;
    /// Unknown, removed or unimplemented method.
    pub const METHOD_NOT_FOUND: i32 = -32601;
    /// Bad params, a missing `_meta` key, an unknown tool.
    pub const INVALID_PARAMS: i32 = -32602;
    /// The server failed.
    pub const INTERNAL_ERROR: i32 = -32603;
    /// A request-metadata header is missing or disagrees with the body.
    pub const HEADER_MISMATCH: i32 = -32020;
    /// The request needs a client capability it did not declare.
    pub const MISSING_REQUIRED_CLIENT_CAPABILITY: i32 = -32021;
    /// The server does not serve the requested revision (`data: {supported, requested}`).
    pub const UNSUPPORTED_PROTOCOL_VERSION: i32 = -32022;
}

/// `result.resultType` values (`2026-07-28/basic#resulttype`); absent means complete.
pub mod result_type {
    /// A final result.
    pub const COMPLETE: &str = "complete";
    /// The server needs the client's answers first (`basic/patterns/mrtr`).
    pub const INPUT_REQUIRED: &str = "input_required";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_newest_first_and_only_the_known_modern_one_is_modern() {
        let mut sorted = VERSIONS;
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(sorted, VERSIONS);
        assert!(is_modern(MODERN));
        assert!(!is_modern(LATEST_LEGACY));
        // Sorts after every date, but nobody speaks it.
        assert!(!is_modern("v999.0.0"));
        assert_eq!(known("2025-06-18"), Some("2025-06-18"));
        assert_eq!(known("2024-11-05"), None);
    }
}
