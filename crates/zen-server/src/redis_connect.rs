//! Opening Redis for zen's two users of it, the conversation store (`ZEN_STORE=redis://…`) and
//! the shared provider limits (`ZEN_SHARED_LIMITS`): parse the URL, connect and PING within a
//! deadline. A failure names the URL (password hidden), what it was for and what to do, so
//! `zen serve` can exit 2 with it.
use std::time::Duration;

use anyhow::{anyhow, bail};
use redis::aio::ConnectionManager;

/// What a Redis is for, in the words of the error a user sees.
pub(crate) struct Purpose {
    /// What zen keeps there, e.g. "the conversation store".
    pub what: &'static str,
    /// The setting that names it, e.g. "ZEN_STORE".
    pub variable: &'static str,
    /// The way out without Redis, e.g. "run with ZEN_STORE=sqlite".
    pub otherwise: &'static str,
}

/// The client for `url` (kept for pub/sub) and a connection manager that has answered PING
/// within `deadline`.
pub(crate) async fn connect(
    url: &str,
    purpose: &Purpose,
    deadline: Duration,
) -> anyhow::Result<(redis::Client, ConnectionManager)> {
    let label = crate::redis_connect::redacted_url(url);
    let Purpose {
        what,
        variable,
        otherwise,
    } = purpose;
    let client = redis::Client::open(url)
        .map_err(|e| anyhow!("{variable}={label} is not a Redis URL: {e}"))?;
    let connect = async {
        let mut conn = client.get_connection_manager().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await?;
        Ok::<_, redis::RedisError>(conn)
    };
    match tokio::time::timeout(deadline, connect).await {
        Ok(Ok(conn)) => Ok((client, conn)),
        Ok(Err(e)) => bail!(
            "cannot reach {what} at {label}: {e}. Start Redis there, fix {variable}, or {otherwise}"
        ),
        Err(_) => bail!(
            "{what} at {label} did not answer within {}: start Redis there, fix {variable}, or \
             {otherwise}",
            zen_model::units::seconds(deadline)
        ),
    }
}

/// A URL with any password replaced, for messages and snapshots.
pub(crate) fn redacted_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
