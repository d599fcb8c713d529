//! zen's snapshot read from its telemetry listener (`GET /snapshot`), found as `zen top` finds
//! it: through the discovery file the server writes. Never through its `metrics` tool, which
//! the server counts as a call (in its tool statistics, `/metrics` and `zen top`) and which
//! waits in the same pipe and queue as the load.
use std::path::PathBuf;
use std::time::Duration;

use zen_model::snapshot::Snapshot;
use zen_os::discovery::{self, DiscoveryInfo};

/// A snapshot taking longer than this is skipped (the next tick asks again).
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The telemetry listener of the zen serve behind a target.
#[derive(Debug, Clone)]
pub(crate) struct Telemetry {
    /// Base URL, e.g. http://127.0.0.1:40123.
    pub url: String,
    /// Loopback HTTP, no proxy, no TLS roots.
    client: reqwest::Client,
}

/// Where the server announces itself: `ZEN_RUNTIME_DIR` (or `XDG_RUNTIME_DIR`) given to a
/// spawned target with `--env`, else the one this process sees (as `zen top` uses).
pub(crate) fn runtime_dir(env: &[(String, String)]) -> PathBuf {
    let given = |key: &str| {
        env.iter()
            .rev()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| PathBuf::from(v))
    };
    if let Some(dir) = given("ZEN_RUNTIME_DIR") {
        return dir;
    }
    if let Some(xdg) = given("XDG_RUNTIME_DIR") {
        return xdg.join("zen");
    }
    let ours = std::env::var_os("ZEN_RUNTIME_DIR").filter(|v| !v.is_empty());
    discovery::runtime_dir(ours.map(PathBuf::from).as_deref())
}

/// Which announced server a target is.
pub(crate) enum Which<'a> {
    /// The process we started (spawned or `--stdio`).
    Pid(u32),
    /// The MCP endpoint we were given (`--url`).
    Endpoint(&'a str),
}

impl Telemetry {
    /// The telemetry listener of the server `which` names, announced in `dir`; `None` when no
    /// discovery file there matches (`--no-telemetry`, another runtime directory, a wrapper
    /// process in between).
    pub(crate) fn find(dir: &std::path::Path, which: &Which<'_>) -> Option<Self> {
        let servers = discovery::list(dir);
        let found = servers.iter().find(|s| matches(s, which))?;
        zen_os::tls::use_ring();
        let client = reqwest::Client::builder()
            .no_proxy()
            .tls_certs_only([])
            .timeout(READ_TIMEOUT)
            .build()
            .ok()?;
        Some(Telemetry {
            url: found.telemetry_url.trim_end_matches('/').to_string(),
            client,
        })
    }

    /// The server's snapshot now; `None` when it does not answer in time, is gone, or sends
    /// more than a snapshot ([`zen_os::snapshot_read`], the read `zen top` uses).
    pub(crate) async fn snapshot(&self) -> Option<Snapshot> {
        let body = zen_os::snapshot_read::snapshot_body(&self.client, &self.url).await;
        serde_json::from_slice(&body.ok()?).ok()
    }
}

/// Is `server` the one `which` names?
fn matches(server: &DiscoveryInfo, which: &Which<'_>) -> bool {
    match which {
        Which::Pid(pid) => server.pid == *pid,
        Which::Endpoint(url) => server
            .endpoint
            .as_deref()
            .is_some_and(|endpoint| same_endpoint(endpoint, url)),
    }
}

/// The same MCP endpoint: same port and path, and the same host, or hosts that both mean this
/// machine (a server bound to 0.0.0.0 announces that; the user may type localhost).
fn same_endpoint(announced: &str, given: &str) -> bool {
    let (Some(a), Some(b)) = (split(announced), split(given)) else {
        return false;
    };
    let local = |host: &str| {
        matches!(
            host,
            "localhost" | "127.0.0.1" | "0.0.0.0" | "[::]" | "[::1]" | "::1"
        )
    };
    a.1 == b.1 && a.2 == b.2 && (a.0 == b.0 || (local(&a.0) && local(&b.0)))
}

/// (host, port, path) of an http(s) URL, the port defaulted by its scheme.
fn split(url: &str) -> Option<(String, u16, String)> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let authority = authority.rsplit('@').next()?;
    let default = if scheme.eq_ignore_ascii_case("https") {
        443
    } else {
        80
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port.parse().ok()?),
        _ => (authority, default),
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    Some((
        host.to_ascii_lowercase(),
        port,
        path.trim_end_matches('/').to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_matches_the_url_a_user_types_for_it() {
        let announced = "http://127.0.0.1:8931/mcp";
        assert!(same_endpoint(announced, "http://127.0.0.1:8931/mcp"));
        assert!(same_endpoint(announced, "http://localhost:8931/mcp/"));
        assert!(same_endpoint("http://0.0.0.0:8931/mcp", announced));
        assert!(!same_endpoint(announced, "http://127.0.0.1:8932/mcp"));
        assert!(!same_endpoint(announced, "http://127.0.0.1:8931/other"));
        assert!(!same_endpoint(announced, "http://10.1.2.3:8931/mcp"));
        assert!(same_endpoint(
            "http://[::1]:9000/mcp",
            "http://localhost:9000/mcp"
        ));
    }

    #[test]
    fn the_runtime_dir_given_to_a_spawned_target_wins() {
        let env = [("ZEN_RUNTIME_DIR".to_string(), "/tmp/zen-run-x".to_string())];
        assert_eq!(runtime_dir(&env), PathBuf::from("/tmp/zen-run-x"));
        let env = [("XDG_RUNTIME_DIR".to_string(), "/run/user/7".to_string())];
        assert_eq!(runtime_dir(&env), PathBuf::from("/run/user/7/zen"));
    }
}
