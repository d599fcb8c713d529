//! A lean streamable HTTP MCP client for the load's hot path. rmcp's client routes every call
//! through its worker task and channels (~70 % of the generator's CPU over HTTP); here a call is
//! one POST on the shared keep-alive pool, awaited by the engine's own task: no spawn, no
//! channel. It speaks both eras of the spec's client side (how a session starts is in
//! [`super::lifecycle`]): a 2026-07-28 session sends every request self-contained, with its
//! `_meta` and the standard headers ([`super::modern`]); a legacy one sends the
//! `Mcp-Session-Id` the server gave (none for a stateless server) and `MCP-Protocol-Version`
//! after `initialize`, and DELETEs its session at the end. Replies are read as JSON or SSE
//! ([`super::reply`]).
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Uri};
use rmcp::model::{CallToolRequestParams, CallToolResult, Implementation, JsonObject, Tool};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::modern::{Envelope, PROTOCOL_VERSION, ToolHeaders};
use super::pool::{Pool, Reply as HttpReply};
use super::reply::{Answered, answered};
use crate::target::outcome::{self, CallError};
use zen_model::mcp::{header, result_type};

/// What a POST accepts: the spec requires a client to take either form.
const ACCEPT_BOTH: HeaderValue = HeaderValue::from_static("application/json, text/event-stream");
const JSON: HeaderValue = HeaderValue::from_static("application/json");
pub(super) const SESSION_ID: HeaderName = HeaderName::from_static(header::SESSION_ID);
/// tools/list pages followed at most (a server that always sends a cursor cannot loop us).
const MAX_TOOL_PAGES: usize = 100;

/// How the session's requests are framed.
pub(super) enum Era {
    /// After `initialize`: the session's id (none when the server is stateless) and the
    /// negotiated revision as `MCP-Protocol-Version`.
    Legacy {
        /// `Mcp-Session-Id` from initialize.
        session_id: Option<HeaderValue>,
        /// The negotiated revision.
        version: Option<HeaderValue>,
    },
    /// 2026-07-28: every request self-contained.
    Modern(Envelope),
}

/// One MCP session on a streamable HTTP endpoint.
pub(crate) struct HttpSession {
    /// The target's shared keep-alive pool (cheap to clone: shared inside).
    pub(super) pool: Pool,
    /// The MCP endpoint.
    pub(super) uri: Uri,
    /// How requests are framed.
    pub(super) era: Era,
    /// JSON-RPC ids: unique within the session without a lock.
    pub(super) next_id: AtomicU64,
    /// serverInfo (from initialize, or from server/discover's result `_meta`).
    pub server: Implementation,
    /// The revision the session speaks, as the server agreed it.
    pub protocol: String,
    /// Modern sessions: the tools' `x-mcp-header` annotations, once the tools are listed.
    tool_headers: OnceLock<Arc<ToolHeaders>>,
}

/// A tools/call result read for what the engine counts: its `resultType`, `isError`, and what
/// an `input_required` asked for; `content` is skipped, not built.
#[derive(Deserialize)]
struct CallProbe {
    /// Absent (legacy, or a modern server's complete result) means complete.
    #[serde(rename = "resultType")]
    result_type: Option<String>,
    /// The tool reported failure.
    #[serde(rename = "isError")]
    is_error: Option<bool>,
    /// Required on a complete result.
    content: Option<IgnoredAny>,
    /// `input_required`: what the server asks for, by key.
    #[serde(rename = "inputRequests", default)]
    input_requests: std::collections::BTreeMap<String, InputRequest>,
    /// `input_required`: the state a retry must carry.
    #[serde(rename = "requestState")]
    request_state: Option<IgnoredAny>,
}

/// One of an `input_required` result's requests: only its method is read.
#[derive(Deserialize)]
struct InputRequest {
    /// `elicitation/create`, `sampling/createMessage` or `roots/list`.
    method: Option<String>,
}

/// A tools/call reply: `isError` read, the JSON-RPC message kept to parse the rest on demand.
pub(crate) struct LazyResult {
    /// The tool reported failure.
    pub is_error: bool,
    /// The whole JSON-RPC response, already checked to answer the call.
    message: Vec<u8>,
}

impl LazyResult {
    /// The whole result (an unreadable one, which cannot happen after the check, is empty).
    pub(crate) fn parse(&self) -> CallToolResult {
        #[derive(Deserialize)]
        struct Full {
            result: CallToolResult,
        }
        serde_json::from_slice::<Full>(&self.message)
            .map_or_else(|_| CallToolResult::success(Vec::new()), |full| full.result)
    }
}

/// One tools/list page.
#[derive(Deserialize)]
struct ToolsPage {
    tools: Vec<Tool>,
    #[serde(rename = "nextCursor")]
    next_cursor: Option<String>,
}

impl HttpSession {
    /// A session on `uri` framed as `era` (see [`super::lifecycle`] for how one starts).
    pub(super) fn new(pool: &Pool, uri: Uri, era: Era) -> Self {
        HttpSession {
            pool: pool.clone(),
            uri,
            era,
            next_id: AtomicU64::new(0),
            server: Implementation::new("unknown", "?"),
            protocol: String::new(),
            tool_headers: OnceLock::new(),
        }
    }

    /// The session speaks 2026-07-28 (no session, per-request metadata).
    pub(crate) fn is_modern(&self) -> bool {
        matches!(self.era, Era::Modern(_))
    }

    /// The tools' `x-mcp-header` annotations to mirror into `Mcp-Param-*` headers.
    pub(crate) fn use_tool_headers(&self, headers: Arc<ToolHeaders>) {
        let _ = self.tool_headers.set(headers);
    }

    /// The annotations in use, if the tools were listed (a churned session inherits them).
    pub(crate) fn tool_headers(&self) -> Option<Arc<ToolHeaders>> {
        self.tool_headers.get().cloned()
    }

    /// One tools/call: whether the tool failed now, the rest when asked ([`LazyResult`]).
    pub(crate) async fn call_tool(
        &self,
        params: &CallToolRequestParams,
    ) -> Result<LazyResult, CallError> {
        let (name, args) = (Some(params.name.as_ref()), params.arguments.as_ref());
        let answered: Answered<CallProbe> = self.request("tools/call", params, name, args).await?;
        let probe = answered.result;
        match probe.result_type.as_deref() {
            None | Some(result_type::COMPLETE) if probe.content.is_some() => Ok(LazyResult {
                is_error: probe.is_error == Some(true),
                message: answered.message,
            }),
            None | Some(result_type::COMPLETE) => Err(CallError::Transport(
                "the tools/call result has no content (the spec requires it)".to_string(),
            )),
            Some(result_type::INPUT_REQUIRED) => {
                let asked: Vec<(String, String)> = (probe.input_requests.into_iter())
                    .map(|(key, r)| (key, r.method.unwrap_or_else(|| "a request".into())))
                    .collect();
                Err(outcome::input_required(
                    &asked,
                    probe.request_state.is_some(),
                ))
            }
            Some(other) => Err(CallError::Transport(format!(
                "the tools/call result has resultType '{other}', which this client does not \
                 know (a client must treat it as invalid)"
            ))),
        }
    }

    /// Every tool the server lists, following pagination.
    pub(crate) async fn list_all_tools(&self) -> Result<Vec<Tool>, CallError> {
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_TOOL_PAGES {
            let params = match &cursor {
                Some(c) => serde_json::json!({ "cursor": c }),
                None => serde_json::json!({}),
            };
            let page: ToolsPage = self
                .request("tools/list", &params, None, None)
                .await?
                .result;
            tools.extend(page.tools);
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        Ok(tools)
    }

    /// End the session on the server (legacy: DELETE with its id); a stateless or modern one
    /// has nothing to end.
    pub(crate) async fn close(&self) {
        if let Era::Legacy {
            session_id: Some(_),
            ..
        } = &self.era
        {
            let mut headers = self.headers("", None, None);
            headers.remove(CONTENT_TYPE);
            let _ = (self.pool)
                .send(Method::DELETE, &self.uri, headers, Bytes::new())
                .await;
        }
    }

    /// POST one request and read its response. `name` and `arguments` feed a modern request's
    /// `Mcp-Name` and `Mcp-Param-*` headers.
    pub(super) async fn request<P: Serialize, R: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        params: &P,
        name: Option<&str>,
        arguments: Option<&JsonObject>,
    ) -> Result<Answered<R>, CallError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (resp, id) = self.send(id, method, params, name, arguments).await?;
        answered(resp, id, method).await
    }

    /// POST request `id` and return the raw reply (its headers unread).
    pub(super) async fn send<P: Serialize>(
        &self,
        id: u64,
        method: &str,
        params: &P,
        name: Option<&str>,
        arguments: Option<&JsonObject>,
    ) -> Result<(HttpReply, u64), CallError> {
        let body = match &self.era {
            Era::Modern(envelope) => envelope.body(id, method, params),
            Era::Legacy { .. } => super::modern::legacy_body(id, method, params),
        }
        .map_err(|e| CallError::Transport(format!("cannot encode {method}: {e}")))?;
        let headers = self.headers(method, name, arguments);
        let resp = self.post(headers, Bytes::from(body)).await?;
        Ok((resp, id))
    }

    /// POST a body with `headers`.
    pub(super) async fn post(
        &self,
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<HttpReply, CallError> {
        (self.pool)
            .send(Method::POST, &self.uri, headers, body)
            .await
            .map_err(CallError::Transport)
    }

    /// The headers of a request of `method` in this session's era.
    pub(super) fn headers(
        &self,
        method: &str,
        name: Option<&str>,
        arguments: Option<&JsonObject>,
    ) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(6);
        headers.insert(ACCEPT, ACCEPT_BOTH);
        headers.insert(CONTENT_TYPE, JSON);
        match &self.era {
            Era::Legacy {
                session_id,
                version,
            } => {
                if let Some(id) = session_id {
                    headers.insert(SESSION_ID, id.clone());
                }
                if let Some(v) = version {
                    headers.insert(PROTOCOL_VERSION, v.clone());
                }
            }
            Era::Modern(envelope) => {
                envelope.headers(&mut headers, method, name);
                if method == "tools/call"
                    && let (Some(tool), Some(known)) = (name, self.tool_headers.get())
                {
                    known.add(&mut headers, tool, arguments);
                }
            }
        }
        headers
    }
}

/// The endpoint as an absolute http(s) URI.
pub(super) fn endpoint(url: &str) -> Result<Uri, CallError> {
    let uri: Uri = url
        .parse()
        .map_err(|e| CallError::Transport(format!("'{url}' is not a URL: {e}")))?;
    match (uri.scheme_str(), uri.authority()) {
        (Some("http" | "https"), Some(_)) => Ok(uri),
        _ => Err(CallError::Transport(format!(
            "'{url}' is not an http:// or https:// URL with a host"
        ))),
    }
}
