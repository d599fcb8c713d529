//! What a request's `params._meta` says and must say (`2026-07-28/basic#meta`).
use rmcp::model::ErrorData;
use zen_model::mcp::meta;

use super::errors;
use super::params::RequestMeta;
use super::versions;

/// The revision a request names in its `_meta`, if it names one: such a request is served
/// statelessly, by this revision's rules, whatever came before it
/// (`basic/versioning#backward-compatibility-with-initialization-based-versions`).
pub(crate) fn named_version(meta: Option<&RequestMeta>) -> Option<&str> {
    meta?.version()
}

/// The checks on a request carrying per-request metadata, in the order the conformance suite's
/// `server-stateless` probes expect them (a missing field before a version mismatch): every
/// required field is there and well formed (-32602), and the revision is one zen serves
/// (-32022). On HTTP the header checks come between the two (see [`super::headers`]).
pub(crate) fn required_fields(meta: Option<&RequestMeta>) -> Result<&str, ErrorData> {
    let version = meta.and_then(RequestMeta::version);
    let capabilities = meta.is_some_and(|m| m.capabilities);
    match (version, capabilities) {
        (Some(version), true) => Ok(version),
        (None, true) => Err(errors::malformed_meta(&[meta::PROTOCOL_VERSION])),
        (Some(_), false) => Err(errors::malformed_meta(&[meta::CLIENT_CAPABILITIES])),
        (None, false) => Err(errors::malformed_meta(&[
            meta::PROTOCOL_VERSION,
            meta::CLIENT_CAPABILITIES,
        ])),
    }
}

/// The revision, if zen serves it; -32022 naming the ones it does if not
/// (`basic/versioning#protocol-version-negotiation`).
pub(crate) fn supported(version: &str) -> Result<&'static str, ErrorData> {
    versions::served(version).ok_or_else(|| errors::unsupported_version(version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::params::meta_of as object;
    use serde_json::json;

    #[test]
    fn required_fields_are_checked_before_the_version() {
        let full = object(json!({meta::PROTOCOL_VERSION: "v9", meta::CLIENT_CAPABILITIES: {}}));
        assert_eq!(required_fields(Some(&full)), Ok("v9"));
        assert_eq!(supported("v9").unwrap_err().code.0, -32022);
        assert_eq!(supported("2026-07-28"), Ok("2026-07-28"));
        let no_caps = object(json!({meta::PROTOCOL_VERSION: "2026-07-28"}));
        let err = required_fields(Some(&no_caps)).unwrap_err();
        assert!(
            err.message.contains(meta::CLIENT_CAPABILITIES),
            "{}",
            err.message
        );
        let err = required_fields(None).unwrap_err();
        assert!(
            err.message.contains(meta::PROTOCOL_VERSION) && err.message.contains("Capabilities")
        );
        let bad_caps =
            object(json!({meta::PROTOCOL_VERSION: "2026-07-28", meta::CLIENT_CAPABILITIES: []}));
        assert!(required_fields(Some(&bad_caps)).is_err());
        assert_eq!(named_version(Some(&no_caps)), Some("2026-07-28"));
    }
}
