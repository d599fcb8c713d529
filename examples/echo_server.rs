//! A small third-party-shaped MCP server for zen's tests (stdio, or HTTP with `--http ADDR`):
//! an `echo` tool like the reference server's, and `--leak-bytes N`, which makes it keep N
//! bytes of every request forever: a deliberate leak for `zen soak` to catch.
use std::sync::{Arc, Mutex};

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::schemars::{self, JsonSchema};
use rmcp::{ErrorData, ServerHandler, ServiceExt, tool, tool_handler, tool_router};

#[derive(serde::Deserialize, JsonSchema)]
struct EchoArgs {
    /// Text to send back.
    message: String,
}

#[derive(Clone)]
struct Echo {
    tool_router: ToolRouter<Self>,
    /// Bytes kept per request (0: no leak).
    leak_bytes: usize,
    /// Every leaked buffer, never freed.
    kept: Arc<Mutex<Vec<Vec<u8>>>>,
}

#[tool_router]
impl Echo {
    #[tool(description = "Echoes back the input")]
    async fn echo(
        &self,
        Parameters(args): Parameters<EchoArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        if self.leak_bytes > 0 {
            // Touch every page so the leak shows in RSS.
            self.kept.lock().unwrap().push(vec![1u8; self.leak_bytes]);
        }
        Ok(CallToolResult::success(vec![ContentBlock::text(format!(
            "Echo: {}",
            args.message
        ))]))
    }
}

#[tool_handler(router = self.tool_router, name = "echo-server", version = "1.0.0")]
impl ServerHandler for Echo {}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let server = Echo {
        tool_router: Echo::tool_router(),
        leak_bytes: value("--leak-bytes").map_or(0, |v| v.parse().expect("--leak-bytes N")),
        kept: Arc::default(),
    };
    if let Some(addr) = value("--http") {
        use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
        use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        eprintln!("listening endpoint=http://{}/mcp", listener.local_addr()?);
        let service = StreamableHttpService::new(
            move || Ok(server.clone()),
            LocalSessionManager::default().into(),
            StreamableHttpServerConfig::default(),
        );
        axum::serve(listener, axum::Router::new().nest_service("/mcp", service)).await?;
    } else {
        server
            .serve(rmcp::transport::stdio())
            .await?
            .waiting()
            .await?;
    }
    Ok(())
}
