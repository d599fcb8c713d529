//! The server a load run drives: this zen spawned as `zen serve` (the default), any MCP server
//! command over stdio (`--stdio`), or a streamable HTTP endpoint (`--url`). The engine sees it
//! only as MCP sessions, plus zen's snapshot (from its telemetry listener) when it is zen.
pub(crate) mod access;
pub(crate) mod http;
pub(crate) mod operation;
pub(crate) mod outcome;
pub(crate) mod pages;
pub(crate) mod preflight;
pub(crate) mod protocol;
pub(crate) mod session;
mod spawn;
pub(crate) mod stderr_tail;
pub(crate) mod telemetry;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
use rmcp::transport::TokioChildProcess;
use tokio::process::Command;

use crate::target::http::Pool;
use crate::target::http::rmcp_version;
use crate::target::protocol::{Protocol, per_session};
pub(crate) use crate::target::session::{LoadPeer, Session};
use crate::target::stderr_tail::{StderrTail, tail_section};
use crate::target::telemetry::{Telemetry, Which};
use zen_model::snapshot::Snapshot;

/// Where the load goes.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetSpec {
    /// This zen binary as `zen serve`, on the simulated provider by default.
    SpawnSelf,
    /// Any MCP server command over stdio.
    Stdio(String),
    /// Streamable HTTP endpoints: one, or several instances sharing the sessions.
    Url(Vec<String>),
}

/// A connected target.
pub(crate) struct Target {
    /// How to name it in reports.
    pub label: String,
    /// `spawned`, `stdio` or `http`.
    pub kind: &'static str,
    /// MCP sessions; calls are spread over them.
    pub sessions: Vec<Session>,
    /// The server process, when known (spawned or stdio targets).
    pub pid: Option<u32>,
    /// serverInfo (from initialize or server/discover).
    pub server: Implementation,
    /// The MCP revision each session speaks, as the server agreed it, by session index.
    pub protocols: Vec<String>,
    /// Tools a 2026-07-28 HTTP client must not call (an invalid `x-mcp-header`), with why.
    pub dropped: Vec<(String, String)>,
    /// The instances the sessions go to (several with `--url A --url B`; else the label).
    pub instances: Vec<String>,
    /// Session index → index in `instances`.
    pub session_instance: Vec<usize>,
    /// A zen target's telemetry listener, where its snapshot is read without a tool call.
    pub telemetry: Option<Telemetry>,
    /// The tools it listed (names and input schemas), checked against the plan before load.
    pub tools: Vec<rmcp::model::Tool>,
    /// A scratch directory of a spawned server (its runtime files), removed after it exits.
    scratch: Option<tempfile::TempDir>,
    /// A spawned HTTP server (zen serve --http for several sessions): stopped by close(), killed on drop.
    http_child: Option<tokio::process::Child>,
}

tokio::task_local! {
    /// The start-up allowance of the target being connected (so every step shares one setting
    /// without threading it through each helper).
    static STARTUP_TIMEOUT: Duration;
}

/// The start-up allowance in force (the default outside [`Target::connect`]).
fn startup_timeout() -> Duration {
    STARTUP_TIMEOUT
        .try_with(|t| *t)
        .unwrap_or(DEFAULT_STARTUP_TIMEOUT)
}

/// Who zen's load client says it is (initialize's clientInfo, the modern `_meta` clientInfo).
fn client_info() -> Implementation {
    Implementation::new("zen-load", zen_model::VERSION)
}

/// rmcp's client over stdio, in the lifecycle `protocol` asks for: discover (with the 2025
/// handshake as the fallback for `auto`) or the handshake at a pinned legacy revision. rmcp then
/// puts the modern `_meta` on every request itself.
fn stdio_lifecycle(protocol: Protocol) -> (ClientConfig, ClientLifecycleMode) {
    let config = |version: ProtocolVersion| {
        ClientConfig::new(ClientCapabilities::default(), client_info())
            .with_protocol_version(version)
    };
    match protocol {
        Protocol::Auto => (
            config(ProtocolVersion::LATEST_WITH_INITIALIZE),
            ClientLifecycleMode::Auto {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                legacy_version: Some(ProtocolVersion::LATEST_WITH_INITIALIZE),
            },
        ),
        Protocol::Pinned(version) if zen_model::mcp::is_modern(version) => (
            config(rmcp_version(version)),
            ClientLifecycleMode::Discover {
                preferred_versions: vec![rmcp_version(version)],
            },
        ),
        Protocol::Pinned(version) => (
            config(rmcp_version(version)),
            ClientLifecycleMode::Initialize,
        ),
    }
}

/// How long a target may take to start and answer initialize and tools/list (--startup-timeout).
pub(crate) const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

impl Target {
    /// Start (if needed) and connect to the target with `sessions` MCP sessions speaking
    /// `protocols` (round robin, one session each at least), allowing it `startup` to come up;
    /// an HTTP target gets a connection pool for `in_flight` calls that sends `http`'s access
    /// headers, trusts what it says, and takes its transport.
    pub(crate) async fn connect(
        spec: &TargetSpec,
        env: &[(String, String)],
        sessions: u32,
        in_flight: usize,
        startup: Duration,
        protocols: &[Protocol],
        http: (&std::sync::Arc<access::Access>, http::transport::Transport),
    ) -> Result<Self> {
        let urls = match spec {
            TargetSpec::Url(urls) => urls.len(),
            _ => 1,
        };
        let count = sessions.max(protocols.len() as u32).max(urls as u32);
        let asked = per_session(protocols, count);
        let mut target = STARTUP_TIMEOUT
            .scope(
                startup,
                Self::connect_to(spec, env, &asked, in_flight, http),
            )
            .await?;
        target.find_telemetry(spec, env);
        Ok(target)
    }

    /// A zen target's telemetry listener, from the discovery file it wrote (spawned over HTTP:
    /// found already, in our scratch runtime directory); said once when zen's is not found.
    fn find_telemetry(&mut self, spec: &TargetSpec, env: &[(String, String)]) {
        if self.server.name != "zen" || self.telemetry.is_some() {
            return;
        }
        let dir = telemetry::runtime_dir(env);
        let which = match (spec, self.pid) {
            (TargetSpec::Url(urls), _) => Which::Endpoint(&urls[0]),
            (_, Some(pid)) => Which::Pid(pid),
            (_, None) => return,
        };
        self.telemetry = Telemetry::find(&dir, &which);
        if self.telemetry.is_none() {
            tracing::warn!(
                "zen's telemetry listener is not announced in {} (the server runs with \
                 --no-telemetry, with another runtime directory, or on another machine): the \
                 report leaves out the server's pools, queue and memory; give this run the \
                 server's ZEN_RUNTIME_DIR to include them",
                dir.display()
            );
        }
    }

    async fn connect_to(
        spec: &TargetSpec,
        env: &[(String, String)],
        asked: &[Protocol],
        in_flight: usize,
        (access, transport): (&std::sync::Arc<access::Access>, http::transport::Transport),
    ) -> Result<Self> {
        let sessions = asked.len();
        match spec {
            TargetSpec::SpawnSelf if sessions > 1 => {
                spawn::spawn_self_http(env, asked, in_flight).await
            }
            TargetSpec::SpawnSelf => {
                let (scratch, env) = spawn::scratch_data_dir(env)?;
                let exe = std::env::current_exe().context("cannot find this zen binary")?;
                let mut cmd = Command::new(exe);
                cmd.arg("serve");
                let label = "zen serve (spawned, stdio)";
                let mut target = connect_stdio(cmd, label, "spawned", &env, asked[0]).await?;
                target.scratch = Some(scratch);
                Ok(target)
            }
            TargetSpec::Stdio(line) => {
                if sessions > 1 {
                    bail!(
                        "{sessions} sessions (--sessions, or one per --protocol) need an HTTP \
                         target (--url): over stdio each session is its own server process"
                    );
                }
                let words = shlex::split(line)
                    .filter(|w| !w.is_empty())
                    .ok_or_else(|| anyhow!("--stdio '{line}' is not a command line"))?;
                let mut cmd = Command::new(&words[0]);
                cmd.args(&words[1..]);
                connect_stdio(cmd, line, "stdio", env, asked[0]).await
            }
            TargetSpec::Url(urls) => {
                let spread = crate::engine::spread::sessions_for(urls, sessions as u32);
                let client = Pool::new(in_flight).with_access(access.clone());
                let mut all = Vec::new();
                let me = client_info();
                for (instance, protocol) in spread.iter().zip(asked) {
                    let url = &urls[*instance];
                    let session = http::transport::connect_url(
                        &client,
                        url,
                        *protocol,
                        &me,
                        (startup_timeout(), transport),
                    );
                    all.push(session.await?);
                }
                let label = urls.join(", ");
                let kind = if matches!(all[0], Session::Sse(_)) {
                    "sse"
                } else {
                    "http"
                };
                let mut target = Self::finish(label, kind, all, None, None).await?;
                (target.instances, target.session_instance) = (urls.clone(), spread);
                Ok(target)
            }
        }
    }

    async fn finish(
        label: String,
        kind: &'static str,
        sessions: Vec<Session>,
        pid: Option<u32>,
        http_child: Option<tokio::process::Child>,
    ) -> Result<Self> {
        let first = &sessions[0];
        let server = first.server_info();
        let listed = tokio::time::timeout(startup_timeout(), first.list_all_tools())
            .await
            .map_err(|_| {
                anyhow!(
                    "the target '{label}' answered the handshake but not tools/list within {:.1}s",
                    startup_timeout().as_secs_f64()
                )
            })?
            .unwrap_or_default();
        let (tools, dropped) = share_tool_headers(&sessions, listed);
        Ok(Target {
            instances: vec![label.clone()],
            session_instance: vec![0; sessions.len()],
            protocols: sessions.iter().map(Session::protocol).collect(),
            label,
            kind,
            sessions,
            pid,
            server,
            dropped,
            telemetry: None,
            tools,
            scratch: None,
            http_child,
        })
    }

    /// One peer per session, to clone into workers.
    pub(crate) fn peers(&self) -> Vec<LoadPeer> {
        self.sessions.iter().map(Session::peer).collect()
    }

    /// zen's snapshot, read from its telemetry listener (not through a tool call the server
    /// would count); `None` for other servers.
    pub(crate) async fn snapshot(&self) -> Option<Snapshot> {
        self.telemetry.as_ref()?.snapshot().await
    }

    /// The target is zen and its snapshot can be read.
    pub(crate) fn has_snapshot(&self) -> bool {
        self.telemetry.is_some()
    }

    /// Close every session; a spawned stdio server sees EOF and exits after draining, a spawned
    /// HTTP one gets SIGTERM so it too drains and removes its discovery file.
    pub(crate) async fn close(self) {
        for session in self.sessions {
            let _ = tokio::time::timeout(Duration::from_secs(15), session.close()).await;
        }
        if let Some(mut child) = self.http_child {
            #[cfg(unix)]
            if let Some(pid) = child.id() {
                zen_os::ffi::terminate(pid);
            }
            #[cfg(not(unix))]
            let _ = child.start_kill();
            if tokio::time::timeout(Duration::from_secs(15), child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
    }
}

/// When a session speaks 2026-07-28 over HTTP, the listed tools as such a client must see them
/// (those with an invalid `x-mcp-header` dropped), their annotations handed to every modern
/// session; else the list as it is.
fn share_tool_headers(
    sessions: &[Session],
    listed: Vec<rmcp::model::Tool>,
) -> (Vec<rmcp::model::Tool>, Vec<(String, String)>) {
    if !sessions.iter().any(Session::is_modern_http) {
        return (listed, Vec::new());
    }
    let (tools, headers, dropped) = crate::target::http::modern::screen(listed);
    let headers = std::sync::Arc::new(headers);
    for session in sessions {
        if let Session::Http(http) = session {
            http.use_tool_headers(headers.clone());
        }
    }
    (tools, dropped)
}

async fn connect_stdio(
    mut cmd: Command,
    label: &str,
    kind: &'static str,
    env: &[(String, String)],
    protocol: Protocol,
) -> Result<Target> {
    for (k, v) in env {
        cmd.env(k, v);
    }
    let program = cmd.as_std().get_program().to_string_lossy().into_owned();
    let (transport, stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start the target '{program}'"))?;
    let pid = transport.id();
    let (tail, tail_task) = match stderr {
        Some(stream) => {
            let (tail, task) = StderrTail::follow(stream);
            (tail, Some(task))
        }
        None => (StderrTail::default(), None),
    };
    let (config, lifecycle) = stdio_lifecycle(protocol);
    let start = config.serve_with_lifecycle(transport, lifecycle);
    let session = match tokio::time::timeout(startup_timeout(), start).await {
        Ok(Ok(session)) => session,
        failed => {
            let why = match failed {
                Ok(Err(e)) => e.to_string(),
                _ => format!(
                    "no server/discover or initialize reply within {:.1}s",
                    startup_timeout().as_secs_f64()
                ),
            };
            // Let the reader catch the dying process's last words.
            if let Some(task) = tail_task {
                let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
            }
            let hint = match protocol {
                Protocol::Pinned(version) if zen_model::mcp::is_modern(version) => format!(
                    " (--protocol {version} asked for server/discover; --protocol auto falls \
                         back to the 2025 handshake for a server that does not know it)"
                ),
                _ => String::new(),
            };
            bail!(
                "the target '{label}' did not start as an MCP server: {why}{hint}{}",
                tail_section(&tail)
            );
        }
    };
    let sessions = vec![Session::Rmcp(session)];
    Target::finish(label.to_string(), kind, sessions, pid, None).await
}
