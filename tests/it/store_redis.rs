//! The Redis store through real processes: two zen serve instances on one real redis-server
//! share their conversations; expiry on Redis's real clock; a Redis that goes away gives clear
//! errors (never a hang) and zen recovers when it is back; a Redis that is down at start is a
//! clear exit 2.
use std::time::Duration;

use serde_json::json;
use uuid::Uuid;
use zen_server::conversations::{ConversationStore, RedisStore, StoreLimits, Turn};

use crate::redis_util::RedisServer;
use crate::util::{call, is_error, stdio_zen, text, zen_output};

fn turn(content: &str) -> Turn {
    Turn {
        role: "user".into(),
        content: content.into(),
        tool: "chat".into(),
        model: None,
        timestamp_ms: 1,
        files: Vec::new(),
    }
}

#[tokio::test]
async fn a_thread_started_on_one_instance_continues_on_another() {
    if !crate::redis_util::available() {
        return;
    }
    let redis = RedisServer::start().await;
    let env = [
        ("ZEN_STORE", redis.url()),
        ("ZEN_SIM_LATENCY_MS", "0".to_string()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = stdio_zen(&[], &env).await;
    let b = stdio_zen(&[], &env).await;
    let reply = call(
        &a.client,
        "chat",
        json!({ "prompt": "shared across instances" }),
    )
    .await;
    assert!(!is_error(&reply), "{}", text(&reply));
    let id = reply.structured_content.clone().unwrap()["continuation_id"].clone();
    let more = call(
        &b.client,
        "chat",
        json!({ "prompt": "go on", "continuation_id": id }),
    )
    .await;
    assert!(!is_error(&more), "{}", text(&more));
    assert_eq!(
        more.structured_content.clone().unwrap()["turns_left"],
        json!(46)
    );
    let listed = call(&b.client, "threads", json!({ "query": "across instances" })).await;
    let threads = listed.structured_content.clone().unwrap()["threads"].clone();
    assert_eq!(threads[0]["id"], id, "{threads}");
    let snap = crate::util::snapshot(&b.client).await;
    assert_eq!(snap["conversations"]["kind"], json!("redis"));
    assert_eq!(snap["conversations"]["threads"], json!(1));
}

#[tokio::test]
async fn threads_expire_on_the_store_clock_and_their_bytes_are_freed() {
    if !crate::redis_util::available() {
        return;
    }
    let redis = RedisServer::start().await;
    let limits = StoreLimits {
        budget_bytes: 1 << 20,
        threshold: 0.8,
        thread_max_bytes: 1 << 17,
        ttl: Duration::from_millis(400),
    };
    let store = RedisStore::open(&redis.url(), "zen-test:", limits)
        .await
        .unwrap();
    let id = Uuid::now_v7();
    store.append(id, vec![turn("soon gone")]).await.unwrap();
    assert!(store.stats().bytes > 0);
    crate::util::wait_for(
        "the thread to expire",
        Duration::from_secs(10),
        async || {
            let found = store.checkout(id).await.unwrap().is_some();
            if found {
                store.unpin(id); // as a call does when it ends
            }
            !found
        },
    )
    .await;
    store.cleanup(false).await.unwrap();
    let stats = store.stats();
    assert_eq!((stats.threads, stats.bytes), (0, 0), "{stats:?}");
}

#[tokio::test]
async fn redis_lost_mid_run_gives_clear_errors_and_zen_recovers_when_it_is_back() {
    if !crate::redis_util::available() {
        return;
    }
    let redis = RedisServer::start().await;
    let port = redis.port;
    let url = redis.url();
    let env = [
        ("ZEN_STORE", url.clone()),
        ("ZEN_SIM_LATENCY_MS", "0".to_string()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let zen = stdio_zen(&[], &env).await;
    let ok = call(&zen.client, "chat", json!({ "prompt": "before" })).await;
    assert!(!is_error(&ok), "{}", text(&ok));
    drop(redis);
    let started = std::time::Instant::now();
    let failed = call(
        &zen.client,
        "chat",
        json!({ "prompt": "while redis is down" }),
    )
    .await;
    assert!(is_error(&failed));
    let message = text(&failed);
    assert!(message.contains("conversation store (redis"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(15), "no hang");
    // The version tool needs no store: zen keeps serving.
    assert!(!is_error(&call(&zen.client, "version", json!({})).await));
    let _back = RedisServer::start_on(port).await;
    crate::util::wait_for(
        "zen to use Redis again",
        Duration::from_secs(20),
        async || !is_error(&call(&zen.client, "chat", json!({ "prompt": "after" })).await),
    )
    .await;
}

#[tokio::test]
async fn redis_down_at_start_is_exit_2_naming_the_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://:secret@127.0.0.1:{port}/");
    let (code, _out, err) = zen_output(&["serve", "--no-telemetry"], &[("ZEN_STORE", &url)]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(!err.contains("secret"), "the password leaked: {err}");
}
