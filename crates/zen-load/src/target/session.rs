//! A load session on either client: rmcp's over stdio (its child-process transport), zen's lean
//! one over streamable HTTP ([`crate::target::mcp_http`]). The engine, the watchdog and the target see
//! only this.
use std::sync::Arc;

use rmcp::model::{CallToolRequestParams, CallToolResult, ClientConfig, Implementation, Tool};
use rmcp::service::{Peer, RunningService};
use rmcp::{RoleClient, ServiceError};

pub(crate) use crate::target::mcp_http::CallError;
use crate::target::mcp_http::{HttpSession, LazyResult};

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
}

/// A handle to make calls on a session, cloned into workers.
#[derive(Clone)]
pub(crate) enum LoadPeer {
    /// rmcp's peer (stdio targets).
    Rmcp(Peer<RoleClient>),
    /// zen's lean streamable HTTP client.
    Http(Arc<HttpSession>),
}

impl LoadPeer {
    /// One tools/call, its failure classified as the report counts it.
    pub(crate) async fn call_tool(
        &self,
        params: CallToolRequestParams,
    ) -> Result<CallReply, CallError> {
        match self {
            LoadPeer::Rmcp(peer) => match peer.call_tool(params).await {
                Ok(result) => Ok(CallReply::Parsed(result)),
                Err(ServiceError::McpError(e)) => Err(CallError::JsonRpc {
                    code: e.code.0,
                    message: e.message.into_owned(),
                }),
                Err(e) => Err(CallError::Transport(e.to_string())),
            },
            LoadPeer::Http(session) => session.call_tool(&params).await.map(CallReply::Lazy),
        }
    }

    /// The connection is gone for good (a stdio server exited); an HTTP target is never
    /// "closed": each call stands alone, and the watchdog judges refusals over time.
    pub(crate) fn is_transport_closed(&self) -> bool {
        match self {
            LoadPeer::Rmcp(peer) => peer.is_transport_closed(),
            LoadPeer::Http(_) => false,
        }
    }
}

impl Session {
    /// A handle for workers.
    pub(crate) fn peer(&self) -> LoadPeer {
        match self {
            Session::Rmcp(s) => LoadPeer::Rmcp(s.peer().clone()),
            Session::Http(s) => LoadPeer::Http(s.clone()),
        }
    }

    /// serverInfo from initialize.
    pub(crate) fn server_info(&self) -> Implementation {
        match self {
            Session::Rmcp(s) => s
                .peer_info()
                .and_then(|info| info.server_info.clone())
                .unwrap_or_else(|| Implementation::new("unknown", "?")),
            Session::Http(s) => s.server.clone(),
        }
    }

    /// Every tool the server lists.
    pub(crate) async fn list_all_tools(&self) -> Result<Vec<Tool>, String> {
        match self {
            Session::Rmcp(s) => s.list_all_tools().await.map_err(|e| e.to_string()),
            Session::Http(s) => s.list_all_tools().await.map_err(|e| e.to_string()),
        }
    }

    /// End the session (stdio: close the transport; HTTP: DELETE it on the server).
    pub(crate) async fn close(self) {
        match self {
            Session::Rmcp(s) => {
                let _ = s.cancel().await;
            }
            Session::Http(s) => s.close().await,
        }
    }
}
