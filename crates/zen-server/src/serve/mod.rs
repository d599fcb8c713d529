//! `zen serve`: the MCP tool host, over stdio (the default) or streamable HTTP.

use anyhow::Result;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub(crate) mod answer;
pub(crate) mod handler;
pub(crate) mod http;
pub(crate) mod server;
pub(crate) mod stdio;

pub use crate::tools::TransportInfo;
pub use handler::SessionHandler;
pub use server::Server;

use crate::config::ServeConfig;

/// Run the host until stdin closes or `shutdown` fires, then drain in-flight calls.
pub async fn run(
    config: ServeConfig,
    shutdown: CancellationToken,
    otel: Option<crate::telemetry::otel::Otel>,
) -> Result<()> {
    let http_addr = config.transport.http;
    if let Some(addr) = http_addr {
        http::check_bind(
            addr,
            config.transport.allow_remote,
            config.transport.auth_token.as_deref(),
        )?;
    }
    // A file-size limit (RLIMIT_FSIZE) must fail a write, not kill zen: with SIGXFSZ ignored the
    // store's write returns an error, the call fails clearly and zen keeps serving.
    zen_os::ffi::ignore_file_size_signal();
    let server = Server::new(config).await?;
    let listener = if let Some(addr) = http_addr {
        let listener = TcpListener::bind(addr).await.map_err(|e| {
            anyhow::anyhow!(crate::config::listen_error(addr, &e, "--http", "ZEN_HTTP"))
        })?;
        let local = listener.local_addr()?;
        server.context.set_transport(TransportInfo {
            kind: "http",
            endpoint: Some(format!("http://{local}/mcp")),
        });
        Some(listener)
    } else {
        server.context.set_transport(TransportInfo {
            kind: "stdio",
            endpoint: None,
        });
        None
    };
    // Background work outlives the shutdown signal: it must keep going while calls drain.
    let background = CancellationToken::new();
    let _stop_background = background.clone().drop_guard();
    server.spawn_background(&background);
    let _telemetry = start_telemetry(&server, &background).await?;
    let otel = otel.map(|mut otel| {
        otel.start_metrics(server.context.clone());
        otel
    });
    let served = match listener {
        Some(listener) => http::serve(listener, server, shutdown).await,
        None => stdio::serve_process(server, shutdown).await,
    };
    // After the drain: the last calls' spans and figures go out before zen exits.
    if let Some(otel) = otel {
        otel.shutdown().await;
    }
    served
}

/// Open the telemetry listener unless --no-telemetry; dropping the result removes the
/// discovery file.
async fn start_telemetry(
    server: &Server,
    shutdown: &CancellationToken,
) -> Result<Option<crate::telemetry::Telemetry>> {
    let cfg = &server.context.config.transport;
    if cfg.no_telemetry {
        return Ok(None);
    }
    let source: crate::telemetry::Source = server.context.clone();
    let bounds = &server.context.config.bounds;
    let guard = (bounds, http::accept::counted(&server.context));
    let telemetry = crate::telemetry::start(
        cfg.telemetry,
        cfg.runtime_dir.as_deref(),
        source,
        guard,
        shutdown,
    )
    .await?;
    Ok(Some(telemetry))
}

/// Serve one MCP connection over a reader/writer pair (stdin/stdout, or pipes in tests), on
/// the calling task, until the reader ends or `shutdown` fires (see [`stdio`]).
pub use stdio::serve as serve_stdio;
