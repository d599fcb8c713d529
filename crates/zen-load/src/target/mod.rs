//! The server a load run drives: this zen spawned as `zen serve` (the default), any MCP server
//! command over stdio (`--stdio`), or a streamable HTTP endpoint (`--url`). The engine sees it
//! only as MCP sessions, plus zen's snapshot (through its `metrics` tool) when it is zen.
pub(crate) mod http;
pub(crate) mod http_pool;
pub(crate) mod mcp_http;
pub(crate) mod preflight;
pub(crate) mod session;
pub(crate) mod stderr_tail;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use rmcp::ServiceExt;
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation, ProtocolVersion,
};
use rmcp::transport::TokioChildProcess;
use tokio::process::Command;

use crate::target::http::{Pool, connect_http};
pub(crate) use crate::target::session::{LoadPeer, Session};
use crate::target::stderr_tail::{StderrTail, tail_section};
use zen_model::snapshot::Snapshot;
use zen_os::discovery::DiscoveryInfo;

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
    /// serverInfo from initialize.
    pub server: Implementation,
    /// The instances the sessions go to (several with `--url A --url B`; else the label).
    pub instances: Vec<String>,
    /// Session index → index in `instances`.
    pub session_instance: Vec<usize>,
    /// The target offers zen's `metrics` tool (its snapshot).
    pub has_snapshot: bool,
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

fn client_config() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("zen-load", zen_model::VERSION),
    )
    .with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE)
}

/// How long a target may take to start and answer initialize and tools/list (--startup-timeout).
pub(crate) const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

impl Target {
    /// Start (if needed) and connect to the target with `sessions` MCP sessions, allowing it
    /// `startup` to come up; an HTTP target gets a connection pool for `in_flight` calls.
    pub(crate) async fn connect(
        spec: &TargetSpec,
        env: &[(String, String)],
        sessions: u32,
        in_flight: usize,
        startup: Duration,
    ) -> Result<Self> {
        STARTUP_TIMEOUT
            .scope(startup, Self::connect_to(spec, env, sessions, in_flight))
            .await
    }

    async fn connect_to(
        spec: &TargetSpec,
        env: &[(String, String)],
        sessions: u32,
        in_flight: usize,
    ) -> Result<Self> {
        match spec {
            TargetSpec::SpawnSelf if sessions > 1 => {
                spawn_self_http(env, sessions, in_flight).await
            }
            TargetSpec::SpawnSelf => {
                let (scratch, env) = scratch_data_dir(env)?;
                let exe = std::env::current_exe().context("cannot find this zen binary")?;
                let mut cmd = Command::new(exe);
                cmd.arg("serve");
                let mut target =
                    connect_stdio(cmd, "zen serve (spawned, stdio)", "spawned", &env).await?;
                target.scratch = Some(scratch);
                Ok(target)
            }
            TargetSpec::Stdio(line) => {
                if sessions > 1 {
                    bail!(
                        "--sessions {sessions} needs an HTTP target (--url): over stdio each \
                         session is its own server process"
                    );
                }
                let words = shlex::split(line)
                    .filter(|w| !w.is_empty())
                    .ok_or_else(|| anyhow!("--stdio '{line}' is not a command line"))?;
                let mut cmd = Command::new(&words[0]);
                cmd.args(&words[1..]);
                connect_stdio(cmd, line, "stdio", env).await
            }
            TargetSpec::Url(urls) => {
                let spread = crate::engine::spread::sessions_for(urls, sessions);
                let client = Pool::new(in_flight);
                let mut all = Vec::new();
                for instance in &spread {
                    all.push(
                        connect_http(
                            &client,
                            &urls[*instance],
                            client_config(),
                            startup_timeout(),
                        )
                        .await?,
                    );
                }
                let mut target = Self::finish(urls.join(", "), "http", all, None, None).await?;
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
        let tools = tokio::time::timeout(startup_timeout(), first.list_all_tools())
            .await
            .map_err(|_| {
                anyhow!(
                    "the target '{label}' answered initialize but not tools/list within {:.1}s",
                    startup_timeout().as_secs_f64()
                )
            })?
            .unwrap_or_default();
        let has_snapshot = server.name == "zen" && tools.iter().any(|t| t.name == "metrics");
        Ok(Target {
            instances: vec![label.clone()],
            session_instance: vec![0; sessions.len()],
            label,
            kind,
            sessions,
            pid,
            server,
            has_snapshot,
            tools,
            scratch: None,
            http_child,
        })
    }

    /// One peer per session, to clone into workers.
    pub(crate) fn peers(&self) -> Vec<LoadPeer> {
        self.sessions.iter().map(Session::peer).collect()
    }

    /// zen's snapshot, read through its `metrics` tool (`detail`: the full snapshot, not the
    /// summary); `None` for other servers.
    pub(crate) async fn snapshot(&self) -> Option<Snapshot> {
        if !self.has_snapshot {
            return None;
        }
        let peer = self.sessions[0].peer();
        let call = peer.call_tool(
            CallToolRequestParams::new("metrics").with_arguments(rmcp::object!({ "detail": true })),
        );
        let result = tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .ok()?
            .ok()?;
        let value = result.into_result().structured_content?;
        serde_json::from_value(value).ok()
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

async fn connect_stdio(
    mut cmd: Command,
    label: &str,
    kind: &'static str,
    env: &[(String, String)],
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
    let session =
        match tokio::time::timeout(startup_timeout(), client_config().serve(transport)).await {
            Ok(Ok(session)) => session,
            failed => {
                let why = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!(
                        "no initialize reply within {:.1}s",
                        startup_timeout().as_secs_f64()
                    ),
                };
                // Let the reader catch the dying process's last words.
                if let Some(task) = tail_task {
                    let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
                }
                bail!(
                    "the target '{label}' did not start as an MCP server: {why}{}",
                    tail_section(&tail)
                );
            }
        };
    let sessions = vec![Session::Rmcp(session)];
    Target::finish(label.to_string(), kind, sessions, pid, None).await
}

/// Several sessions on the default target: spawn `zen serve --http 127.0.0.1:0` and find its
/// endpoint in the discovery file it writes into a scratch runtime directory of ours.
async fn spawn_self_http(
    env: &[(String, String)],
    sessions: u32,
    in_flight: usize,
) -> Result<Target> {
    let (scratch, env) = scratch_data_dir(env)?;
    let env = &env[..];
    let exe = std::env::current_exe().context("cannot find this zen binary")?;
    let mut cmd = Command::new(exe);
    cmd.args(["serve", "--http", "127.0.0.1:0"])
        .arg("--runtime-dir")
        .arg(scratch.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().context("cannot start zen serve --http")?;
    let pid = child.id();
    // Keep draining its stderr so it never blocks on a full pipe.
    let (tail, _) = StderrTail::follow(child.stderr.take().expect("piped"));
    let endpoint = await_discovery(&mut child, scratch.path(), pid)
        .await
        .ok_or_else(|| anyhow!("zen serve --http did not start{}", tail_section(&tail)))?;
    let client = Pool::new(in_flight);
    let mut all = Vec::new();
    for _ in 0..sessions {
        all.push(connect_http(&client, &endpoint, client_config(), startup_timeout()).await?);
    }
    let label = format!("zen serve (spawned, http {endpoint})");
    let mut target = Target::finish(label, "spawned", all, pid, Some(child)).await?;
    target.scratch = Some(scratch);
    Ok(target)
}

/// A scratch directory for a zen serve we spawn, removed after it exits; unless the user
/// named a data dir (`--env ZEN_DATA_DIR=…`), its conversations go there, so load runs never
/// fill the user's real conversation store.
fn scratch_data_dir(
    env: &[(String, String)],
) -> Result<(tempfile::TempDir, Vec<(String, String)>)> {
    let scratch = tempfile::Builder::new()
        .prefix("zen-load-")
        .tempdir()
        .context("cannot create a scratch directory for the spawned zen serve")?;
    let mut env = env.to_vec();
    if !env.iter().any(|(k, _)| k == "ZEN_DATA_DIR") {
        let data = scratch.path().join("data").display().to_string();
        env.push(("ZEN_DATA_DIR".to_string(), data));
    }
    Ok((scratch, env))
}

/// The MCP endpoint from `<dir>/<pid>.json`, once the server has written it; `None` if the
/// child exits first or nothing appears within the connect timeout.
async fn await_discovery(
    child: &mut tokio::process::Child,
    dir: &std::path::Path,
    pid: Option<u32>,
) -> Option<String> {
    let file = dir.join(format!("{}.json", pid?));
    let deadline = tokio::time::Instant::now() + startup_timeout();
    let mut poll = tokio::time::interval(Duration::from_millis(20));
    while tokio::time::Instant::now() < deadline {
        poll.tick().await;
        if let Ok(bytes) = std::fs::read(&file)
            && let Ok(info) = serde_json::from_slice::<DiscoveryInfo>(&bytes)
        {
            return info.endpoint;
        }
        if child.try_wait().ok().flatten().is_some() {
            return None;
        }
    }
    None
}
