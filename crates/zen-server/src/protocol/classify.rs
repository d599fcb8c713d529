//! Which era a request is served in. The rule (`2026-07-28/basic/versioning`, end of
//! "Backward Compatibility with Initialization-Based Versions"): "A request carrying modern
//! per-request `_meta` is served statelessly according to this revision. An `initialize`
//! request selects legacy semantics, scoped to the stdio process (stdio) or the session
//! (HTTP)." Both eras are served at once, on one endpoint and on one pipe.
use super::versions;

/// How a request is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// On its own, by the revision its `_meta` names (checked first: [`super::meta`], and on
    /// HTTP [`super::headers`]).
    Inline,
    /// The legacy handshake: `initialize` with `params.protocolVersion`.
    Handshake,
    /// In the legacy session (HTTP) or process (stdio) an `initialize` began.
    Legacy,
}

/// Methods that exist only in modern revisions.
fn modern_only(method: &str) -> bool {
    matches!(method, "server/discover" | "subscriptions/listen")
}

/// The route of an HTTP request, from its method, the revision its `_meta` names, its
/// `MCP-Protocol-Version` header, and (for `initialize`) whether its params name a revision as
/// a 2025 handshake does. This is the classification the spec's dual-era guidance gives, and
/// what rmcp and the Python SDK do:
/// - `initialize` shaped as a handshake is one; shaped as a modern request (`_meta`, no
///   `params.protocolVersion`) it is a modern request for a removed method (404);
/// - `_meta` naming a revision, or a modern-only method, is inline;
/// - an `MCP-Protocol-Version` header naming no handshake revision (2026-07-28, or one zen does
///   not know) is inline too: it then fails on its missing `_meta`, which says what to send;
/// - anything else is legacy: the session (or, stateless, none) serves it.
pub(crate) fn http(
    method: &str,
    meta_version: Option<&str>,
    header_version: Option<&str>,
    handshake_shaped: bool,
) -> Route {
    if method == "initialize" {
        return if handshake_shaped {
            Route::Handshake
        } else {
            Route::Inline
        };
    }
    let header_is_modern = header_version
        .is_some_and(|v| versions::served(v).is_none_or(|v| !versions::has_handshake(v)));
    if meta_version.is_some() || modern_only(method) || header_is_modern {
        Route::Inline
    } else {
        Route::Legacy
    }
}

/// The route of a request on stdio, given whether an `initialize` has begun legacy semantics
/// for the process. Before that, a request without `_meta` is checked as an inline one, so a
/// probing client gets a -32602 naming what is missing (rmcp does the same); `ping` is still
/// answered, as rmcp answers it before the handshake.
pub(crate) fn stdio(method: &str, meta_version: Option<&str>, initialized: bool) -> Route {
    if meta_version.is_some() || modern_only(method) {
        Route::Inline
    } else if method == "initialize" {
        Route::Handshake
    } else if initialized || method == "ping" {
        Route::Legacy
    } else {
        Route::Inline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_requests_are_routed_by_meta_header_and_method() {
        assert_eq!(http("initialize", None, None, true), Route::Handshake);
        assert_eq!(
            http("initialize", Some("2026-07-28"), Some("2026-07-28"), false),
            Route::Inline
        );
        assert_eq!(
            http("tools/call", Some("2026-07-28"), None, false),
            Route::Inline
        );
        assert_eq!(http("server/discover", None, None, false), Route::Inline);
        assert_eq!(
            http("tools/call", None, Some("2026-07-28"), false),
            Route::Inline
        );
        assert_eq!(
            http("tools/call", None, Some("1999-01-01"), false),
            Route::Inline
        );
        assert_eq!(
            http("tools/call", None, Some("2025-06-18"), false),
            Route::Legacy
        );
        assert_eq!(http("tools/call", None, None, false), Route::Legacy);
    }

    #[test]
    fn stdio_requests_are_routed_by_meta_and_the_handshake() {
        assert_eq!(stdio("tools/call", Some("2026-07-28"), true), Route::Inline);
        assert_eq!(stdio("initialize", None, false), Route::Handshake);
        assert_eq!(stdio("tools/call", None, true), Route::Legacy);
        assert_eq!(stdio("tools/call", None, false), Route::Inline);
        assert_eq!(stdio("ping", None, false), Route::Legacy);
    }
}
