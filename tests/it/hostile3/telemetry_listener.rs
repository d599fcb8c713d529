//! Item 8: the telemetry listener (`/snapshot`, `/metrics`) had no header or idle timeout and no
//! connection cap: 200 half-sent requests stayed open for ever, in the descriptor table the MCP
//! listener shares. Now it runs on the MCP listener's accept loop.
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{ADDRESS_SPACE_MB, assert_peak_below, cap_memory, within};
use crate::util::{http_zen_with, telemetry_snapshot};

/// Open descriptors of a process.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

#[tokio::test]
async fn half_sent_telemetry_requests_are_closed_and_capped_and_snapshots_still_answer() {
    let env = [
        ("ZEN_HEADER_TIMEOUT", "1s"),
        ("ZEN_HTTP_IDLE_TIMEOUT", "2s"),
    ];
    let zen = http_zen_with(&[], &env, |cmd| cap_memory(cmd, ADDRESS_SPACE_MB)).await;
    let pid = zen.child.id().unwrap();
    let base = zen.telemetry.clone().expect("telemetry on");
    let addr = base.trim_start_matches("http://").to_string();
    let before = open_fds(pid);
    let mut sockets = Vec::new();
    for _ in 0..200 {
        let mut s = TcpStream::connect(&addr).await.expect("connect");
        s.write_all(b"GET /snapshot HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
            .await
            .unwrap();
        sockets.push(s);
    }
    // At most the listener's cap is accepted at once; the rest wait in the kernel's backlog.
    let during = open_fds(pid);
    assert!(
        during <= before + 40,
        "{during} descriptors open with 200 half-sent requests, {before} before"
    );
    // The header timeout frees the slots: a dashboard's read gets through during the flood.
    let snap = within(
        "a /snapshot read during the flood",
        Duration::from_secs(60),
        telemetry_snapshot(&base),
    )
    .await;
    assert!(snap["server"]["pid"].is_number(), "{snap}");
    // Every half-sent request is closed by zen, none is left open.
    for mut s in sockets {
        let mut rest = Vec::new();
        within(
            "zen closing a half-sent request",
            Duration::from_secs(120),
            s.read_to_end(&mut rest),
        )
        .await
        .ok();
    }
    let snap = telemetry_snapshot(&base).await;
    assert!(
        snap["protocol"]["header_timeouts"].as_u64().unwrap() >= 200,
        "{}",
        snap["protocol"]
    );
    assert_peak_below(pid, "after 200 half-sent telemetry requests", 200);
}
