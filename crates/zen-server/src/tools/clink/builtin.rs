//! zen's own CLI clients (gemini, codex, claude, as zen-mcp-server ships them) and its role
//! prompts, found by the file names zen-mcp-server's client files use.
use std::path::Path;

/// zen's own clients, as zen-mcp-server ships them (without pinning a model: each CLI's own
/// default applies). They act without asking, as they do there: that is what a sub-agent is for.
pub(super) const BUILTIN: [&str; 3] = [
    r#"{"name": "gemini", "command": "gemini", "additional_args": ["--yolo"],
        "pass_env": ["GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_CLOUD_PROJECT", "GOOGLE_GENAI_USE_VERTEXAI"],
        "roles": {"default": {"prompt_path": "systemprompts/clink/default.txt"},
                  "planner": {"prompt_path": "systemprompts/clink/default_planner.txt"},
                  "codereviewer": {"prompt_path": "systemprompts/clink/default_codereviewer.txt"}}}"#,
    r#"{"name": "codex", "command": "codex",
        "additional_args": ["--json", "--dangerously-bypass-approvals-and-sandbox"],
        "pass_env": ["OPENAI_API_KEY", "CODEX_HOME"],
        "roles": {"default": {"prompt_path": "systemprompts/clink/default.txt"},
                  "planner": {"prompt_path": "systemprompts/clink/default_planner.txt"},
                  "codereviewer": {"prompt_path": "systemprompts/clink/codex_codereviewer.txt"}}}"#,
    r#"{"name": "claude", "command": "claude",
        "additional_args": ["--permission-mode", "acceptEdits"],
        "pass_env": ["ANTHROPIC_API_KEY", "CLAUDE_CONFIG_DIR"],
        "roles": {"default": {"prompt_path": "systemprompts/clink/default.txt"},
                  "planner": {"prompt_path": "systemprompts/clink/default_planner.txt"},
                  "codereviewer": {"prompt_path": "systemprompts/clink/default_codereviewer.txt"},
                  "codegen": {"prompt_path": "systemprompts/clink/default_codegen.txt"}}}"#,
];

/// zen's role prompts, by the file names zen-mcp-server's client files use, so a file copied
/// from there finds them.
pub(super) fn builtin_prompt(path: &str) -> Option<&'static str> {
    let name = Path::new(path).file_name()?.to_str()?;
    Some(match name {
        "default.txt" => include_str!("../prompts/clink_default.txt"),
        "default_planner.txt" => include_str!("../prompts/clink_planner.txt"),
        "default_codereviewer.txt" | "codex_codereviewer.txt" => {
            include_str!("../prompts/clink_codereviewer.txt")
        }
        "default_codegen.txt" => include_str!("../prompts/clink_codegen.txt"),
        _ => return None,
    })
}
