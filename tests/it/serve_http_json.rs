//! Issue 18: zen serve answers a one-message reply with `application/json` when the client
//! accepts it (a raw HTTP client here, speaking the spec by hand), SSE with ZEN_SSE_REPLIES, and
//! the project's own clients (rmcp's, and `zen stress`) work in both modes.
use serde_json::{Value, json};

use crate::util::{call, http_client, http_zen, is_error, text, zen_output};

/// A raw streamable HTTP session: the spec's headers, nothing else.
struct Raw {
    http: reqwest::Client,
    url: String,
    session: Option<String>,
}

impl Raw {
    /// POST one message with this `Accept`; (status, content type, body).
    async fn post(&mut self, accept: &str, message: Value) -> (u16, String, String) {
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", accept)
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2025-06-18")
            .body(message.to_string());
        if let Some(id) = &self.session {
            request = request.header("mcp-session-id", id);
        }
        let response = request.send().await.expect("POST reaches zen");
        if let Some(id) = response.headers().get("mcp-session-id") {
            self.session = Some(id.to_str().unwrap().to_string());
        }
        let status = response.status().as_u16();
        let kind = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, kind, response.text().await.unwrap())
    }

    /// initialize and notifications/initialized, accepting `accept`.
    async fn open(url: &str, accept: &str) -> (Self, (u16, String, String)) {
        let mut raw = Raw {
            http: reqwest::Client::new(),
            url: url.to_string(),
            session: None,
        };
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "raw-test", "version": "1"}}});
        let reply = raw.post(accept, init).await;
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let (status, _, body) = raw.post(accept, note).await;
        assert_eq!(status, 202, "{body}");
        (raw, reply)
    }
}

fn version_call(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": "version", "arguments": {}}})
}

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
            &[],
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
    let chat = |id: u64| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": "chat", "arguments": {"prompt": "slow"}}})
    };
    let (status, kind, body) = raw.post(both, chat(2)).await;
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
    let (status, kind, body) = raw.post("application/json", chat(3)).await;
    assert_eq!((status, kind.as_str()), (200, "application/json"), "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["id"], 3);
}
