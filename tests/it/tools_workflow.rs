//! The workflow tools against the real binary: intermediate steps are recorded and answered
//! without a model call, the final step asks the model once with every step in its history,
//! `confidence: certain` asks at once, and a chat thread continues into codereview.
use serde_json::{Value, json};

use crate::util::{Client, WORKFLOW_TOOLS, call, is_error, snapshot, stdio_zen, text};

/// Provider calls so far, from the server's own snapshot.
async fn provider_calls(client: &Client) -> u64 {
    let snap = snapshot(client).await;
    snap["providers"]["simulated"]["calls"]["total_operations"]
        .as_u64()
        .unwrap()
}

fn step(n: u32, total: u32, next: bool, thread: Option<&str>) -> Value {
    let mut args = json!({
        "step": format!("step {n}: read the retry loop"),
        "step_number": n,
        "total_steps": total,
        "next_step_required": next,
        "findings": format!("finding {n}: the backoff doubles"),
        "issues_found": [{"severity": "medium", "description": format!("issue from step {n}")}],
        "confidence": "medium",
    });
    if let Some(id) = thread {
        args["continuation_id"] = json!(id);
    }
    args
}

#[tokio::test]
async fn a_three_step_codereview_calls_the_model_only_on_the_last_step() {
    let zen = stdio_zen(&[], &[("ZEN_SIM_LATENCY_MS", "5")]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("retry.rs");
    std::fs::write(&file, "fn retry() { /* backoff */ }").unwrap();
    let before = provider_calls(&zen.client).await;

    let mut first = step(1, 3, true, None);
    first["relevant_files"] = json!([file.to_str().unwrap()]);
    let r1 = call(&zen.client, "codereview", first).await;
    assert!(!is_error(&r1), "{}", text(&r1));
    let s1 = r1.structured_content.clone().unwrap();
    assert_eq!(s1["status"], "pause_for_code_review");
    assert_eq!(s1["next_step_number"], 2);
    assert!(text(&r1).contains("no model call"), "{}", text(&r1));
    let thread = s1["continuation_id"].as_str().unwrap().to_string();

    let mut second = step(2, 3, true, Some(&thread));
    second["relevant_files"] = json!(["/proc/self/environ"]);
    let r2 = call(&zen.client, "codereview", second).await;
    let s2 = r2.structured_content.unwrap();
    assert_eq!(s2["status"], "pause_for_code_review");
    // A file that will never be embedded is named at the step that passed it.
    let notes = s2["notes"].to_string();
    assert!(
        notes.contains("/proc/self/environ will not be embedded"),
        "{notes}"
    );
    assert_eq!(
        provider_calls(&zen.client).await,
        before,
        "no model call yet"
    );

    let r3 = call(&zen.client, "codereview", step(3, 3, false, Some(&thread))).await;
    assert!(!is_error(&r3), "{}", text(&r3));
    let s3 = r3.structured_content.clone().unwrap();
    // zen-mcp-server's status once its expert analysis has answered.
    assert_eq!(s3["status"], "calling_expert_analysis");
    assert_eq!(provider_calls(&zen.client).await, before + 1);
    // system + 4 recorded turns (steps 1 and 2) + the final step with the file embedded.
    assert_eq!(s3["expert_analysis"]["status"], "analysis_complete");
    let analysis = s3["expert_analysis"]["raw_analysis"].as_str().unwrap();
    assert!(s3["content"].as_str().unwrap().contains(analysis));
    assert!(analysis.contains("Read 6 messages"), "{analysis}");
    let snap = snapshot(&zen.client).await;
    assert_eq!(snap["tools"]["codereview"]["total_operations"], 3);
    assert_eq!(snap["conversations"]["threads"], 1);
}

#[tokio::test]
async fn certain_confidence_asks_the_model_at_once_and_a_chat_thread_continues_in_debug() {
    let zen = stdio_zen(&[], &[("ZEN_SIM_LATENCY_MS", "5")]).await;
    let chat = call(&zen.client, "chat", json!({"prompt": "the cache leaks"})).await;
    let thread = chat.structured_content.unwrap()["continuation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = provider_calls(&zen.client).await;
    let args = json!({
        "step": "checked the eviction path",
        "step_number": 1,
        "total_steps": 4,
        "next_step_required": true,
        "findings": "entries are never evicted when the TTL is zero",
        "hypothesis": "TTL zero disables eviction",
        "confidence": "certain",
        "continuation_id": thread,
    });
    let r = call(&zen.client, "debug", args).await;
    assert!(!is_error(&r), "{}", text(&r));
    let s = r.structured_content.unwrap();
    assert_eq!(s["status"], "calling_expert_analysis");
    assert_eq!(s["continuation_id"], json!(thread));
    // system + the chat's two turns + this step.
    assert!(
        s["expert_analysis"]["raw_analysis"]
            .as_str()
            .unwrap()
            .contains("Read 4 messages")
    );
    assert_eq!(provider_calls(&zen.client).await, before + 1);
}

#[tokio::test]
async fn every_workflow_tool_records_a_step_and_bad_step_arguments_name_the_field() {
    let zen = stdio_zen(&[], &[("ZEN_SIM_LATENCY_MS", "1")]).await;
    for tool in WORKFLOW_TOOLS {
        let mut args = json!({"step": "s", "step_number": 1, "total_steps": 2,
            "next_step_required": true, "findings": "f"});
        if tool == "tracer" {
            args["target_description"] = json!("Cache::get");
            args["trace_mode"] = json!("precision");
        }
        let r = call(&zen.client, tool, args.clone()).await;
        assert!(!is_error(&r), "{tool}: {}", text(&r));
        let status = r.structured_content.unwrap()["status"].clone();
        assert!(
            status.as_str().unwrap().starts_with("pause_for_"),
            "{tool}: {status}"
        );
        args["total_steps"] = json!(1);
        args["next_step_required"] = json!(false);
        let r = call(&zen.client, tool, args).await;
        assert_eq!(
            r.structured_content.unwrap()["status"],
            "calling_expert_analysis",
            "{tool}"
        );
    }
    let base = json!({"step": "s", "step_number": 1, "total_steps": 2,
        "next_step_required": true, "findings": "f"});
    let with = |k: &str, v: Value| {
        let mut a = base.clone();
        a[k] = v;
        a
    };
    let cases = [
        (
            "codereview",
            with("confidence", json!("sure")),
            "confidence: \"sure\" is not one of",
        ),
        (
            "codereview",
            with("issues_found", json!(["a string"])),
            "issues_found: item 0 is \"a string\", expected object",
        ),
        (
            "codereview",
            with("relevant_files", json!("a.rs")),
            "relevant_files: expected a list",
        ),
        (
            "planner",
            with("confidence", json!("low")),
            "confidence: unknown field; planner takes",
        ),
        (
            "planner",
            with("is_step_revision", json!("yes")),
            "is_step_revision: expected true or false",
        ),
        (
            "debug",
            with("step_number", json!(2)),
            "continuation_id: required from step 2 on",
        ),
        (
            "debug",
            with("step_number", json!(0)),
            "step_number: expected a whole number of at least 1",
        ),
        ("debug", with("step", json!(" ")), "step: must not be empty"),
        (
            "thinkdeep",
            with("total_steps", json!("two")),
            "total_steps: expected a whole number",
        ),
        ("precommit", json!({"step": "s"}), "missing field"),
        ("tracer", base.clone(), "target_description: missing field"),
        (
            "secaudit",
            with("threat_level", json!("extreme")),
            "threat_level: \"extreme\" is not one of low, medium, high, critical",
        ),
        (
            "docgen",
            with("num_files_documented", json!(-1)),
            "num_files_documented: expected a whole number of at least 0",
        ),
        (
            "refactor",
            with("confidence", json!("certain")),
            "confidence: \"certain\" is not one of exploring, incomplete, partial, complete",
        ),
        (
            "codereview",
            with("temperature", json!(1.5)),
            "temperature: expected a number from 0 to 1",
        ),
    ];
    for (tool, args, expected) in cases {
        let r = call(&zen.client, tool, args.clone()).await;
        assert!(is_error(&r), "{tool} {args}");
        let t = text(&r);
        assert!(
            t.contains(&format!("invalid arguments for {tool}")) && t.contains(expected),
            "{tool} {args}: {t}"
        );
    }
}

#[tokio::test]
async fn the_consensus_and_workflow_scenarios_pass_under_zen_stress() {
    let root = env!("CARGO_MANIFEST_DIR");
    for (file, limit) in [
        ("consensus.toml", ["--requests", "20"]),
        ("workflow.toml", ["--duration", "2s"]),
    ] {
        let path = format!("{root}/scenarios/{file}");
        let (code, out, err) =
            // The scenarios' p99 limits are for release builds on a quiet machine; this checks
            // that they run and pass their error-rate checks on a debug build under test load.
            crate::util::zen_output(
                &["stress", "--scenario", &path, limit[0], limit[1], "--max-p99", "5s"],
                &[],
            )
            .await;
        assert_eq!(code, 0, "{file}:\n{out}\n{err}");
        assert!(out.contains("verdict    PASS"), "{file}:\n{out}");
    }
}
