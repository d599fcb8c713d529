//! Tool arguments of every shape against the real server: wrong types, unknown fields, bad
//! continuation ids and files (skipped with a note, capped per request), plus a property test
//! over chat arguments through the real call path.
use serde_json::json;

use crate::util::{call, is_error, stdio_zen, text};

#[tokio::test]
async fn bad_arguments_of_every_shape_are_tool_errors() {
    let zen = stdio_zen(&[], &[("ZEN_SIM_LATENCY_MS", "1")]).await;
    let cases = [
        json!({"prompt": null}),
        json!({"prompt": ["a"]}),
        json!({"prompt": "x", "temperature": "hot"}),
        json!({"prompt": "x", "temperature": -0.5}),
        json!({"prompt": "x", "absolute_file_paths": "not-a-list"}),
        json!({"prompt": "x", "absolute_file_paths": [1, 2]}),
        json!({"prompt": "x", "continuation_id": 12}),
        json!({"prompt": "x", "continuation_id": "../../etc/passwd"}),
        json!({"prompt": "x", "model": {"name": "gpt"}}),
    ];
    for args in cases {
        let r = call(&zen.client, "chat", args.clone()).await;
        assert!(is_error(&r), "{args}: {}", text(&r));
        assert!(
            text(&r).contains("invalid arguments for chat") || text(&r).contains("continuation_id"),
            "{args}: {}",
            text(&r)
        );
    }
    // Files: relative, missing and oversized ones are skipped with a note, the call succeeds.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.txt");
    std::fs::write(&big, vec![b'a'; 2 * 1024 * 1024]).unwrap();
    let small = dir.path().join("small.txt");
    std::fs::write(&small, "hello file").unwrap();
    let r = call(
        &zen.client,
        "chat",
        json!({"prompt": "files", "absolute_file_paths": ["relative.txt", "/no/such/file", big.to_str().unwrap(), small.to_str().unwrap()]}),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let notes = r.structured_content.unwrap()["notes"].to_string();
    assert!(
        notes.contains("not an absolute path")
            && notes.contains("cannot read")
            && notes.contains("1 MiB"),
        "{notes}"
    );
    // One file under three spellings is embedded once: the provider sees the same prompt bytes.
    let prompt_bytes = |r: &rmcp::model::CallToolResult| {
        let t = text(r);
        let at = t
            .find(" bytes)")
            .expect("the simulated reply names the prompt size");
        t[..at].rsplit('(').next().unwrap().to_string()
    };
    let once = call(
        &zen.client,
        "chat",
        json!({"prompt": "same", "absolute_file_paths": [small.to_str().unwrap()]}),
    )
    .await;
    let spellings = [
        small.to_str().unwrap().to_string(),
        format!("{}/./small.txt", dir.path().display()),
        format!("{}//small.txt", dir.path().display()),
    ];
    let thrice = call(
        &zen.client,
        "chat",
        json!({"prompt": "same", "absolute_file_paths": spellings}),
    )
    .await;
    assert_eq!(prompt_bytes(&once), prompt_bytes(&thrice));
    // At most 64 files a request, and each one left out is named in a note.
    let many: Vec<String> = (0..70)
        .map(|i| {
            let path = dir.path().join(format!("f{i}.txt"));
            std::fs::write(&path, "x").unwrap();
            path.display().to_string()
        })
        .collect();
    let r = call(
        &zen.client,
        "chat",
        json!({"prompt": "many", "absolute_file_paths": many}),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let structured = r.structured_content.unwrap();
    let notes = structured["notes"].to_string();
    for skipped in &many[64..] {
        let note = format!("skipped file {skipped}: a request embeds at most 64");
        assert!(notes.contains(&note), "{notes}");
    }
    assert!(
        !notes.contains(&format!("skipped file {}:", many[63])),
        "{notes}"
    );
    // Continuing it with a new file: the new file comes first, the oldest ones give way.
    let r = call(
        &zen.client,
        "chat",
        json!({"prompt": "and this one", "continuation_id": structured["continuation_id"], "absolute_file_paths": [small.to_str().unwrap()]}),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let notes = r.structured_content.unwrap()["notes"].to_string();
    assert!(
        notes.contains("left out 7 files from earlier turns") && !notes.contains("small.txt"),
        "{notes}"
    );
}

mod properties {
    //! Property test over chat arguments through the real call path, in process: whatever the
    //! arguments, a tool call ends in a result (ok or a tool error), never a panic or a hang, and
    //! every permit comes back.
    use proptest::prelude::*;
    use serde_json::{Map, Value, json};
    use tokio_util::sync::CancellationToken;
    use zen_server::config::{Latency, ServeConfig};
    use zen_server::serve::Server;

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            ".{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(2, 8, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(".{0,8}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn chat_args() -> impl Strategy<Value = Map<String, Value>> {
        let key = prop_oneof![
            Just("prompt".to_string()),
            Just("model".to_string()),
            Just("continuation_id".to_string()),
            Just("temperature".to_string()),
            Just("absolute_file_paths".to_string()),
            "[a-z_]{1,12}",
        ];
        prop::collection::btree_map(key, any_json(), 0..6).prop_map(|m| m.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]
        #[test]
        fn any_chat_arguments_end_in_a_result(args in chat_args()) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let mut config = ServeConfig::defaults();
                config.sim.sim_latency_ms = Latency::Fixed(0);
                config.store.kind = zen_server::config::StoreKind::Memory;
                let app = Server::new(config).await.unwrap();
                let call = app.call_tool("chat", Some(args.clone()), None, CancellationToken::new());
                let result = tokio::time::timeout(std::time::Duration::from_secs(5), call).await;
                let result = result.expect("no hang").expect("chat is a known tool: a result, not a JSON-RPC error");
                if result.is_error != Some(true) {
                    // Only a well-formed prompt can succeed.
                    prop_assert!(args.get("prompt").and_then(Value::as_str).is_some_and(|p| !p.trim().is_empty()));
                }
                let snap = app.snapshot();
                prop_assert!(snap.pools.iter().all(|p| p.in_use == 0));
                prop_assert_eq!(snap.tools["chat"].in_flight, 0);
                Ok(())
            })?;
        }
    }
}
