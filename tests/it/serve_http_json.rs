//! Issue 18: zen serve answers a one-message reply with `application/json` when the client
//! accepts it (a raw HTTP client here, speaking the spec by hand), SSE with ZEN_SSE_REPLIES, and
//! the project's own clients (rmcp's, and `zen stress`) work in both modes.
use serde_json::{Value, json};

use crate::raw_http::{Raw, chat_call, version_call};
use crate::util::{call, http_client, http_zen, is_error, text, zen_output};

#[tokio::test]
async fn a_client_accepting_only_json_gets_json_replies() {
    let zen = http_zen(&[], &[]).await;
    let (mut raw, (status, kind, body)) = Raw::open(&zen.url, "application/json").await;
    assert_eq!((status, kind.as_str()), (200, "application/json"), "{body}");
    let init: Value = serde_json::from_str(&body).expect("one JSON message");
    assert_eq!(init["result"]["serverInfo"]["name"], "zen");
    assert!(raw.session.is_some(), "initialize gave a session id");
    let (status, kind, body) = raw.post("application/json", version_call(2)).await;
    assert_eq!((status, kind.as_str()), (200, "application/json"), "{body}");
    let reply: Value = serde_json::from_str(&body).expect("one JSON message");
    assert_eq!(reply["id"], 2);
    assert!(
        reply["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("zen"),
        "{body}"
    );
    // A client that accepts both also gets JSON: the reply is one message.
    let (status, kind, body) = raw
        .post("application/json, text/event-stream", version_call(3))
        .await;
    assert_eq!((status, kind.as_str()), (200, "application/json"), "{body}");
    // The session checks stay rmcp's: an unknown session is 404.
    raw.session = Some("no-such-session".into());
    let (status, _, _) = raw.post("application/json", version_call(4)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn sse_replies_setting_keeps_rmcp_streams() {
    let zen = http_zen(&[], &[("ZEN_SSE_REPLIES", "true")]).await;
    let both = "application/json, text/event-stream";
    let (mut raw, (status, kind, _)) = Raw::open(&zen.url, both).await;
    assert_eq!((status, kind.as_str()), (200, "text/event-stream"));
    let (status, kind, body) = raw.post(both, version_call(2)).await;
    assert_eq!((status, kind.as_str()), (200, "text/event-stream"));
    assert!(
        body.contains("\"id\":2") && body.contains("data:"),
        "{body}"
    );
    // Without the JSON mode a client must accept SSE, as rmcp requires.
    let (status, _, _) = raw.post("application/json", version_call(3)).await;
    assert_eq!(status, 406);
}

#[tokio::test]
async fn project_clients_work_over_http_in_both_response_modes() {
    for env in [vec![], vec![("ZEN_SSE_REPLIES", "true")]] {
        let zen = http_zen(&[], &env).await;
        let client = http_client(&zen.url).await;
        let result = call(&client, "chat", json!({"prompt": "hello"})).await;
        assert!(!is_error(&result), "{env:?}: {}", text(&result));
        let (code, out, err) = zen_output(
            &[
                "stress", "--url", &zen.url, "-c", "8", "-n", "400", "--tool", "version", "--json",
            ],
            // The server's runtime directory: its discovery file leads to its telemetry.
            &[(
                "ZEN_RUNTIME_DIR",
                &zen.dir.path().join("run").display().to_string(),
            )],
        )
        .await;
        assert_eq!(code, 0, "{env:?}: {err}");
        let report: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(report["tools"]["version"]["ok"], 400, "{env:?}");
        let server = &report["server"];
        assert!(
            server["cpu_secs_during_run"].as_f64().unwrap() > 0.0
                && server["cpu_us_per_call"].as_f64().unwrap() > 0.0,
            "{env:?}: the report gives the server's CPU per call: {server}"
        );
        assert!(report["generator"]["cpu_us_per_call"].as_f64().unwrap() > 0.0);
    }
}

#[tokio::test]
async fn a_reply_slower_than_five_seconds_streams_to_a_client_that_accepts_sse() {
    let zen = http_zen(&[], &[("ZEN_SIM_LATENCY_MS", "5500")]).await;
    let both = "application/json, text/event-stream";
    let (mut raw, _) = Raw::open(&zen.url, both).await;
    let (status, kind, body) = raw.post(both, chat_call(2)).await;
    assert_eq!(
        (status, kind.as_str()),
        (200, "text/event-stream"),
        "{body}"
    );
    assert!(
        body.contains("\"id\":2") && body.contains("data:"),
        "{body}"
    );
    // A JSON-only client has no stream to fall back to: it waits and gets JSON.
    let (status, kind, body) = raw.post("application/json", chat_call(3)).await;
    assert_eq!((status, kind.as_str()), (200, "application/json"), "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["id"], 3);
}
