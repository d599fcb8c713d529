//! The `clink` tool: hand a request to another AI CLI (gemini, codex, claude, or any CLI a client
//! file names) as a sub-agent, zen-mcp-server's headline tool. The CLI runs as a child process
//! under the `clink` pool (ZEN_PROVIDER_LIMITS=clink=N), with a time limit, an output cap, no
//! shell and only the environment it is given (`run`); its answer is read from its own output
//! format (`parse`) and kept in the thread like any model's, so the conversation continues in
//! clink or any other tool.
use std::time::Instant;

use async_trait::async_trait;
use rmcp::model::{JsonObject, ToolAnnotations};
use rmcp::schemars::{self, JsonSchema};
use serde::Deserialize;
use serde_json::{Value, json};

use super::conversation::{Conversation, check_text, turn};
use super::files::FilePolicy;
use super::reply;
use super::{Tool, ToolContext, ToolError, ToolReply, asks_a_model, parse_args, schema_of};
use crate::config::ClinkConfig;
use crate::metrics::CallOutcome;

mod attempts;
mod builtin;
mod clients;
mod parse;
mod prompt;
mod run;

use attempts::{limit_response, run_with_retries};
use clients::{Client, Role};

/// `clink` arguments (zen-mcp-server's).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClinkArgs {
    /// The request for the CLI; the conversation so far (with continuation_id) is put before it.
    pub prompt: String,
    /// The CLI to run: gemini, codex, claude, or one a client file in CLI_CLIENTS_CONFIG_PATH
    /// names (default: gemini).
    #[serde(default)]
    pub cli_name: Option<String>,
    /// A role preset of that CLI: default, planner, codereviewer (claude also codegen), or one
    /// its client file defines (default: default).
    #[serde(default)]
    pub role: Option<String>,
    /// Absolute paths of files the CLI should read (it reads them itself; they are listed with
    /// their size, not embedded).
    #[serde(default)]
    pub absolute_file_paths: Vec<String>,
    /// Absolute paths of images the CLI should look at (listed like files).
    #[serde(default)]
    pub images: Vec<String>,
    /// Thread id from an earlier reply of any zen tool, to continue that conversation.
    #[serde(default)]
    pub continuation_id: Option<String>,
}

/// The clink tool, with the CLIs and roles configured when zen started: its schema lists them
/// as `cli_name`'s and `role`'s enums, as zen-mcp-server's does (a client file added later is
/// still run: the files are read on every call).
pub(crate) struct Clink {
    /// The CLIs' names, sorted.
    clis: Vec<String>,
    /// Every role any of them has, sorted.
    roles: Vec<String>,
}

impl Clink {
    /// The tool for the clients `config` names now (the built-in ones when a file is bad: the
    /// call that uses it reports the error).
    pub(crate) fn new(config: &ClinkConfig) -> Self {
        let clients = clients::load(config).unwrap_or_else(|e| {
            tracing::warn!("clink: {e}");
            clients::load(&ClinkConfig {
                cli_clients_config_path: None,
                ..config.clone()
            })
            .unwrap_or_default()
        });
        let mut clis: Vec<String> = clients.iter().map(|c| c.name.clone()).collect();
        let mut roles: Vec<String> = (clients.iter())
            .flat_map(|c| c.roles.keys().cloned())
            .collect();
        clis.sort_unstable();
        roles.sort_unstable();
        roles.dedup();
        Clink { clis, roles }
    }
}

#[async_trait]
impl Tool for Clink {
    fn name(&self) -> &'static str {
        "clink"
    }

    fn description(&self) -> &'static str {
        "Link a request to another AI CLI (Gemini CLI, Codex CLI, Claude Code, or a CLI you \
         configure) as a sub-agent: it works the request with its own tools and context, and its \
         answer comes back here with a continuation_id."
    }

    fn input_schema(&self) -> JsonObject {
        let mut schema = schema_of::<ClinkArgs>();
        if let Some(Value::Object(properties)) = schema.get_mut("properties") {
            for (name, values) in [("cli_name", &self.clis), ("role", &self.roles)] {
                if let Some(Value::Object(property)) = properties.get_mut(name) {
                    let mut values: Vec<Value> = values.iter().map(|v| json!(v)).collect();
                    values.push(Value::Null);
                    property.insert("enum".into(), Value::Array(values));
                }
            }
        }
        schema
    }

    fn output_schema(&self) -> JsonObject {
        reply::thread_output_schema(json!({
            "model": {"type": "string"},
            "metadata": {"type": "object"},
        }))
    }

    fn annotations(&self) -> ToolAnnotations {
        asks_a_model("Run an AI CLI as a sub-agent")
    }

    async fn call(
        &self,
        ctx: &ToolContext,
        arguments: Option<JsonObject>,
    ) -> Result<ToolReply, ToolError> {
        run_clink(ctx, parse_args("clink", arguments)?).await
    }
}

/// The client and role a call names.
fn choose(ctx: &ToolContext, args: &ClinkArgs) -> Result<(Client, Role), ToolError> {
    let clients = clients::load(&ctx.config.clink)
        .map_err(|e| ToolError::bad_input(format!("clink cannot read its CLI clients: {e}")))?;
    let names = || {
        clients
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let wanted = args
        .cli_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let client = match wanted {
        Some(name) => clients.iter().find(|c| c.name.eq_ignore_ascii_case(name)),
        None => (clients.iter().find(|c| c.name == "gemini")).or(clients.first()),
    }
    .ok_or_else(|| {
        let name = wanted.unwrap_or("");
        ToolError::bad_field(
            "clink",
            "cli_name",
            format!(
                "no CLI '{name}' is configured; the CLIs are {}. Add one with a client file in \
                 CLI_CLIENTS_CONFIG_PATH.",
                names()
            ),
        )
    })?;
    let role_name = args
        .role
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let role = client
        .roles
        .get(role_name.unwrap_or("default"))
        .ok_or_else(|| {
            ToolError::bad_field(
                "clink",
                "role",
                format!(
                    "CLI '{}' has no role '{}'; its roles are {}",
                    client.name,
                    role_name.unwrap_or("default"),
                    client.roles.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
    Ok((client.clone(), role.clone()))
}

/// Run one clink call.
async fn run_clink(ctx: &ToolContext, args: ClinkArgs) -> Result<ToolReply, ToolError> {
    check_text("clink", "prompt", &args.prompt, &ctx.config.memory)?;
    let (client, role) = choose(ctx, &args)?;
    let policy = FilePolicy::new(&ctx.config);
    let files =
        prompt::references(&policy, "absolute_file_paths", &args.absolute_file_paths).await?;
    let images = prompt::references(&policy, "images", &args.images).await?;
    let mut conversation =
        Conversation::open(ctx, "clink", args.continuation_id.as_deref(), 2).await?;
    let history = conversation.take_history();
    let text = prompt::assemble(&client, &role, &history, &args.prompt, &files, &images);
    drop(history);
    let _permit = (ctx.pools.acquire_provider("clink").await)
        .map_err(|refused| ToolError::new(CallOutcome::Rejected, refused.to_string()))?;
    let started = Instant::now();
    let answer = run_with_retries(ctx, &client, &role, &text).await?;
    let took = started.elapsed();
    let (content, limited) = limit_response(&client.name, &answer.content);
    let model_label = format!("clink/{}", client.name);
    let mut asked = turn("user", "clink", args.prompt, None);
    asked.files = args.absolute_file_paths;
    let answered = turn(
        "assistant",
        "clink",
        content.clone(),
        Some(model_label.clone()),
    );
    let recorded = (conversation)
        .record(ctx, vec![asked, answered], &content)
        .await?;
    let mut notes: Vec<String> = answer.note.into_iter().collect();
    notes.extend(limited.clone());
    let mut extra = recorded.fields(&notes);
    extra["model"] = json!(model_label);
    extra["metadata"] = json!({
        "tool_name": "clink",
        "provider_used": "clink",
        "cli_name": client.name,
        "role": args.role.unwrap_or_else(|| "default".into()),
        "command": std::iter::once(&client.program).chain(&client.args).collect::<Vec<_>>(),
        "duration_seconds": (took.as_secs_f64() * 1000.0).round() / 1000.0,
        "parser": client.parser.name(),
        "return_code": answer.code,
        "model_used": answer.model,
        "output_limited": limited.is_some(),
    });
    let text = format!("{content}{}", recorded.footer(&notes));
    Ok(ToolReply::shaped(recorded.status(), &content, text, extra))
}
