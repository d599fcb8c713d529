//! zen's tools: their names, argument types (the JSON Schema clients see comes from these),
//! and thin bodies for listmodels, version and metrics. The chat flow lives in `chat.rs`; what
//! a tool may use is the [`ToolContext`]. Tools import the managers and providers, never the
//! server or transports above them.
use rmcp::handler::server::common::{schema_for_empty_input, schema_for_input};
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool};
use rmcp::schemars::{self, JsonSchema};
use serde::Deserialize;
use serde_json::{Value, json};

pub mod chat;
pub mod context;
pub mod files;
pub mod metrics;
pub mod threads;

pub use context::{ToolContext, TransportInfo};

use crate::metrics::CallOutcome;
use crate::snapshot::SnapshotSource;

/// The tools zen serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolName {
    Chat,
    ListModels,
    Metrics,
    Threads,
    Version,
}

impl ToolName {
    pub const ALL: [ToolName; 5] = [
        ToolName::Chat,
        ToolName::ListModels,
        ToolName::Metrics,
        ToolName::Threads,
        ToolName::Version,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ToolName::Chat => "chat",
            ToolName::ListModels => "listmodels",
            ToolName::Metrics => "metrics",
            ToolName::Threads => "threads",
            ToolName::Version => "version",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// A failed tool call: its kind (for the metrics) and the message the client sees.
#[derive(Debug, Clone)]
pub struct ToolError {
    pub outcome: CallOutcome,
    pub message: String,
}

impl ToolError {
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
}

/// A successful tool result: text for people, and structured JSON for programs.
#[derive(Debug, Clone)]
pub struct ToolReply {
    pub text: String,
    pub structured: Option<Value>,
}

impl ToolReply {
    pub fn json(value: Value) -> Self {
        ToolReply {
            text: serde_json::to_string_pretty(&value).unwrap_or_default(),
            structured: None,
        }
    }

    pub fn into_result(self) -> CallToolResult {
        let mut result = CallToolResult::success(vec![ContentBlock::text(self.text)]);
        result.structured_content = self.structured;
        result
    }
}

/// `chat` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatArgs {
    /// Your question, idea or request for the model. Put large content in files instead.
    pub prompt: String,
    /// Model to ask: a name from listmodels, `provider/model`, or `auto` (default: DEFAULT_MODEL).
    #[serde(default)]
    pub model: Option<String>,
    /// Thread id from an earlier chat reply, to continue that conversation.
    #[serde(default)]
    pub continuation_id: Option<String>,
    /// Sampling temperature from 0 (focused) to 1 (creative).
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Absolute paths of files to include; each at most 1 MiB, embedded once per conversation.
    #[serde(default)]
    pub absolute_file_paths: Vec<String>,
}

/// Tools without arguments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

/// Parse tool arguments, naming the field at fault.
pub fn parse_args<T: serde::de::DeserializeOwned>(
    tool: ToolName,
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
            "invalid arguments for {}: {at}{inner}. See the tool's input schema (tools/list).",
            tool.as_str()
        ))
    })
}

/// The tool list clients see.
pub fn definitions() -> Vec<Tool> {
    let chat_schema = schema_for_input::<ChatArgs>().expect("ChatArgs has an object schema");
    vec![
        Tool::new(
            "chat",
            "Ask an AI model: a general chat and thinking partner. Replies carry a continuation_id; \
             pass it back to continue the conversation with its history.",
            chat_schema,
        ),
        Tool::new(
            "listmodels",
            "List the configured providers, their models and limits.",
            schema_for_empty_input(),
        ),
        Tool::new(
            "metrics",
            "zen's live figures, summarised: per-tool calls, errors and p50/p99, pools, \
             providers, the conversation store and memory. {\"detail\": true} returns the \
             full snapshot (every counter, percentile and histogram).",
            schema_for_input::<metrics::MetricsArgs>().expect("MetricsArgs has an object schema"),
        ),
        Tool::new(
            "threads",
            "Find earlier conversations: the most recent threads, newest first, with their id, \
             last update, turns, model and first prompt; `query` keeps those whose prompts contain \
             a phrase. Continue one by passing its id to chat as continuation_id.",
            schema_for_input::<threads::ThreadsArgs>().expect("ThreadsArgs has an object schema"),
        ),
        Tool::new(
            "version",
            "zen's version, uptime and configuration summary (no network access).",
            schema_for_empty_input(),
        ),
    ]
}

/// Run a tool (the caller holds the global permit).
pub async fn run(
    ctx: &ToolContext,
    tool: ToolName,
    arguments: Option<JsonObject>,
) -> Result<ToolReply, ToolError> {
    match tool {
        ToolName::Chat => chat::run(ctx, parse_args(tool, arguments)?).await,
        ToolName::ListModels => {
            parse_args::<NoArgs>(tool, arguments)?;
            Ok(ToolReply::json(listmodels(ctx)))
        }
        ToolName::Metrics => {
            let args = parse_args(tool, arguments)?;
            Ok(metrics::reply(&ctx.snapshot(), args))
        }
        ToolName::Threads => threads::run(ctx, parse_args(tool, arguments)?).await,
        ToolName::Version => {
            parse_args::<NoArgs>(tool, arguments)?;
            Ok(ToolReply::json(version(ctx)))
        }
    }
}

fn listmodels(ctx: &ToolContext) -> Value {
    let providers: Vec<Value> = ctx
        .registry
        .providers()
        .iter()
        .map(|p| {
            json!({
                "provider": p.name(),
                "concurrency_limit": ctx.config.limits.provider_limit(p.name()),
                "models": p.models(),
            })
        })
        .collect();
    let configured: Vec<&str> = ctx.registry.providers().iter().map(|p| p.name()).collect();
    let unconfigured: Vec<Value> = [
        ("openai", "OPENAI_API_KEY"),
        ("gemini", "GEMINI_API_KEY"),
        ("openrouter", "OPENROUTER_API_KEY"),
        ("custom", "CUSTOM_API_URL"),
    ]
    .into_iter()
    .filter(|(name, _)| !configured.contains(name))
    .map(|(name, var)| json!({ "provider": name, "enable_with": var }))
    .collect();
    let default = ctx
        .registry
        .resolve(None)
        .map(|r| format!("{}/{}", r.provider.name(), r.model))
        .unwrap_or_default();
    json!({
        "default_model": ctx.registry.default_model(),
        "auto_resolves_to": default,
        "providers": providers,
        "not_configured": unconfigured,
    })
}

fn version(ctx: &ToolContext) -> Value {
    let c = &ctx.config;
    let server = ctx.server_info();
    json!({
        "name": "zen",
        "version": crate::VERSION,
        "uptime_secs": server.uptime_secs,
        "pid": server.pid,
        "transport": server.transport,
        "config": {
            "default_model": c.providers.default_model,
            "providers": ctx.registry.providers().iter().map(|p| p.name()).collect::<Vec<_>>(),
            "max_concurrent_requests": c.limits.max_concurrent_requests,
            "queue_timeout_secs": c.limits.queue_timeout.as_secs_f64(),
            "max_retries": c.providers.max_retries,
            "conversation_timeout_hours": c.memory.conversation_timeout_hours,
            "max_conversation_turns": c.memory.max_conversation_turns,
            "conversation_memory_limit_mb": c.memory.conversation_memory_limit_mb,
            "memory_limit_mb": c.memory.memory_limit_mb,
            "telemetry": !c.transport.no_telemetry,
        },
    })
}
