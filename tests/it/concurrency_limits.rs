//! The concurrency manager through the real call path (`Server::call_tool`: global permit → chat →
//! provider permit → simulated provider), on tokio's paused clock so waves and timeouts are
//! exact; plus one end-to-end cancellation through the real binary.
use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use zen_server::config::{DurationArg, Fraction};

use crate::app_util::{
    app, assert_idle, breaker_never_opens, call_with, chat, config, is_error, name_map, text, until,
};

#[tokio::test(start_paused = true)]
async fn provider_limit_5_keeps_100_calls_to_5_in_flight_in_exact_waves() {
    let mut c = config(100);
    c.limits.provider_limits = name_map(&[("simulated", 5)]);
    let app = app(c).await;
    let started = Instant::now();
    let calls: Vec<_> = (0..100)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let result = chat(&app, &format!("call {i}")).await;
                (started.elapsed(), result)
            })
        })
        .collect();
    let mut waves: BTreeMap<Duration, usize> = BTreeMap::new();
    for call in calls {
        let (elapsed, result) = call.await.unwrap();
        assert!(!is_error(&result), "{}", text(&result));
        *waves.entry(elapsed).or_default() += 1;
    }
    // Seen from the provider itself, not from zen's own counters.
    assert_eq!(app.context.registry.simulated().peak_in_flight(), 5);
    // 20 waves, one latency apart, exactly 5 calls each.
    let expected: BTreeMap<Duration, usize> = (1..=20)
        .map(|k| (Duration::from_millis(100 * k), 5))
        .collect();
    assert_eq!(waves, expected);
    let snap = app.snapshot();
    let pool = snap.pools.iter().find(|p| p.name == "simulated").unwrap();
    assert_eq!(
        (pool.limit, pool.peak_in_use, pool.acquired_total),
        (5, 5, 100)
    );
    assert_eq!(snap.tools["chat"].total_operations, 100);
    assert_eq!(snap.tools["chat"].total_errors, 0);
    assert_idle(&app);
}

#[tokio::test(start_paused = true)]
async fn global_limit_50_admits_exactly_50_of_200_calls_and_loses_none() {
    let mut c = config(100);
    c.limits.max_concurrent_requests = 50;
    // A provider pool wider than the global one: only the global pool limits.
    c.limits.provider_limits = name_map(&[("simulated", 500)]);
    let app = app(c).await;
    let calls: Vec<_> = (0..200)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move { chat(&app, &format!("call {i}")).await })
        })
        .collect();
    let results = futures::future::join_all(calls).await;
    assert_eq!(results.len(), 200);
    for r in &results {
        let r = r.as_ref().unwrap();
        assert!(!is_error(r), "{}", text(r));
    }
    let snap = app.snapshot();
    let global = &snap.pools[0];
    assert_eq!(global.name, "global");
    assert_eq!((global.peak_in_use, global.acquired_total), (50, 200));
    assert_eq!((global.peak_waiting, global.rejected_total), (150, 0));
    assert_eq!(app.context.registry.simulated().peak_in_flight(), 50);
    assert_eq!(snap.totals.total_operations, 200);
    assert_eq!(snap.tools["chat"].total_operations, 200);
    assert_eq!(snap.tools["chat"].total_errors, 0);
    assert_eq!(snap.providers["simulated"].calls.total_operations, 200);
    assert_eq!(snap.conversations.threads, 200);
    assert_idle(&app);
}

/// 20 concurrent calls into a provider pool of 5 that all fail, one way or another.
async fn run_failing_calls(app: &std::sync::Arc<zen_server::serve::Server>) -> Vec<String> {
    let calls: Vec<_> = (0..20)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move { chat(&app, &format!("call {i}")).await })
        })
        .collect();
    let mut texts = Vec::new();
    for call in calls {
        let result = call.await.unwrap();
        assert!(is_error(&result), "should fail: {}", text(&result));
        texts.push(text(&result));
    }
    texts
}

#[tokio::test(start_paused = true)]
async fn permits_come_back_after_provider_errors() {
    let mut c = config(50);
    c.limits.provider_limits = name_map(&[("simulated", 5)]);
    c.sim.sim_error_rate = 1.0;
    let app = app(c).await;
    let texts = run_failing_calls(&app).await;
    // Retried 500s, then the breaker opens and the rest fail fast: provider errors all.
    assert!(
        texts.iter().all(|t| t.starts_with("provider simulated")),
        "{texts:?}"
    );
    assert_idle(&app);
    let snap = app.snapshot();
    assert_eq!(snap.providers["simulated"].breaker.opened_total, 1);
    assert_eq!(snap.tools["chat"].errors.provider_error, 20);
    assert_eq!(snap.providers["simulated"].calls.total_operations, 20);
    assert_eq!(snap.pools[1].acquired_total, 20);
}

#[tokio::test(start_paused = true)]
async fn permits_come_back_after_provider_timeouts() {
    let mut c = config(50);
    c.limits.provider_limits = name_map(&[("simulated", 5)]);
    c.sim.sim_faults = name_map(&[("hang", Fraction(1.0))]);
    c.providers.provider_timeouts = name_map(&[("simulated", DurationArg(Duration::from_secs(2)))]);
    // Keep the breaker closed so every call really waits for its timeouts.
    c.providers.breakers = breaker_never_opens();
    let app = app(c).await;
    let started = Instant::now();
    let texts = run_failing_calls(&app).await;
    assert!(
        texts
            .iter()
            .all(|t| t.contains("provider simulated did not answer within 2s")),
        "{texts:?}"
    );
    // 3 attempts of 2 s each, plus backoff: every call did wait for its timeouts.
    assert!(
        started.elapsed() >= Duration::from_secs(4 * 6),
        "{:?}",
        started.elapsed()
    );
    assert_idle(&app);
    let snap = app.snapshot();
    assert_eq!(snap.tools["chat"].errors.timeout, 20);
    assert_eq!(snap.providers["simulated"].calls.errors.timeout, 20);
    assert_eq!(snap.providers["simulated"].retries_total, 40);
    assert_eq!(app.context.registry.simulated().peak_in_flight(), 5);
}

/// 8 calls with a global pool of 4 and a provider pool of 2: 2 inside the provider, 2 waiting
/// for it, 4 waiting for the global pool. Returns once they are all placed.
async fn place_eight_calls(
    app: &std::sync::Arc<zen_server::serve::Server>,
) -> Vec<(
    CancellationToken,
    tokio::task::JoinHandle<rmcp::model::CallToolResult>,
)> {
    let calls: Vec<_> = (0..8)
        .map(|i| {
            let (app, ct) = (app.clone(), CancellationToken::new());
            let token = ct.clone();
            let args = json!({ "prompt": format!("call {i}") });
            (
                token,
                tokio::spawn(async move { call_with(&app, "chat", args, ct).await }),
            )
        })
        .collect();
    until("2 in the provider, 2 + 4 waiting", || {
        let pools = app.context.pools.stats();
        app.context.registry.simulated().in_flight() == 2
            && pools[1].waiting == 2
            && pools[0].waiting == 4
    })
    .await;
    calls
}

/// Client cancellation (the request's token, as rmcp cancels it on notifications/cancelled):
/// every permit comes back, and cancelled calls still queued never reach the provider.
#[tokio::test(start_paused = true)]
async fn regression_cancelled_waiters_never_start_a_provider_request() {
    let mut c = config(60_000);
    c.limits.max_concurrent_requests = 4;
    c.limits.provider_limits = name_map(&[("simulated", 2)]);
    let app = app(c).await;
    let calls = place_eight_calls(&app).await;
    for (ct, _) in &calls {
        ct.cancel();
    }
    for (_, call) in calls {
        let result = call.await.unwrap();
        assert!(
            is_error(&result) && text(&result).starts_with("cancelled"),
            "{}",
            text(&result)
        );
    }
    assert_idle(&app);
    let snap = app.snapshot();
    assert_eq!(snap.tools["chat"].errors.timeout, 8);
    // Only the two calls already inside the provider made a provider request: the cancelled
    // waiters woken by the permits those two released did not take them (they used to).
    assert_eq!(snap.providers["simulated"].calls.total_operations, 2);
    assert_eq!(snap.providers["simulated"].calls.errors.timeout, 2);
    assert_eq!(app.context.registry.simulated().peak_in_flight(), 2);
    assert_eq!(snap.pools[1].acquired_total, 2);
    assert_eq!(snap.conversations.threads, 0);
}

#[tokio::test(start_paused = true)]
async fn permits_come_back_when_the_call_future_is_dropped() {
    let mut c = config(60_000);
    c.limits.max_concurrent_requests = 4;
    c.limits.provider_limits = name_map(&[("simulated", 2)]);
    let app = app(c).await;
    let calls = place_eight_calls(&app).await;
    for (_, call) in calls {
        call.abort(); // drops the call_tool future wherever it is
        assert!(call.await.unwrap_err().is_cancelled());
    }
    assert_idle(&app);
    let snap = app.snapshot();
    // A dropped call is still counted, as a timeout: no call goes missing.
    assert_eq!(snap.tools["chat"].total_operations, 8);
    assert_eq!(snap.tools["chat"].errors.timeout, 8);
    // And the pools still work.
    let again = chat(&app, "after").await;
    assert!(!is_error(&again), "{}", text(&again));
}

#[tokio::test(start_paused = true)]
async fn a_queue_timeout_is_a_busy_tool_error_counted_as_rejected() {
    let mut c = config(10_000);
    c.limits.max_concurrent_requests = 1;
    c.limits.queue_timeout = Duration::from_secs(1);
    let app = app(c).await;
    let started = Instant::now();
    let holder = {
        let app = app.clone();
        tokio::spawn(async move { chat(&app, "holds the only permit").await })
    };
    until("the holder inside the provider", || {
        app.context.registry.simulated().in_flight() == 1
    })
    .await;
    let waiters: Vec<_> = (0..3)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let result = chat(&app, &format!("waiter {i}")).await;
                (started.elapsed(), result)
            })
        })
        .collect();
    let mut messages = Vec::new();
    for waiter in waiters {
        let (elapsed, result) = waiter.await.unwrap();
        assert!(is_error(&result));
        assert_eq!(
            elapsed,
            Duration::from_secs(1),
            "gave up after exactly the queue timeout"
        );
        let message = text(&result);
        assert!(message.starts_with("busy: "), "{message}");
        assert!(
            message.contains("calls waiting for global (limit 1); this call gave up after 1 s."),
            "{message}"
        );
        messages.push(message);
    }
    // The first to give up saw the two others still queued behind it.
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("busy: 2 calls waiting")),
        "{messages:?}"
    );
    let held = holder.await.unwrap();
    assert!(!is_error(&held), "{}", text(&held));
    let snap = app.snapshot();
    assert_eq!(snap.pools[0].rejected_total, 3);
    assert_eq!(snap.pools[0].rejected_shutting_down, 0);
    assert_eq!(snap.tools["chat"].errors.rejected, 3);
    assert_eq!(snap.totals.errors.rejected, 3);
    assert_idle(&app);
}

#[test]
fn the_busy_message_rounds_the_wait_instead_of_printing_nanoseconds() {
    let busy = zen_server::concurrency::Busy {
        pool: "custom".into(),
        limit: 2,
        waiting: 3,
        waited: Duration::new(5, 189_435),
    };
    let message = busy.to_string();
    assert!(
        message.contains("this call gave up after 5 s."),
        "{message}"
    );
    let waited = Duration::new(5, 249_000_000);
    let message = zen_server::concurrency::Busy { waited, ..busy }.to_string();
    assert!(message.contains("gave up after 5.2 s."), "{message}");
}

#[tokio::test(start_paused = true)]
async fn a_provider_queue_timeout_names_the_provider_pool() {
    let mut c = config(10_000);
    c.limits.provider_limits = name_map(&[("simulated", 1)]);
    c.limits.queue_timeout = Duration::from_millis(500);
    let app = app(c).await;
    let holder = {
        let app = app.clone();
        tokio::spawn(async move { chat(&app, "holds the provider").await })
    };
    until("the holder inside the provider", || {
        app.context.registry.simulated().in_flight() == 1
    })
    .await;
    let busy = chat(&app, "waits").await;
    assert!(is_error(&busy));
    assert!(
        text(&busy).starts_with("busy: 0 calls waiting for simulated (limit 1)"),
        "{}",
        text(&busy)
    );
    assert!(!is_error(&holder.await.unwrap()));
    let snap = app.snapshot();
    assert_eq!(
        (snap.pools[0].rejected_total, snap.pools[1].rejected_total),
        (0, 1)
    );
    assert_eq!(snap.tools["chat"].errors.rejected, 1);
    // The rejected call never became a provider request.
    assert_eq!(snap.providers["simulated"].calls.total_operations, 1);
    assert_idle(&app);
}

/// End to end: rmcp's client drops a call future, sends notifications/cancelled, and the real
/// zen process releases every permit.
#[tokio::test]
async fn a_client_dropping_a_call_releases_its_permits_in_the_real_server() {
    use crate::util::{call, snapshot, stdio_zen, wait_for};
    let zen = stdio_zen(&[], &[("ZEN_SIM_LATENCY_MS", "60000")]).await;
    let client = &zen.client;
    let in_provider = |snap: &serde_json::Value| {
        snap["tools"]["chat"]["in_flight"] == 1 && snap["pools"][1]["in_use"] == 1
    };
    tokio::select! {
        _ = call(client, "chat", json!({"prompt": "never answered"})) => panic!("the call should hang"),
        () = wait_for("the call inside the provider", Duration::from_secs(10), async || in_provider(&snapshot(client).await)) => {}
    }
    // The select dropped the call future: rmcp sent notifications/cancelled.
    wait_for("the permits back", Duration::from_secs(10), async || {
        let snap = snapshot(client).await;
        snap["tools"]["chat"]["in_flight"] == 0 && snap["pools"][1]["in_use"] == 0
    })
    .await;
    let snap = snapshot(client).await;
    assert_eq!(snap["tools"]["chat"]["errors"]["timeout"], 1, "{snap:#}");
    assert_eq!(snap["providers"]["simulated"]["calls"]["in_flight"], 0);
    assert_eq!(snap["pools"][1]["waiting"], 0);
    // Nothing holds a global permit: the metrics call reading this snapshot skips the pool.
    assert_eq!(snap["pools"][0]["in_use"], 0);
    assert_eq!(snap["tools"]["metrics"]["in_flight"], 1);
}
