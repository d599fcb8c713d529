//! Issue 28: `zen stress` loads a server that wants credentials. Against a Python SDK server
//! (`tests/python/reach_server.py`) that requires a bearer token, over HTTP and HTTPS: the right
//! token runs, none (or a wrong one) ends the run before load with exit 2, the status and the
//! server's `WWW-Authenticate` challenge, and the token shows up in no output, report or log
//! line. HTTPS trusts a self-signed server with `--cacert`, or with `--insecure`.
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::{Child, Command};

use crate::interop::{Tools, free_port, repo_file, tools};
use crate::util::zen_output;

/// The token the test server wants; long and unusual, so a leak cannot hide.
const TOKEN: &str = "zen-reach-secret-7f3a9c1e5b2d4068";

/// A running `reach_server.py`, killed on drop.
pub(crate) struct ReachServer {
    /// The server process.
    _child: Child,
    /// Its MCP endpoint (`…/mcp`, or `…/sse` for the legacy transport).
    pub url: String,
    /// Its scratch directory (the certificate under TLS).
    pub dir: tempfile::TempDir,
}

impl ReachServer {
    /// Start it with `args` (besides `--port`) and the token in its environment, and wait
    /// until it accepts connections (and has written its certificate, under `--tls`).
    pub(crate) async fn start(tools: &Tools, args: &[&str]) -> ReachServer {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(&tools.python);
        cmd.arg(repo_file("tests/python/reach_server.py"))
            .args(["--port", &port.to_string()])
            .args(args.iter().filter(|a| **a != "--tls"))
            .env("REACH_TOKEN", TOKEN)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        let tls = args.contains(&"--tls");
        if tls {
            cmd.arg("--tls").arg(dir.path());
        }
        let child = cmd.spawn().expect("start reach_server.py");
        listening("reach_server.py", port).await;
        let scheme = if tls { "https" } else { "http" };
        let path = if args.contains(&"sse") { "sse" } else { "mcp" };
        ReachServer {
            _child: child,
            url: format!("{scheme}://127.0.0.1:{port}/{path}"),
            dir,
        }
    }

    /// The self-signed certificate it serves under `--tls`.
    pub(crate) fn cert(&self) -> String {
        self.dir.path().join("cert.pem").display().to_string()
    }
}

/// Wait until something accepts connections on `port` (a server the test started).
pub(crate) async fn listening(what: &str, port: u16) {
    let probe = async || {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
    };
    crate::util::wait_for(&format!("{what} to listen"), Duration::from_secs(60), probe).await;
}

fn report(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// `zen stress` with `extra` flags against `url`, the token in `MCP_TOKEN`; logs at debug, a
/// JSON report on stdout and in a file. Returns (exit code, stdout, stderr, report file text).
async fn stress(url: &str, extra: &[&str]) -> (i32, String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.json");
    let file_arg = file.display().to_string();
    let mut args = vec![
        "stress",
        "--url",
        url,
        "--tool",
        "echo",
        "--args",
        r#"{"message":"hi"}"#,
        "-c",
        "2",
        "-n",
        "20",
        "--json",
        "--log-level",
        "debug",
        "--out",
        &file_arg,
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = zen_output(&args, &[("MCP_TOKEN", TOKEN)]).await;
    let written = std::fs::read_to_string(&file).unwrap_or_default();
    (code, out, err, written)
}

fn assert_no_token(texts: &[&str]) {
    for text in texts {
        assert!(!text.contains(TOKEN), "the token leaked:\n{text}");
        assert!(
            !text.contains(&TOKEN[10..]),
            "part of the token leaked:\n{text}"
        );
    }
}

#[tokio::test]
async fn a_bearer_protected_server_runs_with_the_token_and_refuses_before_load_without_it() {
    let Some(tools) = tools() else { return };
    let server = ReachServer::start(&tools, &["--token-env", "REACH_TOKEN"]).await;
    let bearer = ["--bearer-token-env", "MCP_TOKEN"];
    let (code, out, err, file) = stress(&server.url, &bearer).await;
    assert_eq!(code, 0, "{err}\n{out}");
    let r = report(&out);
    assert_eq!(r["calls"]["ok"], 20, "{r}");
    assert_eq!(r["target"]["headers"], serde_json::json!(["authorization"]));
    assert_no_token(&[&out, &err, &file]);

    // The same credential as a plain header works too (and is never echoed either).
    let header = format!("Authorization: Bearer {TOKEN}");
    let (code, out, err, file) = stress(&server.url, &["-H", &header]).await;
    assert_eq!(code, 0, "{err}");
    assert_no_token(&[&out, &err, &file]);

    // No token: 401 and the challenge, before any load; exit 2 and no report.
    let (code, out, err, file) = stress(&server.url, &[]).await;
    assert_eq!(code, 2, "{err}\n{out}");
    assert!(err.contains("HTTP 401"), "{err}");
    assert!(
        err.contains(r#"WWW-Authenticate: Bearer realm="reach-test""#),
        "{err}"
    );
    assert!(err.contains("--bearer-token-env"), "says what to do: {err}");
    assert!(out.is_empty() && file.is_empty(), "no load ran: {out}");

    // A wrong token: 403 with the server's reason.
    let (code, out, err, _) = stress(&server.url, &["-H", "Authorization: Bearer nope"]).await;
    assert_eq!(code, 2, "{err}\n{out}");
    assert!(
        err.contains("HTTP 403") && err.contains("insufficient_scope"),
        "{err}"
    );
    assert_no_token(&[&out, &err]);

    // A variable that is not set is a setup error naming it.
    let (code, _, err, _) = stress(&server.url, &["--bearer-token-env", "NOT_SET_HERE"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("NOT_SET_HERE is not set"), "{err}");
}

#[tokio::test]
async fn https_trusts_a_self_signed_server_with_cacert_or_insecure_and_refuses_it_otherwise() {
    let Some(tools) = tools() else { return };
    let server = ReachServer::start(&tools, &["--token-env", "REACH_TOKEN", "--tls"]).await;
    let cert = server.cert();
    assert!(Path::new(&cert).exists());
    let bearer = ["--bearer-token-env", "MCP_TOKEN"];
    for extra in [vec!["--cacert", cert.as_str()], vec!["--insecure"]] {
        let args = [&bearer[..], &extra[..]].concat();
        let (code, out, err, file) = stress(&server.url, &args).await;
        assert_eq!(code, 0, "{extra:?}: {err}\n{out}");
        assert_eq!(report(&out)["calls"]["ok"], 20);
        assert_no_token(&[&out, &err, &file]);
    }
    // Without either, the certificate is not trusted: a setup error that says so.
    let (code, out, err, _) = stress(&server.url, &bearer).await;
    assert_eq!(code, 2, "{err}\n{out}");
    assert!(
        err.to_lowercase().contains("certificate"),
        "names the certificate: {err}"
    );
    assert_no_token(&[&out, &err]);
    // Credentials make no sense for a process zen spawns itself.
    let (code, _, err) = zen_output(&["stress", "-H", "X-Api-Key: k", "-n", "1"], &[]).await;
    assert_eq!(code, 2);
    assert!(err.contains("--url"), "{err}");
}

#[tokio::test]
async fn a_malformed_header_is_named_but_its_value_never_shown() {
    // A colon forgotten: the error names the header by position and name, not the secret.
    let url = "http://127.0.0.1:9/mcp";
    let args = [
        "stress",
        "--url",
        url,
        "-H",
        "X-Api-Key: k",
        "-H",
        "X-Api-Key s3cret-9d2f",
    ];
    let (code, out, err) = zen_output(&args, &[]).await;
    assert_eq!(code, 2, "{err}\n{out}");
    assert!(
        err.contains("-H #2 (X-Api-Key …) is not 'Name: value'"),
        "{err}"
    );
    assert!(
        !err.contains("s3cret") && !out.contains("s3cret"),
        "{err}\n{out}"
    );
    // A lone word may be the token itself: not even it is repeated.
    let (code, _, err) = zen_output(&["stress", "--url", url, "-H", "s3cret-9d2f"], &[]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("-H #1 is not") && !err.contains("s3cret"),
        "{err}"
    );
}
