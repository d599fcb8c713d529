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

/// A URL with any secret replaced, for messages and snapshots: the password; a user name given
/// alone (`redis://PASS@host` is how many write a password); query parameters that name a
/// password, token or key; and, in a URL that does not parse, everything before its last `@`
/// and after its `?`.
pub(crate) fn redacted_url(url: &str) -> String {
    let Ok(mut u) = reqwest::Url::parse(url) else {
        return redacted_unparsed(url);
    };
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    } else if !u.username().is_empty() {
        let _ = u.set_username("***");
    }
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let key = k.to_ascii_lowercase();
                let secret = ["pass", "auth", "token", "secret", "key"]
                    .iter()
                    .any(|s| key.contains(s));
                let v = if secret { "***".into() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

/// [`redacted_url`] for text that is not a URL: the scheme and host part only.
fn redacted_unparsed(text: &str) -> String {
    let text = text.split('?').next().unwrap_or_default();
    match text.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://***@{host}"),
            None => text.to_string(),
        },
        None if text.contains('@') => "***".to_string(),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redacted_url;

    #[test]
    fn every_spelling_of_a_redis_password_is_hidden() {
        for (url, shown) in [
            ("redis://:pw1@h:6379/0", "redis://:***@h:6379/0"),
            ("redis://user:pw1@h/", "redis://user:***@h/"),
            ("redis://pw1@h:6379", "redis://***@h:6379"),
            ("redis://h/?pass=pw1&db=2", "redis://h/?pass=***&db=2"),
            ("redis://h/?password=pw1", "redis://h/?password=***"),
            ("redis://:p@w1@h", "redis://:***@h"),
            ("redis//pw1@h?pass=pw1", "***"),
            ("redis://h:6379", "redis://h:6379"),
        ] {
            let got = redacted_url(url);
            assert!(!got.contains("pw1"), "{url} -> {got}");
            assert_eq!(got, shown, "{url}");
        }
    }
}
