//! A zen serve the run spawns itself: over stdio (the default) or, for several sessions, over
//! HTTP on an ephemeral port found through its discovery file; either way with a scratch data
//! directory so load runs never fill the user's conversation store.
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use tokio::process::Command;

use super::http::{Pool, connect_http};
use super::protocol::Protocol;
use super::stderr_tail::{StderrTail, tail_section};
use super::telemetry::{Telemetry, Which};
use super::{Target, client_info, startup_timeout};
use zen_os::discovery::DiscoveryInfo;

/// Several sessions on the default target: spawn `zen serve --http 127.0.0.1:0` and find its
/// endpoint in the discovery file it writes into a scratch runtime directory of ours.
pub(super) async fn spawn_self_http(
    env: &[(String, String)],
    asked: &[Protocol],
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
    let me = client_info();
    for protocol in asked {
        let session = connect_http(&client, &endpoint, *protocol, &me, startup_timeout());
        all.push(session.await?);
    }
    let label = format!("zen serve (spawned, http {endpoint})");
    let mut target = Target::finish(label, "spawned", all, pid, Some(child)).await?;
    target.telemetry = pid.and_then(|pid| Telemetry::find(scratch.path(), &Which::Pid(pid)));
    target.scratch = Some(scratch);
    Ok(target)
}

/// A scratch directory for a zen serve we spawn, removed after it exits; unless the user
/// named a data dir (`--env ZEN_DATA_DIR=…`), its conversations go there, so load runs never
/// fill the user's real conversation store.
pub(super) fn scratch_data_dir(
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
