//! How an HTTP session starts, per `--protocol`
//! (`2026-07-28/basic/transports/streamable-http#backward-compatibility`):
//! - `2026-07-28`: `server/discover` with the modern `_meta`; a -32022 naming versions zen
//!   speaks is retried with one of them (the same one once: a server may reject a first probe
//!   only to see the retry); a server that does not speak it is a setup error;
//! - a legacy revision: `initialize` then `notifications/initialized`;
//! - `auto`: the first, and the second when the server shows it is legacy: any status or
//!   JSON-RPC error that is not a modern rejection (-32020, -32021, -32022, or -32602 about the
//!   `_meta`), so a legacy server's 400, 404 or 405 to an unknown method all fall back.
use std::collections::BTreeMap;

use rmcp::model::{
    ClientCapabilities, ClientConfig, Implementation, InitializeResult, ProtocolVersion,
};
use serde::Deserialize;
use serde_json::Value;

use super::modern::Envelope;
use super::pool::Pool;
use super::reply::answered;
use super::session::{Era, HttpSession, SESSION_ID, endpoint};
use crate::target::outcome::CallError;
use crate::target::protocol::Protocol;
use zen_model::mcp::{self, code, meta};

/// Discover attempts at most (a first try and the retries a -32022 allows).
const MAX_DISCOVER_TRIES: usize = 3;

/// What `server/discover` is read for.
#[derive(Deserialize)]
struct Discovered {
    /// The revisions the server serves.
    #[serde(rename = "supportedVersions", default)]
    supported: Vec<String>,
    /// Where 2026-07-28 puts serverInfo.
    #[serde(rename = "_meta", default)]
    meta: BTreeMap<String, Value>,
    /// Where some servers still put it (tolerated).
    #[serde(rename = "serverInfo")]
    server_info: Option<Implementation>,
}

/// Where a discover probe left us.
enum Probe {
    /// A modern session, ready.
    Modern(Box<HttpSession>),
    /// The server is legacy, as this shows.
    Legacy(String),
}

impl HttpSession {
    /// Start a session at `url` speaking `protocol`, as `client` (the caller bounds the time).
    pub(crate) async fn connect(
        pool: &Pool,
        url: &str,
        protocol: Protocol,
        client: &Implementation,
    ) -> Result<HttpSession, CallError> {
        let uri = endpoint(url)?;
        let session = match protocol {
            Protocol::Auto => match discover(pool, &uri, mcp::MODERN, client).await? {
                Probe::Modern(session) => *session,
                Probe::Legacy(why) => {
                    tracing::debug!(%url, %why, "the server is legacy: initialize");
                    initialize(pool, uri, mcp::LATEST_LEGACY, client).await?
                }
            },
            Protocol::Pinned(version) if mcp::is_modern(version) => {
                match discover(pool, &uri, version, client).await? {
                    Probe::Modern(session) => *session,
                    Probe::Legacy(why) => {
                        return Err(CallError::Transport(format!(
                            "the server does not speak MCP {version}: {why}. --protocol auto \
                             falls back to the 2025 handshake"
                        )));
                    }
                }
            }
            Protocol::Pinned(version) => initialize(pool, uri, version, client).await?,
        };
        Ok(session)
    }
}

/// Probe with `server/discover` at `version`.
async fn discover(
    pool: &Pool,
    uri: &hyper::Uri,
    version: &'static str,
    client: &Implementation,
) -> Result<Probe, CallError> {
    let mut candidate = version;
    let mut tried: Vec<&'static str> = Vec::new();
    loop {
        tried.push(candidate);
        let envelope = Envelope::new(candidate, client);
        let mut session = HttpSession::new(pool, uri.clone(), Era::Modern(envelope));
        let reply = session
            .request::<_, Discovered>("server/discover", &serde_json::json!({}), None, None)
            .await;
        let err = match reply {
            Ok(answered) => {
                let found = answered.result;
                if !found.supported.iter().any(|v| v == candidate) {
                    return Ok(Probe::Legacy(format!(
                        "its server/discover lists {} but not {candidate}",
                        found.supported.join(", ")
                    )));
                }
                session.server = server_info(found.meta, found.server_info);
                session.protocol = candidate.to_string();
                return Ok(Probe::Modern(Box::new(session)));
            }
            Err(err) => err,
        };
        match &err {
            CallError::JsonRpc {
                code: code::UNSUPPORTED_PROTOCOL_VERSION,
                data,
                ..
            } => {
                let supported = supported_versions(data.as_ref());
                let retry = supported.iter().copied().find(|v| {
                    mcp::is_modern(v)
                        && tried.iter().filter(|t| *t == v).count() < 2
                        && tried.len() < MAX_DISCOVER_TRIES
                });
                match retry {
                    Some(next) => candidate = next,
                    None if supported.iter().any(|v| !mcp::is_modern(v)) => {
                        return Ok(Probe::Legacy(format!(
                            "it supports {} only",
                            supported.join(", ")
                        )));
                    }
                    None => return Err(err),
                }
            }
            // A modern rejection, an authorization problem, or no answer at all: not a sign
            // of a legacy server.
            _ if is_modern_rejection(&err) => return Err(err),
            CallError::Http {
                status: 401 | 403, ..
            }
            | CallError::InputRequired(_)
            | CallError::Transport(_) => return Err(err),
            CallError::JsonRpc { .. } | CallError::Http { .. } => {
                return Ok(Probe::Legacy(format!("server/discover was answered {err}")));
            }
        }
    }
}

/// A modern server refusing the request itself: -32020, -32021, or -32602 about the `_meta`
/// (`2026-07-28/basic/transports/streamable-http#backward-compatibility`: do not fall back).
fn is_modern_rejection(err: &CallError) -> bool {
    match err {
        CallError::JsonRpc { code, message, .. } => {
            matches!(
                *code,
                code::HEADER_MISMATCH | code::MISSING_REQUIRED_CLIENT_CAPABILITY
            ) || (*code == code::INVALID_PARAMS && message.contains("_meta"))
        }
        _ => false,
    }
}

/// The versions a -32022 lists that zen speaks, in the server's order.
fn supported_versions(data: Option<&Value>) -> Vec<&'static str> {
    let listed = data
        .and_then(|d| d.get("supported"))
        .and_then(Value::as_array);
    listed
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().and_then(mcp::known))
        .collect()
}

/// serverInfo from a modern result's `_meta`, else from the body, else unknown.
fn server_info(mut meta: BTreeMap<String, Value>, body: Option<Implementation>) -> Implementation {
    meta.remove(meta::SERVER_INFO)
        .and_then(|v| serde_json::from_value(v).ok())
        .or(body)
        .unwrap_or_else(|| Implementation::new("unknown", "?"))
}

/// The `initialize` handshake at `version`, then `notifications/initialized`.
async fn initialize(
    pool: &Pool,
    uri: hyper::Uri,
    version: &'static str,
    client: &Implementation,
) -> Result<HttpSession, CallError> {
    let legacy = Era::Legacy {
        session_id: None,
        version: None,
    };
    let mut session = HttpSession::new(pool, uri, legacy);
    let config = ClientConfig::new(ClientCapabilities::default(), client.clone())
        .with_protocol_version(rmcp_version(version));
    let (resp, id) = session.send(0, "initialize", &config, None, None).await?;
    session
        .next_id
        .store(1, std::sync::atomic::Ordering::Relaxed);
    let session_id = resp.headers.get(SESSION_ID).cloned();
    let init: InitializeResult = answered(resp, id, "initialize").await?.result;
    let negotiated = init.protocol_version.to_string();
    session.server = init.server_info;
    session.era = match mcp::known(&negotiated) {
        // A server may answer with a revision that has no handshake; from there every
        // request carries its own metadata.
        Some(modern) if mcp::is_modern(modern) => Era::Modern(Envelope::new(modern, client)),
        _ => Era::Legacy {
            session_id,
            version: hyper::header::HeaderValue::from_str(&negotiated).ok(),
        },
    };
    if negotiated != version {
        tracing::info!(asked = version, %negotiated, "the server negotiated another MCP revision");
    }
    session.protocol = negotiated;
    if !session.is_modern() {
        initialized(&session).await?;
    }
    Ok(session)
}

/// `notifications/initialized`: the server answers 202 with no body.
async fn initialized(session: &HttpSession) -> Result<(), CallError> {
    let body = br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    let headers = session.headers("notifications/initialized", None, None);
    let resp = session
        .post(headers, axum::body::Bytes::from_static(body))
        .await?;
    if !resp.status.is_success() {
        return Err(CallError::Http {
            status: resp.status.as_u16(),
            body: "notifications/initialized was refused".to_string(),
        });
    }
    Ok(())
}

/// rmcp's name for one of zen's revisions.
pub(crate) fn rmcp_version(version: &str) -> ProtocolVersion {
    ProtocolVersion::KNOWN_VERSIONS
        .iter()
        .find(|known| known.as_str() == version)
        .cloned()
        .unwrap_or(ProtocolVersion::LATEST_WITH_INITIALIZE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn modern_rejections_are_not_a_legacy_server() {
        let rejection =
            |code, message: &str| CallError::json_rpc(code, message.into(), None, Some(400));
        assert!(is_modern_rejection(&rejection(-32020, "header")));
        assert!(is_modern_rejection(&rejection(
            -32602,
            "request _meta is missing"
        )));
        assert!(!is_modern_rejection(&rejection(-32602, "Unknown tool")));
        assert!(!is_modern_rejection(&rejection(-32601, "server/discover")));
        let data = json!({"supported": ["2026-07-28", "2024-11-05", "2025-11-25"]});
        assert_eq!(
            supported_versions(Some(&data)),
            ["2026-07-28", "2025-11-25"]
        );
        let info = server_info(
            BTreeMap::from([(
                meta::SERVER_INFO.to_string(),
                json!({"name": "s", "version": "1"}),
            )]),
            None,
        );
        assert_eq!(info.name, "s");
        assert_eq!(rmcp_version("2025-06-18"), ProtocolVersion::V_2025_06_18);
    }
}
