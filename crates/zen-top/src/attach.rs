//! Attach mode: find the server (--url, --pid or the discovery directory) and poll its
//! `/snapshot` into a [`Feed`] watch channel. Nothing here draws.
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use crate::args::TopArgs;
use zen_model::feed::{Connection, Feed, Instance};
use zen_model::snapshot::Snapshot;
use zen_os::discovery::{self, DiscoveryInfo};

/// Where to read snapshots from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Target {
    /// Telemetry base URL, e.g. http://127.0.0.1:40123.
    pub url: String,
    /// Further instances watched with it (`--url A --url B …`): the header shows each and
    /// the cluster's totals; the panels show the first.
    pub others: Vec<String>,
    /// Set when found by discovery without --pid: while disconnected, the directory is read
    /// again and a single server announced there (a restarted one) is followed.
    pub rediscover: Option<PathBuf>,
}

/// Pick the server to watch, or explain why none can be picked.
pub(crate) fn resolve(args: &TopArgs) -> Result<Target> {
    if let [first, others @ ..] = &args.url[..] {
        return Ok(Target {
            url: normalize_url(first),
            others: others.iter().map(|u| normalize_url(u)).collect(),
            rediscover: None,
        });
    }
    let dir = discovery::runtime_dir(args.runtime_dir.as_deref());
    let servers = discovery::list(&dir);
    if let Some(pid) = args.pid {
        return match servers.iter().find(|s| s.pid == pid) {
            Some(s) => Ok(Target {
                url: normalize_url(&s.telemetry_url),
                others: Vec::new(),
                rediscover: None,
            }),
            None if servers.is_empty() => bail!(
                "no zen serve with pid {pid}: none is announced in {}; pass --url http://127.0.0.1:PORT (its telemetry address)",
                dir.display()
            ),
            None => bail!(
                "no zen serve with pid {pid} in {}; running:\n{}",
                dir.display(),
                listing(&servers)
            ),
        };
    }
    match servers.as_slice() {
        [] => bail!(
            "no running zen serve found in {} (zen serve announces itself there unless --no-telemetry); \
             start one, or pass --url http://127.0.0.1:PORT with its telemetry address",
            dir.display()
        ),
        [one] => Ok(Target {
            url: normalize_url(&one.telemetry_url),
            others: Vec::new(),
            rediscover: Some(dir),
        }),
        many => bail!(
            "{} zen serve processes are running; pick one with --pid PID:\n{}",
            many.len(),
            listing(many)
        ),
    }
}

/// A numbered list of servers, one per line.
fn listing(servers: &[DiscoveryInfo]) -> String {
    let now_ms = zen_model::clock::unix_ms();
    servers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let up =
                super::view::fmt_duration(now_ms.saturating_sub(s.started_at_ms) as f64 / 1000.0);
            let endpoint = s
                .endpoint
                .as_deref()
                .map(|e| format!(" {e}"))
                .unwrap_or_default();
            format!(
                "  {}) --pid {}  zen {} {}{endpoint}  telemetry {}  up {up}",
                i + 1,
                s.pid,
                s.version,
                s.transport,
                s.telemetry_url
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `127.0.0.1:9000`, `http://127.0.0.1:9000/` and `http://127.0.0.1:9000/snapshot` all mean the
/// base URL `http://127.0.0.1:9000`.
pub(crate) fn normalize_url(raw: &str) -> String {
    let mut url = raw.trim().trim_end_matches('/').to_string();
    if !url.contains("://") {
        url = format!("http://{url}");
    }
    if let Some(base) = url.strip_suffix("/snapshot") {
        url = base.to_string();
    }
    url.trim_end_matches('/').to_string()
}

/// Read `/snapshot` every `interval` and publish each result into `tx` until every receiver
/// is gone. Failures keep the last snapshot and mark the feed disconnected; it retries at the
/// same pace and recovers by itself when the server answers again.
pub(crate) async fn poll(
    mut target: Target,
    interval: Duration,
    tx: watch::Sender<Feed>,
) -> Result<()> {
    // Plain HTTP on loopback: no proxy, and no TLS roots to load (saves ~1 MB and startup time).
    zen_os::tls::use_ring();
    let client = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([])
        .timeout(interval.max(Duration::from_secs(2)))
        .build()
        .context("cannot build the HTTP client")?;
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = tx.closed() => return Ok(()),
            _ = tick.tick() => {}
        }
        let reads = async {
            let all = std::iter::once(&target.url).chain(&target.others);
            futures::future::join_all(all.map(|url| fetch(&client, url))).await
        };
        let mut results = tokio::select! {
            () = tx.closed() => return Ok(()),
            r = reads => r,
        };
        if !target.others.is_empty() {
            tx.send_modify(|feed| note_instances(feed, &target, &results));
        }
        let result = results.swap_remove(0);
        match result {
            Ok(snapshot) => tx.send_modify(|feed| {
                feed.snapshot = Some(snapshot);
                feed.connection = Connection::Connected;
            }),
            Err(reason) => {
                tracing::debug!(url = %target.url, %reason, "snapshot read failed");
                tx.send_modify(|feed| feed.connection = Connection::Disconnected { reason });
                if let Some(dir) = &target.rediscover
                    && let [one] = discovery::list(dir).as_slice()
                {
                    let url = normalize_url(&one.telemetry_url);
                    if url != target.url {
                        tracing::info!(%url, "following the server announced in the discovery directory");
                        target.url = url;
                    }
                }
            }
        }
    }
}

/// Every instance's latest read into the feed (a failed read keeps its last snapshot).
fn note_instances(feed: &mut Feed, target: &Target, results: &[Result<Snapshot, String>]) {
    let urls = std::iter::once(&target.url).chain(&target.others);
    let previous = std::mem::take(&mut feed.instances);
    feed.instances = (urls.zip(results).enumerate())
        .map(|(i, (url, result))| {
            let kept = previous.get(i).and_then(|p| p.snapshot.clone());
            let (connection, snapshot) = match result {
                Ok(snap) => (Connection::Connected, Some(snap.clone())),
                Err(reason) => (
                    Connection::Disconnected {
                        reason: reason.clone(),
                    },
                    kept,
                ),
            };
            Instance {
                url: url.clone(),
                connection,
                snapshot,
            }
        })
        .collect();
}

/// One read, with a short reason on failure.
async fn fetch(client: &reqwest::Client, base: &str) -> Result<Snapshot, String> {
    let body = zen_os::snapshot_read::snapshot_body(client, base).await?;
    serde_json::from_slice(&body).map_err(|e| format!("not a zen snapshot: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalised_to_the_telemetry_base() {
        for raw in [
            "127.0.0.1:9000",
            "http://127.0.0.1:9000/",
            "http://127.0.0.1:9000/snapshot",
            " http://127.0.0.1:9000 ",
        ] {
            assert_eq!(normalize_url(raw), "http://127.0.0.1:9000", "{raw}");
        }
    }

    fn args(dir: &std::path::Path, pid: Option<u32>) -> TopArgs {
        TopArgs {
            url: Vec::new(),
            pid,
            interval: Duration::from_secs(1),
            runtime_dir: Some(dir.to_path_buf()),
            log_file: None,
            log_level: "info".into(),
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn discovery_finds_one_server_and_names_the_directory_when_there_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve(&args(dir.path(), None)).unwrap_err().to_string();
        assert!(
            err.contains(&dir.path().display().to_string()) && err.contains("--url"),
            "{err}"
        );
        let info = DiscoveryInfo {
            pid: std::process::id(),
            telemetry_url: "http://127.0.0.1:4242".into(),
            transport: "http".into(),
            endpoint: Some("http://127.0.0.1:4243/mcp".into()),
            version: "0.1.0".into(),
            started_at_ms: 1,
        };
        let _file = discovery::Discovery::write(dir.path(), &info).unwrap();
        let target = resolve(&args(dir.path(), None)).unwrap();
        assert_eq!(target.url, "http://127.0.0.1:4242");
        assert_eq!(target.rediscover.as_deref(), Some(dir.path()));
        assert_eq!(
            resolve(&args(dir.path(), Some(info.pid)))
                .unwrap()
                .rediscover,
            None
        );
        let err = resolve(&args(dir.path(), Some(1))).unwrap_err().to_string();
        assert!(
            err.contains("no zen serve with pid 1") && err.contains("1) --pid"),
            "{err}"
        );
        // A second live process announced: the user has to pick.
        let other = DiscoveryInfo {
            pid: std::os::unix::process::parent_id(),
            started_at_ms: 2,
            ..info.clone()
        };
        let _other = discovery::Discovery::write(dir.path(), &other).unwrap();
        let err = resolve(&args(dir.path(), None)).unwrap_err().to_string();
        assert!(
            err.contains("2 zen serve processes are running; pick one with --pid"),
            "{err}"
        );
        assert!(err.contains(&format!("1) --pid {}", info.pid)), "{err}");
        assert!(err.contains(&format!("2) --pid {}", other.pid)), "{err}");
    }
}
