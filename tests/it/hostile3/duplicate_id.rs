//! LOW item: a duplicate JSON-RPC id in flight on the direct path. A client that reused the id
//! of a running call had the second call's end remove the first's cancel entry, so a
//! `notifications/cancelled` for it went unheard and the call ran on to its 60 s provider.
use std::time::{Duration, Instant};

use serde_json::json;

use super::within;
use crate::raw_http::{Raw, chat_call, version_call};
use crate::util::{http_zen, telemetry_snapshot, wait_for};

#[tokio::test]
async fn a_call_whose_id_was_reused_and_answered_can_still_be_cancelled() {
    let zen = http_zen(&[], &[("ZEN_SIM_LATENCY_MS", "60000")]).await;
    let telemetry = zen.telemetry.clone().expect("telemetry is on");
    let (raw, _) = Raw::open(&zen.url, "application/json").await;
    let fork = |raw: &Raw| Raw {
        http: raw.http.clone(),
        url: raw.url.clone(),
        session: raw.session.clone(),
    };
    let mut slow = fork(&raw);
    let started = Instant::now();
    let chat = tokio::spawn(async move { slow.post("application/json", chat_call(7)).await });
    wait_for(
        "the chat call to run",
        Duration::from_secs(10),
        async || telemetry_snapshot(&telemetry).await["tools"]["chat"]["in_flight"] == 1,
    )
    .await;
    // The same id again, on a call that ends at once.
    let (status, _, body) = fork(&raw).post("application/json", version_call(7)).await;
    assert_eq!(status, 200, "{body}");
    // The cancel still reaches the chat.
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                        "params": {"requestId": 7, "reason": "test"}});
    let (status, _, body) = fork(&raw).post("application/json", cancel).await;
    assert_eq!(status, 202, "{body}");
    let (status, _, body) = within("the cancelled chat", Duration::from_secs(20), chat)
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("cancelled"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(30));
}
