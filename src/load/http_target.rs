//! Sessions on a streamable HTTP target. rmcp's default client turns keep-alive off (one TCP
//! connection per call: a third of the generator's CPU went to `connect`), because a kept-alive
//! connection stalled ~40 ms behind an SSE reply's small writes. A load run instead shares one
//! keep-alive connection pool among all its sessions, sized to the calls it keeps in flight, with
//! Nagle off on our side; zen serve answers single replies as JSON with Nagle off on its side.
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rmcp::model::ClientConfig;

use super::mcp_http::HttpSession;
use super::session::Session;

/// Idle connections kept open past the run's own in-flight count (the snapshot call, a soak's
/// sampler).
const SPARE_CONNECTIONS: usize = 4;

/// One connection pool for every session of a target: at most `in_flight` (plus a few) idle
/// connections kept, HTTP/1.1 keep-alive, no Nagle delay, no redirects (a load run measures the
/// endpoint it was given).
pub fn pooled_client(in_flight: usize) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(in_flight + SPARE_CONNECTIONS)
        .pool_idle_timeout(Duration::from_secs(30))
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("cannot build the HTTP client")
}

/// One MCP session over `client`'s pool (zen's lean client), initialized with `config` within
/// `startup`.
pub async fn connect_http(
    client: &reqwest::Client,
    url: &str,
    config: ClientConfig,
    startup: Duration,
) -> Result<Session> {
    match tokio::time::timeout(startup, HttpSession::connect(client, url, &config)).await {
        Ok(Ok(session)) => Ok(Session::Http(std::sync::Arc::new(session))),
        Ok(Err(e)) => {
            let text = e.to_string();
            // Ask the socket what went wrong, in words a user can act on.
            let hint = match reachable(url).await {
                Some(false) => "nothing is listening there: is the server running, on that port?",
                _ if text.contains("404") => {
                    "the server has no MCP endpoint at that path (zen serves /mcp)"
                }
                _ => "is it a streamable HTTP MCP endpoint?",
            };
            bail!("cannot connect to {url} as an MCP server: {hint}\n  cause: {text}")
        }
        Err(_) => bail!(
            "{url} gave no initialize reply within {:.1}s",
            startup.as_secs_f64()
        ),
    }
}

/// Whether anything accepts TCP connections at the URL's host and port (`None`: cannot tell).
async fn reachable(url: &str) -> Option<bool> {
    let url = reqwest::Url::parse(url).ok()?;
    let host = url.host_str()?.trim_matches(['[', ']']).to_string();
    let port = url.port_or_known_default()?;
    let connect = tokio::net::TcpStream::connect((host.as_str(), port));
    match tokio::time::timeout(Duration::from_secs(3), connect).await {
        Ok(Ok(_)) => Some(true),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => Some(false),
        _ => None,
    }
}
