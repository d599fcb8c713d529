//! A private redis-server for a test: its own ephemeral port on 127.0.0.1, no persistence,
//! stopped when dropped. Without redis-server installed the test fails, saying how to install
//! it (CI installs it in .ci/run).
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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
