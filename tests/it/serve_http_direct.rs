//! Issue 18: zen answers a plain tools/call on a known session itself, without rmcp's session
//! layer. What that path must keep: cancellation by notification, the session's idle clock,
//! rmcp's answers to anything it would refuse, and streaming for a slow reply (in
//! serve_http_json).
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::raw_http::{Raw, chat_call, version_call};
use crate::util::{http_zen, telemetry_snapshot, wait_for};

/// Extra request headers.
type Headers<'a> = &'a [(&'a str, &'a str)];

#[tokio::test]
async fn notifications_cancelled_stops_a_running_tools_call() {
    let zen = http_zen(&[], &[("ZEN_SIM_LATENCY_MS", "60000")]).await;
    let telemetry = zen.telemetry.clone().expect("telemetry is on");
    let (raw, _) = Raw::open(&zen.url, "application/json").await;
    let mut caller = Raw {
        http: raw.http.clone(),
        url: raw.url.clone(),
        session: raw.session.clone(),
    };
    let started = Instant::now();
    let call = tokio::spawn(async move { caller.post("application/json", chat_call(7)).await });
    wait_for(
        "the chat call to run",
        Duration::from_secs(10),
        async || telemetry_snapshot(&telemetry).await["tools"]["chat"]["in_flight"] == 1,
    )
    .await;
    let mut canceller = raw;
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                        "params": {"requestId": 7, "reason": "test"}});
    let (status, _, body) = canceller.post("application/json", cancel).await;
    assert_eq!(status, 202, "{body}");
    let (status, _, body) = tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .expect("the cancelled call answers long before its 60 s provider")
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reply["id"], 7);
    assert_eq!(reply["result"]["isError"], true, "{body}");
    assert!(body.contains("cancelled"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn a_session_busy_with_tools_calls_outlives_zen_session_idle_and_closes_once_idle() {
    let env = [("ZEN_SESSION_IDLE", "1s"), ("ZEN_MAX_SESSIONS", "1")];
    let zen = http_zen(&[], &env).await;
    let (mut raw, _) = Raw::open(&zen.url, "application/json").await;
    // Three idle periods of calls: each one is answered, so the session stayed open.
    let busy_until = Instant::now() + Duration::from_secs(3);
    let mut id = 2;
    while Instant::now() < busy_until {
        let (status, _, body) = raw.post("application/json", version_call(id)).await;
        assert_eq!(status, 200, "call {id}: {body}");
        id += 1;
    }
    // Once idle it closes: a second client, refused while it is open, gets its slot (a probe
    // on the first session would keep it alive).
    let mut other = Raw {
        http: raw.http.clone(),
        url: raw.url.clone(),
        session: None,
    };
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "second", "version": "1"}}});
    wait_for(
        "the idle session to close",
        Duration::from_secs(10),
        async || {
            other.session = None;
            other.post("application/json", init.clone()).await.0 == 200
        },
    )
    .await;
    assert_eq!(raw.post("application/json", version_call(id)).await.0, 404);
}

#[tokio::test]
async fn tools_calls_zen_cannot_vouch_for_still_get_rmcp_answers() {
    let zen = http_zen(&[], &[]).await;
    let (mut raw, _) = Raw::open(&zen.url, "application/json").await;
    let json = "application/json";
    let cases: [(Headers, u16, &str); 5] = [
        (
            &[("origin", "http://evil.example")],
            403,
            "a foreign Origin",
        ),
        (&[("host", "evil.example")], 403, "a foreign Host"),
        (
            &[("mcp-protocol-version", "1999-01-01")],
            400,
            "an unknown version",
        ),
        (
            &[("origin", "http://localhost:3000")],
            200,
            "a loopback Origin",
        ),
        (&[], 200, "a plain call"),
    ];
    for (headers, expected, what) in cases {
        let (status, kind, body) = raw.post_with(json, version_call(2), headers).await;
        assert_eq!(status, expected, "{what}: {body}");
        if expected == 200 {
            assert_eq!(kind, "application/json", "{what}");
            assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["id"], 2);
        }
    }
    raw.session = Some("no-such-session".into());
    assert_eq!(raw.post(json, version_call(3)).await.0, 404);
}

#[tokio::test]
async fn stateless_http_serves_every_request_on_its_own_to_every_client() {
    let zen = http_zen(&[], &[("ZEN_HTTP_STATELESS", "true")]).await;
    let both = "application/json, text/event-stream";
    let (mut raw, (status, kind, body)) = Raw::open(&zen.url, both).await;
    assert_eq!((status, kind.as_str()), (200, "application/json"), "{body}");
    assert!(
        raw.session.is_none(),
        "a stateless server gives no session id"
    );
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}});
    let (status, _, body) = raw.post(both, list).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"chat\""), "{body}");
    let (status, kind, body) = raw.post("application/json", version_call(3)).await;
    assert_eq!((status, kind.as_str()), (200, "application/json"), "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["id"], 3);
    // The project's clients: rmcp's, and zen stress's lean one.
    let client = crate::util::http_client(&zen.url).await;
    let result = crate::util::call(&client, "chat", json!({"prompt": "hello"})).await;
    assert!(
        !crate::util::is_error(&result),
        "{}",
        crate::util::text(&result)
    );
    let args = [
        "stress", "--url", &zen.url, "-c", "8", "-n", "400", "--tool", "version",
    ];
    let (code, out, err) = crate::util::zen_output(&[&args[..], &["--json"]].concat(), &[]).await;
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["tools"]["version"]["ok"], 400);
}
