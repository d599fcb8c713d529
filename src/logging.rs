//! Logging goes to stderr (on stdio, stdout is the protocol) or to a file (under the dashboard).
use anyhow::{Context, Result};
use tracing_subscriber::EnvFilter;

use zen_server::client_log::{CALL_TARGET, ClientLogLayer};
use zen_server::telemetry::otel::{SPAN_TARGET, SpanLayer};

/// Log to stderr at `level` (LOG_LEVEL: `info`, `debug`, or a full filter like `zen=debug,rmcp=warn`).
pub(crate) fn init_stderr(level: &str) -> Result<()> {
    init_stderr_with(level, None)
}

/// Log to stderr, and hand zen's trace spans to `spans` (OpenTelemetry export) when given.
pub(crate) fn init_stderr_with(level: &str, spans: Option<SpanLayer>) -> Result<()> {
    use tracing_subscriber::prelude::*;
    let filter = filter(level)?;
    // A second init (tests calling the library twice) is harmless: keep the first subscriber.
    // zen's warnings during a call also go to its client, when the client asked for them.
    let base = tracing_subscriber::registry();
    let _ = match spans {
        Some(spans) => (base.with(spans).with(ClientLogLayer::filtered()))
            .with(stderr_log(filter))
            .try_init(),
        // Not `.with(None)`: an absent layer counts as one interested in every call site, so
        // every trace span of every call would be created (and dropped) with export off.
        None => (base.with(ClientLogLayer::filtered()))
            .with(stderr_log(filter))
            .try_init(),
    };
    Ok(())
}

/// The log lines on stderr, as `filter` lets through.
fn stderr_log<S>(filter: EnvFilter) -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use tracing_subscriber::Layer as _;
    tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_filter(filter)
}

/// Log to `path` (appending), for commands that own the terminal.
pub(crate) fn init_file(level: &str, path: &std::path::Path) -> Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open log file {}", path.display()))?;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(level)?)
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init();
    Ok(())
}

/// The levels LOG_LEVEL takes on its own.
const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

fn filter(level: &str) -> Result<EnvFilter> {
    // An empty LOG_LEVEL (common in MCP clients' env blocks) means the default.
    let level = if level.trim().is_empty() {
        "info"
    } else {
        level
    };
    // rmcp logs every request at info; keep it at warn unless the user names it.
    let directive = if level.contains('=') || level.contains(',') {
        expand_zen_target(level)
    } else if LEVELS.contains(&level.trim().to_ascii_lowercase().as_str()) {
        format!("{level},rmcp=warn")
    } else {
        // A lone word that is not a level is a target name: it shows that target at trace
        // and hides every other log, which is almost always a typo. Refuse it.
        anyhow::bail!(
            "LOG_LEVEL '{level}' is not a log level: use off, error, warn, info, debug or trace \
             (or a filter like zen=debug,rmcp=warn)"
        );
    };
    // The spans exported to OpenTelemetry are not log lines: with export off, nothing enables
    // them, so they cost nothing.
    // Nor are the spans that carry a call's log to its client.
    let directive = format!("{directive},{SPAN_TARGET}=off,{CALL_TARGET}=off");
    EnvFilter::try_new(&directive).with_context(|| {
        format!("LOG_LEVEL '{level}' is not a log level: use error, warn, info, debug or trace")
    })
}

/// zen's code lives in several crates (`zen_server`, `zen_load`, …), so its log targets are theirs:
/// a directive for `zen` (or `zen::serve`) applies to every zen crate (or to `zen_server::serve`),
/// as users of a one-crate zen wrote it.
fn expand_zen_target(filter: &str) -> String {
    const CRATES: [&str; 6] = [
        "zen",
        "zen_server",
        "zen_load",
        "zen_top",
        "zen_model",
        "zen_os",
    ];
    let directives = filter.split(',').map(str::trim).filter(|d| !d.is_empty());
    directives
        .flat_map(|d| {
            let (target, level) = d.split_once('=').map_or((d, None), |(t, l)| (t, Some(l)));
            let with = |t: &str| level.map_or_else(|| t.to_string(), |l| format!("{t}={l}"));
            if target == "zen" {
                CRATES.iter().map(|c| with(c)).collect::<Vec<_>>()
            } else if let Some(module) = target.strip_prefix("zen::") {
                let top = module.split("::").next().unwrap_or("");
                let owner = match top {
                    "stress" | "soak" | "report" | "load" => "zen_load",
                    "top" => "zen_top",
                    "snapshot" => "zen_model",
                    _ => "zen_server",
                };
                vec![with(&format!("{owner}::{module}"))]
            } else {
                vec![d.to_string()]
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::{expand_zen_target, filter};

    #[test]
    fn a_directive_for_zen_covers_every_zen_crate() {
        let text = expand_zen_target("zen=debug,rmcp=warn");
        assert!(text.contains("zen_server=debug") && text.contains("zen_load=debug"));
        assert!(text.ends_with("rmcp=warn"), "{text}");
        assert_eq!(
            expand_zen_target("zen::serve=trace"),
            "zen_server::serve=trace"
        );
        assert_eq!(expand_zen_target("warn,hyper=info"), "warn,hyper=info");
    }

    #[test]
    fn a_lone_word_that_is_not_a_level_is_refused_rather_than_silencing_every_log() {
        assert!(filter("debug").is_ok() && filter("WARN").is_ok());
        assert!(filter("zen=debug,rmcp=warn").is_ok());
        assert!(
            filter("").is_ok() && filter("  ").is_ok(),
            "empty means the default"
        );
        let err = filter("bogus").unwrap_err().to_string();
        assert!(err.contains("'bogus'") && err.contains("trace"), "{err}");
    }
}
