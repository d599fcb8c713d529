//! Item 7: abandoned calls let the provider see more than its limit. In `--http-stateless`
//! mode with `custom=2`, 30 calls to a 3 s model whose clients hang up after 1 s: zen
//! cancelled and released the permit at once while the provider was still working on the
//! request, so the provider saw 8 and then 12 requests at once. Now an abandoned request keeps
//! its permit until the provider answers (or a grace period passes).
use std::time::Duration;

use serde_json::json;

use super::{ADDRESS_SPACE_MB, cap_memory, within};
use crate::cluster_provider::FakeProvider;
use crate::util::{call, http_client, http_plain, http_zen_with, is_error, text, wait_for};

/// A stateless tools/call whose client hangs up after `patience`.
async fn impatient_chat(http: &reqwest::Client, url: &str, id: usize, patience: Duration) {
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "chat", "arguments": {"prompt": format!("call {id}")}}});
    let _ = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .timeout(patience)
        .body(body.to_string())
        .send()
        .await;
}

#[tokio::test]
async fn clients_that_hang_up_never_make_the_provider_see_more_than_its_limit() {
    let provider = FakeProvider::stubborn(Duration::from_secs(3)).await;
    let env = [
        ("ZEN_HTTP_STATELESS", "true"),
        ("CUSTOM_API_URL", provider.url.as_str()),
        ("ZEN_PROVIDER_LIMITS", "custom=2"),
        ("ZEN_STORE", "memory"),
        ("ZEN_BREAKERS", "custom=1000/1s"),
    ];
    let zen = http_zen_with(&[], &env, |cmd| cap_memory(cmd, ADDRESS_SPACE_MB)).await;
    let http = http_plain();
    // 30 calls, each client gone after 1 s; new ones keep coming for 10 s.
    let calls = (0..30).map(|id| {
        let (http, url) = (http.clone(), zen.url.clone());
        async move {
            tokio::time::sleep(Duration::from_millis(id as u64 * 330)).await;
            impatient_chat(&http, &url, id, Duration::from_secs(1)).await;
        }
    });
    within(
        "30 impatient calls",
        Duration::from_secs(60),
        futures::future::join_all(calls),
    )
    .await;
    wait_for(
        "the provider to finish",
        Duration::from_secs(60),
        async || provider.now() == 0,
    )
    .await;
    eprintln!(
        "the provider saw {} requests, at most {} at once",
        provider.total(),
        provider.peak()
    );
    assert!(provider.total() >= 2, "{} requests", provider.total());
    assert!(
        provider.peak() <= 2,
        "the provider saw {} requests at once against a limit of 2",
        provider.peak()
    );
    // The permits came back: a patient client is answered.
    let client = http_client(&zen.url).await;
    let r = within(
        "a patient call after the hang-ups",
        Duration::from_secs(60),
        call(&client, "chat", json!({"prompt": "I can wait"})),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(provider.peak() <= 2, "{}", provider.peak());
}
