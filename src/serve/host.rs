//! The rmcp server handler: capabilities, the tool list, and tools/call handed to the App.
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};

use super::app::{Admitted, App};
use super::tools;

/// One handler per session (cloned by the HTTP service); all share the App.
#[derive(Clone)]
pub struct Host {
    /// Shared state and managers.
    app: Arc<App>,
    /// The tool list, built once (schemas are generated at start, not per request).
    tools: Arc<Vec<Tool>>,
}

impl Host {
    pub fn new(app: Arc<App>) -> Self {
        Host {
            app,
            tools: Arc::new(tools::definitions()),
        }
    }
}

const INSTRUCTIONS: &str = "zen: ask AI models through the `chat` tool (continue a conversation by \
passing back its continuation_id), see what is configured with `listmodels`, and read live \
figures with `metrics`.";

impl ServerHandler for Host {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("zen", crate::VERSION))
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
        self.app
            .call_tool(
                &request.name,
                request.arguments,
                context.extensions.get::<Admitted>().cloned(),
                context.ct,
            )
            .await
            .map(Into::into)
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }
}
