//! The real `zen serve` against a hostile provider (hostile_server.rs): every call is answered
//! with a clear error, quickly, without sleeping on a provider permit, and zen's memory stays
//! bounded however much the provider sends.
use std::time::{Duration, Instant};

use serde_json::json;

use crate::hostile_server::{Hostile, Reply};
use crate::util::{Client, StdioZen, call, is_error, stdio_zen, text};

/// zen serve with `custom` pointed at the hostile server, plus `env`.
async fn zen_against(hostile: &Hostile, env: &[(&str, &str)]) -> StdioZen {
    let mut all = vec![("CUSTOM_API_URL", hostile.url.as_str())];
    all.extend_from_slice(env);
    stdio_zen(&[], &all).await
}

/// One chat call: its error text and how long it took; panics past `limit` or on success.
async fn failing_chat(client: &Client, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let result = tokio::time::timeout(limit, call(client, "chat", json!({"prompt": "hi"})))
        .await
        .unwrap_or_else(|_| panic!("no answer within {limit:?}"));
    assert!(is_error(&result), "expected an error: {}", text(&result));
    (text(&result), started.elapsed())
}

/// A `/proc/PID/status` figure in MB (VmRSS: now; VmHWM: the peak since start).
pub(crate) fn status_mb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} missing from /proc/{pid}/status"));
    kb / 1024
}

/// Report and bound zen's memory: now and at its peak.
fn assert_rss_below(zen: &StdioZen, what: &str, limit_mb: u64) {
    let (rss, peak) = (status_mb(zen.pid, "VmRSS"), status_mb(zen.pid, "VmHWM"));
    eprintln!("{what}: zen VmRSS {rss} MB, VmHWM (peak) {peak} MB");
    assert!(peak < limit_mb, "{what}: zen peaked at {peak} MB");
}

/// Settings for the Retry-After tests: small pools so a held permit would show as "busy",
/// a breaker that stays closed so every call reaches the provider, short own backoff.
const RETRY_ENV: [(&str, &str); 5] = [
    ("ZEN_PROVIDER_LIMITS", "custom=2"),
    ("ZEN_QUEUE_TIMEOUT", "1s"),
    ("ZEN_BREAKERS", "custom=1000/1s"),
    ("ZEN_RETRY_BACKOFF", "50ms"),
    ("ZEN_MAX_RETRIES", "2"),
];

#[tokio::test]
async fn retry_after_inf_1e30_or_an_hour_is_answered_at_once_and_frees_the_permit() {
    let hostile = Hostile::start(Reply::RateLimited("inf".into())).await;
    let zen = zen_against(&hostile, &RETRY_ENV).await;
    let too_long = [
        "1e30",
        "3600",
        "99999999999999999999999",
        "Fri, 31 Dec 9999 23:59:59 GMT",
    ];
    for value in too_long {
        hostile.set(Reply::RateLimited(value.into()));
        let before = hostile.requests();
        let (message, took) = failing_chat(&zen.client, Duration::from_secs(10)).await;
        assert!(
            message.starts_with("rate limited by custom: it asks to retry after ")
                && message.contains(" s (more than ZEN_MAX_RETRY_WAIT=30s); try again later"),
            "{value}: {message}"
        );
        // Answered at once rather than after the hour asked for (5 s: a loaded machine's slack).
        assert!(took < Duration::from_secs(5), "{value}: took {took:?}");
        assert_eq!(hostile.requests() - before, 1, "{value}: no retry");
    }
    // Unusable values are ignored: our own short backoff, then the 429 itself.
    for value in ["inf", "-inf", "NaN", "-5", "soon", ""] {
        hostile.set(Reply::RateLimited(value.into()));
        let before = hostile.requests();
        let (message, took) = failing_chat(&zen.client, Duration::from_secs(10)).await;
        assert!(
            message.contains("returned HTTP 429: slow down"),
            "{value:?}: {message}"
        );
        assert!(took < Duration::from_secs(5), "{value:?}: took {took:?}");
        assert_eq!(hostile.requests() - before, 2, "{value:?}: retried once");
    }
    // Twice the pool at once: had a refused call kept its permit asleep, these would be busy.
    hostile.set(Reply::RateLimited("3600".into()));
    let started = Instant::now();
    let calls = (0..4).map(|_| failing_chat(&zen.client, Duration::from_secs(10)));
    for (message, _) in futures::future::join_all(calls).await {
        assert!(message.starts_with("rate limited by custom"), "{message}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_reply_announcing_50_mb_is_refused_before_reading_it() {
    let hostile = Hostile::start(Reply::Huge(50 * 1024 * 1024)).await;
    let zen = zen_against(&hostile, &[]).await;
    let (message, took) = failing_chat(&zen.client, Duration::from_secs(20)).await;
    assert!(
        message.contains("provider custom sent a reply zen could not read")
            && message.contains("larger than ZEN_MAX_REPLY_BYTES=8388608 (8 MiB)"),
        "{message}"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(hostile.requests(), 1, "an oversized reply is not retried");
    // zen dropped the connection, so the server's writes failed and it stopped.
    hostile.all_closed(Duration::from_secs(10)).await;
    let sent = hostile.bytes_sent();
    eprintln!(
        "50 MB announced: the server got {} MB out before zen hung up",
        sent >> 20
    );
    assert!(sent < 40 * 1024 * 1024, "sent {sent} bytes");
    assert_rss_below(&zen, "after a 50 MB reply", 200);
}

#[tokio::test]
async fn an_endless_chunked_reply_is_cut_off_at_the_cap_and_rss_stays_bounded() {
    let hostile = Hostile::start(Reply::Endless).await;
    let zen = zen_against(&hostile, &[]).await;
    // As many at once as custom's pool holds (5): the most zen can be reading at a time.
    let calls = (0..5).map(|_| failing_chat(&zen.client, Duration::from_secs(60)));
    for (message, took) in futures::future::join_all(calls).await {
        assert!(
            message
                .contains("larger than ZEN_MAX_REPLY_BYTES=8388608 (8 MiB); zen stopped reading"),
            "{message}"
        );
        eprintln!("endless reply cut off after {took:?}");
    }
    hostile.all_closed(Duration::from_secs(10)).await;
    let sent = hostile.bytes_sent();
    eprintln!("endless: the server got {} MB out in all", sent >> 20);
    assert!(sent < 5 * 40 * 1024 * 1024, "sent {sent} bytes");
    assert_rss_below(&zen, "after 5 endless replies at once", 200);
    // Still serving.
    let ok = call(
        &zen.client,
        "chat",
        json!({"prompt": "hi", "model": "simulated"}),
    )
    .await;
    assert!(!is_error(&ok), "{}", text(&ok));
}

#[tokio::test]
async fn a_provider_that_hangs_times_out_and_its_connection_is_closed() {
    let hostile = Hostile::start(Reply::Hang).await;
    let env = [("ZEN_REQUEST_TIMEOUT", "300ms"), ("ZEN_MAX_RETRIES", "1")];
    let zen = zen_against(&hostile, &env).await;
    let (message, took) = failing_chat(&zen.client, Duration::from_secs(10)).await;
    assert!(
        message.contains("provider custom did not answer within 300ms"),
        "{message}"
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
    hostile.all_closed(Duration::from_secs(10)).await;
}

#[tokio::test]
async fn an_open_breaker_says_which_error_opened_it() {
    let hostile = Hostile::start(Reply::ServerError("model overloaded\nshard 7".into())).await;
    let env = [("ZEN_BREAKERS", "custom=2/60s"), ("ZEN_MAX_RETRIES", "1")];
    let zen = zen_against(&hostile, &env).await;
    for _ in 0..2 {
        let (message, _) = failing_chat(&zen.client, Duration::from_secs(10)).await;
        assert!(message.contains("HTTP 500"), "{message}");
    }
    let (refused, _) = failing_chat(&zen.client, Duration::from_secs(10)).await;
    assert!(
        refused.contains("circuit breaker is open")
            && refused.contains(
                "(the last: provider custom returned HTTP 500: model overloaded shard 7); retry later"
            ),
        "{refused}"
    );
    assert_eq!(
        hostile.requests(),
        2,
        "the refused call never reached the provider"
    );
}
