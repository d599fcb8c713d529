//! zen against zen-mcp-server's interface, generated from its argument file
//! (tests/compat/zen-mcp-server-9.4.1-arguments.json: every tool's argument names, types,
//! enums and required fields). For each of its 18 tools, clink included (against a fake CLI),
//! through the real binary:
//! - zen lists the tool, with every argument under the same name, type, enum and bounds, and
//!   requires no argument that server did not;
//! - a call with every argument (valid values of the declared types, accepted by zen's own
//!   input schema) works, and so does the final step with every argument;
//! - a call with only the required arguments works;
//! - every reply's structuredContent fits the tool's outputSchema, and carries `status` and
//!   `content`;
//! - an argument zen-mcp-server did not take is refused, naming it.
use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::tools_dropin::PIXEL;
use crate::util::{Client, call, is_error, stdio_zen, text};

/// zen-mcp-server 9.4.1's tools and their arguments.
const INTERFACE: &str = include_str!("../compat/zen-mcp-server-9.4.1-arguments.json");

/// The stand-in for the AI CLIs clink runs: it reads the prompt and answers in plain text.
const FAKE_CLI: &str = "#!/bin/sh\ncat > /dev/null\necho \"the fake CLI read the prompt\"\n";

/// zen-mcp-server's CLI clients (claude, codex, gemini, each with the roles default, planner
/// and codereviewer), all running [`FAKE_CLI`]: clink's `cli_name` and `role` enums come from
/// the configured clients, there as in zen, so this is the configuration the interface file
/// was taken from. Returns the CLI_CLIENTS_CONFIG_PATH directory.
fn fake_clients(dir: &std::path::Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("fake-cli");
    std::fs::write(&script, FAKE_CLI).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let conf = dir.join("cli_clients");
    std::fs::create_dir(&conf).unwrap();
    let roles = json!({
        "default": {"prompt_path": "systemprompts/clink/default.txt"},
        "planner": {"prompt_path": "systemprompts/clink/default_planner.txt"},
        "codereviewer": {"prompt_path": "systemprompts/clink/default_codereviewer.txt"},
    });
    for name in ["claude", "codex", "gemini"] {
        let file = json!({"name": name, "command": script, "parser": "text", "roles": roles});
        std::fs::write(conf.join(format!("{name}.json")), file.to_string()).unwrap();
    }
    conf.display().to_string()
}

/// What the generated values may point at: a directory with a file in it, and a thread.
struct Place {
    /// A directory inside the allowed roots.
    dir: String,
    /// A small text file in it.
    file: String,
    /// A 1x1 PNG in it, for `images` (by path: clink hands a CLI its images by path, and the
    /// other tools read data URLs too, which tools_dropin checks).
    image: String,
}

/// A valid value for one argument of the interface: by name where the name carries meaning
/// (paths, images, models, a thread), otherwise by type, at the schema's lower bound.
fn value_for(name: &str, schema: &Value, place: &Place, thread: &str) -> Value {
    match name {
        "continuation_id" => return json!(thread),
        "model" => return json!("simulated"),
        "images" => return json!([place.image]),
        "working_directory_absolute_path" | "path" => return json!(place.dir),
        "absolute_file_paths" | "relevant_files" | "files_checked" | "style_guide_examples" => {
            return json!([place.file]);
        }
        "models" => {
            return json!([
                {"model": "simulated", "stance": "for", "stance_prompt": "Argue for it, honestly."},
                {"model": "sim", "stance": "against"},
            ]);
        }
        "issues_found" => return json!([{"severity": "high", "description": "compat issue"}]),
        "model_responses" => return json!([{"model": "simulated", "verdict": "earlier view"}]),
        _ => {}
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    match schema["type"].as_str().unwrap_or_default() {
        "string" => json!(format!("compat check of {name}")),
        "integer" => json!(schema["minimum"].as_i64().unwrap_or(1)),
        "number" => json!(0.5),
        "boolean" => json!(true),
        "array" => json!([format!("compat item of {name}")]),
        other => panic!("{name}: the interface has a type this test does not know: {other}"),
    }
}

/// zen's property schema is the interface's: same type (zen may also allow null, which the
/// Python server's optional fields took too), same enum, same bounds, same item type.
fn check_property(tool: &str, name: &str, python: &Value, zen: &Value) {
    let at = format!("{tool}.{name}");
    let python_type = python["type"].as_str().unwrap();
    let zen_types: Vec<&str> = match &zen["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        other => panic!("{at}: zen's type is {other}"),
    };
    assert!(
        zen_types.contains(&python_type)
            && zen_types.iter().all(|t| *t == python_type || *t == "null"),
        "{at}: type {python_type} there, {zen_types:?} in zen"
    );
    if let Some(values) = python["enum"].as_array() {
        let zen_enum: Vec<&Value> = (zen["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{at}: no enum in zen"))
            .iter())
        .filter(|v| !v.is_null())
        .collect();
        assert_eq!(zen_enum, values.iter().collect::<Vec<_>>(), "{at}: enum");
    }
    for bound in ["minimum", "maximum"] {
        if let Some(b) = python[bound].as_f64() {
            assert_eq!(zen[bound].as_f64(), Some(b), "{at}: {bound}");
        }
    }
    if let Some(item) = python["items"].as_str() {
        assert_eq!(zen["items"]["type"], item, "{at}: item type");
    }
    for inner in python["item_properties"].as_array().into_iter().flatten() {
        let inner = inner.as_str().unwrap();
        assert!(
            zen["items"]["properties"][inner].is_object(),
            "{at}: items lack {inner}"
        );
    }
}

/// A chat thread to continue, fresh for each tool so no thread reaches its turn limit.
async fn new_thread(client: &Client) -> String {
    let r = call(client, "chat", json!({"prompt": "start a thread"})).await;
    assert!(!is_error(&r), "{}", text(&r));
    r.structured_content.unwrap()["continuation_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A call that must work: not an error, its structured reply fitting the output schema.
async fn must_work(
    client: &Client,
    tool: &str,
    args: &Value,
    schemas: &(Value, Value),
    what: &str,
) -> Value {
    let input = jsonschema::validator_for(&schemas.0).unwrap();
    let errors: Vec<String> = input.iter_errors(args).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{tool} {what}: zen's input schema refuses {args}: {errors:?}"
    );
    let r = call(client, tool, args.clone()).await;
    assert!(!is_error(&r), "{tool} {what}: {args}\n{}", text(&r));
    let structured = r
        .structured_content
        .unwrap_or_else(|| panic!("{tool} {what}: no structuredContent"));
    let output = jsonschema::validator_for(&schemas.1).unwrap();
    let errors: Vec<String> = output
        .iter_errors(&structured)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{tool} {what}: reply does not fit the outputSchema: {errors:?}\n{structured}"
    );
    assert!(
        structured["status"].is_string() && structured["content"].is_string(),
        "{tool} {what}: {structured}"
    );
    structured
}

#[tokio::test]
async fn every_tool_and_argument_of_zen_mcp_server_works_on_zen() {
    let interface: BTreeMap<String, Value> = serde_json::from_str(INTERFACE).unwrap();
    assert_eq!(interface.len(), 18, "the interface file lists 18 tools");
    let dir = tempfile::tempdir().unwrap();
    let clients = fake_clients(dir.path());
    let zen = stdio_zen(
        &[],
        &[
            ("ZEN_SIM_LATENCY_MS", "1"),
            ("CLI_CLIENTS_CONFIG_PATH", clients.as_str()),
        ],
    )
    .await;
    let file = dir.path().join("compat.rs");
    std::fs::write(&file, "fn compat() {}\n").unwrap();
    let image = dir.path().join("pixel.png");
    std::fs::write(&image, PIXEL).unwrap();
    let place = Place {
        image: image.to_str().unwrap().to_string(),
        dir: dir.path().to_str().unwrap().to_string(),
        file: file.to_str().unwrap().to_string(),
    };
    let listed = zen.client.list_all_tools().await.unwrap();
    let mut checked = Vec::new();
    for (tool, python) in &interface {
        let def = (listed.iter().find(|t| t.name == *tool))
            .unwrap_or_else(|| panic!("zen lacks zen-mcp-server's tool {tool}"));
        let input = Value::Object((*def.input_schema).clone());
        let output = Value::Object(
            (*def
                .output_schema
                .clone()
                .unwrap_or_else(|| panic!("{tool}: no outputSchema")))
            .clone(),
        );
        let schemas = (input.clone(), output);
        let python_props = python["properties"].as_object().unwrap();
        for (name, schema) in python_props {
            let zen_schema = &input["properties"][name];
            assert!(zen_schema.is_object(), "{tool} lacks argument {name}");
            check_property(tool, name, schema, zen_schema);
        }
        let python_required: Vec<&Value> = python["required"].as_array().unwrap().iter().collect();
        for name in input["required"].as_array().into_iter().flatten() {
            assert!(
                python_required.contains(&name),
                "{tool}: zen requires {name}, zen-mcp-server did not"
            );
        }

        let thread = new_thread(&zen.client).await;
        let every = |thread: &str| -> Map<String, Value> {
            (python_props.iter())
                .map(|(name, schema)| (name.clone(), value_for(name, schema, &place, thread)))
                .collect()
        };
        let mut all = every(&thread);
        if all.contains_key("next_step_required") {
            all.insert("next_step_required".into(), json!(true));
        }
        let first = must_work(
            &zen.client,
            tool,
            &Value::Object(all.clone()),
            &schemas,
            "with every argument",
        )
        .await;
        if all.contains_key("step_number") {
            // The final step with every argument: the model is asked (images, thinking mode,
            // temperature and all) on the thread step 1 started.
            let started = first["continuation_id"]
                .as_str()
                .unwrap_or(&thread)
                .to_string();
            let mut last = every(&started);
            last.insert("step_number".into(), json!(2));
            last.insert("next_step_required".into(), json!(false));
            must_work(
                &zen.client,
                tool,
                &Value::Object(last),
                &schemas,
                "final step with every argument",
            )
            .await;
        }
        let required: Map<String, Value> = (python_required.iter())
            .map(|name| {
                let name = name.as_str().unwrap();
                (
                    name.to_string(),
                    value_for(name, &python_props[name], &place, &thread),
                )
            })
            .collect();
        must_work(
            &zen.client,
            tool,
            &Value::Object(required.clone()),
            &schemas,
            "with only the required arguments",
        )
        .await;

        let mut unknown = required;
        unknown.insert("not_a_zen_mcp_server_argument".into(), json!(1));
        let r = call(&zen.client, tool, Value::Object(unknown)).await;
        assert!(is_error(&r), "{tool}: an unknown argument was accepted");
        assert!(
            text(&r).contains("not_a_zen_mcp_server_argument"),
            "{tool}: {}",
            text(&r)
        );
        checked.push(tool.as_str());
    }
    assert_eq!(checked.len(), 18, "checked {checked:?}");
}
