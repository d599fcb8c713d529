//! zen serve over stdio, driven by rmcp's client as Claude Desktop would.
use std::time::{Duration, Instant};

use serde_json::json;

use crate::util::{WORKFLOW_TOOLS, call, is_error, snapshot, stdio_zen, text};

const FAST: &[(&str, &str)] = &[("ZEN_SIM_LATENCY_MS", "5")];

#[tokio::test]
async fn lists_its_tools() {
    let zen = stdio_zen(&[], FAST).await;
    let tools = zen.client.list_all_tools().await.unwrap();
    let names: Vec<_> = tools.iter().map(|t| t.name.to_string()).collect();
    let others = [
        "challenge",
        "apilookup",
        "clink",
        "listmodels",
        "metrics",
        "threads",
        "version",
    ];
    let expected = [&["chat", "consensus"][..], &WORKFLOW_TOOLS, &others].concat();
    assert_eq!(names, expected);
    let chat = &tools[0];
    let schema = serde_json::to_value(&chat.input_schema).unwrap();
    assert_eq!(schema["required"], json!(["prompt"]));
    assert!(schema["properties"]["continuation_id"].is_object());
}

#[tokio::test]
async fn chat_replies_and_a_continuation_sees_the_first_turn() {
    let zen = stdio_zen(&[], FAST).await;
    let first = call(&zen.client, "chat", json!({"prompt": "What is 2+2?"})).await;
    assert!(!is_error(&first), "{}", text(&first));
    let body = text(&first);
    assert!(body.contains("simulated reply"), "{body}");
    // system + user: two messages.
    assert!(body.contains("Read 2 messages"), "{body}");
    let structured = first.structured_content.clone().unwrap();
    let id = structured["continuation_id"].as_str().unwrap().to_string();
    assert_eq!(structured["turns_left"], 48);
    assert!(body.contains(&format!("continuation_id: {id} (48 turns left)")));

    let second = call(
        &zen.client,
        "chat",
        json!({"prompt": "And 3+3?", "continuation_id": id}),
    )
    .await;
    assert!(!is_error(&second), "{}", text(&second));
    // system + first prompt + first reply + new prompt.
    assert!(
        text(&second).contains("Read 4 messages"),
        "{}",
        text(&second)
    );
    assert_eq!(second.structured_content.unwrap()["turns_left"], 46);
}

#[tokio::test]
async fn unknown_and_malformed_continuation_ids_are_clear_tool_errors() {
    let zen = stdio_zen(&[], FAST).await;
    let unknown = call(
        &zen.client,
        "chat",
        json!({"prompt": "hi", "continuation_id": "6f1c1a52-6f57-4f0e-9e3e-2a1d9b1e0c11"}),
    )
    .await;
    assert!(is_error(&unknown));
    assert!(
        text(&unknown).contains("unknown or expired"),
        "{}",
        text(&unknown)
    );
    let malformed = call(
        &zen.client,
        "chat",
        json!({"prompt": "hi", "continuation_id": "nope"}),
    )
    .await;
    assert!(is_error(&malformed));
    assert!(
        text(&malformed).contains("continuation_id: 'nope' is not a thread id"),
        "{}",
        text(&malformed)
    );
}

#[tokio::test]
async fn bad_arguments_name_the_field_and_the_server_keeps_serving() {
    let zen = stdio_zen(&[], FAST).await;
    let cases = [
        (json!({}), "missing field `prompt`"),
        (json!({"prompt": 5}), "prompt: invalid type: integer `5`"),
        (
            json!({"prompt": "x", "temperature": 3}),
            "temperature: 3 is outside 0 to 1",
        ),
        (
            json!({"prompt": "x", "promt": "typo"}),
            "unknown field `promt`",
        ),
        (
            json!({"prompt": "x", "model": "gpt-9000"}),
            "unknown model 'gpt-9000'",
        ),
        (json!({"prompt": "  "}), "prompt: must not be empty"),
    ];
    for (args, expected) in cases {
        let result = call(&zen.client, "chat", args.clone()).await;
        assert!(is_error(&result), "{args} should fail");
        assert!(
            text(&result).contains(expected),
            "{args}: {}",
            text(&result)
        );
    }
    let unknown_model = call(
        &zen.client,
        "chat",
        json!({"prompt": "x", "model": "gpt-9000"}),
    )
    .await;
    assert!(
        text(&unknown_model).contains("Available: simulated"),
        "{}",
        text(&unknown_model)
    );
    let ok = call(&zen.client, "chat", json!({"prompt": "still there?"})).await;
    assert!(!is_error(&ok));
}

#[tokio::test]
async fn an_unknown_tool_is_a_json_rpc_error() {
    let zen = stdio_zen(&[], FAST).await;
    let params = rmcp::model::CallToolRequestParams::new("frobnicate");
    let err = zen.client.call_tool(params).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("unknown tool 'frobnicate'"), "{message}");
    assert!(
        message.contains("-32602")
            || message.contains("Invalid params")
            || message.contains("invalid"),
        "{message}"
    );
    assert_eq!(snapshot(&zen.client).await["protocol"]["unknown_tools"], 1);
}

#[tokio::test]
async fn version_and_listmodels_work_offline() {
    let zen = stdio_zen(&[], FAST).await;
    let version: serde_json::Value = call(&zen.client, "version", json!({}))
        .await
        .structured_content
        .unwrap();
    assert_eq!(version["name"], "zen");
    assert_eq!(version["config"]["providers"], json!(["simulated"]));
    let models: serde_json::Value = call(&zen.client, "listmodels", json!({}))
        .await
        .structured_content
        .unwrap();
    assert_eq!(models["auto_resolves_to"], "simulated/simulated");
    assert_eq!(models["not_configured"].as_array().unwrap().len(), 7);
    let extra = call(&zen.client, "version", json!({"verbose": true})).await;
    assert!(is_error(&extra) && text(&extra).contains("unknown field `verbose`"));
}

#[tokio::test]
async fn thirty_concurrent_chats_on_one_session_all_succeed() {
    let zen = stdio_zen(&[], &[("ZEN_SIM_LATENCY_MS", "200")]).await;
    let started = Instant::now();
    let calls = (0..30).map(|i| call(&zen.client, "chat", json!({"prompt": format!("call {i}")})));
    let results = futures::future::join_all(calls).await;
    let wall = started.elapsed();
    assert!(results.iter().all(|r| !is_error(r)));
    // They ran at once (not one after another, which would take 6 s).
    assert!(wall < Duration::from_secs(3), "30 calls took {wall:?}");
    let snap = snapshot(&zen.client).await;
    assert_eq!(snap["tools"]["chat"]["total_operations"], 30);
    assert_eq!(snap["tools"]["chat"]["peak_in_flight"], 30);
    assert_eq!(snap["pools"][1]["name"], "simulated");
    assert_eq!(snap["pools"][1]["in_use"], 0);
}

#[tokio::test]
async fn a_malformed_line_is_logged_counted_and_answered_with_a_parse_error() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = crate::util::piped_serve(FAST, dir.path());
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;
    let lines = [
        init,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        "this is not json",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"chat\",\"arguments\":{\"prompt\":\"\u{fffd}\"}}}",
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"metrics","arguments":{"detail":true}}}"#,
    ];
    for line in lines {
        stdin.write_all(line.as_bytes()).await.unwrap();
        stdin.write_all(b"\n").await.unwrap();
    }
    // Invalid UTF-8 inside a JSON string.
    stdin
        .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\",\"x\":\"\xff\xfe\"}\n")
        .await
        .unwrap();
    stdin.flush().await.unwrap();
    // Replies by id, and the parse error of the line with no readable id (none in its reply);
    // the invalid UTF-8 line's id is recovered, so its caller is answered.
    let mut seen = std::collections::BTreeMap::new();
    let mut parse_errors = 0;
    while seen.len() < 4 || parse_errors < 1 {
        let line = out.next_line().await.unwrap().expect("a reply");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        if let Some(id) = v["id"].as_i64() {
            seen.insert(id, v);
        } else {
            assert_eq!(v["error"]["code"], -32700, "{v}");
            parse_errors += 1;
        }
    }
    assert_eq!(seen[&9]["error"]["code"], -32700, "{}", seen[&9]);
    assert!(
        seen[&2]["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("simulated")
    );
    let snap: serde_json::Value =
        serde_json::from_str(seen[&3]["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert!(snap["protocol"]["malformed_messages"].as_u64().unwrap() >= 1);
    drop(stdin); // EOF: the server drains and exits 0
    let status = child.wait().await.unwrap();
    assert!(status.success());
    let mut err = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut err)
        .await
        .unwrap();
    assert!(
        err.contains("ignoring a malformed message on stdin"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[tokio::test]
async fn stdin_eof_lets_an_in_flight_call_finish_then_exits_zero() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut cmd =
        crate::util::zen_command(&["serve"], &[("ZEN_SIM_LATENCY_MS", "700")], dir.path());
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;
    let call = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"chat","arguments":{"prompt":"slow one"}}}"#;
    for line in [
        init,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        call,
    ] {
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
    }
    drop(stdin); // EOF while the call is in flight
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut replies = Vec::new();
    while let Some(line) = out.next_line().await.unwrap() {
        replies.push(line);
    }
    assert!(child.wait().await.unwrap().success());
    let last: serde_json::Value = serde_json::from_str(replies.last().unwrap()).unwrap();
    assert_eq!(
        last["id"], 2,
        "the in-flight call was answered: {replies:?}"
    );
    assert_ne!(last["result"]["isError"], true, "{last}");
    assert!(
        last["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("simulated reply")
    );
}

#[tokio::test]
async fn regression_a_multibyte_model_name_does_not_panic_the_simulated_reply() {
    let zen = stdio_zen(
        &[],
        &[("ZEN_SIM_LATENCY_MS", "1"), ("ZEN_SIM_REPLY_BYTES", "100")],
    )
    .await;
    let model = format!("simulated/{}", "é".repeat(400));
    let r = call(&zen.client, "chat", json!({"prompt": "hi", "model": model})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let again = call(&zen.client, "chat", json!({"prompt": "still alive?"})).await;
    assert!(!is_error(&again));
}
