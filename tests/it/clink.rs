//! clink through the real binary against a fake CLI script the test writes: its output is
//! captured and kept in the thread, its time limit kills it and the processes it started, its
//! output cap holds, the clink pool holds with 10 calls at once, a cancelled call kills its CLI,
//! and the CLI sees only the environment it is given.
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{StdioZen, call, is_error, snapshot, stdio_zen, stdio_zen_with, text, wait_for};

/// The fake CLI: what it does is its first argument (part of the client's `command`).
const FAKE_CLI: &str = r#"#!/bin/sh
dir="$(dirname "$0")"
case "$1" in
  echo) cat ;;
  gemini) cat > /dev/null; printf '{"response": "gemini says hi", "stats": {"models": {"gemini-test": {}}}}' ;;
  sleep) cat > /dev/null; sleep 600 & echo $! > "$dir/child.pid.tmp"; echo $$ >> "$dir/child.pid.tmp"
         mv "$dir/child.pid.tmp" "$dir/child.pid"; wait ;;
  flood) yes 'more output than anyone wants' ;;
  count) cat > /dev/null; mkdir "$dir/running.$$"; ls -d "$dir"/running.* | wc -l >> "$dir/peaks"
         sleep 0.3; rmdir "$dir/running.$$"; echo counted ;;
  fail) echo 'Error: 401 unauthorized' >&2; exit 4 ;;
esac
"#;

/// A directory with the fake CLI and a client file per behaviour; returns (dir, script path).
fn clients(extra: &[Value]) -> (tempfile::TempDir, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("fake-cli");
    std::fs::write(&script, FAKE_CLI).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let conf = dir.path().join("clients");
    std::fs::create_dir(&conf).unwrap();
    let command = |mode: &str| format!("'{}' {mode}", script.display());
    let mut files = vec![
        // A role named as zen-mcp-server's files name them finds zen's own prompt.
        json!({"name": "fake", "command": command("echo"), "parser": "text",
               "roles": {"planner": {"prompt_path": "systemprompts/clink/default_planner.txt"}}}),
        json!({"name": "gemini", "command": command("gemini")}),
        json!({"name": "slow", "command": command("sleep"), "timeout_seconds": 1}),
        json!({"name": "forever", "command": command("sleep")}),
        json!({"name": "flood", "command": command("flood")}),
        json!({"name": "counter", "command": command("count")}),
        json!({"name": "broken", "command": command("fail"), "max_retries": 0}),
    ];
    files.extend_from_slice(extra);
    for file in files {
        let name = file["name"].as_str().unwrap().to_string();
        std::fs::write(conf.join(format!("{name}.json")), file.to_string()).unwrap();
    }
    (dir, script)
}

async fn zen_with_clients(dir: &Path, env: &[(&str, &str)]) -> StdioZen {
    let conf = dir.join("clients").display().to_string();
    let mut all = vec![("CLI_CLIENTS_CONFIG_PATH", conf.as_str())];
    all.extend_from_slice(env);
    stdio_zen(&[], &all).await
}

async fn clink(zen: &StdioZen, args: Value) -> (bool, String, Option<Value>) {
    let result = call(&zen.client, "clink", args).await;
    (is_error(&result), text(&result), result.structured_content)
}

/// Whether process `pid` still runs (a zombie does not).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        (stat.rsplit(')').next()).is_some_and(|s| !s.trim_start().starts_with('Z'))
    })
}

async fn pids_written(dir: &Path) -> Vec<u32> {
    let file = dir.join("child.pid");
    wait_for("the fake CLI's pids", Duration::from_secs(20), async || {
        file.exists()
    })
    .await;
    (std::fs::read_to_string(&file).unwrap().lines())
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

async fn all_gone(pids: &[u32]) {
    wait_for(
        "the CLI and its child to be gone",
        Duration::from_secs(20),
        async || !pids.iter().any(|p| alive(*p)),
    )
    .await;
}

#[tokio::test]
async fn the_clis_output_is_the_answer_and_the_exchange_continues_in_the_thread() {
    let (dir, _) = clients(&[]);
    let zen = zen_with_clients(dir.path(), &[]).await;
    let (failed, answer, structured) = clink(
        &zen,
        json!({"prompt": "say the magic word", "cli_name": "fake", "role": "planner"}),
    )
    .await;
    assert!(!failed, "{answer}");
    // The echo CLI answers with the prompt it was given: role prompt, request, closing line.
    assert!(answer.contains("planning sub-agent"), "{answer}");
    assert!(
        answer.contains("=== USER REQUEST ===\nsay the magic word"),
        "{answer}"
    );
    let structured = structured.expect("structured content");
    assert_eq!(structured["metadata"]["cli_name"], "fake");
    assert_eq!(structured["metadata"]["return_code"], 0);
    let id = structured["continuation_id"].as_str().unwrap().to_string();
    // The thread holds the exchange: the next clink call sees it, and chat can continue it.
    let (failed, again, _) = clink(
        &zen,
        json!({"prompt": "and now?", "cli_name": "fake", "continuation_id": id}),
    )
    .await;
    assert!(!failed, "{again}");
    assert!(
        again.contains("=== CONVERSATION SO FAR ===") && again.contains("say the magic word"),
        "{again}"
    );
    let chat = call(
        &zen.client,
        "chat",
        json!({"prompt": "summarise", "continuation_id": id}),
    )
    .await;
    assert!(!is_error(&chat), "{}", text(&chat));
    // A CLI's own output format is read: the gemini client's JSON gives its response.
    let (failed, answer, structured) =
        clink(&zen, json!({"prompt": "hi", "cli_name": "gemini"})).await;
    assert!(!failed && answer.starts_with("gemini says hi"), "{answer}");
    assert_eq!(structured.unwrap()["metadata"]["model_used"], "gemini-test");
    // A failing CLI: its exit status and stderr, and zen keeps serving.
    let (failed, error, _) = clink(&zen, json!({"prompt": "hi", "cli_name": "broken"})).await;
    assert!(
        failed && error.contains("exited with status 4") && error.contains("401"),
        "{error}"
    );
    let (failed, error, _) = clink(&zen, json!({"prompt": "hi", "cli_name": "nosuch"})).await;
    assert!(
        failed && error.contains("no CLI 'nosuch'") && error.contains("fake"),
        "{error}"
    );
}

#[tokio::test]
async fn the_time_limit_kills_the_cli_and_the_processes_it_started() {
    let (dir, _) = clients(&[]);
    let zen = zen_with_clients(dir.path(), &[]).await;
    let (failed, error, _) = clink(&zen, json!({"prompt": "wait", "cli_name": "slow"})).await;
    assert!(failed, "{error}");
    assert!(error.contains("did not finish within 1s"), "{error}");
    let pids = pids_written(dir.path()).await;
    assert_eq!(pids.len(), 2, "the CLI and its child");
    all_gone(&pids).await;
    let snap = snapshot(&zen.client).await;
    assert_eq!(
        snap["tools"]["clink"]["errors"]["timeout"], 1,
        "{}",
        snap["tools"]["clink"]
    );
}

/// The clink pool's figures in a snapshot.
fn clink_pool(snap: &Value) -> Value {
    (snap["pools"].as_array().unwrap().iter())
        .find(|p| p["name"] == "clink")
        .cloned()
        .unwrap_or_else(|| panic!("no clink pool: {}", snap["pools"]))
}

#[tokio::test]
async fn a_cancelled_call_kills_its_cli_and_frees_its_pool_slot() {
    let (dir, _) = clients(&[]);
    let zen = zen_with_clients(dir.path(), &[]).await;
    let args = json!({"prompt": "wait", "cli_name": "forever"});
    let pids = tokio::select! {
        _ = call(&zen.client, "clink", args) => panic!("the CLI sleeps for ten minutes"),
        pids = pids_written(dir.path()) => pids,
    };
    // The select dropped the call: rmcp sent notifications/cancelled and zen dropped it.
    all_gone(&pids).await;
    wait_for("the clink slot back", Duration::from_secs(20), async || {
        clink_pool(&snapshot(&zen.client).await)["in_use"] == 0
    })
    .await;
}

#[tokio::test]
async fn the_output_cap_holds_and_zen_keeps_serving() {
    let (dir, _) = clients(&[]);
    let zen = zen_with_clients(dir.path(), &[("ZEN_CLINK_MAX_OUTPUT_BYTES", "65536")]).await;
    let (failed, error, _) = clink(&zen, json!({"prompt": "talk", "cli_name": "flood"})).await;
    assert!(failed, "{error}");
    assert!(
        error.contains("printed more than 64 KiB on stdout (ZEN_CLINK_MAX_OUTPUT_BYTES)"),
        "{error}"
    );
    let (failed, answer, _) =
        clink(&zen, json!({"prompt": "still there?", "cli_name": "fake"})).await;
    assert!(!failed && answer.contains("still there?"), "{answer}");
}

#[tokio::test]
async fn ten_calls_at_once_never_run_more_clis_than_the_clink_pool_allows() {
    let (dir, _) = clients(&[]);
    let zen = zen_with_clients(dir.path(), &[("ZEN_PROVIDER_LIMITS", "clink=2")]).await;
    let calls = (0..10).map(|i| {
        clink(
            &zen,
            json!({"prompt": format!("call {i}"), "cli_name": "counter"}),
        )
    });
    for (failed, answer, _) in futures::future::join_all(calls).await {
        assert!(!failed && answer.starts_with("counted"), "{answer}");
    }
    // Each run wrote how many runs there were, itself included, when it started.
    let peaks: Vec<u32> = (std::fs::read_to_string(dir.path().join("peaks"))
        .unwrap()
        .lines())
    .map(|l| l.trim().parse().unwrap())
    .collect();
    assert_eq!(peaks.len(), 10, "{peaks:?}");
    assert!(
        peaks.iter().all(|n| *n <= 2),
        "more than 2 CLIs at once: {peaks:?}"
    );
    let pool = clink_pool(&snapshot(&zen.client).await);
    assert_eq!(pool["limit"], 2, "{pool}");
    assert_eq!(pool["peak_in_use"], 2, "ten calls filled the pool: {pool}");
    assert_eq!(pool["in_use"], 0, "{pool}");
}

#[tokio::test]
async fn the_cli_sees_only_the_environment_it_is_given() {
    let (dir, _) = clients(&[json!({
        "name": "printenv", "command": "env", "parser": "text",
        "env": {"GIVEN_BY_FILE": "yes"}, "pass_env": ["PASSED_BY_NAME"],
    })]);
    let conf = dir.path().join("clients").display().to_string();
    let zen = stdio_zen_with(&[], &[("CLI_CLIENTS_CONFIG_PATH", conf.as_str())], |cmd| {
        cmd.env("ZEN_TEST_SECRET", "hunter2")
            .env("OPENAI_API_KEY", "sk-never-shown")
            .env("PASSED_BY_NAME", "passed");
    })
    .await;
    let (failed, listing, _) = clink(
        &zen,
        json!({"prompt": "env please", "cli_name": "printenv"}),
    )
    .await;
    assert!(!failed, "{listing}");
    let listing = listing.split("\n\n---\n").next().unwrap();
    let names: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .collect();
    assert!(
        listing.contains("GIVEN_BY_FILE=yes") && listing.contains("PASSED_BY_NAME=passed"),
        "{listing}"
    );
    assert!(names.contains(&"PATH"), "{names:?}");
    let allowed = [
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "TMPDIR",
        "TZ",
        "GIVEN_BY_FILE",
        "PASSED_BY_NAME",
    ];
    for name in &names {
        assert!(allowed.contains(name), "the CLI saw {name}: {listing}");
    }
    assert!(
        !listing.contains("hunter2") && !listing.contains("sk-never-shown"),
        "{listing}"
    );
}
