//! `zen top` end to end: attached to a real zen serve over HTTP and driven in a tmux pane (the
//! tmux tests fail when tmux is missing unless ZEN_SKIP_TMUX_TESTS=1 says to skip), plus the
//! errors it gives without a terminal or without a server.
use std::process::{Command as StdCommand, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::json;

use crate::util::{call, http_client, http_zen, is_error, text, zen_bin, zen_command, zen_output};

/// A private tmux server (its own socket, no user config) running one command in one pane.
pub(crate) struct Tmux {
    socket: String,
}

impl Tmux {
    /// True when tmux is here. Without it the test fails, saying how to install it, unless
    /// ZEN_SKIP_TMUX_TESTS=1 asks to skip (then it prints "skipped"): CI installs tmux, so a
    /// missing tmux there is a failure, never a silent pass.
    pub(crate) fn available() -> bool {
        let found = StdCommand::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            assert!(
                std::env::var_os("ZEN_SKIP_TMUX_TESTS").is_some(),
                "tmux is not installed: the zen top terminal tests need it (apt-get install -y tmux), \
                 or set ZEN_SKIP_TMUX_TESTS=1 to skip them"
            );
            eprintln!("skipped: tmux not installed and ZEN_SKIP_TMUX_TESTS is set");
        }
        found
    }

    pub(crate) fn start(command: &str, width: u16, height: u16) -> Tmux {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let socket = format!(
            "zen-top-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let tmux = Tmux { socket };
        let (w, h) = (width.to_string(), height.to_string());
        tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "top",
            "-x",
            &w,
            "-y",
            &h,
            command,
        ]);
        tmux
    }

    pub(crate) fn run(&self, args: &[&str]) -> String {
        let out = StdCommand::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub(crate) fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "top"])
    }

    /// 1 while the pane shows the alternate screen.
    fn alternate_on(&self) -> bool {
        self.run(&["display-message", "-p", "-t", "top", "#{alternate_on}"])
            .trim()
            == "1"
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "top"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Poll the pane until `done` holds; panic with the last screen after `limit`.
    pub(crate) async fn wait_for(
        &self,
        what: &str,
        limit: Duration,
        done: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = StdCommand::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// `zen top ARGS`, then, once it exits, its status and whether the terminal is canonical again
/// (raw mode off); the pane then stays open for inspection.
pub(crate) fn top_command(args: &str) -> String {
    format!(
        "'{}' top {args}; echo \"zen-top-exit=$?\"; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon; sleep 600",
        zen_bin()
    )
}

/// The pane after zen top ended: exit 0, the normal screen back, raw mode off.
async fn assert_exited_and_restored(tmux: &Tmux) {
    // The shell prints the exit status, then `icanon` (or `-icanon` if raw mode stayed on).
    let mode = |s: &str| {
        s.lines()
            .map(str::trim)
            .find(|l| *l == "icanon" || *l == "-icanon")
            .map(str::to_string)
    };
    let screen = tmux
        .wait_for("zen top to exit", Duration::from_secs(15), |s| {
            s.contains("zen-top-exit=") && mode(s).is_some()
        })
        .await;
    assert!(
        screen.contains("zen-top-exit=0"),
        "zen top failed:\n{screen}"
    );
    assert!(
        !tmux.alternate_on(),
        "still on the alternate screen:\n{screen}"
    );
    assert!(
        !screen.contains("Throughput"),
        "the dashboard is still on screen:\n{screen}"
    );
    assert_eq!(
        mode(&screen).as_deref(),
        Some("icanon"),
        "terminal left in raw mode:\n{screen}"
    );
}

#[tokio::test]
async fn top_draws_a_live_server_in_tmux_follows_a_resize_and_quits_on_q() {
    if !Tmux::available() {
        return;
    }
    let zen = http_zen(&[], &[("ZEN_SIM_LATENCY_MS", "5")]).await;
    let telemetry = zen.telemetry.clone().expect("telemetry url in the log");
    let client = http_client(&zen.url).await;
    let reply = call(&client, "chat", json!({"prompt": "hello top"})).await;
    assert!(!is_error(&reply), "{}", text(&reply));

    let tmux = Tmux::start(
        &top_command(&format!("--url {telemetry} --interval 250ms")),
        160,
        48,
    );
    let screen = tmux
        .wait_for(
            "the dashboard with the call",
            Duration::from_secs(30),
            |s| {
                s.contains("Throughput")
                    && s.contains("● connected")
                    && s.lines().any(|l| l.contains("│chat ") && l.contains(" 1 "))
            },
        )
        .await;
    assert!(
        tmux.alternate_on(),
        "the dashboard draws on the alternate screen:\n{screen}"
    );
    assert!(
        screen.contains("Pools") && screen.contains("Memory") && screen.contains("Latency"),
        "{screen}"
    );

    // Smaller terminal: redrawn to fit.
    tmux.run(&["resize-window", "-t", "top", "-x", "80", "-y", "24"]);
    tmux.wait_for("a redraw at 80 columns", Duration::from_secs(15), |s| {
        s.lines()
            .any(|l| l.starts_with("┌ Memory") && l.chars().count() == 80)
    })
    .await;

    // The help overlay opens and closes, then q quits.
    tmux.keys(&["?"]);
    tmux.wait_for("the help overlay", Duration::from_secs(10), |s| {
        s.contains("Help · zen top")
    })
    .await;
    tmux.keys(&["Escape"]);
    tmux.wait_for("the help to close", Duration::from_secs(10), |s| {
        !s.contains("Help · zen top")
    })
    .await;
    tmux.keys(&["q"]);
    assert_exited_and_restored(&tmux).await;
}

#[tokio::test]
async fn top_shows_a_lost_server_reconnects_when_it_is_back_and_quits_on_ctrl_c() {
    if !Tmux::available() {
        return;
    }
    // A fixed telemetry port, so the restarted server is found at the same address.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let telemetry_arg = format!("127.0.0.1:{port}");
    let mut zen = http_zen(&["--telemetry", &telemetry_arg], &[]).await;
    let tmux = Tmux::start(
        &top_command(&format!("--url http://127.0.0.1:{port} --interval 250ms")),
        120,
        40,
    );
    tmux.wait_for("connected", Duration::from_secs(30), |s| {
        s.contains("● connected")
    })
    .await;

    zen.child.kill().await.unwrap();
    tmux.wait_for("the disconnected state", Duration::from_secs(15), |s| {
        s.contains("disconnected, retrying")
    })
    .await;
    let _back = http_zen(&["--telemetry", &telemetry_arg], &[]).await;
    tmux.wait_for("the reconnection", Duration::from_secs(15), |s| {
        s.contains("● connected")
    })
    .await;

    tmux.keys(&["C-c"]);
    assert_exited_and_restored(&tmux).await;
}

#[tokio::test]
async fn top_without_a_server_names_the_directory_and_suggests_url() {
    let dir = tempfile::tempdir().unwrap();
    let out = zen_command(&["top"], &[], dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no running zen serve found in")
            && stderr.contains(&dir.path().join("run").display().to_string()),
        "{stderr}"
    );
    assert!(stderr.contains("--url"), "{stderr}");
}

#[tokio::test]
async fn top_refuses_to_draw_when_stdout_is_not_a_terminal() {
    let (code, stdout, stderr) = zen_output(&["top", "--url", "http://127.0.0.1:9"], &[]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("needs a terminal"), "{stderr}");
    assert!(stdout.is_empty(), "nothing drawn on a pipe");
    let (code, _, stderr) = zen_output(&["top", "--interval", "100ms"], &[]).await;
    assert_eq!(code, 2);
    assert!(stderr.contains("250ms minimum"), "{stderr}");
}

#[tokio::test]
async fn stress_tui_shows_a_third_party_run_and_q_stops_it_as_incomplete() {
    if !Tmux::available() {
        return;
    }
    let command = format!(
        "'{}' stress --stdio '{}' --tool echo --args '{{\"message\":\"hi\"}}' -c 4 -d 60s --tui; echo \"zen-top-exit=$?\"; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon; sleep 600",
        zen_bin(),
        crate::util::echo_server()
    );
    let tmux = Tmux::start(&command, 160, 48);
    // A server that is not zen is drawn from the client's side: its name, the run line, calls.
    tmux.wait_for("the run on the dashboard", Duration::from_secs(20), |s| {
        s.contains("zen stress")
            && s.contains("echo-server")
            && s.contains("run ")
            && s.contains("echo")
    })
    .await;
    tmux.keys(&["q"]);
    let screen = tmux
        .wait_for("the partial report", Duration::from_secs(20), |s| {
            s.contains("zen-top-exit=")
        })
        .await;
    // A run stopped early is never a pass: the verdict says incomplete and the exit code is 2.
    assert!(screen.contains("stopped early (q or Ctrl-C)"), "{screen}");
    assert!(screen.contains("verdict    INCOMPLETE"), "{screen}");
    assert!(screen.contains("zen-top-exit=2"), "{screen}");
    assert!(
        !tmux.alternate_on(),
        "still on the alternate screen:\n{screen}"
    );
}

#[tokio::test]
async fn top_shows_two_instances_on_one_redis_each_on_its_line_with_the_cluster_totals() {
    if !Tmux::available() {
        return;
    }
    if !crate::redis_util::available() {
        return;
    }
    let redis = crate::redis_util::RedisServer::start().await;
    let url = redis.url();
    let env = [
        ("ZEN_STORE", url.as_str()),
        ("ZEN_SHARED_LIMITS", url.as_str()),
        ("ZEN_SIM_LATENCY_MS", "5"),
    ];
    let (a, b) = (http_zen(&[], &env).await, http_zen(&[], &env).await);
    for zen in [&a, &b] {
        let reply = call(
            &http_client(&zen.url).await,
            "chat",
            json!({"prompt": "hi"}),
        )
        .await;
        assert!(!is_error(&reply), "{}", text(&reply));
    }
    let (ta, tb) = (a.telemetry.clone().unwrap(), b.telemetry.clone().unwrap());
    let tmux = Tmux::start(
        &top_command(&format!("--url {ta} --url {tb} --interval 250ms")),
        160,
        48,
    );
    let screen = tmux
        .wait_for(
            "both instances and the totals",
            Duration::from_secs(30),
            |s| {
                // The shared store's totals are read back after the first snapshot.
                s.contains("Σ cluster 2/2 up")
                    && s.contains("2 calls")
                    && s.contains("leases simulated")
                    && s.contains("store 2 threads")
                    // The cluster line can come before the selected instance's first snapshot
                    // (the header's limits line): wait for both, not for the first.
                    && s.contains("limits redis shared")
            },
        )
        .await;
    assert!(screen.contains(&format!("▸1 {ta}")), "{screen}");
    assert!(screen.contains(&format!(" 2 {tb}")), "{screen}");
    assert!(screen.contains("limits redis shared"), "{screen}");
    tmux.keys(&["q"]);
    assert_exited_and_restored(&tmux).await;
}
