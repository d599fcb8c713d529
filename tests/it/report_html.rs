//! The HTML report of a real run, opened in a real headless Chromium (Debian's `chromium`,
//! installed by .ci/run): every chart is in the rendered page, nothing is fetched, the console
//! stays clean, and a screenshot is taken. Fails when chromium is missing unless
//! ZEN_SKIP_CHROMIUM_TESTS=1 says to skip.
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::report::stress_run;
use crate::util::zen_output;

const CHROMIUM: &str = "/usr/bin/chromium";

/// True when chromium is here; without it the test fails, saying how to install it, unless
/// ZEN_SKIP_CHROMIUM_TESTS=1 asks to skip (CI installs it, so there it never passes silently).
fn chromium_available() -> bool {
    let found = Path::new(CHROMIUM).exists();
    if !found {
        assert!(
            std::env::var_os("ZEN_SKIP_CHROMIUM_TESTS").is_some(),
            "{CHROMIUM} is not installed: the HTML report test needs it (apt-get install -y \
             chromium), or set ZEN_SKIP_CHROMIUM_TESTS=1 to skip it"
        );
        eprintln!("skipped: chromium not installed and ZEN_SKIP_CHROMIUM_TESTS is set");
    }
    found
}

/// Run headless chromium on the page with `extra` flags, bounded to a minute.
fn chromium(page: &Path, profile: &Path, extra: &[String]) -> Output {
    let mut cmd = Command::new(CHROMIUM);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1280,2000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(extra)
    .arg(format!("file://{}", page.display()))
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Console messages and uncaught exceptions chromium logged. Chromium logs every console
/// message, console.error too, as `INFO:CONSOLE`; the page has no script, so any is a fault.
fn console_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("Uncaught") || l.contains(":CONSOLE"))
        .collect()
}

#[tokio::test]
async fn the_html_report_renders_every_chart_in_headless_chromium_offline() {
    if !chromium_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("run.html");
    let (code, _, report) = stress_run(dir.path(), "run", &[]).await;
    assert_eq!(code, 0);
    let json = dir.path().join("run.json");
    let args = [
        "report",
        "html",
        json.to_str().unwrap(),
        "-o",
        html.to_str().unwrap(),
    ];
    let (code, _, err) = zen_output(&args, &[]).await;
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    // Self-contained: no script, no stylesheet or image to fetch, no address but SVG's namespace.
    for fetch in ["<script", "<link", "src=", "url(", "<img"] {
        assert!(!page.contains(fetch), "the page holds {fetch}");
    }
    let addresses = page.matches("http").count();
    let namespaces = page.matches("http://www.w3.org/2000/svg").count();
    assert_eq!(
        addresses, namespaces,
        "only the SVG namespace is an address"
    );

    let profile = dir.path().join("profile");
    let dom = chromium(&html, &profile, &["--dump-dom".into()]);
    let rendered = String::from_utf8_lossy(&dom.stdout);
    let stderr = String::from_utf8_lossy(&dom.stderr);
    assert!(dom.status.success(), "{stderr}");
    for id in zen_load::report::html::CHART_IDS {
        let at = rendered
            .find(&format!("<svg id=\"{id}\""))
            .unwrap_or_else(|| panic!("chart {id} not in the rendered page:\n{stderr}"));
        let chart = &rendered[at..at + rendered[at..].find("</svg>").unwrap()];
        assert!(
            chart.contains("<polyline") || chart.contains("<rect"),
            "chart {id} draws nothing: {chart}"
        );
    }
    assert!(rendered.contains("id=\"verdict\""), "the verdict table");
    assert!(rendered.contains(&format!("{} ok", report.calls.ok)));
    assert!(console_errors(&stderr).is_empty(), "{stderr}");

    let shot = dir.path().join("shot.png");
    let out = chromium(
        &html,
        &profile,
        &[format!("--screenshot={}", shot.display())],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let png = std::fs::read(&shot).expect("a screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 20_000,
        "a page with charts, not a blank one: {} bytes",
        png.len()
    );
    assert!(console_errors(&stderr).is_empty(), "{stderr}");
}
