//! The `clink` tool: hand a request to another AI CLI (gemini, codex, claude, or any CLI a client
//! file names) as a sub-agent, zen-mcp-server's headline tool. The CLI runs as a child process
//! under the `clink` pool (ZEN_PROVIDER_LIMITS=clink=N), with a time limit, an output cap, no
//! shell and only the environment it is given (`run`); its answer is read from its own output
//! format (`parse`) and kept in the thread like any model's, so the conversation continues in
//! clink or any other tool.
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rmcp::model::{JsonObject, ToolAnnotations};
use rmcp::schemars::{self, JsonSchema};
use serde::Deserialize;
use serde_json::json;

use super::conversation::{Conversation, check_text, turn};
use super::files::FilePolicy;
use super::{Tool, ToolContext, ToolError, ToolReply, asks_a_model, parse_args, schema_of};
use crate::metrics::CallOutcome;

mod clients;
mod parse;
mod prompt;
mod run;

use clients::{Client, Role};
use run::{RunError, Spec};

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

/// The clink tool.
pub(crate) struct Clink;

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
        schema_of::<ClinkArgs>()
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

/// zen-mcp-server's cap on the answer passed back (a longer one is summarised or cut).
const MAX_RESPONSE_CHARS: usize = 20_000;

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
    let answered = turn("assistant", "clink", content.clone(), Some(model_label));
    let recorded = (conversation)
        .record(ctx, vec![asked, answered], &content)
        .await?;
    let mut notes: Vec<String> = answer.note.into_iter().collect();
    notes.extend(limited.clone());
    let mut structured = recorded.fields(&notes);
    structured["status"] = json!("success");
    structured["content"] = json!(content);
    structured["metadata"] = json!({
        "cli_name": client.name,
        "role": args.role.unwrap_or_else(|| "default".into()),
        "command": std::iter::once(&client.program).chain(&client.args).collect::<Vec<_>>(),
        "duration_seconds": (took.as_secs_f64() * 1000.0).round() / 1000.0,
        "parser": client.parser.name(),
        "return_code": answer.code,
        "model_used": answer.model,
        "output_limited": limited.is_some(),
    });
    Ok(ToolReply {
        text: format!("{content}{}", recorded.footer(&notes)),
        structured: Some(structured),
    })
}

/// A CLI's answer and how its run ended.
struct Answer {
    content: String,
    model: Option<String>,
    code: Option<i32>,
    note: Option<String>,
}

/// Run the CLI, again after a rate-limited run while tries are left, all within its time limit.
async fn run_with_retries(
    ctx: &ToolContext,
    client: &Client,
    role: &Role,
    text: &str,
) -> Result<Answer, ToolError> {
    let config = &ctx.config.clink;
    let limit = client.timeout.unwrap_or(config.clink_timeout);
    let env = prompt::environment(client, &config.clink_pass_env);
    let args = prompt::arguments(client, role);
    let attempts = async {
        let mut tries = 0;
        loop {
            let result = once(client, &args, &env, text, config.clink_max_output_bytes).await;
            match result {
                Err(Failure::RateLimited(why)) if tries < client.max_retries => {
                    let delay = (client.retry_delays.get(tries as usize))
                        .or(client.retry_delays.last())
                        .copied()
                        .unwrap_or(Duration::from_secs(3));
                    tracing::warn!(
                        cli = client.name,
                        tries,
                        ?delay,
                        "clink: rate limited, trying again: {why}"
                    );
                    tries += 1;
                    tokio::time::sleep(delay).await;
                }
                Err(Failure::RateLimited(why) | Failure::Failed(why)) => {
                    return Err(ToolError::new(CallOutcome::ProviderError, why));
                }
                Err(Failure::Refused(why)) => return Err(ToolError::bad_input(why)),
                Ok(answer) => return Ok(answer),
            }
        }
    };
    tokio::time::timeout(limit, attempts).await.unwrap_or_else(|_| {
        Err(ToolError::new(
            CallOutcome::Timeout,
            format!(
                "clink: CLI '{}' did not finish within {} (ZEN_CLINK_TIMEOUT, or timeout_seconds \
                 in its client file); it and every process it started were killed",
                client.name,
                humantime::format_duration(limit)
            ),
        ))
    })
}

/// Why one run gave no answer.
enum Failure {
    /// It reported a rate limit: worth another try after a wait.
    RateLimited(String),
    /// It failed.
    Failed(String),
    /// It cannot run as configured (not installed).
    Refused(String),
}

/// One run of the CLI and its answer.
async fn once(
    client: &Client,
    args: &[String],
    env: &[(String, String)],
    text: &str,
    max_output: u64,
) -> Result<Answer, Failure> {
    let output_file = prompt::OutputFile::new(client)
        .map_err(|e| Failure::Failed(format!("clink: cannot make its output file: {e}")))?;
    let mut args = args.to_vec();
    args.extend(output_file.flags());
    let spec = Spec {
        program: &client.program,
        args: &args,
        env,
        cwd: client.working_dir.as_deref(),
        stdin: text.as_bytes(),
        max_output,
    };
    let finished = run::run(spec)
        .await
        .map_err(|e| run_failure(client, e, max_output))?;
    let mut stdout = String::from_utf8_lossy(&finished.stdout).into_owned();
    if stdout.trim().is_empty() {
        stdout = output_file.read(max_output).unwrap_or_default();
    }
    let stderr = String::from_utf8_lossy(&finished.stderr);
    let parsed = parse::parse(client.parser, &stdout);
    let failed = finished.code != Some(0) || parsed.error.is_some();
    if failed {
        let what = match (finished.code, &parsed.error) {
            (_, Some(error)) => format!("reported an error: {error}"),
            (Some(code), None) => format!("exited with status {code}"),
            (None, None) => "was ended by a signal".to_string(),
        };
        let why = format!(
            "clink: CLI '{}' {what}{}",
            client.name,
            tails(&stderr, &stdout)
        );
        return Err(if rate_limited(&stderr, &stdout) {
            Failure::RateLimited(why)
        } else {
            Failure::Failed(why)
        });
    }
    Ok(Answer {
        content: parsed.content,
        model: parsed.model,
        code: finished.code,
        note: parsed.note,
    })
}

fn run_failure(client: &Client, error: RunError, max_output: u64) -> Failure {
    match error {
        RunError::NotFound => Failure::Refused(format!(
            "clink: CLI '{}' cannot run: '{}' was not found on the PATH it is given. Install it, \
             or give its full path as `command` in a client file (CLI_CLIENTS_CONFIG_PATH).",
            client.name, client.program
        )),
        RunError::Spawn(e) => Failure::Refused(format!(
            "clink: CLI '{}' could not be started ({}): {e}",
            client.name, client.program
        )),
        RunError::TooMuchOutput(stream) => Failure::Failed(format!(
            "clink: CLI '{}' printed more than {} on {stream} (ZEN_CLINK_MAX_OUTPUT_BYTES); it \
             and every process it started were killed. Narrow the request, or raise the limit.",
            client.name,
            zen_model::units::bytes(max_output)
        )),
        RunError::Wait(e) => Failure::Failed(format!("clink: CLI '{}': {e}", client.name)),
    }
}

/// The end of what a failed CLI printed, for its error.
fn tails(stderr: &str, stdout: &str) -> String {
    let tail = |text: &str| {
        let text = text.trim();
        let start = text.len().saturating_sub(800);
        let start = (start..=text.len())
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text[start..].to_string()
    };
    let mut out = String::new();
    for (name, text) in [("stderr", stderr), ("stdout", stdout)] {
        if !text.trim().is_empty() {
            out.push_str(&format!("\n{name}: {}", tail(text)));
        }
    }
    out
}

/// zen-mcp-server's test for a rate-limited run (a quota that is used up is not one).
fn rate_limited(stderr: &str, stdout: &str) -> bool {
    let text = format!("{stderr} {stdout}").to_ascii_lowercase();
    let quota = [
        "quota exceeded",
        "quota_exceeded",
        "insufficient_quota",
        "quota limit",
    ];
    let limited = [
        "429",
        "rate limit",
        "too many requests",
        "resource_exhausted",
    ];
    !quota.iter().any(|q| text.contains(q)) && limited.iter().any(|l| text.contains(l))
}

/// An answer over [`MAX_RESPONSE_CHARS`]: its `<SUMMARY>` when it has one, else its start, with
/// a note saying so (zen-mcp-server's rule).
fn limit_response(cli: &str, content: &str) -> (String, Option<String>) {
    let chars = content.chars().count();
    if chars <= MAX_RESPONSE_CHARS {
        return (content.to_string(), None);
    }
    let lower = content.to_ascii_lowercase();
    if let (Some(open), Some(close)) = (lower.find("<summary>"), lower.rfind("</summary>"))
        && open + 9 <= close
    {
        let summary: String = content[open + 9..close]
            .trim()
            .chars()
            .take(MAX_RESPONSE_CHARS)
            .collect();
        let note = format!(
            "CLI '{cli}' answered in {chars} characters, over clink's {MAX_RESPONSE_CHARS}; its \
             own summary is shown"
        );
        return (summary, Some(note));
    }
    let excerpt: String = content.chars().take(4_000).collect();
    let note = format!(
        "CLI '{cli}' answered in {chars} characters, over clink's {MAX_RESPONSE_CHARS}; the \
         first 4000 are shown. Narrow the request, or run the CLI directly for the full answer"
    );
    (excerpt, Some(note))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_answer_gives_its_summary_or_its_start() {
        let long = format!("{}<SUMMARY> the gist </SUMMARY>", "x".repeat(30_000));
        let (shown, note) = limit_response("gemini", &long);
        assert_eq!(shown, "the gist");
        assert!(note.unwrap().contains("its own summary"));
        let (shown, note) = limit_response("gemini", &"é".repeat(25_000));
        assert_eq!(shown.chars().count(), 4_000);
        assert!(note.unwrap().contains("25000 characters"));
        assert_eq!(limit_response("gemini", "short").0, "short");
    }

    #[test]
    fn rate_limits_are_retried_and_used_up_quotas_are_not() {
        assert!(rate_limited("Error 429: Too Many Requests", ""));
        assert!(rate_limited("", "RESOURCE_EXHAUSTED"));
        assert!(!rate_limited("429: insufficient_quota", ""));
        assert!(!rate_limited("syntax error", ""));
    }
}
