//! Sessions on a streamable HTTP target. rmcp's default client turns keep-alive off (one TCP
//! connection per call: a third of the generator's CPU went to `connect`), because a kept-alive
//! connection stalled ~40 ms behind an SSE reply's small writes. A load run instead shares one
//! keep-alive connection pool among all its sessions, sized to the calls it keeps in flight, with
//! Nagle off on our side; zen serve answers single replies as JSON with Nagle off on its side.
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rmcp::model::ClientConfig;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};

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

/// One MCP session over `client`'s pool, initialized with `config` within `startup`.
pub async fn connect_http(
    client: &reqwest::Client,
    url: &str,
    config: ClientConfig,
    startup: Duration,
) -> Result<RunningService<RoleClient, ClientConfig>> {
    // The default client allows 16 POSTs in flight: raise it, or we measure our own queue.
    let transport = StreamableHttpClientTransport::with_client(
        client.clone(),
        StreamableHttpClientTransportConfig::with_uri(url.to_string())
            .max_concurrent_requests(4096),
    );
    match tokio::time::timeout(startup, config.serve(transport)).await {
        Ok(Ok(session)) => Ok(session),
        Ok(Err(e)) => {
            let text = e.to_string();
            // rmcp's error keeps the io cause to itself: ask the socket what went wrong.
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
