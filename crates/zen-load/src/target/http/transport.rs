//! Which HTTP transport a `--url` session takes (`--transport`): streamable HTTP, the legacy
//! HTTP+SSE one ([`super::sse`]), or `auto`, which tries the first and falls back to the second
//! as the spec's backwards-compatibility section describes.
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::Implementation;
use serde::Deserialize;

use super::pool::Pool;
use super::sse::SseSession;
use crate::target::outcome::CallError;
use crate::target::protocol::Protocol;
use crate::target::session::Session;

/// The HTTP transport of a `--url` target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    /// Streamable HTTP (MCP 2025-03-26 on): one POST per request.
    #[default]
    StreamableHttp,
    /// The legacy HTTP+SSE transport of 2024-11-05: GET a stream, POST where it says.
    Sse,
    /// Streamable HTTP, then SSE when the POST gets a 4xx
    /// (`2025-11-25/basic/transports#backwards-compatibility`).
    Auto,
}

/// One session at `url` over `transport`, speaking `protocol` as `client`, within `startup`.
pub(crate) async fn connect_url(
    pool: &Pool,
    url: &str,
    protocol: Protocol,
    client: &Implementation,
    (startup, transport): (Duration, Transport),
) -> anyhow::Result<Session> {
    match transport {
        Transport::StreamableHttp => {
            super::connect_http(pool, url, protocol, client, startup).await
        }
        Transport::Sse => connect_sse(pool, url, protocol, client, startup).await,
        Transport::Auto => match super::connect_http(pool, url, protocol, client, startup).await {
            Ok(session) => Ok(session),
            // A legacy-only server answers the POST with 405, 404 or 400.
            Err(e) if falls_back(&format!("{e:#}")) => {
                tracing::debug!(%url, "streamable HTTP refused with a 4xx: trying the legacy SSE transport");
                connect_sse(pool, url, protocol, client, startup)
                    .await
                    .map_err(|sse| {
                        anyhow::anyhow!("{e:#}\n  and over the legacy SSE transport: {sse:#}")
                    })
            }
            Err(e) => Err(e),
        },
    }
}

/// A streamable HTTP failure that means "try the old transport": a 4xx that is not about
/// credentials.
fn falls_back(text: &str) -> bool {
    ["HTTP 400", "HTTP 404", "HTTP 405"]
        .iter()
        .any(|s| text.contains(s))
}

/// One legacy SSE session, its start bounded by `startup`.
async fn connect_sse(
    pool: &Pool,
    url: &str,
    protocol: Protocol,
    client: &Implementation,
    startup: Duration,
) -> anyhow::Result<Session> {
    let version = match protocol {
        Protocol::Auto => zen_model::mcp::LATEST_LEGACY,
        Protocol::Pinned(v) if zen_model::mcp::is_modern(v) => anyhow::bail!(
            "--protocol {v} has no handshake, and the legacy SSE transport starts with one: use \
             --protocol auto or a 2025 revision with --transport sse"
        ),
        Protocol::Pinned(v) => v,
    };
    match tokio::time::timeout(startup, SseSession::connect(pool, url, version, client)).await {
        Ok(Ok(session)) => Ok(Session::Sse(Arc::new(session))),
        Ok(Err(CallError::Http {
            status: status @ (401 | 403),
            body,
        })) => Err(super::refused(url, status, &body)),
        Ok(Err(e)) => anyhow::bail!("cannot connect to {url} over the legacy SSE transport: {e}"),
        Err(_) => anyhow::bail!(
            "{url} did not open its SSE stream and answer initialize within {:.1}s",
            startup.as_secs_f64()
        ),
    }
}
