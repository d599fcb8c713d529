//! A load session on either client: rmcp's over stdio (its child-process transport, in the
//! lifecycle `--protocol` asks for), zen's lean one over streamable HTTP
//! ([`crate::target::http::session`]). The engine, the watchdog and the target see only this.
use std::sync::Arc;

use rmcp::RoleClient;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ClientConfig, Implementation,
    InputRequest, Tool,
};
use rmcp::service::{Peer, RunningService};

use crate::target::http::session::{HttpSession, LazyResult};
use crate::target::http::sse::SseSession;
pub(crate) use crate::target::outcome::CallError;
use crate::target::outcome::input_required;

/// A tools/call reply. Most replies are only counted, so over HTTP only `isError` is read at
/// once, and the whole result (text, structured content) when the engine asks for it.
pub(crate) enum CallReply {
    /// rmcp's client parsed it already.
    Parsed(CallToolResult),
    /// The lean client's reply, parsed on demand.
    Lazy(LazyResult),
}

impl CallReply {
    /// The tool reported failure (`isError: true`).
    pub(crate) fn is_error(&self) -> bool {
        match self {
            CallReply::Parsed(result) => result.is_error == Some(true),
            CallReply::Lazy(lazy) => lazy.is_error,
        }
    }

    /// The whole result; an unreadable one (already checked to be JSON) reads as empty.
    pub(crate) fn into_result(self) -> CallToolResult {
        match self {
            CallReply::Parsed(result) => result,
            CallReply::Lazy(lazy) => lazy.parse(),
        }
    }
}

/// A connected MCP session.
pub(crate) enum Session {
    /// rmcp's client (stdio targets).
    Rmcp(RunningService<RoleClient, ClientConfig>),
    /// zen's lean streamable HTTP client.
    Http(Arc<HttpSession>),
    /// The legacy HTTP+SSE transport (`--transport sse`).
    Sse(Arc<SseSession>),
}

/// A handle to make calls on a session, cloned into workers.
#[derive(Clone)]
pub(crate) enum LoadPeer {
    /// rmcp's peer (stdio targets).
    Rmcp(Peer<RoleClient>),
    /// zen's lean streamable HTTP client.
    Http(Arc<HttpSession>),
    /// The legacy HTTP+SSE transport.
    Sse(Arc<SseSession>),
}

impl LoadPeer {
    /// One tools/call, its failure classified as the report counts it.
    pub(crate) async fn call_tool(
        &self,
        params: CallToolRequestParams,
    ) -> Result<CallReply, CallError> {
        match self {
            LoadPeer::Rmcp(peer) => match peer.call_tool_once(params).await {
                Ok(CallToolResponse::Complete(result)) => Ok(CallReply::Parsed(result)),
                Ok(CallToolResponse::InputRequired(asked)) => {
                    let requests: Vec<(String, String)> = (asked.input_requests.into_iter())
                        .flatten()
                        .map(|(key, request)| (key, method_of(&request).to_string()))
                        .collect();
                    Err(input_required(&requests, asked.request_state.is_some()))
                }
                Ok(_) => Err(CallError::Transport(
                    "the server answered the call with a task, which zen does not ask for"
                        .to_string(),
                )),
                Err(e) => Err(CallError::from_service(e)),
            },
            LoadPeer::Http(session) => session.call_tool(&params).await.map(CallReply::Lazy),
            LoadPeer::Sse(session) => session.call_tool(&params).await.map(CallReply::Parsed),
        }
    }

    /// The connection is gone for good (a stdio server exited); an HTTP target is never
    /// "closed": each call stands alone, and the watchdog judges refusals over time.
    pub(crate) fn is_transport_closed(&self) -> bool {
        match self {
            LoadPeer::Rmcp(peer) => peer.is_transport_closed(),
            LoadPeer::Http(_) => false,
            LoadPeer::Sse(session) => session.is_closed(),
        }
    }
}

/// The method of one of an `input_required` result's requests.
fn method_of(request: &InputRequest) -> &'static str {
    match request {
        InputRequest::CreateMessage(_) => "sampling/createMessage",
        InputRequest::Elicitation(_) => "elicitation/create",
        InputRequest::ListRoots(_) => "roots/list",
        _ => "a request",
    }
}

impl Session {
    /// A handle for workers.
    pub(crate) fn peer(&self) -> LoadPeer {
        match self {
            Session::Rmcp(s) => LoadPeer::Rmcp(s.peer().clone()),
            Session::Http(s) => LoadPeer::Http(s.clone()),
            Session::Sse(s) => LoadPeer::Sse(s.clone()),
        }
    }

    /// serverInfo (from initialize, or from server/discover).
    pub(crate) fn server_info(&self) -> Implementation {
        match self {
            Session::Rmcp(s) => s
                .peer_info()
                .and_then(|info| info.server_info.clone())
                .unwrap_or_else(|| Implementation::new("unknown", "?")),
            Session::Http(s) => s.server.clone(),
            Session::Sse(s) => s.server.clone(),
        }
    }

    /// The MCP revision the session speaks, as the server agreed it.
    pub(crate) fn protocol(&self) -> String {
        match self {
            Session::Rmcp(s) => s
                .peer_info()
                .map_or_else(|| "unknown".to_string(), |i| i.protocol_version.to_string()),
            Session::Http(s) => s.protocol.clone(),
            Session::Sse(s) => s.protocol.clone(),
        }
    }

    /// A 2026-07-28 session over HTTP (it must drop tools with invalid `x-mcp-header`s).
    pub(crate) fn is_modern_http(&self) -> bool {
        matches!(self, Session::Http(s) if s.is_modern())
    }

    /// Every tool the server lists.
    pub(crate) async fn list_all_tools(&self) -> Result<Vec<Tool>, String> {
        match self {
            Session::Rmcp(s) => s.list_all_tools().await.map_err(|e| e.to_string()),
            Session::Http(s) => s.list_all_tools().await.map_err(|e| e.to_string()),
            Session::Sse(s) => s.list_all_tools().await.map_err(|e| e.to_string()),
        }
    }

    /// End the session (stdio: close the transport; HTTP: DELETE a legacy session).
    pub(crate) async fn close(self) {
        match self {
            Session::Rmcp(s) => {
                let _ = s.cancel().await;
            }
            Session::Http(s) => s.close().await,
            Session::Sse(s) => s.close(),
        }
    }
}
