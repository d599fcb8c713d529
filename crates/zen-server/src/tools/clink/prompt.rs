//! What a CLI is given: the prompt text (role prompt, the conversation so far, the request, the
//! files and images it should read), its arguments, its environment (only what is named), and
//! the output file of a CLI that writes its answer to one.
use std::fmt::Write as _;
use std::path::PathBuf;

use super::clients::{Client, Role};
use crate::providers::Message;
use crate::tools::ToolError;
use crate::tools::files::FilePolicy;

/// What the CLI is told about working as a sub-agent, after its role prompt.
const GUIDANCE: &str = "You are running as a command-line agent on behalf of the zen MCP server. \
    Use your own tools (read files, search, run commands where the request allows) to gather what \
    you need, and give the final answer yourself; do not ask the caller to read files or search \
    for you.";

/// The lines listing files or images for the CLI: each path (checked against zen's file policy,
/// ZEN_ALLOWED_PATHS included) with its size. The CLI reads them itself.
pub(super) async fn references(
    policy: &FilePolicy,
    field: &str,
    paths: &[String],
) -> Result<Vec<String>, ToolError> {
    let mut lines = Vec::with_capacity(paths.len());
    for path in paths {
        if path.starts_with("data:") {
            return Err(ToolError::bad_field(
                "clink",
                field,
                "clink gives a CLI images by path, and a data: URL has none; save the image to a \
                 file and pass its absolute path",
            ));
        }
        let (real, size) = policy
            .check(path)
            .await
            .map_err(|why| ToolError::bad_field("clink", field, format!("{path}: {why}")))?;
        lines.push(format!("- {} ({size} bytes)", real.display()));
    }
    Ok(lines)
}

/// The text on the CLI's stdin.
pub(super) fn assemble(
    client: &Client,
    role: &Role,
    history: &[Message],
    request: &str,
    files: &[String],
    images: &[String],
) -> String {
    let mut sections: Vec<String> = Vec::new();
    // claude takes its role prompt through --append-system-prompt instead.
    if !client.system_prompt_flag && !role.prompt.trim().is_empty() {
        sections.push(role.prompt.trim().to_string());
    }
    sections.push(GUIDANCE.to_string());
    if !history.is_empty() {
        let mut text = String::from("=== CONVERSATION SO FAR ===");
        for message in history {
            let _ = write!(text, "\n\n[{}]\n{}", message.role, message.content.trim());
        }
        sections.push(text);
    }
    sections.push(format!("=== USER REQUEST ===\n{}", request.trim()));
    if !files.is_empty() {
        sections.push(format!("=== FILE REFERENCES ===\n{}", files.join("\n")));
    }
    if !images.is_empty() {
        sections.push(format!("=== IMAGE REFERENCES ===\n{}", images.join("\n")));
    }
    sections.push("Provide your response below using your own CLI tools as needed:".into());
    sections.join("\n\n")
}

/// The CLI's arguments: the client's, its role prompt as `--append-system-prompt` for claude
/// (unless the file passes one already), then the role's.
pub(super) fn arguments(client: &Client, role: &Role) -> Vec<String> {
    let mut args = client.args.clone();
    let flag = "--append-system-prompt";
    if client.system_prompt_flag
        && !role.prompt.trim().is_empty()
        && !args.iter().any(|a| a == flag)
    {
        args.extend([flag.to_string(), role.prompt.trim().to_string()]);
    }
    args.extend(role.args.iter().cloned());
    args
}

/// The CLI's whole environment: the variables of ZEN_CLINK_PASS_ENV and the client's
/// `pass_env` that zen has, then the client's fixed `env` (which wins).
pub(super) fn environment(client: &Client, pass: &[String]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    for name in pass.iter().chain(&client.pass_env).map(|n| n.trim()) {
        if name.is_empty() || env.iter().any(|(k, _)| k == name) {
            continue;
        }
        if let Ok(value) = std::env::var(name) {
            env.push((name.to_string(), value));
        }
    }
    for (name, value) in &client.env {
        env.retain(|(k, _)| k != name);
        env.push((name.clone(), value.clone()));
    }
    env
}

/// The file a CLI with `output_to_file` writes its answer to: in a fresh private directory,
/// removed afterwards unless the client file says `"cleanup": false`.
pub(super) struct OutputFile {
    /// The directory and the file's path, when the client writes to one.
    place: Option<(tempfile::TempDir, PathBuf)>,
    /// The flags that name the file, from the client's template.
    flags: Vec<String>,
    /// Keep the file afterwards.
    keep: bool,
}

impl OutputFile {
    pub(super) fn new(client: &Client) -> std::io::Result<Self> {
        let Some(spec) = &client.output_to_file else {
            return Ok(OutputFile {
                place: None,
                flags: Vec::new(),
                keep: false,
            });
        };
        let dir = tempfile::Builder::new().prefix("zen-clink-").tempdir()?;
        let path = dir.path().join("output.json");
        let rendered = spec
            .flag_template
            .replace("{path}", &path.display().to_string());
        let flags = shlex::split(&rendered).unwrap_or_else(|| vec![rendered.clone()]);
        Ok(OutputFile {
            place: Some((dir, path)),
            flags,
            keep: !spec.cleanup,
        })
    }

    pub(super) fn flags(&self) -> Vec<String> {
        self.flags.clone()
    }

    /// What the CLI wrote to the file (at most `cap` bytes).
    pub(super) fn read(self, cap: u64) -> Option<String> {
        use std::io::Read;
        let (dir, path) = self.place?;
        let mut text = String::new();
        let file = std::fs::File::open(&path).ok()?;
        file.take(cap).read_to_string(&mut text).ok()?;
        if self.keep {
            let _ = dir.keep();
        }
        Some(text)
    }
}
