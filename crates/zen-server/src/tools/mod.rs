//! zen's tools. A tool is one file implementing [`Tool`] (name, description, input schema,
//! annotations, `call`); `registry.rs` lists them, and the server dispatches through that list.
//! What a tool may use is the [`ToolContext`]; model-calling tools share the thread handling in
//! `conversation.rs`. Tools import the managers and providers, never the server or transports
//! above them.
use async_trait::async_trait;
use rmcp::handler::server::common::{schema_for_empty_input, schema_for_input};
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, ToolAnnotations};
use rmcp::schemars::{self, JsonSchema};
use serde::Deserialize;
use serde_json::Value;

pub(crate) mod apilookup;
pub(crate) mod challenge;
pub(crate) mod chat;
pub(crate) mod clink;
pub(crate) mod consensus;
pub mod context;
pub(crate) mod conversation;
pub(crate) mod embed;
pub(crate) mod files;
pub(crate) mod images;
pub(crate) mod listmodels;
pub(crate) mod metrics;
pub(crate) mod registry;
pub(crate) mod reply;
pub(crate) mod threads;
pub(crate) mod version;
pub(crate) mod workdir;
pub(crate) mod workflow;

pub use context::{ToolContext, TransportInfo};
pub use registry::ToolRegistry;

use crate::metrics::CallOutcome;

/// One tool: what clients see in tools/list, and what a call does.
#[async_trait]
pub trait Tool: Send + Sync + 'static {
    /// The name clients call it by.
    fn name(&self) -> &'static str;
    /// What it is for, for the model choosing a tool.
    fn description(&self) -> &'static str;
    /// JSON Schema of its arguments (built once, when the registry is made).
    fn input_schema(&self) -> JsonObject;
    /// JSON Schema of its `structuredContent` (zen-mcp-server's fields and its own; reply.rs).
    fn output_schema(&self) -> JsonObject;
    /// Hints for clients: read-only, open world (does it reach a model provider).
    fn annotations(&self) -> ToolAnnotations;
    /// False for a tool that must answer while the global pool is saturated (metrics).
    fn needs_global_permit(&self) -> bool {
        true
    }
    /// Run one call (the caller holds the global permit when the tool needs one).
    async fn call(
        &self,
        ctx: &ToolContext,
        arguments: Option<JsonObject>,
    ) -> Result<ToolReply, ToolError>;
}

/// A failed tool call: its kind (for the metrics) and the message the client sees.
#[derive(Debug, Clone)]
pub struct ToolError {
    /// How the call ended, for the per-tool error counters.
    pub outcome: CallOutcome,
    /// What went wrong and what to do, for the client.
    pub message: String,
}

impl ToolError {
    /// A failure of kind `outcome`, with the message the client sees.
    pub fn new(outcome: CallOutcome, message: impl Into<String>) -> Self {
        ToolError {
            outcome,
            message: message.into(),
        }
    }

    /// A caller mistake (bad arguments, unknown model or thread).
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(CallOutcome::ToolError, message)
    }

    /// A bad value in one argument: names the tool and the field.
    pub fn bad_field(tool: &str, field: &str, why: impl std::fmt::Display) -> Self {
        Self::bad_input(format!("invalid arguments for {tool}: {field}: {why}"))
    }

    /// The MCP result: the message as text, and zen-mcp-server's `{status: "error", content}`
    /// as `structuredContent` for programs.
    pub fn into_result(self) -> CallToolResult {
        let structured = reply::structured("error", &self.message, Value::Null);
        let mut result = CallToolResult::error(vec![ContentBlock::text(self.message)]);
        result.structured_content = Some(structured);
        result
    }
}

/// A successful tool result: text for people, and structured JSON for programs.
#[derive(Debug, Clone)]
pub struct ToolReply {
    /// What a person (or the calling model) reads.
    pub text: String,
    /// The same, for programs (`structuredContent`).
    pub structured: Option<Value>,
}

impl ToolReply {
    /// The MCP result: the text as one content block, `structured` as `structuredContent`.
    pub fn into_result(self) -> CallToolResult {
        let mut result = CallToolResult::success(vec![ContentBlock::text(self.text)]);
        result.structured_content = self.structured;
        result
    }
}

/// Tools without arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// The input schema of an argument type.
pub fn schema_of<T: JsonSchema + 'static>() -> JsonObject {
    (*schema_for_input::<T>().expect("tool arguments have an object schema")).clone()
}

/// The input schema of a tool without arguments.
pub fn empty_schema() -> JsonObject {
    (*schema_for_empty_input()).clone()
}

/// Annotations of a tool that only reads zen's own state.
pub fn read_only_local(title: &str) -> ToolAnnotations {
    ToolAnnotations::with_title(title)
        .read_only(true)
        .open_world(false)
}

/// Annotations of a tool that asks a model provider (an open world) and keeps a thread.
pub fn asks_a_model(title: &str) -> ToolAnnotations {
    ToolAnnotations::with_title(title)
        .read_only(true)
        .open_world(true)
}

/// Parse tool arguments, naming the field at fault.
pub fn parse_args<T: serde::de::DeserializeOwned>(
    tool: &str,
    arguments: Option<JsonObject>,
) -> Result<T, ToolError> {
    let value = Value::Object(arguments.unwrap_or_default());
    serde_path_to_error::deserialize::<_, T>(value).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let at = if path == "." {
            String::new()
        } else {
            format!("{path}: ")
        };
        ToolError::bad_input(format!(
            "invalid arguments for {tool}: {at}{inner}. See the tool's input schema (tools/list)."
        ))
    })
}
