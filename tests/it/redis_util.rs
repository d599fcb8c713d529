//! A private redis-server for a test: its own ephemeral port on 127.0.0.1, no persistence,
//! stopped when dropped. Without redis-server installed a test that needs it fails, saying how
//! to install it, unless ZEN_SKIP_REDIS_TESTS=1 asks to skip (then it prints "skipped"): CI
//! installs it in .ci/run and never sets the variable, so there it never passes silently.
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// The variable that lets the Redis tests skip on a machine without redis-server.
const SKIP: &str = "ZEN_SKIP_REDIS_TESTS";

/// True when redis-server is installed, so a test that needs it can run. Without it the test
/// fails, saying how to install it, unless ZEN_SKIP_REDIS_TESTS is set: then it prints a
/// line naming the variable and the caller returns (skipped).
pub(crate) fn available() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    let found = *FOUND.get_or_init(|| {
        Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if !found {
        assert!(
            std::env::var_os(SKIP).is_some(),
            "redis-server is not installed: the Redis tests need it (apt-get install -y \
             redis-server), or set {SKIP}=1 to skip them"
        );
        eprintln!("skipped: redis-server not installed and {SKIP} is set");
    }
    found
}

/// A running redis-server.
pub(crate) struct RedisServer {
    /// The server process (killed on drop).
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl RedisServer {
    /// Start one and wait until it answers.
    pub(crate) async fn start() -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        RedisServer::start_on(port).await
    }

    /// Start one on `port` (to restart a stopped one on the same address).
    pub(crate) async fn start_on(port: u16) -> RedisServer {
        let spawned = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) => panic!(
                "redis-server could not start ({e}): the Redis tests need it (apt-get install -y \
                 redis-server)"
            ),
        };
        let server = RedisServer { child, port };
        let url = server.url();
        crate::util::wait_for(
            "redis-server to answer",
            Duration::from_secs(10),
            async || {
                let Ok(client) = redis::Client::open(url.as_str()) else {
                    return false;
                };
                let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
                    return false;
                };
                redis::cmd("PING")
                    .query_async::<String>(&mut conn)
                    .await
                    .is_ok()
            },
        )
        .await;
        server
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
