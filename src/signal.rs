//! The process's stop signals, in one place: SIGINT (Ctrl-C) or SIGTERM. A leaf.
use tokio_util::sync::CancellationToken;

/// Resolves on SIGINT or SIGTERM; never, if the handlers cannot be installed.
pub(crate) async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Cancel `token` on the first SIGINT or SIGTERM.
pub(crate) fn cancel_on_interrupt(token: CancellationToken) {
    tokio::spawn(async move {
        interrupted().await;
        token.cancel();
    });
}
