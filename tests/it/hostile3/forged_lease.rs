//! LOW item: a lease with a far-future score blocked a provider cluster-wide for ever (and the
//! refusal said "0 calls waiting"). A lease due in the year 5000 is written into the real Redis
//! here; zen drops it as no lease it could have written, and calls go through.
use std::time::Duration;

use serde_json::json;

use super::within;
use crate::cluster_provider::FakeProvider;
use crate::redis_util::RedisServer;
use crate::util::{call, is_error, stdio_zen, text};

#[tokio::test]
async fn a_lease_due_in_the_year_5000_does_not_block_the_provider() {
    if !crate::redis_util::available() {
        return;
    }
    let redis = RedisServer::start().await;
    let provider = FakeProvider::start(Duration::from_millis(10)).await;
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("ZADD")
        .arg("zen:lim:custom:leases")
        .arg(95_617_584_000_000_i64)
        .arg("forged")
        .query_async(&mut conn)
        .await
        .unwrap();
    let url = redis.url();
    let env = [
        ("CUSTOM_API_URL", provider.url.as_str()),
        ("ZEN_SHARED_LIMITS", url.as_str()),
        ("ZEN_PROVIDER_LIMITS", "custom=1"),
        ("ZEN_QUEUE_TIMEOUT", "5s"),
        ("ZEN_STORE", "memory"),
    ];
    let zen = stdio_zen(&[], &env).await;
    for i in 0..3 {
        let r = within(
            "a chat",
            Duration::from_secs(30),
            call(&zen.client, "chat", json!({"prompt": format!("call {i}")})),
        )
        .await;
        assert!(!is_error(&r), "{}", text(&r));
    }
    let forged: Option<f64> = redis::cmd("ZSCORE")
        .arg("zen:lim:custom:leases")
        .arg("forged")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(forged, None, "the forged lease is still there");
}
