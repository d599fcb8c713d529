//! What an HTTP request's headers must say: a modern request's request-metadata headers
//! (`2026-07-28/basic/transports/streamable-http#request-metadata`, `#server-validation`,
//! `#protocol-version-header`), and the Host and Origin any request may come with
//! (`#security-warning`: servers MUST validate Origin; binding to loopback, they guard against
//! DNS rebinding by the Host).
use axum::http::{HeaderMap, header};
use rmcp::model::{ErrorData, JsonObject};
use serde_json::Value;
use zen_model::mcp::header as names;
use zen_model::mcp::header_value::{self, ParamHeader};

use super::errors::header_mismatch;

/// The one value of a singleton header, if present: visible ASCII, not repeated (a repeated one
/// could be read differently by an intermediary that routes on it).
fn single<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ErrorData> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(header_mismatch(format!("the {name} header is repeated")));
    }
    value.to_str().map(Some).map_err(|_| {
        header_mismatch(format!(
            "the {name} header has characters outside visible ASCII"
        ))
    })
}

/// `MCP-Protocol-Version` is there and names the revision the `_meta` names
/// (`#protocol-version-header`).
pub(crate) fn version_matches(headers: &HeaderMap, meta_version: &str) -> Result<(), ErrorData> {
    match single(headers, names::PROTOCOL_VERSION)? {
        None => Err(header_mismatch(format!(
            "the request names MCP {meta_version} in _meta but has no MCP-Protocol-Version header; \
             send MCP-Protocol-Version: {meta_version}"
        ))),
        Some(value) if value == meta_version => Ok(()),
        Some(value) => Err(header_mismatch(format!(
            "MCP-Protocol-Version header ({value}) does not match request _meta protocolVersion \
             ({meta_version})"
        ))),
    }
}

/// `Mcp-Method` equals the body's method (values are case-sensitive, `#case-sensitivity`), and
/// `Mcp-Name` the name the method carries (`params.name` of tools/call and prompts/get,
/// `params.uri` of resources/read), after Base64 decoding (`#standard-request-headers`).
pub(crate) fn standard(
    headers: &HeaderMap,
    method: &str,
    name: Option<&str>,
) -> Result<(), ErrorData> {
    match single(headers, names::METHOD)? {
        None => {
            return Err(header_mismatch(format!(
                "missing required Mcp-Method header (send Mcp-Method: {method})"
            )));
        }
        Some(value) if value != method => {
            return Err(header_mismatch(format!(
                "Mcp-Method header '{value}' does not match body method '{method}'"
            )));
        }
        Some(_) => {}
    }
    let Some(expected) = name else {
        return Ok(());
    };
    let Some(raw) = single(headers, names::NAME)? else {
        return Err(header_mismatch(format!(
            "missing required Mcp-Name header for '{method}' (send Mcp-Name: {expected})"
        )));
    };
    let decoded = header_value::decode(raw).ok_or_else(|| {
        header_mismatch("the Mcp-Name header is not valid =?base64?…?=".to_string())
    })?;
    if decoded != expected {
        return Err(header_mismatch(format!(
            "Mcp-Name header '{decoded}' does not match body value '{expected}'"
        )));
    }
    Ok(())
}

/// Which field of a request's params `Mcp-Name` mirrors, if its method has one.
pub(crate) fn name_field(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    }
}

/// Each `x-mcp-header` argument of the tool has its `Mcp-Param-*` header exactly when it is
/// present and not null, with the same value (integers compared as numbers) (`#custom-headers`).
pub(crate) fn params(
    headers: &HeaderMap,
    annotated: &[ParamHeader],
    arguments: Option<&JsonObject>,
) -> Result<(), ErrorData> {
    for param in annotated {
        let name = format!("{}{}", names::PARAM_PREFIX, param.header);
        let sent = single(headers, &name)?;
        let body = arguments.and_then(|a| param.value_in(a));
        match (sent, body) {
            (None, None) => {}
            (Some(_), None) => {
                return Err(header_mismatch(format!(
                    "Mcp-Param-{} is sent but '{}' is absent or null in the arguments",
                    param.header,
                    param.path.join(".")
                )));
            }
            (None, Some(_)) => {
                return Err(header_mismatch(format!(
                    "missing Mcp-Param-{} header for the argument '{}'",
                    param.header,
                    param.path.join(".")
                )));
            }
            (Some(raw), Some(value)) => {
                let decoded = header_value::decode(raw).ok_or_else(|| {
                    header_mismatch(format!(
                        "Mcp-Param-{} is not valid =?base64?…?=",
                        param.header
                    ))
                })?;
                if !same_value(&decoded, value) {
                    return Err(header_mismatch(format!(
                        "Mcp-Param-{} header '{decoded}' does not match the argument '{}'",
                        param.header,
                        param.path.join(".")
                    )));
                }
            }
        }
    }
    Ok(())
}

/// A header value against the argument it mirrors: numbers numerically, the rest as text.
fn same_value(header: &str, value: &Value) -> bool {
    match value {
        Value::Number(n) => header.parse::<f64>().ok() == n.as_f64(),
        other => header_value::primitive(other).is_some_and(|v| v == header),
    }
}

/// Host names a loopback-bound server answers to (`#security-warning`: DNS rebinding).
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Browser origins that are always allowed: pages served from this machine.
pub(crate) const LOOPBACK_ORIGINS: [&str; 3] =
    ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"];

/// Which Host and Origin headers a request may carry.
pub(crate) struct Guard {
    /// Allowed origins as (scheme, host, port; `None`: any port), plus `null` if listed.
    origins: Vec<(String, String, Option<u16>)>,
    /// Any Host is fine (`--allow-remote`, where a bearer token guards access).
    any_host: bool,
}

impl Guard {
    /// `origins`: the loopback ones and ZEN_ALLOWED_ORIGINS (`scheme://host`, `:port` or `:*`).
    pub(crate) fn new(origins: &[String], any_host: bool) -> Guard {
        let origins = origins
            .iter()
            .filter_map(|o| {
                let (base, any) = match o.strip_suffix(":*") {
                    Some(base) => (base, true),
                    None => (o.as_str(), false),
                };
                let (scheme, host, port) = parse_origin(base)?;
                Some((scheme, host, if any { None } else { port }))
            })
            .collect();
        Guard { origins, any_host }
    }

    /// Why the request is refused (403), if it is: a Host other than loopback (unless any host
    /// is fine), or an Origin not allowed.
    pub(crate) fn refusal(&self, headers: &HeaderMap) -> Option<&'static str> {
        if !self.any_host {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .and_then(|h| h.parse::<axum::http::uri::Authority>().ok());
            let loopback = host.is_some_and(|a| {
                LOOPBACK_HOSTS.contains(
                    &a.host()
                        .trim_matches(['[', ']'])
                        .to_ascii_lowercase()
                        .as_str(),
                )
            });
            if !loopback {
                return Some(
                    "Forbidden: the Host header is not a loopback name (DNS rebinding guard)",
                );
            }
        }
        let origin = headers.get(header::ORIGIN)?;
        let allowed =
            origin
                .to_str()
                .ok()
                .and_then(parse_origin)
                .is_some_and(|(scheme, host, port)| {
                    self.origins.iter().any(|(s, h, p)| {
                        *s == scheme
                            && *h == host
                            && p.is_none_or(|p| Some(p) == port.or(default_port(&scheme)))
                    })
                });
        (!allowed).then_some("Forbidden: the Origin is not allowed (ZEN_ALLOWED_ORIGINS)")
    }
}

/// (scheme, host, port) of an origin, lower-cased, brackets of an IPv6 host removed.
fn parse_origin(value: &str) -> Option<(String, String, Option<u16>)> {
    let uri: axum::http::Uri = value.trim().parse().ok()?;
    let authority = uri.authority()?;
    Some((
        uri.scheme_str()?.to_ascii_lowercase(),
        authority
            .host()
            .trim_matches(['[', ']'])
            .to_ascii_lowercase(),
        authority.port_u16(),
    ))
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use serde_json::json;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn the_standard_headers_must_match_the_body() {
        let ok = headers(&[
            ("mcp-method", "tools/call"),
            ("Mcp-Name", "=?base64?dmVyc2lvbg==?="),
        ]);
        assert!(standard(&ok, "tools/call", Some("version")).is_ok());
        let cases = [
            headers(&[]),
            headers(&[("mcp-method", "TOOLS/CALL"), ("mcp-name", "version")]),
            headers(&[("mcp-method", "tools/call")]),
            headers(&[("mcp-method", "tools/call"), ("mcp-name", "other")]),
            headers(&[
                ("mcp-method", "tools/call"),
                ("mcp-method", "tools/call"),
                ("mcp-name", "version"),
            ]),
            headers(&[
                ("mcp-method", "tools/call"),
                ("mcp-name", "=?base64?dmVyc2lvbg?="),
            ]),
        ];
        for case in cases {
            let err = standard(&case, "tools/call", Some("version")).unwrap_err();
            assert_eq!(err.code.0, -32020, "{case:?}");
        }
        let v = headers(&[("mcp-protocol-version", "2026-07-28")]);
        assert!(version_matches(&v, "2026-07-28").is_ok());
        assert!(version_matches(&v, "v999.0.0").is_err());
        assert!(version_matches(&headers(&[]), "2026-07-28").is_err());
    }

    #[test]
    fn param_headers_mirror_present_arguments_numerically() {
        let annotated = [ParamHeader {
            path: vec!["n".into()],
            header: "N".into(),
        }];
        let args = json!({"n": 42});
        let args = args.as_object();
        assert!(params(&headers(&[("mcp-param-n", "42.0")]), &annotated, args).is_ok());
        assert!(params(&headers(&[]), &annotated, args).is_err());
        assert!(params(&headers(&[("mcp-param-n", "41")]), &annotated, args).is_err());
        let null = json!({"n": null});
        assert!(
            params(
                &headers(&[("mcp-param-n", "1")]),
                &annotated,
                null.as_object()
            )
            .is_err()
        );
        assert!(params(&headers(&[]), &annotated, null.as_object()).is_ok());
    }

    #[test]
    fn hosts_and_origins_are_guarded() {
        let allowed: Vec<String> = LOOPBACK_ORIGINS.iter().map(ToString::to_string).collect();
        let guard = Guard::new(&allowed, false);
        assert!(
            guard
                .refusal(&headers(&[("host", "127.0.0.1:8931")]))
                .is_none()
        );
        assert!(guard.refusal(&headers(&[("host", "[::1]:80")])).is_none());
        assert!(
            guard
                .refusal(&headers(&[("host", "evil.example.com")]))
                .is_some()
        );
        let local = headers(&[("host", "localhost:1"), ("origin", "http://localhost:3000")]);
        assert!(guard.refusal(&local).is_none());
        let evil = headers(&[
            ("host", "localhost:1"),
            ("origin", "http://evil.example.com"),
        ]);
        assert!(guard.refusal(&evil).is_some());
        let remote = Guard::new(&["https://app.example.com".to_string()], true);
        let ok = headers(&[
            ("host", "zen.example.com"),
            ("origin", "https://app.example.com"),
        ]);
        assert!(remote.refusal(&ok).is_none());
    }
}
