//! The rmcp server handler: capabilities, the tool list, and tools/call handed to the Server.
use std::sync::Arc;

use std::borrow::Cow;

#[allow(deprecated)] // logging is deprecated at 2026-07-28 (SEP-2577); 2025 sessions use it
use rmcp::model::SetLevelRequestParams;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CustomRequest, CustomResult, ErrorCode,
    Implementation, ListToolsResult, MetaObject, PaginatedRequestParams, ProtocolVersion,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{Peer, RequestContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use tracing::Instrument;

use super::server::{Admitted, Server};
use crate::client_log::{self, CallLog, SessionLog, SessionLogs};
use crate::protocol::logging::Note;

/// One handler per session (cloned by the HTTP service); all share the Server. rmcp calls it
/// for legacy HTTP sessions only: zen answers stdio and every 2026-07-28 request itself
/// ([`super::answer`]), and the results here are shaped by the same rules.
#[derive(Clone)]
pub struct SessionHandler {
    /// Shared state and managers.
    server: Arc<Server>,
    /// The tool list, built once (schemas are generated at start, not per request).
    tools: Arc<Vec<Tool>>,
    /// `_meta` of modern results (the server's identity).
    info: Arc<MetaObject>,
    /// The levels HTTP sessions set (`logging/setLevel`); `None` where rmcp serves no
    /// sessions (stdio's handshake, `--http-stateless`).
    logs: Option<Arc<SessionLogs>>,
}

impl SessionHandler {
    /// A handler sharing `server`, with its tool list built once.
    pub fn new(server: Arc<Server>) -> Self {
        let tools = Arc::new(server.tools.definitions().to_vec());
        let info = crate::protocol::shape::server_info_meta(&server_info());
        SessionHandler {
            server,
            tools,
            info: Arc::new(info),
            logs: None,
        }
    }

    /// The handler of HTTP sessions, which remembers each session's log level in `logs`.
    pub(crate) fn with_session_logs(mut self, logs: Arc<SessionLogs>) -> Self {
        self.logs = Some(logs);
        self
    }

    /// The log of the session a request came on, if it set a level.
    fn session_log(&self, context: &RequestContext<RoleServer>) -> Option<Arc<SessionLog>> {
        self.logs.as_ref()?.get(session_of(context)?)
    }
}

/// The `Mcp-Session-Id` of the HTTP request rmcp hands over.
fn session_of(context: &RequestContext<RoleServer>) -> Option<&str> {
    let parts = context.extensions.get::<axum::http::request::Parts>()?;
    parts
        .headers
        .get(zen_model::mcp::header::SESSION_ID)?
        .to_str()
        .ok()
}

/// Who zen says it is.
fn server_info() -> Implementation {
    Implementation::new("zen", zen_model::VERSION)
}

const INSTRUCTIONS: &str = "zen: ask AI models through the `chat` tool (continue a conversation by \
passing back its continuation_id, with any tool that takes one), ask several models at once with \
`consensus`, work through a review or investigation step by step with the workflow tools \
(thinkdeep, planner, codereview, precommit, debug), see what is configured with `listmodels`, \
and read live figures with `metrics`.";

impl ServerHandler for SessionHandler {
    // `enable_logging` is deprecated by 2026-07-28 (SEP-2577); 2025 sessions still use it.
    #[allow(deprecated)]
    fn get_info(&self) -> ServerConfig {
        // Logging: a session's level is kept per stdio connection and per HTTP session;
        // `--http-stateless` has no session to keep it in (a 2026-07-28 request asks per request,
        // see `crate::client_log`).
        let stateless = self.server.context.config.transport.http_stateless
            && self.server.context.config.transport.http.is_some();
        let capabilities = if stateless {
            ServerCapabilities::builder().enable_tools().build()
        } else {
            ServerCapabilities::builder()
                .enable_tools()
                .enable_logging()
                .build()
        };
        ServerConfig::new(capabilities)
            .with_server_info(server_info())
            .with_instructions(INSTRUCTIONS.to_string())
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Owned(crate::protocol::versions::rmcp_served())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult {
            tools: (*self.tools).clone(),
            ..Default::default()
        })
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        // The client's trace context: in the params' _meta, or wherever rmcp put it.
        let metas = [request.meta.as_ref().map(|m| &m.0), Some(&context.meta.0)];
        let traceparent = metas.iter().flatten().find_map(|m| m.get_traceparent());
        let tracestate = metas.iter().flatten().find_map(|m| m.get_tracestate());
        let log_span = self.session_log(&context).map(|session| {
            let (log, rx) = CallLog::new(session);
            tokio::spawn(forward_to_peer(rx, context.peer.clone()));
            client_log::call_span(log)
        });
        // Created inside the log span, so events of the call's spans find the call's log.
        let span = match &log_span {
            Some(log_span) => log_span.in_scope(|| {
                crate::telemetry::otel::spans::tool_call(&request.name, traceparent, tracestate)
            }),
            None => {
                crate::telemetry::otel::spans::tool_call(&request.name, traceparent, tracestate)
            }
        };
        let modern = context
            .protocol_version()
            .is_some_and(|v| zen_model::mcp::is_modern(v.as_str()));
        let call = self.server.call_tool_in(
            &request.name,
            request.arguments,
            context.extensions.get::<Admitted>().cloned(),
            context.ct,
            &span,
        );
        let result = match log_span {
            // The session asked for log messages: the call's go out through rmcp's peer.
            Some(log_span) => call.instrument(span.clone()).instrument(log_span).await?,
            None => call.instrument(span.clone()).await?,
        };
        // rmcp strips a legacy result itself; a modern one gets what zen's own path adds.
        Ok(if modern {
            crate::protocol::shape::modern_call(result, &self.info).into()
        } else {
            result.into()
        })
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    // Deprecated by 2026-07-28 (SEP-2577), served to 2025 sessions.
    #[allow(deprecated)]
    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let (Some(logs), Some(session)) = (&self.logs, session_of(&context)) else {
            return Err(McpError::new(
                ErrorCode::METHOD_NOT_FOUND,
                "logging/setLevel: zen keeps no session here (--http-stateless) to remember a \
                 level in; a 2026-07-28 request asks for log messages in its _meta \
                 (io.modelcontextprotocol/logLevel)",
                None,
            ));
        };
        let level = crate::protocol::logging::set_level_params(
            serde_json::to_value(&request).ok().as_ref(),
        )?;
        let log = logs.of(session);
        log.set_level(level);
        for note in log.startup_notes(&self.server.startup_warnings) {
            let _ = context.peer.notify_logging_message(note.to_rmcp()).await;
        }
        Ok(())
    }

    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, McpError> {
        Err(custom_request_error(&request))
    }
}

/// Send a call's log messages to its session through rmcp (on the session's stream), until the
/// call's log is dropped.
#[allow(deprecated)] // notifications/message: deprecated by 2026-07-28, used by 2025 sessions
async fn forward_to_peer(mut rx: tokio::sync::mpsc::Receiver<Note>, peer: Peer<RoleServer>) {
    while let Some(note) = rx.recv().await {
        if peer.notify_logging_message(note.to_rmcp()).await.is_err() {
            return;
        }
    }
}

/// The requests an MCP client may send (MCP 2025-06-18).
const MCP_CLIENT_METHODS: [&str; 13] = [
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
];

/// rmcp hands over as "custom" both methods it does not know and known ones whose params do
/// not fit their type; its default answer to both, "method not found" with the bare method
/// name, sends a client with a misshapen tools/call looking for the wrong fault.
fn custom_request_error(request: &CustomRequest) -> McpError {
    let method = request.method.as_str();
    if !MCP_CLIENT_METHODS.contains(&method) {
        return McpError::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!(
                "unknown method '{method}': zen serves initialize, ping, tools/list, tools/call and logging/setLevel"
            ),
            None,
        );
    }
    if method == "tools/call" {
        return tools_call_params_error(request.params.clone());
    }
    if method == "logging/setLevel" {
        return match crate::protocol::logging::set_level_params(request.params.as_ref()) {
            Err(error) => error,
            Ok(_) => McpError::invalid_params("invalid params for logging/setLevel", None),
        };
    }
    let why = match &request.params {
        None => "params are missing",
        Some(_) => "params do not fit the MCP schema",
    };
    McpError::invalid_params(format!("invalid params for {method}: {why}"), None)
}

/// The -32602 for tools/call params that do not fit (`None`: no params, or not JSON), the same
/// on every path.
pub(crate) fn tools_call_params_error(params: Option<serde_json::Value>) -> McpError {
    let why = match params {
        None | Some(serde_json::Value::Null) => "params are missing".to_string(),
        Some(params) => match serde_json::from_value::<CallToolRequestParams>(params) {
            Err(err) => err.to_string(),
            Ok(_) => "params do not fit the MCP schema".to_string(),
        },
    };
    McpError::invalid_params(
        format!(
            "invalid params for tools/call: {why} (tools/call takes {{\"name\": \"<tool>\", \"arguments\": {{...}}}})"
        ),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_misshapen_tools_call_is_invalid_params_and_an_unknown_method_says_what_is_served() {
        let missing_name = CustomRequest::new("tools/call", Some(json!({"arguments": {}})));
        let err = custom_request_error(&missing_name);
        assert_eq!(err.code, ErrorCode::INVALID_PARAMS);
        assert!(err.message.contains("name"), "{}", err.message);
        let no_params = custom_request_error(&CustomRequest::new("tools/call", None));
        assert!(no_params.message.contains("params are missing"));
        let unknown = custom_request_error(&CustomRequest::new("no/such", None));
        assert_eq!(unknown.code, ErrorCode::METHOD_NOT_FOUND);
        assert!(unknown.message.contains("'no/such'") && unknown.message.contains("tools/call"));
    }
}
