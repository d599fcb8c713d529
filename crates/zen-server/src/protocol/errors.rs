//! JSON-RPC errors zen answers with, and over HTTP the status each comes with
//! (`2026-07-28/basic#error-codes`, `basic/transports/streamable-http#server-validation`).
use rmcp::model::{ErrorCode, ErrorData};
use serde_json::json;
use zen_model::mcp::code;

use super::versions::SERVED;

/// -32022: the request names a revision zen does not serve; `data` lists the ones it does and
/// echoes the one asked for (`basic/versioning#protocol-version-negotiation`, the schema's
/// `UnsupportedProtocolVersionError`).
pub(crate) fn unsupported_version(requested: &str) -> ErrorData {
    ErrorData::new(
        ErrorCode(code::UNSUPPORTED_PROTOCOL_VERSION),
        "Unsupported protocol version",
        Some(json!({"supported": SERVED, "requested": requested})),
    )
}

/// -32020: a request-metadata header is missing, malformed, or disagrees with the body
/// (`basic/transports/streamable-http#server-validation`).
pub(crate) fn header_mismatch(why: String) -> ErrorData {
    ErrorData::new(ErrorCode(code::HEADER_MISMATCH), why, None)
}

/// -32602: the request's `_meta` lacks a required field (`basic#meta`, "Per-request protocol
/// fields").
pub(crate) fn malformed_meta(missing: &[&str]) -> ErrorData {
    ErrorData::invalid_params(
        format!(
            "request _meta is missing or has malformed required fields: {} (an MCP 2026-07-28 \
             request carries io.modelcontextprotocol/protocolVersion and \
             io.modelcontextprotocol/clientCapabilities in params._meta)",
            missing.join(", ")
        ),
        None,
    )
}

/// -32601: a method zen does not serve in the request's era. At 2026-07-28 the handshake,
/// `ping`, logging and resource subscriptions are gone (`2026-07-28/changelog`), and zen
/// offers tools only.
pub(crate) fn method_not_found(method: &str, modern: bool) -> ErrorData {
    let message = if modern {
        let removed = matches!(
            method,
            "initialize"
                | "ping"
                | "logging/setLevel"
                | "resources/subscribe"
                | "resources/unsubscribe"
        );
        let why = if removed {
            "was removed in MCP 2026-07-28"
        } else {
            "is not served"
        };
        format!(
            "'{method}' {why}: at 2026-07-28 zen serves server/discover, tools/list and tools/call"
        )
    } else {
        format!(
            "unknown method '{method}': zen serves initialize, ping, tools/list, tools/call and logging/setLevel"
        )
    };
    ErrorData::new(ErrorCode::METHOD_NOT_FOUND, message, None)
}

/// The HTTP status of a modern request's error (`basic/transports/streamable-http`,
/// `#server-validation`, `#protocol-version-header`, `basic#meta`): the request-metadata
/// errors (-32020, -32021, -32022, and -32602 about the `_meta`) are 400, an unknown or removed
/// method 404 (its JSON-RPC body tells it from a legacy server's 404); any other error (an
/// unknown tool, bad params) is a JSON-RPC answer, 200. A legacy request's errors are all 200.
pub(crate) fn modern_status(error: &ErrorData, about_meta: bool) -> u16 {
    match error.code.0 {
        code::HEADER_MISMATCH
        | code::MISSING_REQUIRED_CLIENT_CAPABILITY
        | code::UNSUPPORTED_PROTOCOL_VERSION => 400,
        code::INVALID_PARAMS if about_meta => 400,
        code::METHOD_NOT_FOUND => 404,
        _ => 200,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_their_codes_data_and_statuses() {
        let unsupported = unsupported_version("v999.0.0");
        let data = unsupported.data.clone().unwrap();
        assert_eq!(data["requested"], "v999.0.0");
        assert_eq!(data["supported"][0], "2026-07-28");
        assert_eq!(modern_status(&unsupported, false), 400);
        assert_eq!(modern_status(&malformed_meta(&["x"]), true), 400);
        assert_eq!(
            modern_status(&ErrorData::invalid_params("tool", None), false),
            200
        );
        let removed = method_not_found("ping", true);
        assert_eq!(
            (removed.code.0, modern_status(&removed, false)),
            (-32601, 404)
        );
        assert!(removed.message.contains("removed"));
        assert!(method_not_found("x/y", false).message.contains("'x/y'"));
    }
}
