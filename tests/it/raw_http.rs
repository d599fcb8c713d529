//! A raw streamable HTTP client for tests: the spec's headers by hand, nothing else.
use serde_json::{Value, json};

/// A raw streamable HTTP session: the spec's headers, nothing else.
pub(crate) struct Raw {
    pub http: reqwest::Client,
    pub url: String,
    pub session: Option<String>,
}

impl Raw {
    /// POST one message with this `Accept`; (status, content type, body).
    pub(crate) async fn post(&mut self, accept: &str, message: Value) -> (u16, String, String) {
        self.post_with(accept, message, &[]).await
    }

    /// [`Raw::post`] with extra headers, which replace the default protocol version if they
    /// name one.
    pub(crate) async fn post_with(
        &mut self,
        accept: &str,
        message: Value,
        extra: &[(&str, &str)],
    ) -> (u16, String, String) {
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", accept)
            .header("content-type", "application/json")
            .body(message.to_string());
        if !extra.iter().any(|(k, _)| *k == "mcp-protocol-version") {
            request = request.header("mcp-protocol-version", "2025-06-18");
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
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
    pub(crate) async fn open(url: &str, accept: &str) -> (Self, (u16, String, String)) {
        let mut raw = Raw {
            http: crate::util::http_plain(),
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

/// tools/call of `version` with this id.
pub(crate) fn version_call(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": "version", "arguments": {}}})
}

/// tools/call of `chat` with this id (slow when the simulated latency is set high).
pub(crate) fn chat_call(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": "chat", "arguments": {"prompt": "slow"}}})
}
