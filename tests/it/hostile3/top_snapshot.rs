//! LOW item: `zen top` read a `/snapshot` of any size (100 MB took it to 273 MB resident). A
//! fake telemetry endpoint here answers 100 MB; zen top, in a tmux pane, refuses it as it
//! arrives, says why, and stays small.
use std::time::Duration;

use axum::body::Body;
use axum::routing::get;
use futures::stream;

use crate::top::{Tmux, top_command};

/// A `/snapshot` of 100 MB, sent in 64 kB chunks, with no length announced.
async fn huge_snapshot() -> Body {
    let chunk = axum::body::Bytes::from(vec![b' '; 64 * 1024]);
    let chunks = std::iter::once(axum::body::Bytes::from_static(b"{\"pad\":\""))
        .chain(std::iter::repeat_n(chunk, 1600))
        .map(Ok::<_, std::io::Error>);
    Body::from_stream(stream::iter(chunks))
}

/// The pid of the zen top the pane's shell runs.
fn top_pid(tmux: &Tmux) -> Option<u32> {
    let shell = tmux.run(&["display-message", "-p", "-t", "top", "#{pane_pid}"]);
    let shell = shell.trim();
    let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).ok()?;
    children.split_whitespace().next()?.parse().ok()
}

#[tokio::test]
async fn zen_top_refuses_a_100_mb_snapshot_as_it_arrives_and_says_why() {
    if !Tmux::available() {
        return;
    }
    let app = axum::Router::new().route("/snapshot", get(huge_snapshot));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let tmux = Tmux::start(
        &top_command(&format!("--url {url} --interval 250ms")),
        120,
        40,
    );
    let screen = tmux
        .wait_for("the refusal", Duration::from_secs(30), |s| {
            s.contains("snapshot over 8 MiB")
        })
        .await;
    assert!(screen.contains("disconnected"), "{screen}");
    // A few more reads of 100 MB, each refused.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = top_pid(&tmux).expect("zen top's pid");
    let peak = crate::hostile_provider::status_mb(pid, "VmHWM");
    eprintln!("zen top peaked at {peak} MB resident against 100 MB snapshots");
    assert!(peak < 100, "zen top peaked at {peak} MB");
    server.abort();
}
