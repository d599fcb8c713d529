//! The CLIs clink may run, in zen-mcp-server's conf/cli_clients format: `{"name", "command",
//! "additional_args", "env", "timeout_seconds", "max_retries", "retry_delays", "working_dir",
//! "roles": {ROLE: {"prompt_path", "role_args"}}, "output_to_file"}`, plus zen's `parser` and
//! `pass_env`. zen's built-in gemini, codex and claude are read first, then
//! CLI_CLIENTS_CONFIG_PATH (a file or a directory of them), then ~/.zen/cli_clients; a later
//! client of the same name replaces an earlier one. The files are read on every call, so an edit
//! takes effect without a restart.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::builtin::{BUILTIN, builtin_prompt};
use super::parse::Parser;
use crate::config::ClinkConfig;

/// The largest client or prompt file read.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// A list of strings, or one string (both are accepted upstream).
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Strings {
    #[default]
    None,
    List(Vec<String>),
    One(String),
}

impl Strings {
    fn into_vec(self) -> Vec<String> {
        match self {
            Strings::None => Vec::new(),
            Strings::List(list) => list,
            Strings::One(one) => vec![one],
        }
    }
}

/// A role as a file describes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleFile {
    prompt_path: Option<String>,
    #[serde(default)]
    role_args: Strings,
    #[expect(dead_code, reason = "documentation in the file; zen does not show it")]
    description: Option<String>,
}

/// `output_to_file`: the CLI writes its answer to a file zen names through this flag.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutputToFile {
    /// e.g. `--output {path}`.
    pub flag_template: String,
    /// Remove the file after reading it.
    #[serde(default = "yes")]
    pub cleanup: bool,
}

fn yes() -> bool {
    true
}

/// A client as a file describes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientFile {
    name: String,
    command: Option<String>,
    working_dir: Option<String>,
    #[serde(default)]
    additional_args: Strings,
    #[serde(default)]
    env: BTreeMap<String, String>,
    timeout_seconds: Option<u64>,
    max_retries: Option<u32>,
    retry_delays: Option<Vec<f64>>,
    #[serde(default)]
    roles: BTreeMap<String, RoleFile>,
    output_to_file: Option<OutputToFile>,
    /// zen: how the output is read (gemini_json, codex_jsonl, claude_json, text).
    parser: Option<String>,
    /// zen: more of zen's environment variables this CLI sees.
    #[serde(default)]
    pass_env: Vec<String>,
}

/// A role: its prompt and extra arguments.
#[derive(Debug, Clone)]
pub(crate) struct Role {
    /// The role prompt's text.
    pub prompt: String,
    /// Arguments added for this role.
    pub args: Vec<String>,
}

/// A CLI clink can run, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    /// The name callers give as `cli_name`.
    pub name: String,
    /// The program (its name, found on the CLI's PATH, or a path).
    pub program: String,
    /// Its arguments: the command's own, zen's for this CLI (`-o json`, `exec`, `--print …`),
    /// then the file's `additional_args`.
    pub args: Vec<String>,
    /// Where it runs (zen's working directory when none).
    pub working_dir: Option<PathBuf>,
    /// Fixed variables it is given.
    pub env: BTreeMap<String, String>,
    /// More of zen's variables it sees, beyond ZEN_CLINK_PASS_ENV.
    pub pass_env: Vec<String>,
    /// Its own time limit, when the file sets one.
    pub timeout: Option<Duration>,
    /// Further tries after a rate-limited run.
    pub max_retries: u32,
    /// The wait before each further try.
    pub retry_delays: Vec<Duration>,
    /// How its output is read.
    pub parser: Parser,
    /// The role prompt goes in `--append-system-prompt` (claude) instead of the prompt text.
    pub system_prompt_flag: bool,
    /// The output file flag, when the CLI writes its answer to a file.
    pub output_to_file: Option<OutputToFile>,
    /// Its roles by name.
    pub roles: BTreeMap<String, Role>,
}

/// zen's arguments and parser for the CLIs it knows (zen-mcp-server's internal defaults).
fn known_cli(name: &str) -> (Vec<&'static str>, Parser, bool) {
    match name.to_ascii_lowercase().as_str() {
        "gemini" => (vec!["-o", "json"], Parser::GeminiJson, false),
        "codex" => (vec!["exec"], Parser::CodexJsonl, false),
        "claude" => (
            vec!["--print", "--output-format", "json"],
            Parser::ClaudeJson,
            true,
        ),
        _ => (Vec::new(), Parser::Text, false),
    }
}

impl ClientFile {
    /// The client, with paths relative to `dir` (the file's directory; none for built-ins).
    fn resolve(self, dir: Option<&Path>) -> Result<Client, String> {
        let name = self.name.trim().to_string();
        if name.is_empty() {
            return Err("`name` is empty".into());
        }
        let command = self.command.unwrap_or_else(|| name.clone());
        let mut words = shlex::split(&command)
            .ok_or_else(|| format!("{name}: `command` '{command}' has an unclosed quote"))?
            .into_iter();
        let program = words
            .next()
            .ok_or_else(|| format!("{name}: `command` is empty"))?;
        let (internal, known_parser, system_prompt_flag) = known_cli(&name);
        let parser = match self.parser.as_deref() {
            None => known_parser,
            Some(p) => Parser::from_name(p).ok_or_else(|| {
                format!("{name}: parser '{p}' is not gemini_json, codex_jsonl, claude_json or text")
            })?,
        };
        let mut args: Vec<String> = words.collect();
        args.extend(internal.into_iter().map(String::from));
        args.extend(self.additional_args.into_vec());
        let mut roles = BTreeMap::new();
        let mut role_files = self.roles;
        role_files.entry("default".into()).or_insert(RoleFile {
            prompt_path: None,
            role_args: Strings::None,
            description: None,
        });
        for (role, file) in role_files {
            let path =
                (file.prompt_path).unwrap_or_else(|| "systemprompts/clink/default.txt".into());
            let prompt =
                role_prompt(&path, dir).map_err(|e| format!("{name}: role {role}: {e}"))?;
            let args = file.role_args.into_vec();
            roles.insert(role, Role { prompt, args });
        }
        let delays = self.retry_delays.unwrap_or_else(|| vec![3.0, 6.0, 12.0]);
        Ok(Client {
            name,
            program,
            args,
            working_dir: self.working_dir.map(|w| relative_to(&w, dir)),
            env: self.env,
            pass_env: self.pass_env,
            timeout: self
                .timeout_seconds
                .filter(|s| *s > 0)
                .map(Duration::from_secs),
            max_retries: self.max_retries.unwrap_or(3),
            retry_delays: (delays.into_iter())
                .filter(|d| d.is_finite() && *d >= 0.0)
                .map(|d| Duration::from_secs_f64(d.min(3600.0)))
                .collect(),
            parser,
            system_prompt_flag,
            output_to_file: self.output_to_file,
            roles,
        })
    }
}

fn relative_to(path: &str, dir: Option<&Path>) -> PathBuf {
    match dir {
        Some(dir) if Path::new(path).is_relative() => dir.join(path),
        _ => PathBuf::from(path),
    }
}

/// A role prompt: the file at `path` (relative to the client file's directory), else zen's own
/// prompt of that file name.
fn role_prompt(path: &str, dir: Option<&Path>) -> Result<String, String> {
    let file = relative_to(path, dir);
    if dir.is_some() && file.is_file() {
        return read_small(&file);
    }
    builtin_prompt(path).map(str::to_string).ok_or_else(|| {
        format!(
            "prompt file {} not found (zen's own prompts are default.txt, default_planner.txt, \
             default_codereviewer.txt, codex_codereviewer.txt and default_codegen.txt)",
            file.display()
        )
    })
}

fn read_small(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut text = String::new();
    (file.take(MAX_FILE_BYTES + 1).read_to_string(&mut text))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("{}: larger than 1 MiB", path.display()));
    }
    Ok(text)
}

/// The JSON files a path names: itself, or the `*.json` in it, sorted.
fn json_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut files: Vec<PathBuf> = (entries.filter_map(Result::ok))
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// Every client clink may run now: the built-ins, then the files of CLI_CLIENTS_CONFIG_PATH,
/// then ~/.zen/cli_clients; a later client of the same name (in any case) replaces an earlier.
pub(crate) fn load(config: &ClinkConfig) -> Result<Vec<Client>, String> {
    let mut clients: Vec<Client> = Vec::new();
    let mut add = |client: Client| {
        clients.retain(|c| !c.name.eq_ignore_ascii_case(&client.name));
        clients.push(client);
    };
    for text in BUILTIN {
        let file: ClientFile = serde_json::from_str(text).expect("built-in clients parse");
        add(file.resolve(None).expect("built-in clients resolve"));
    }
    let user_dir = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".zen/cli_clients"));
    let configured = config
        .cli_clients_config_path
        .iter()
        .map(|p| (p.clone(), true));
    for (path, required) in configured.chain(user_dir.map(|p| (p, false))) {
        if !required && !path.is_dir() {
            continue;
        }
        let files = json_files(&path).map_err(|e| format!("CLI_CLIENTS_CONFIG_PATH: {e}"))?;
        for file in files {
            add(read_client(&file)?);
        }
    }
    Ok(clients)
}

fn read_client(path: &Path) -> Result<Client, String> {
    let text = read_small(path)?;
    let deserializer = &mut serde_json::Deserializer::from_str(&text);
    let file: ClientFile = serde_path_to_error::deserialize(deserializer)
        .map_err(|e| format!("{}: {}: {}", path.display(), e.path(), e.inner()))?;
    file.resolve(path.parent())
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(path: Option<&Path>) -> ClinkConfig {
        let mut c = crate::config::ServeConfig::defaults().clink;
        c.cli_clients_config_path = path.map(Path::to_path_buf);
        c
    }

    #[test]
    fn the_builtin_clients_carry_zen_mcp_servers_arguments_and_roles() {
        let clients = load(&config(None)).unwrap();
        let names: Vec<_> = clients.iter().map(|c| c.name.as_str()).collect();
        assert!(
            names.starts_with(&["gemini", "codex", "claude"]),
            "{names:?}"
        );
        let gemini = &clients[0];
        assert_eq!(gemini.args, ["-o", "json", "--yolo"]);
        assert_eq!(gemini.parser, Parser::GeminiJson);
        assert!(
            gemini.roles["planner"]
                .prompt
                .contains("planning sub-agent")
        );
        assert_eq!(clients[1].args[0], "exec");
        assert!(clients[2].system_prompt_flag && clients[2].roles.contains_key("codegen"));
    }

    #[test]
    fn a_client_file_adds_a_cli_and_replaces_a_builtin_of_the_same_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("reviewer.txt"), "review hard").unwrap();
        std::fs::write(
            dir.path().join("mine.json"),
            r#"{"name": "mine", "command": "'/opt/my cli/run' --fast", "additional_args": "-q",
                "env": {"MODE": "x"}, "timeout_seconds": 5, "parser": "text",
                "roles": {"reviewer": {"prompt_path": "reviewer.txt", "role_args": ["--strict"]}}}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("gemini.json"),
            r#"{"name": "Gemini", "command": "gem"}"#,
        )
        .unwrap();
        let clients = load(&config(Some(dir.path()))).unwrap();
        let mine = clients.iter().find(|c| c.name == "mine").unwrap();
        assert_eq!(mine.program, "/opt/my cli/run");
        assert_eq!(mine.args, ["--fast", "-q"]);
        assert_eq!(mine.roles["reviewer"].prompt, "review hard");
        assert_eq!(mine.roles["reviewer"].args, ["--strict"]);
        assert!(
            mine.roles["default"].prompt.contains("sub-agent"),
            "a default role is added"
        );
        assert_eq!(mine.timeout, Some(Duration::from_secs(5)));
        let gemini: Vec<_> = clients
            .iter()
            .filter(|c| c.name.eq_ignore_ascii_case("gemini"))
            .collect();
        assert_eq!(gemini.len(), 1);
        assert_eq!(gemini[0].program, "gem");
        assert_eq!(
            gemini[0].args,
            ["-o", "json"],
            "zen's gemini arguments stay"
        );
    }

    #[test]
    fn a_bad_client_file_is_named_with_its_field() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.json");
        std::fs::write(&file, r#"{"name": "x", "additonal_args": []}"#).unwrap();
        let err = load(&config(Some(&file))).unwrap_err();
        assert!(
            err.contains("bad.json") && err.contains("additonal_args"),
            "{err}"
        );
        std::fs::write(
            &file,
            r#"{"name": "x", "roles": {"r": {"prompt_path": "nope.txt"}}}"#,
        )
        .unwrap();
        let err = load(&config(Some(&file))).unwrap_err();
        assert!(
            err.contains("role r: prompt file") && err.contains("nope.txt"),
            "{err}"
        );
    }
}
