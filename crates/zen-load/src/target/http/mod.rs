//! Sessions on a streamable HTTP target. rmcp's default client turns keep-alive off (one TCP
//! connection per call: a third of the generator's CPU went to `connect`), because a kept-alive
//! connection stalled ~40 ms behind an SSE reply's small writes. A load run instead shares one
//! keep-alive connection pool ([`Pool`]) among all its sessions, sized to the calls it keeps in
//! flight, with Nagle off on our side; zen serve answers single replies as JSON with Nagle off on
//! its side. The client itself is zen's own ([`session`]), in both eras.
pub(crate) mod churn;
mod lifecycle;
mod operation;
pub(crate) use lifecycle::rmcp_version;
pub(crate) mod modern;
pub(crate) mod pool;
mod reply;
pub(crate) mod session;
pub(crate) mod sse;
pub(crate) mod transport;

use std::time::Duration;

use anyhow::{Result, bail};
use rmcp::model::Implementation;

pub(crate) use crate::target::http::pool::Pool;
use crate::target::http::session::HttpSession;
use crate::target::protocol::Protocol;
use crate::target::session::Session;

/// One MCP session over the target's `pool` (zen's lean client), started at `protocol` as
/// `client` within `startup`.
pub(crate) async fn connect_http(
    pool: &Pool,
    url: &str,
    protocol: Protocol,
    client: &Implementation,
    startup: Duration,
) -> Result<Session> {
    let connect = HttpSession::connect(pool, url, protocol, client);
    match tokio::time::timeout(startup, connect).await {
        Ok(Ok(session)) => Ok(Session::Http(std::sync::Arc::new(session))),
        Ok(Err(crate::target::outcome::CallError::Http {
            status: status @ (401 | 403),
            body,
        })) => Err(refused(url, status, &body)),
        Ok(Err(e)) => {
            let text = e.to_string();
            // Ask the socket what went wrong, in words a user can act on.
            let hint = match reachable(url).await {
                Some(false) => "nothing is listening there: is the server running, on that port?",
                _ if text.contains("404") && !text.contains("-32601") => {
                    "the server has no MCP endpoint at that path (zen serves /mcp)"
                }
                _ if text.contains("MCP 2026") => "it is an MCP server of another era",
                _ if text.contains("certificate") => {
                    "its TLS certificate is not trusted: give the CA that signed it with \
                     --cacert FILE (or --insecure, for a test server only)"
                }
                _ => "is it a streamable HTTP MCP endpoint?",
            };
            bail!("cannot connect to {url} as an MCP server: {hint}\n  cause: {text}")
        }
        Err(_) => bail!(
            "{url} did not answer server/discover or initialize within {:.1}s",
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

/// A 401 or 403 before any load: the status, the server's challenge, and how to give
/// credentials.
pub(crate) fn refused(url: &str, status: u16, body: &str) -> anyhow::Error {
    let reason = if status == 401 {
        "Unauthorized"
    } else {
        "Forbidden"
    };
    anyhow::anyhow!(
        "{url} refused the load's credentials before any load was sent: HTTP {status} \
         {reason}\n  {body}\n  give the server's credentials with --bearer-token-env VAR (the \
         token in an environment variable) or -H 'Name: value' (repeatable)"
    )
}
