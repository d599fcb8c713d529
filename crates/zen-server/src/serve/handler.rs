//! The rmcp server handler: capabilities, the tool list, and tools/call handed to the Server.
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CustomRequest, CustomResult, ErrorCode,
    Implementation, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
    Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use tracing::Instrument;

use super::server::{Admitted, Server};

/// One handler per session (cloned by the HTTP service); all share the Server.
#[derive(Clone)]
pub struct SessionHandler {
    /// Shared state and managers.
    server: Arc<Server>,
    /// The tool list, built once (schemas are generated at start, not per request).
    tools: Arc<Vec<Tool>>,
}

impl SessionHandler {
    /// A handler sharing `server`, with its tool list built once.
    pub fn new(server: Arc<Server>) -> Self {
        let tools = Arc::new(server.tools.definitions().to_vec());
        SessionHandler { server, tools }
    }
}

const INSTRUCTIONS: &str = "zen: ask AI models through the `chat` tool (continue a conversation by \
passing back its continuation_id, with any tool that takes one), ask several models at once with \
`consensus`, work through a review or investigation step by step with the workflow tools \
(thinkdeep, planner, codereview, precommit, debug), see what is configured with `listmodels`, \
and read live figures with `metrics`.";

impl ServerHandler for SessionHandler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("zen", zen_model::VERSION))
            .with_instructions(INSTRUCTIONS.to_string())
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
        let span = crate::telemetry::otel::spans::tool_call(&request.name, traceparent, tracestate);
        let call = self.server.call_tool_in(
            &request.name,
            request.arguments,
            context.extensions.get::<Admitted>().cloned(),
            context.ct,
            &span,
        );
        call.instrument(span.clone()).await.map(Into::into)
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, McpError> {
        Err(custom_request_error(&request))
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
                "unknown method '{method}': zen serves initialize, ping, tools/list and tools/call"
            ),
            None,
        );
    }
    let why = match (method, &request.params) {
        (_, None) => "params are missing".to_string(),
        ("tools/call", Some(_)) => match request.params_as::<CallToolRequestParams>() {
            Err(err) => err.to_string(),
            Ok(_) => "params do not fit the MCP schema".to_string(),
        },
        _ => "params do not fit the MCP schema".to_string(),
    };
    let hint = if method == "tools/call" {
        " (tools/call takes {\"name\": \"<tool>\", \"arguments\": {...}})"
    } else {
        ""
    };
    McpError::invalid_params(format!("invalid params for {method}: {why}{hint}"), None)
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
