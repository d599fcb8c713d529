//! Logging's rules (`2025-11-25/server/utilities/logging`; in 2026-07-28 per request,
//! `2026-07-28/server/utilities/logging`): the eight RFC 5424 levels, how a client asks for
//! messages (a 2025 session's `logging/setLevel`, a 2026-07-28 request's
//! `_meta["io.modelcontextprotocol/logLevel"]`), and the `notifications/message` zen sends.
use rmcp::model::ErrorData;
use serde_json::Value;

use super::params::RequestMeta;

/// The `_meta` key a 2026-07-28 request asks for log messages with
/// (`2026-07-28/basic#meta`: without it the server MUST NOT send `notifications/message` for
/// the request).
pub(crate) const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";

/// The levels, least severe first (`2025-11-25/server/utilities/logging#log-levels`: RFC 5424's
/// names); a level includes every level after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Level {
    /// Detailed debugging information.
    Debug,
    /// General informational messages.
    Info,
    /// Normal but significant events.
    Notice,
    /// Warning conditions.
    Warning,
    /// Error conditions.
    Error,
    /// Critical conditions.
    Critical,
    /// Action must be taken immediately.
    Alert,
    /// System is unusable.
    Emergency,
}

/// Every level, in order, as the protocol spells them.
pub(crate) const LEVELS: [(&str, Level); 8] = [
    ("debug", Level::Debug),
    ("info", Level::Info),
    ("notice", Level::Notice),
    ("warning", Level::Warning),
    ("error", Level::Error),
    ("critical", Level::Critical),
    ("alert", Level::Alert),
    ("emergency", Level::Emergency),
];

impl Level {
    /// The protocol's name of the level.
    pub(crate) fn name(self) -> &'static str {
        LEVELS[self as usize].0
    }

    /// The level named `name`, if it is one of the eight.
    pub(crate) fn parse(name: &str) -> Option<Level> {
        LEVELS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
    }

    /// The level by its position in [`LEVELS`].
    pub(crate) fn from_index(index: u8) -> Option<Level> {
        LEVELS.get(usize::from(index)).map(|(_, l)| *l)
    }

    /// The level of a `tracing` event zen forwards (WARN and ERROR only reach a client).
    pub(crate) fn of_tracing(level: tracing::Level) -> Level {
        if level == tracing::Level::ERROR {
            Level::Error
        } else if level == tracing::Level::WARN {
            Level::Warning
        } else if level == tracing::Level::INFO {
            Level::Info
        } else {
            Level::Debug
        }
    }
}

/// The -32602 of a level that is not one of the eight (`#error-handling`: invalid log level).
fn invalid(what: &str) -> ErrorData {
    let names: Vec<&str> = LEVELS.iter().map(|(n, _)| *n).collect();
    ErrorData::invalid_params(
        format!("{what}: the level must be one of {}", names.join(", ")),
        None,
    )
}

/// The level a `logging/setLevel` asks for (`#setting-log-level`), or its -32602. `params`:
/// the request's params as JSON, `None` when absent or not JSON.
pub(crate) fn set_level_params(params: Option<&Value>) -> Result<Level, ErrorData> {
    let level = params.and_then(|p| p.get("level"));
    match level {
        None => Err(invalid(
            "invalid params for logging/setLevel: params.level is missing",
        )),
        Some(Value::String(name)) => Level::parse(name).ok_or_else(|| {
            invalid(&format!(
                "invalid params for logging/setLevel: '{name}' is not a log level"
            ))
        }),
        Some(other) => Err(invalid(&format!(
            "invalid params for logging/setLevel: {other} is not a log level"
        ))),
    }
}

/// The level a 2026-07-28 request's `_meta` asks for, if it asks; -32602 when it names no level.
pub(crate) fn meta_level(meta: Option<&RequestMeta>) -> Result<Option<Level>, ErrorData> {
    let Some(value) = meta.and_then(|m| m.log_level.as_ref()) else {
        return Ok(None);
    };
    match value.as_str().and_then(Level::parse) {
        Some(level) => Ok(Some(level)),
        None => Err(invalid(&format!(
            "invalid _meta[\"{META_LOG_LEVEL}\"]: {value} is not a log level"
        ))),
    }
}

/// One `notifications/message` (`#log-message-notifications`): its level, the zen module that
/// raised it (`logger`), and the message (`data`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Note {
    /// The message's severity.
    pub level: Level,
    /// The zen module it comes from (`zen::providers::resilience`).
    pub logger: String,
    /// The message.
    pub data: String,
}

impl Note {
    /// The notification, encoded as one JSON-RPC message.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let message = serde_json::json!({
            "jsonrpc": "2.0",
            "method": "notifications/message",
            "params": {"level": self.level.name(), "logger": self.logger, "data": self.data},
        });
        serde_json::to_vec(&message).expect("a notification serialises")
    }

    /// The same as rmcp's notification params (for sessions rmcp serves).
    // rmcp deprecates logging with 2026-07-28 (SEP-2577); 2025 sessions still use it.
    #[allow(deprecated)]
    pub(crate) fn to_rmcp(&self) -> rmcp::model::LoggingMessageNotificationParam {
        let params = serde_json::json!(
            {"level": self.level.name(), "logger": self.logger, "data": self.data}
        );
        serde_json::from_value(params).expect("the eight levels are rmcp's")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_eight_levels_parse_in_order_and_anything_else_is_invalid_params_naming_them() {
        assert!(Level::Debug < Level::Warning && Level::Warning < Level::Emergency);
        for (i, (name, level)) in LEVELS.iter().enumerate() {
            assert_eq!(Level::parse(name), Some(*level));
            assert_eq!(level.name(), *name);
            assert_eq!(Level::from_index(i as u8), Some(*level));
        }
        let ok = set_level_params(Some(&json!({"level": "info"})));
        assert_eq!(ok.unwrap(), Level::Info);
        for bad in [json!({"level": "loud"}), json!({"level": 3}), json!({})] {
            let err = set_level_params(Some(&bad)).unwrap_err();
            assert_eq!(err.code, rmcp::model::ErrorCode::INVALID_PARAMS);
            assert!(
                err.message
                    .contains("debug, info, notice, warning, error, critical, alert, emergency"),
                "{}",
                err.message
            );
        }
        let meta = crate::protocol::params::meta_of(json!({META_LOG_LEVEL: "error"}));
        assert_eq!(meta_level(Some(&meta)).unwrap(), Some(Level::Error));
        assert_eq!(meta_level(None).unwrap(), None);
        let bad = crate::protocol::params::meta_of(json!({META_LOG_LEVEL: "WARN"}));
        assert!(meta_level(Some(&bad)).is_err());
    }

    #[test]
    fn a_note_encodes_as_a_notifications_message() {
        let note = Note {
            level: Level::Warning,
            logger: "zen::providers".into(),
            data: "circuit breaker opened".into(),
        };
        let value: Value = serde_json::from_slice(&note.encode()).unwrap();
        assert_eq!(value["method"], "notifications/message");
        assert_eq!(value["params"]["level"], "warning");
        assert_eq!(value["params"]["logger"], "zen::providers");
        assert_eq!(
            serde_json::to_value(note.to_rmcp()).unwrap(),
            value["params"]
        );
    }
}
