//! What the text output looks like to people: colour only on a terminal (or forced), never with
//! NO_COLOR or into a pipe; `--quiet` prints the verdict line alone.
use crate::util::zen_output;

#[tokio::test]
async fn colour_only_on_a_terminal_and_quiet_prints_only_the_verdict_line() {
    let env = [("ZEN_SIM_LATENCY_MS", "5")];
    // stdout is a pipe here: no escape codes.
    let (code, text, _) = zen_output(&["stress", "-c", "3"], &env).await;
    assert_eq!(code, 0);
    assert!(!text.contains('\x1b'), "{text:?}");
    // Forced (as on a terminal), PASS is green.
    let forced = [env[0], ("CLICOLOR_FORCE", "1")];
    let (_, text, _) = zen_output(&["stress", "-c", "3"], &forced).await;
    assert!(text.contains("\x1b[1m\x1b[32mPASS"), "{text:?}");
    // NO_COLOR wins over everything but an explicit force.
    let (_, text, _) = zen_output(&["stress", "-c", "3"], &[env[0], ("NO_COLOR", "1")]).await;
    assert!(!text.contains('\x1b'), "{text:?}");
    let (code, text, err) = zen_output(&["stress", "-c", "3", "--quiet"], &env).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("verdict PASS: 3 calls, 0.00% errors"),
        "{text}"
    );
    let (code, text, _) = zen_output(
        &["stress", "-c", "3", "-q", "--env", "ZEN_SIM_ERROR_RATE=1"],
        &env,
    )
    .await;
    assert_eq!(code, 1);
    assert!(text.starts_with("verdict FAIL"), "{text}");
}
