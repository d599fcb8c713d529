//! The tool registry against the real binary: every tool is listed with its schema and
//! annotations, answers good arguments and names the field in bad ones, is counted in the
//! metrics under its own name; DISABLED_TOOLS hides and refuses tools; ZEN_SIM_MODELS shows in
//! listmodels.
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use crate::util::{WORKFLOW_TOOLS, call, is_error, snapshot, stdio_zen, text};

/// Every tool with one good and one bad call, and what the bad call's error must name.
fn calls() -> Vec<(&'static str, Value, Value, &'static str)> {
    let step = json!({"step": "s", "step_number": 1, "total_steps": 1,
        "next_step_required": false, "findings": "f"});
    let mut no_findings = step.clone();
    no_findings.as_object_mut().unwrap().remove("findings");
    let two = json!([{"model": "simulated"}, {"model": "simulated", "stance": "for"}]);
    let with = |args: &Value, field: &str, value: Value| {
        let mut args = args.clone();
        args[field] = value;
        args
    };
    vec![
        (
            "chat",
            json!({"prompt": "hi"}),
            json!({"prompt": 3}),
            "prompt: invalid type",
        ),
        (
            "consensus",
            json!({"prompt": "p", "models": two}),
            json!({"prompt": "p", "models": []}),
            "models: 0 entries",
        ),
        (
            "thinkdeep",
            step.clone(),
            no_findings.clone(),
            "findings: missing field",
        ),
        (
            "planner",
            no_findings.clone(),
            with(&step, "branch_from_step", json!(0)),
            "branch_from_step: expected a whole number of at least 1",
        ),
        (
            "codereview",
            step.clone(),
            no_findings.clone(),
            "findings: missing field",
        ),
        (
            "precommit",
            step.clone(),
            no_findings.clone(),
            "findings: missing field",
        ),
        (
            "debug",
            step.clone(),
            no_findings.clone(),
            "findings: missing field",
        ),
        (
            "secaudit",
            with(&step, "audit_focus", json!("owasp")),
            with(&step, "audit_focus", json!("xss")),
            "audit_focus: \"xss\" is not one of",
        ),
        (
            "docgen",
            with(&step, "document_flow", json!(false)),
            with(&step, "document_flow", json!("no")),
            "document_flow: expected true or false",
        ),
        (
            "analyze",
            with(&step, "output_format", json!("actionable")),
            no_findings.clone(),
            "findings: missing field",
        ),
        (
            "refactor",
            with(&step, "refactor_type", json!("decompose")),
            with(&step, "hypothesis", json!(7)),
            "hypothesis: expected a string",
        ),
        (
            "tracer",
            with(
                &with(&step, "trace_mode", json!("dependencies")),
                "target_description",
                json!("Cache"),
            ),
            step.clone(),
            "target_description: missing field",
        ),
        ("testgen", step, no_findings, "findings: missing field"),
        (
            "challenge",
            json!({"prompt": "you are wrong"}),
            json!({"statement": "x"}),
            "unknown field `statement`",
        ),
        (
            "apilookup",
            json!({"prompt": "tokio select!"}),
            json!({"prompt": ""}),
            "prompt: must not be empty",
        ),
        (
            "clink",
            json!({"prompt": "hi", "cli_name": "cat"}),
            json!({"prompt": "hi", "cli_name": "nosuch"}),
            "no CLI 'nosuch' is configured",
        ),
        (
            "listmodels",
            json!({}),
            json!({"all": true}),
            "unknown field `all`",
        ),
        (
            "metrics",
            json!({}),
            json!({"detail": "yes"}),
            "detail: invalid type",
        ),
        (
            "threads",
            json!({}),
            json!({"limit": 0}),
            "limit: 0 is outside 1 to 200",
        ),
        (
            "version",
            json!({}),
            json!({"verbose": 1}),
            "unknown field `verbose`",
        ),
    ]
}

#[tokio::test]
async fn every_tool_is_listed_answers_and_names_the_bad_field_and_is_counted() {
    // clink's good call runs `cat` as its CLI.
    let clients = tempfile::tempdir().unwrap();
    let cat = clients.path().join("cat.json");
    std::fs::write(
        &cat,
        r#"{"name": "cat", "command": "cat", "parser": "text"}"#,
    )
    .unwrap();
    let cat = cat.display().to_string();
    let env = [
        ("ZEN_SIM_LATENCY_MS", "1"),
        ("CLI_CLIENTS_CONFIG_PATH", &cat),
    ];
    let zen = stdio_zen(&[], &env).await;
    let tools = zen.client.list_all_tools().await.unwrap();
    let calls = calls();
    assert_eq!(tools.len(), calls.len());
    for tool in &tools {
        let schema = serde_json::to_value(&tool.input_schema).unwrap();
        assert_eq!(schema["type"], "object", "{}", tool.name);
        assert!(
            !tool.description.as_deref().unwrap_or("").is_empty(),
            "{}",
            tool.name
        );
        let notes = tool
            .annotations
            .as_ref()
            .unwrap_or_else(|| panic!("{} annotations", tool.name));
        assert_eq!(notes.read_only_hint, Some(true), "{}", tool.name);
        assert!(
            notes.title.is_some() && notes.open_world_hint.is_some(),
            "{}",
            tool.name
        );
        let output = tool
            .output_schema
            .as_ref()
            .unwrap_or_else(|| panic!("{} outputSchema", tool.name));
        assert_eq!(output["type"], "object", "{}", tool.name);
    }
    let model_tools = [&["chat", "consensus"][..], &WORKFLOW_TOOLS, &["clink"]].concat();
    for tool in &tools {
        let open = tool.annotations.as_ref().unwrap().open_world_hint;
        assert_eq!(
            open,
            Some(model_tools.contains(&tool.name.as_ref())),
            "{}",
            tool.name
        );
    }
    let step_schema = serde_json::to_value(
        &tools
            .iter()
            .find(|t| t.name == "codereview")
            .unwrap()
            .input_schema,
    )
    .unwrap();
    for field in [
        "step",
        "step_number",
        "total_steps",
        "next_step_required",
        "findings",
        "relevant_files",
        "issues_found",
        "confidence",
    ] {
        assert!(
            step_schema["properties"][field].is_object(),
            "codereview schema lacks {field}"
        );
    }
    for (tool, good, bad, expected) in &calls {
        let r = call(&zen.client, tool, good.clone()).await;
        assert!(!is_error(&r), "{tool} {good}: {}", text(&r));
        let r = call(&zen.client, tool, bad.clone()).await;
        assert!(is_error(&r), "{tool} {bad}: {}", text(&r));
        assert!(text(&r).contains(expected), "{tool} {bad}: {}", text(&r));
    }
    let snap = snapshot(&zen.client).await;
    for (tool, ..) in &calls {
        let stats = &snap["tools"][tool];
        // The snapshot request itself is still in flight, so metrics counts 2 as well.
        assert_eq!(stats["total_operations"], 2, "{tool}: {stats}");
        assert_eq!(stats["errors"]["tool_error"], 1, "{tool}: {stats}");
    }
}

#[tokio::test]
async fn disabled_tools_are_hidden_and_refused_and_core_tools_stay_on_with_a_warning() {
    let env = [(
        "DISABLED_TOOLS",
        "consensus, precommit,chat,refactor,oldtool",
    )];
    let zen = stdio_zen(&[], &env).await;
    let tools = zen.client.list_all_tools().await.unwrap();
    let names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
    for off in ["consensus", "precommit", "refactor"] {
        assert!(!names.contains(&off.into()), "{off}: {names:?}");
    }
    assert!(names.contains(&"chat".into()) && names.contains(&"codereview".into()));
    let args = json!({"prompt": "p", "models": [{"model": "a"}, {"model": "b"}]});
    let params =
        CallToolRequestParams::new("consensus").with_arguments(args.as_object().unwrap().clone());
    let err = zen.client.call_tool(params).await.unwrap_err().to_string();
    assert!(
        err.contains("tool 'consensus' is disabled on this server (DISABLED_TOOLS)"),
        "{err}"
    );
    let stderr = zen.stderr.text();
    assert!(
        stderr.contains("DISABLED_TOOLS: 'chat' cannot be disabled"),
        "{stderr}"
    );
    assert!(
        stderr.contains("DISABLED_TOOLS: zen has no tool 'oldtool'"),
        "{stderr}"
    );
    let r = call(&zen.client, "chat", json!({"prompt": "still here"})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let snap = snapshot(&zen.client).await;
    assert!(
        snap["tools"]["consensus"].is_null(),
        "a disabled tool has no series"
    );
    assert_eq!(snap["protocol"]["unknown_tools"], 1);
}

#[tokio::test]
async fn listmodels_shows_every_simulated_model_under_one_pool() {
    let zen = stdio_zen(&[], &[("ZEN_SIM_MODELS", "alpha, beta,alpha,gamma")]).await;
    let r = call(&zen.client, "listmodels", json!({})).await;
    assert!(
        text(&r).contains("alpha") && text(&r).contains("beta"),
        "{}",
        text(&r)
    );
    let listed: Value = r.structured_content.unwrap();
    let providers = listed["providers"].as_array().unwrap();
    assert_eq!(providers.len(), 1, "{listed}");
    assert_eq!(providers[0]["provider"], "simulated");
    let models: Vec<&str> = (providers[0]["models"].as_array().unwrap().iter())
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(models, ["alpha", "beta", "gamma"]);
    assert_eq!(listed["auto_resolves_to"], "simulated/alpha");
}
