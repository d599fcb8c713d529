//! Issue 30: messages a newcomer meets in the first hour point at the fix (the URL and the
//! variable to change, the setting to use), asserted on the text the user sees.
use std::time::Duration;

use serde_json::json;

use crate::util::{call, is_error, stdio_zen, text, wait_for, zen_output};

/// A 127.0.0.1 port nothing listens on (bound, then released).
fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_dead_provider_url_is_named_with_its_variable_on_the_first_call_and_while_open() {
    let base = format!("http://127.0.0.1:{}/v1", dead_port());
    // The default breaker of `custom` opens after 2 failures: the first call's own retries open
    // it, and that call must still say what failed, not "retry later".
    let env = [
        ("CUSTOM_API_URL", base.as_str()),
        ("ZEN_RETRY_BACKOFF", "10ms"),
    ];
    let zen = stdio_zen(&[], &env).await;
    let chat = json!({"prompt": "hi", "model": "local"});
    let first = call(&zen.client, "chat", chat.clone()).await;
    let first = (is_error(&first), text(&first));
    assert!(first.0, "{}", first.1);
    assert!(
        first
            .1
            .contains(&format!("cannot connect to {base} (CUSTOM_API_URL)")),
        "the first call: {}",
        first.1
    );
    assert!(!first.1.contains("circuit breaker"), "{}", first.1);
    // The breaker is open now: the refusal still names the URL and the variable.
    let refused = call(&zen.client, "chat", chat).await;
    let refused = text(&refused);
    assert!(
        refused.contains("circuit breaker is open")
            && refused.contains(&format!("cannot connect to {base} (CUSTOM_API_URL)")),
        "while open: {refused}"
    );
}

#[tokio::test]
async fn a_default_model_zen_cannot_serve_starts_and_explains_on_each_call_and_in_listmodels() {
    // No OpenAI key: gpt-5 cannot be served. zen used to exit 2 at start, which Claude Desktop
    // shows only in a log.
    let env = [("DEFAULT_MODEL", "gpt-5"), ("MISTRAL_API_KEY", "m-1")];
    let zen = stdio_zen(&[], &env).await;
    for _ in 0..2 {
        let reply = call(&zen.client, "chat", json!({"prompt": "hi"})).await;
        let message = text(&reply);
        assert!(is_error(&reply), "{message}");
        assert!(
            message.contains("This call names no model, and DEFAULT_MODEL=gpt-5 cannot be served")
                && message.contains("OPENAI_API_KEY (openai)")
                && message.contains("set DEFAULT_MODEL to one of those models (or auto)"),
            "{message}"
        );
    }
    // A call that names a model works meanwhile.
    let named = call(
        &zen.client,
        "chat",
        json!({"prompt": "hi", "model": "simulated"}),
    )
    .await;
    assert!(!is_error(&named), "{}", text(&named));
    let listed = call(&zen.client, "listmodels", json!({})).await;
    let structured = listed.structured_content.clone().unwrap_or_default();
    let problem = structured["default_model_problem"]
        .as_str()
        .unwrap_or_default();
    assert!(
        problem.starts_with("DEFAULT_MODEL=gpt-5 cannot be served"),
        "listmodels: {}",
        text(&listed)
    );
    // Said at start too, with the key of a provider zen lacks.
    wait_for("the start warnings", Duration::from_secs(10), async || {
        let log = zen.stderr.text();
        log.contains("DEFAULT_MODEL=gpt-5 cannot be served")
            && log.contains("MISTRAL_API_KEY is set but zen has no Mistral provider")
    })
    .await;
}

#[tokio::test]
async fn a_port_in_use_says_how_to_pick_another() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let (code, _, stderr) = zen_output(&["serve", "--http", &addr], &[]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("port {port} is already in use"))
            && stderr.contains("Pick another port with --http 127.0.0.1:PORT (or ZEN_HTTP)")
            && stderr.contains("port 0 for any free one"),
        "{stderr}"
    );
    let (code, _, stderr) = zen_output(&["serve", "--telemetry", &addr], &[]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--telemetry 127.0.0.1:PORT (or ZEN_TELEMETRY)"),
        "{stderr}"
    );
    drop(taken);
}

/// The shell commands of a README section's first ```sh block, comments removed.
fn readme_commands(section: &str) -> Vec<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find(&format!("\n## {section}\n"))
        .unwrap_or_else(|| panic!("README has a {section} section"));
    let body = &readme[start..];
    let block = body.split("```sh\n").nth(1).expect("a ```sh block");
    let block = block.split("```").next().unwrap();
    block
        .lines()
        .map(|line| line.split(" #").next().unwrap().trim().to_string())
        .filter(|line| !line.is_empty())
        .collect()
}

#[tokio::test]
async fn the_readme_install_commands_work_verbatim_in_a_fresh_home() {
    let commands = readme_commands("Install");
    assert!(commands[0].starts_with("cargo install"), "{commands:?}");
    let home = tempfile::tempdir().unwrap();
    // `cargo install` is the build this test binary already did: the built zen stands in for
    // ~/.cargo/bin/zen, first on PATH; every other line runs as written.
    let bin = std::path::Path::new(crate::util::zen_bin())
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let has_man = std::process::Command::new("man")
        .arg("-w")
        .arg("man")
        .output()
        .is_ok();
    for command in &commands[1..] {
        if command.starts_with("man ") && !has_man {
            eprintln!("skipped (no man here): {command}");
            continue;
        }
        let out = tokio::process::Command::new("bash")
            .args(["-euo", "pipefail", "-c", command])
            .env("HOME", home.path())
            .env("PATH", &path)
            .env("MANPAGER", "cat")
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "`{command}` failed in a fresh HOME: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let share = home.path().join(".local/share");
    let completion =
        std::fs::read_to_string(share.join("bash-completion/completions/zen")).unwrap();
    assert!(completion.contains("_zen()"), "a bash completion script");
    let page = std::fs::read_to_string(share.join("man/man1/zen.1")).unwrap();
    assert!(
        page.contains(".SH \"ZEN SERVE\""),
        "the page documents serve"
    );
    // No references to pages that do not exist: each subcommand is a section of this page.
    assert!(
        !page.contains("zen-serve(1)") && !page.contains("zen-stress(1)"),
        "the man page names separate pages that do not exist"
    );
}

#[test]
fn the_readme_names_one_binary_path_and_what_the_tests_need() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        !readme.contains("target/release/zen"),
        "one binary path: the installed ~/.cargo/bin/zen"
    );
    let setup = readme.split("\n## Set-up\n").nth(1).unwrap();
    let setup = setup.split("\n## ").next().unwrap();
    let setup = setup.split_whitespace().collect::<Vec<_>>().join(" ");
    for needed in [
        "redis-server",
        "tmux",
        "prometheus",
        "chromium",
        "GB of disk",
        "GB of memory",
    ] {
        assert!(setup.contains(needed), "Set-up names {needed}");
    }
}

#[tokio::test]
async fn soak_out_is_the_json_report_and_a_series_name_there_points_at_series() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("soak.csv");
    let (code, _, stderr) =
        zen_output(&["soak", "-d", "10s", "--out", csv.to_str().unwrap()], &[]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--out writes the JSON report, as on every command (name it .json)")
            && stderr.contains("time series goes to --series FILE"),
        "{stderr}"
    );
    assert!(!csv.exists(), "nothing written");
}
