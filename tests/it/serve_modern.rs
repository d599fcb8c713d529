//! Issue 24: zen serves MCP 2026-07-28 itself (no session, no rmcp) beside the 2025 sessions on
//! the same endpoint: `server/discover`, the request-metadata checks and their statuses, the
//! removed methods as 404 / -32601, `resultType` and `serverInfo` on every result.
use serde_json::{Value, json};

use crate::util::http_zen;

const MODERN: &str = "2026-07-28";

fn meta() -> Value {
    json!({"io.modelcontextprotocol/protocolVersion": MODERN,
           "io.modelcontextprotocol/clientCapabilities": {}})
}

/// POST `body` with `headers`; (status, the reply's first message).
async fn post(url: &str, headers: &[(&str, &str)], body: Value) -> (u16, Value) {
    let (status, messages) = crate::client_log::post(url, headers, &body).await;
    (status, messages.into_iter().next().unwrap_or(Value::Null))
}

fn request(method: &str, mut params: Value) -> Value {
    params["_meta"] = meta();
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
}

#[tokio::test]
async fn modern_requests_are_checked_answered_and_removed_methods_are_404() {
    let zen = http_zen(&[], &[]).await;
    let url = zen.url.as_str();
    let h = |method: &'static str| vec![("mcp-protocol-version", MODERN), ("mcp-method", method)];

    let (status, reply) = post(
        url,
        &h("server/discover"),
        request("server/discover", json!({})),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    let result = &reply["result"];
    assert_eq!(result["supportedVersions"][0], MODERN, "{reply}");
    assert_eq!(result["resultType"], "complete", "{reply}");
    assert!(result["capabilities"]["tools"].is_object(), "{reply}");
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "zen",
        "{reply}"
    );

    let (status, reply) = post(url, &h("tools/list"), request("tools/list", json!({}))).await;
    assert_eq!(status, 200, "{reply}");
    let result = &reply["result"];
    assert_eq!(result["resultType"], "complete", "{reply}");
    assert_eq!(result["cacheScope"], "public", "{reply}");
    assert!(result["ttlMs"].as_u64().is_some(), "{reply}");
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "zen"
    );

    let call = request("tools/call", json!({"name": "version", "arguments": {}}));
    let mut headers = h("tools/call");
    headers.push(("mcp-name", "version"));
    let (status, reply) = post(url, &headers, call.clone()).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["result"]["resultType"], "complete", "{reply}");
    assert_eq!(reply["result"]["isError"], false, "{reply}");

    // Request-metadata errors: 400 with -32020 (headers), -32602 (_meta), -32022 (version).
    let (status, reply) = post(url, &h("tools/call"), call.clone()).await;
    assert_eq!(
        (status, reply["error"]["code"].clone()),
        (400, json!(-32020)),
        "no Mcp-Name: {reply}"
    );
    let mut wrong = headers.clone();
    wrong[2] = ("mcp-name", "chat");
    let (status, reply) = post(url, &wrong, call.clone()).await;
    assert_eq!(
        (status, reply["error"]["code"].clone()),
        (400, json!(-32020)),
        "{reply}"
    );
    let (status, reply) = post(url, &headers[1..], call.clone()).await;
    assert_eq!(
        (status, reply["error"]["code"].clone()),
        (400, json!(-32020)),
        "no version header: {reply}"
    );
    let mut bare = call.clone();
    bare["params"]["_meta"] = json!({"io.modelcontextprotocol/protocolVersion": MODERN});
    let (status, reply) = post(url, &headers, bare).await;
    assert_eq!(
        (status, reply["error"]["code"].clone()),
        (400, json!(-32602)),
        "{reply}"
    );
    let mut future = call.clone();
    future["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("2099-01-01");
    let future_headers = [
        ("mcp-protocol-version", "2099-01-01"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "version"),
    ];
    let (status, reply) = post(url, &future_headers, future).await;
    assert_eq!(
        (status, reply["error"]["code"].clone()),
        (400, json!(-32022)),
        "{reply}"
    );
    assert_eq!(reply["error"]["data"]["supported"][0], MODERN, "{reply}");
    assert_eq!(reply["error"]["data"]["requested"], "2099-01-01", "{reply}");

    // Removed in 2026-07-28 (`2026-07-28/changelog`): 404 with -32601.
    for method in [
        "initialize",
        "ping",
        "logging/setLevel",
        "resources/subscribe",
        "resources/unsubscribe",
    ] {
        let params = if method == "logging/setLevel" {
            json!({"level": "info"})
        } else {
            json!({})
        };
        let (status, reply) = post(url, &h(method), request(method, params)).await;
        assert_eq!(status, 404, "{method}: {reply}");
        assert_eq!(reply["error"]["code"], -32601, "{method}: {reply}");
    }

    // The 2025 handshake still works on the same endpoint, and its results carry no resultType.
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let (status, reply) = post(url, &[], init).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["result"]["protocolVersion"], "2025-11-25", "{reply}");
    assert!(reply["result"].get("resultType").is_none(), "{reply}");
}
