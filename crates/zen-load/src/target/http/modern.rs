//! What a request carries on HTTP, per era. A 2026-07-28 request has no session: it names its
//! revision, capabilities and client in `params._meta` (`basic#meta`) and repeats the revision,
//! the method and the name in headers (`basic/transports/streamable-http#request-metadata`),
//! plus an `Mcp-Param-*` header for each argument its tool's schema marks with `x-mcp-header`
//! (`server/tools#x-mcp-header`). A legacy request is the plain JSON-RPC body.
use std::collections::HashMap;

use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use rmcp::model::{Implementation, JsonObject, Tool};
use serde::Serialize;

use zen_model::mcp::header_value::{self, ParamHeader};
use zen_model::mcp::{header, meta};

const MCP_METHOD: HeaderName = HeaderName::from_static(header::METHOD);
const MCP_NAME: HeaderName = HeaderName::from_static(header::NAME);
pub(super) const PROTOCOL_VERSION: HeaderName = HeaderName::from_static(header::PROTOCOL_VERSION);

/// The per-request metadata of a modern session, encoded once.
pub(super) struct Envelope {
    /// `MCP-Protocol-Version`: the same revision.
    version_header: HeaderValue,
    /// `"_meta":{…}`, spliced into every request's params.
    meta: Vec<u8>,
}

impl Envelope {
    /// Requests at `version` from `client`, declaring no capabilities (a load test answers no
    /// elicitation, sampling or roots request).
    pub(super) fn new(version: &'static str, client: &Implementation) -> Self {
        let meta = serde_json::json!({
            meta::PROTOCOL_VERSION: version,
            meta::CLIENT_CAPABILITIES: {},
            meta::CLIENT_INFO: {"name": client.name, "version": client.version},
        });
        let mut encoded = b"\"_meta\":".to_vec();
        encoded.extend_from_slice(meta.to_string().as_bytes());
        Envelope {
            version_header: HeaderValue::from_static(version),
            meta: encoded,
        }
    }

    /// The body of request `id`: `params` (a JSON object) with `_meta` added.
    pub(super) fn body<P: Serialize>(
        &self,
        id: u64,
        method: &str,
        params: &P,
    ) -> Result<Vec<u8>, serde_json::Error> {
        let params = serde_json::to_vec(params)?;
        let rest = params
            .strip_prefix(b"{")
            .ok_or_else(|| serde::ser::Error::custom("request params must be a JSON object"))?;
        let mut body = head(id, method, params.len() + self.meta.len() + 2)?;
        body.push(b'{');
        body.extend_from_slice(&self.meta);
        if rest != b"}" {
            body.push(b',');
        }
        body.extend_from_slice(rest);
        body.push(b'}');
        Ok(body)
    }

    /// `MCP-Protocol-Version`, `Mcp-Method` and, given one, `Mcp-Name` (Base64 only when the
    /// value cannot travel bare).
    pub(super) fn headers(&self, headers: &mut HeaderMap, method: &str, name: Option<&str>) {
        headers.insert(PROTOCOL_VERSION, self.version_header.clone());
        let method = match method {
            "tools/call" => HeaderValue::from_static("tools/call"),
            other => HeaderValue::from_str(other).unwrap_or(HeaderValue::from_static("")),
        };
        headers.insert(MCP_METHOD, method);
        if let Some(name) = name
            && let Ok(value) = HeaderValue::from_str(&header_value::encode(name))
        {
            headers.insert(MCP_NAME, value);
        }
    }
}

/// The body of a legacy request `id`.
pub(super) fn legacy_body<P: Serialize>(
    id: u64,
    method: &str,
    params: &P,
) -> Result<Vec<u8>, serde_json::Error> {
    let params = serde_json::to_vec(params)?;
    let mut body = head(id, method, params.len() + 1)?;
    body.extend_from_slice(&params);
    body.push(b'}');
    Ok(body)
}

/// `{"jsonrpc":"2.0","id":ID,"method":"METHOD","params":` with room for `more` bytes.
fn head(id: u64, method: &str, more: usize) -> Result<Vec<u8>, serde_json::Error> {
    let mut body = Vec::with_capacity(64 + method.len() + more);
    body.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
    body.extend_from_slice(id.to_string().as_bytes());
    body.extend_from_slice(b",\"method\":");
    serde_json::to_writer(&mut body, method)?;
    body.extend_from_slice(b",\"params\":");
    Ok(body)
}

/// The `x-mcp-header` annotations of the tools a modern HTTP session may call.
#[derive(Default)]
pub(crate) struct ToolHeaders {
    /// Tool name → its annotated arguments and their header names.
    annotated: HashMap<String, Vec<(ParamHeader, HeaderName)>>,
}

impl ToolHeaders {
    /// Add an `Mcp-Param-*` header for each annotated argument of `tool` present and not null.
    pub(super) fn add(&self, headers: &mut HeaderMap, tool: &str, arguments: Option<&JsonObject>) {
        let (Some(params), Some(arguments)) = (self.annotated.get(tool), arguments) else {
            return;
        };
        for (param, name) in params {
            let Some(value) = param.value_in(arguments).and_then(header_value::primitive) else {
                continue;
            };
            if let Ok(value) = HeaderValue::from_str(&header_value::encode(&value)) {
                headers.insert(name.clone(), value);
            }
        }
    }
}

/// A tool list screened for a modern HTTP client: the tools it may call, their annotations, and
/// the tools it MUST drop (`server/tools#x-mcp-header`: an invalid annotation), each with why.
pub(crate) fn screen(tools: Vec<Tool>) -> (Vec<Tool>, ToolHeaders, Vec<(String, String)>) {
    let mut kept = Vec::with_capacity(tools.len());
    let mut headers = ToolHeaders::default();
    let mut dropped = Vec::new();
    for tool in tools {
        match header_value::param_headers(&tool.input_schema) {
            Ok(params) => {
                let named: Vec<_> = params
                    .into_iter()
                    .filter_map(|p| {
                        let name = format!("{}{}", header::PARAM_PREFIX, p.header);
                        HeaderName::from_bytes(name.as_bytes()).ok().map(|n| (p, n))
                    })
                    .collect();
                if !named.is_empty() {
                    headers.annotated.insert(tool.name.to_string(), named);
                }
                kept.push(tool);
            }
            Err(why) => {
                tracing::warn!(tool = %tool.name, %why, "dropping a tool whose x-mcp-header annotation is invalid");
                dropped.push((tool.name.to_string(), why));
            }
        }
    }
    (kept, headers, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn modern_bodies_carry_the_meta_and_legacy_ones_do_not() {
        let envelope = Envelope::new("2026-07-28", &Implementation::new("zen-load", "1"));
        let body = envelope.body(7, "tools/list", &json!({})).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["id"], 7);
        assert_eq!(v["params"]["_meta"][meta::PROTOCOL_VERSION], "2026-07-28");
        assert_eq!(v["params"]["_meta"][meta::CLIENT_CAPABILITIES], json!({}));
        let body = envelope
            .body(
                8,
                "tools/call",
                &json!({"name": "add", "arguments": {"a": 1}}),
            )
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["params"]["arguments"]["a"], 1);
        assert_eq!(v["params"]["_meta"][meta::CLIENT_INFO]["name"], "zen-load");
        let legacy = legacy_body(9, "tools/list", &json!({})).unwrap();
        assert_eq!(
            legacy,
            br#"{"jsonrpc":"2.0","id":9,"method":"tools/list","params":{}}"#
        );
    }

    #[test]
    fn annotated_arguments_become_headers_and_invalid_tools_are_dropped() {
        let schema = |s: serde_json::Value| std::sync::Arc::new(s.as_object().unwrap().clone());
        let good = Tool::new(
            "good",
            "d",
            schema(json!({"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "verbose": {"type": "boolean", "x-mcp-header": "Verbose"}}})),
        );
        let bad = Tool::new(
            "bad",
            "d",
            schema(json!({"properties": {"f": {"type": "number", "x-mcp-header": "F"}}})),
        );
        let (kept, headers, dropped) = screen(vec![good, bad]);
        assert_eq!(kept.len(), 1);
        assert_eq!(dropped[0].0, "bad");
        let mut map = HeaderMap::new();
        let args = json!({"region": " padded", "verbose": null});
        headers.add(&mut map, "good", args.as_object());
        assert_eq!(
            map.get("mcp-param-region").unwrap(),
            "=?base64?IHBhZGRlZA==?="
        );
        assert!(map.get("mcp-param-verbose").is_none());
    }
}
