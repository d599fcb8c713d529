//! Provider limits shared by real zen serve processes on one real redis-server
//! (ZEN_SHARED_LIMITS), counted at a fake provider: the limit holds across instances, a killed
//! instance's leases come back within the lease time, and a Redis that goes away gives clear
//! errors (never a hang) until it is back.
use std::time::{Duration, Instant};

use serde_json::json;

use crate::cluster_provider::FakeProvider;
use crate::redis_util::RedisServer;
use crate::util::{Client, StdioZen, call, is_error, snapshot, stdio_zen, text, zen_output};

/// zen serve with `custom` at the fake provider and its limit shared through `redis`.
async fn instance(provider: &FakeProvider, redis: &str, extra: &[(&str, &str)]) -> StdioZen {
    let mut env = vec![
        ("CUSTOM_API_URL", provider.url.as_str()),
        ("ZEN_SHARED_LIMITS", redis),
        ("ZEN_STORE", "memory"),
        ("ZEN_BREAKERS", "custom=1000/1s"),
    ];
    env.extend_from_slice(extra);
    stdio_zen(&[], &env).await
}

/// `n` chat calls at once on `client`; every one must succeed.
async fn chats(client: &Client, n: usize) {
    let calls = (0..n).map(|i| call(client, "chat", json!({ "prompt": format!("call {i}") })));
    for result in futures::future::join_all(calls).await {
        assert!(!is_error(&result), "{}", text(&result));
    }
}

#[tokio::test]
async fn a_limit_of_10_holds_across_two_instances_under_60_calls() {
    if !crate::redis_util::available() {
        return;
    }
    let redis = RedisServer::start().await;
    let provider = FakeProvider::start(Duration::from_millis(200)).await;
    let limits = [("ZEN_PROVIDER_LIMITS", "custom=10")];
    let a = instance(&provider, &redis.url(), &limits).await;
    let b = instance(&provider, &redis.url(), &limits).await;
    let started = Instant::now();
    tokio::join!(chats(&a.client, 30), chats(&b.client, 30));
    let wall = started.elapsed();
    eprintln!(
        "60 calls of 200 ms, limit 10 on two instances: {wall:?}, peak {}",
        provider.peak()
    );
    assert_eq!(provider.total(), 60);
    assert!(
        provider.peak() <= 10,
        "{} in flight at the provider",
        provider.peak()
    );
    assert!(
        provider.peak() >= 8,
        "the limit was barely used: {}",
        provider.peak()
    );
    // Six waves of 200 ms: not fewer (the limit held). That nobody sat idle is the peak above;
    // the upper bound only catches a stall (5x the ideal, room for a loaded machine).
    assert!(wall >= Duration::from_millis(1150), "{wall:?}");
    assert!(wall < Duration::from_millis(6000), "{wall:?}");
    let snap = snapshot(&b.client).await;
    assert_eq!(
        snap["limits"]["backend"],
        json!("redis"),
        "{}",
        snap["limits"]
    );
    assert_eq!(snap["limits"]["providers"][0]["name"], json!("custom"));
    assert_eq!(snap["limits"]["providers"][0]["limit"], json!(10));
}

#[tokio::test]
async fn a_quiet_instance_is_not_starved_by_a_busy_one() {
    if !crate::redis_util::available() {
        return;
    }
    let redis = RedisServer::start().await;
    let provider = FakeProvider::start(Duration::from_millis(200)).await;
    let limits = [("ZEN_PROVIDER_LIMITS", "custom=2")];
    let busy = instance(&provider, &redis.url(), &limits).await;
    let quiet = instance(&provider, &redis.url(), &limits).await;
    let flood = chats(&busy.client, 20); // ten waves of two
    let one = async {
        crate::util::wait_for(
            "the flood to fill the limit",
            Duration::from_secs(10),
            async || provider.now() == 2,
        )
        .await;
        let started = Instant::now();
        let reply = call(&quiet.client, "chat", json!({ "prompt": "my turn" })).await;
        assert!(!is_error(&reply), "{}", text(&reply));
        started.elapsed()
    };
    let started = Instant::now();
    let ((), waited) = tokio::join!(flood, one);
    let flood_took = started.elapsed();
    eprintln!("the quiet instance's call took {waited:?} while the flood took {flood_took:?}");
    // Its ticket is older than the busy instance's next ones: served within about a wave, so
    // long before the flood's ten waves are over (a ratio, so a slow machine slows both).
    assert!(flood_took >= Duration::from_millis(1900), "{flood_took:?}");
    assert!(
        waited < flood_took / 3,
        "starved: {waited:?} of {flood_took:?}"
    );
    assert!(provider.peak() <= 2, "{}", provider.peak());
}

#[tokio::test]
async fn a_killed_instance_gives_its_leases_back_within_the_lease_time() {
    if !crate::redis_util::available() {
        return;
    }
    let redis = RedisServer::start().await;
    let provider = FakeProvider::start(Duration::from_millis(10)).await;
    let env = [("ZEN_PROVIDER_LIMITS", "custom=2"), ("ZEN_LEASE_SECS", "2")];
    let a = instance(&provider, &redis.url(), &env).await;
    let b = instance(&provider, &redis.url(), &env).await;
    for _ in 0..2 {
        let client = a.client.peer().clone();
        tokio::spawn(async move {
            let params = rmcp::model::CallToolRequestParams::new("chat")
                .with_arguments(json!({ "prompt": "HOLD" }).as_object().unwrap().clone());
            let _ = client.call_tool(params).await; // fails when A is killed
        });
    }
    crate::util::wait_for(
        "A to hold both leases",
        Duration::from_secs(10),
        async || provider.now() == 2,
    )
    .await;
    // SAFETY: kill(2) on the pid of a child this test started.
    assert_eq!(unsafe { libc::kill(a.pid as i32, libc::SIGKILL) }, 0);
    let killed = Instant::now();
    let reply = call(&b.client, "chat", json!({ "prompt": "after the crash" })).await;
    let took = killed.elapsed();
    assert!(!is_error(&reply), "{}", text(&reply));
    eprintln!("B got a lease {took:?} after A was killed (lease 2 s)");
    // A renewed at most a tick (lease/3) before it died: its leases had over a second left.
    assert!(
        took >= Duration::from_millis(1000),
        "B did not wait for A's leases: {took:?}"
    );
    // Bounded by the lease (2 s) plus the keeper's tick and a loaded machine's slack.
    assert!(
        took < Duration::from_millis(5000),
        "much longer than the lease time: {took:?}"
    );
}

#[tokio::test]
async fn a_call_past_the_queue_timeout_in_the_cluster_queue_is_answered_busy() {
    if !crate::redis_util::available() {
        return;
    }
    let redis = RedisServer::start().await;
    let provider = FakeProvider::start(Duration::from_millis(10)).await;
    let env = [
        ("ZEN_PROVIDER_LIMITS", "custom=1"),
        ("ZEN_QUEUE_TIMEOUT", "500ms"),
    ];
    let a = instance(&provider, &redis.url(), &env).await;
    let b = instance(&provider, &redis.url(), &env).await;
    let holder = a.client.peer().clone();
    tokio::spawn(async move {
        let args = json!({ "prompt": "HOLD" }).as_object().unwrap().clone();
        let params = rmcp::model::CallToolRequestParams::new("chat").with_arguments(args);
        let _ = holder.call_tool(params).await;
    });
    crate::util::wait_for("A to hold the lease", Duration::from_secs(10), async || {
        provider.now() == 1
    })
    .await;
    let started = Instant::now();
    let reply = call(&b.client, "chat", json!({ "prompt": "no room" })).await;
    let took = started.elapsed();
    assert!(is_error(&reply), "{}", text(&reply));
    let message = text(&reply);
    assert!(
        message
            .starts_with("busy: 0 calls waiting for custom across the cluster (redis://127.0.0.1:"),
        "{message}"
    );
    assert!(
        message.contains("(limit 1)") && message.contains("ZEN_QUEUE_TIMEOUT"),
        "{message}"
    );
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_secs(5),
        "{took:?}"
    );
    // B's snapshot shows A's lease once B's keeper has read the cluster (each second).
    let held = async || {
        let limits = snapshot(&b.client).await["limits"]["providers"][0].clone();
        limits["held"] == json!(1) && limits["held_here"] == json!(0)
    };
    crate::util::wait_for("B to see A's lease", Duration::from_secs(5), held).await;
    let snap = snapshot(&b.client).await;
    assert_eq!(snap["tools"]["chat"]["errors"]["rejected"], json!(1));
}

#[tokio::test]
async fn redis_stopped_mid_run_refuses_calls_clearly_and_zen_recovers_when_it_is_back() {
    if !crate::redis_util::available() {
        return;
    }
    let redis = RedisServer::start().await;
    let port = redis.port;
    let provider = FakeProvider::start(Duration::from_millis(10)).await;
    let zen = instance(&provider, &redis.url(), &[("ZEN_LEASE_SECS", "3")]).await;
    let ok = call(&zen.client, "chat", json!({ "prompt": "before" })).await;
    assert!(!is_error(&ok), "{}", text(&ok));
    drop(redis);
    for _ in 0..3 {
        let started = Instant::now();
        let failed = call(&zen.client, "chat", json!({ "prompt": "meanwhile" })).await;
        assert!(is_error(&failed), "a call went through without Redis");
        let message = text(&failed);
        assert!(
            message.contains("shared provider limits at redis://127.0.0.1:"),
            "{message}"
        );
        assert!(message.contains("fail closed"), "{message}");
        assert!(started.elapsed() < Duration::from_secs(10), "no hang");
    }
    let snap = snapshot(&zen.client).await;
    assert_eq!(
        snap["limits"]["healthy"],
        json!(false),
        "{}",
        snap["limits"]
    );
    assert_eq!(snap["limits"]["unavailable_total"], json!(3));
    assert_eq!(
        provider.total(),
        1,
        "no call reached the provider without a lease"
    );
    let _back = RedisServer::start_on(port).await;
    crate::util::wait_for(
        "zen to use Redis again",
        Duration::from_secs(20),
        async || !is_error(&call(&zen.client, "chat", json!({ "prompt": "after" })).await),
    )
    .await;
    let snap = snapshot(&zen.client).await;
    assert_eq!(snap["limits"]["healthy"], json!(true), "{}", snap["limits"]);
}

#[tokio::test]
async fn shared_limits_down_at_start_is_exit_2_naming_the_url_without_its_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://:secret@127.0.0.1:{port}/");
    let env = [("ZEN_SHARED_LIMITS", url.as_str()), ("ZEN_STORE", "memory")];
    let (code, _out, err) = zen_output(&["serve", "--no-telemetry"], &env).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("shared provider limits"), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(!err.contains("secret"), "the password leaked: {err}");
}
