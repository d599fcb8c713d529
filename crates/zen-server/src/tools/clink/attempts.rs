//! Running a CLI to an answer: one run and how it failed (not installed, a non-zero exit, an
//! error in its own output, too much output), another try after a rate-limited run while tries
//! are left, all within its time limit; and the cap on the answer passed back.
use std::time::Duration;

use super::clients::{Client, Role};
use super::parse;
use super::prompt;
use super::run::{self, RunError, Spec};
use crate::metrics::CallOutcome;
use crate::tools::{ToolContext, ToolError};

/// zen-mcp-server's cap on the answer passed back (a longer one is summarised or cut).
const MAX_RESPONSE_CHARS: usize = 20_000;

/// A CLI's answer and how its run ended.
pub(super) struct Answer {
    /// What the CLI answered.
    pub(super) content: String,
    /// The model it says it used.
    pub(super) model: Option<String>,
    /// Its exit code.
    pub(super) code: Option<i32>,
    /// What the reader should know about its output.
    pub(super) note: Option<String>,
}

/// Run the CLI, again after a rate-limited run while tries are left, all within its time limit.
pub(super) async fn run_with_retries(
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
pub(super) fn limit_response(cli: &str, content: &str) -> (String, Option<String>) {
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
