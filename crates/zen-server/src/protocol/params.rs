//! A request's params as zen reads them. Every request of 2026-07-28 carries `params._meta`
//! (`2026-07-28/basic#meta`), most of it for the server to ignore (the client's identity, its
//! capabilities in full); reading it into a map cost a busy stdio server more than the rest of
//! the request. [`RequestMeta`] keeps only the members zen acts on and skips the others without
//! building them. [`CallParams`] is rmcp's `CallToolRequestParams` with that `_meta`: the same
//! members of the same types, so exactly the params rmcp refuses are refused here (a test
//! below holds the two to that).
use std::fmt;

use rmcp::model::JsonObject;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use zen_model::mcp::meta;

/// What zen reads of a request's `params._meta`. Read only from a JSON object, as rmcp's
/// `RequestMetaObject` is; for a repeated member the last one counts, as in a map.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct RequestMeta {
    /// `io.modelcontextprotocol/protocolVersion`, as sent (a revision only when a string).
    pub protocol_version: Option<Value>,
    /// `io.modelcontextprotocol/clientCapabilities` is there and an object (zen asks nothing
    /// of a client, so only the shape the revision requires is checked).
    pub capabilities: bool,
    /// `io.modelcontextprotocol/logLevel`, as sent (checked when read).
    pub log_level: Option<Value>,
    /// W3C `traceparent`, continuing the client's trace.
    pub traceparent: Option<Value>,
    /// W3C `tracestate`.
    pub tracestate: Option<Value>,
}

impl RequestMeta {
    /// The revision the request names, if a string.
    pub(crate) fn version(&self) -> Option<&str> {
        self.protocol_version.as_ref()?.as_str()
    }

    /// The client's `traceparent`, if a string.
    pub(crate) fn traceparent(&self) -> Option<&str> {
        self.traceparent.as_ref()?.as_str()
    }

    /// The client's `tracestate`, if a string.
    pub(crate) fn tracestate(&self) -> Option<&str> {
        self.tracestate.as_ref()?.as_str()
    }
}

/// A tools/call's params (`2026-07-28/server/tools#calling-tools`): rmcp's
/// `CallToolRequestParams` member for member, with `_meta` read as [`RequestMeta`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CallParams {
    /// The request's `_meta`.
    #[serde(rename = "_meta", default)]
    pub meta: Option<RequestMeta>,
    /// The tool.
    pub name: String,
    /// Its arguments.
    pub arguments: Option<JsonObject>,
    /// Answers to a previous `input_required` result (zen's tools never ask; read so that
    /// what rmcp refuses is refused here too).
    #[allow(dead_code)]
    input_responses: Option<rmcp::model::InputResponses>,
    /// A previous `input_required` result's state (as above).
    #[allow(dead_code)]
    request_state: Option<String>,
}

impl<'de> Deserialize<'de> for RequestMeta {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MetaVisitor)
    }
}

/// Reads `_meta`'s members, keeping the ones zen acts on.
struct MetaVisitor;

impl<'de> Visitor<'de> for MetaVisitor {
    type Value = RequestMeta;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RequestMeta, A::Error> {
        let mut read = RequestMeta::default();
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Version => read.protocol_version = Some(map.next_value()?),
                Key::Capabilities => read.capabilities = map.next_value::<IsObject>()?.0,
                Key::LogLevel => read.log_level = Some(map.next_value()?),
                Key::TraceParent => read.traceparent = Some(map.next_value()?),
                Key::TraceState => read.tracestate = Some(map.next_value()?),
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(read)
    }
}

/// A member of `_meta`, named without copying it.
enum Key {
    Version,
    Capabilities,
    LogLevel,
    TraceParent,
    TraceState,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(match key {
            meta::PROTOCOL_VERSION => Key::Version,
            meta::CLIENT_CAPABILITIES => Key::Capabilities,
            meta::LOG_LEVEL => Key::LogLevel,
            "traceparent" => Key::TraceParent,
            "tracestate" => Key::TraceState,
            _ => Key::Other,
        })
    }
}

/// Whether a value is a JSON object, skipped without being built.
struct IsObject(bool);

impl<'de> Deserialize<'de> for IsObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IsObjectVisitor)
    }
}

struct IsObjectVisitor;

impl<'de> Visitor<'de> for IsObjectVisitor {
    type Value = IsObject;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<IsObject, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(IsObject(true))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<IsObject, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(IsObject(false))
    }

    fn visit_bool<E>(self, _: bool) -> Result<IsObject, E> {
        Ok(IsObject(false))
    }

    fn visit_i64<E>(self, _: i64) -> Result<IsObject, E> {
        Ok(IsObject(false))
    }

    fn visit_u64<E>(self, _: u64) -> Result<IsObject, E> {
        Ok(IsObject(false))
    }

    fn visit_f64<E>(self, _: f64) -> Result<IsObject, E> {
        Ok(IsObject(false))
    }

    fn visit_str<E>(self, _: &str) -> Result<IsObject, E> {
        Ok(IsObject(false))
    }

    fn visit_unit<E>(self) -> Result<IsObject, E> {
        Ok(IsObject(false))
    }
}

/// Only a request's `params._meta` (the rest skipped), for requests other than tools/call.
#[derive(Deserialize, Default)]
pub(crate) struct MetaOnly {
    /// `params._meta`.
    #[serde(rename = "_meta")]
    pub meta: Option<RequestMeta>,
}

/// `_meta` as the tests write it.
#[cfg(test)]
pub(crate) fn meta_of(value: Value) -> RequestMeta {
    serde_json::from_value(value).expect("a _meta object")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::CallToolRequestParams;
    use serde_json::json;

    /// Params zen and rmcp must agree to accept or refuse.
    fn cases() -> Vec<Value> {
        let m = |v: Value| json!({"name": "version", "_meta": v});
        let fixed = vec![
            json!({"name": "version"}),
            json!({"name": "version", "arguments": {}}),
            json!({"name": "version", "arguments": null}),
            json!({"name": "version", "arguments": []}),
            json!({"name": "version", "arguments": "x"}),
            json!({"name": 5}),
            json!({"arguments": {}}),
            json!({}),
            json!([]),
            json!(["version"]),
            json!({"name": "version", "inputResponses": {"a": 1}}),
            json!({"name": "version", "inputResponses": 1}),
            json!({"name": "version", "requestState": 1}),
            json!({"name": "version", "requestState": "s", "extra": [1]}),
            m(json!(null)),
            m(json!({})),
            m(json!([])),
            m(json!(5)),
            m(json!("s")),
            m(json!({"io.modelcontextprotocol/protocolVersion": 7, "x": {"y": [1, {}]}})),
            m(json!({"io.modelcontextprotocol/clientCapabilities": [1, [2], {"a": 3}]})),
            m(json!({"traceparent": {}, "tracestate": 4, "progressToken": "p"})),
        ];
        let caps = [
            json!(5),
            json!(-3),
            json!(1.5),
            json!("s"),
            json!(null),
            json!(true),
        ];
        let caps = caps
            .into_iter()
            .map(|c| m(json!({meta::CLIENT_CAPABILITIES: c})));
        fixed.into_iter().chain(caps).collect()
    }

    #[test]
    fn what_rmcp_refuses_is_refused_here_and_nothing_else() {
        for case in cases() {
            let text = case.to_string();
            let ours = serde_json::from_str::<CallParams>(&text);
            let rmcp = serde_json::from_str::<CallToolRequestParams>(&text);
            assert_eq!(ours.is_ok(), rmcp.is_ok(), "{text}: {ours:?} / {rmcp:?}");
            if let (Ok(ours), Ok(rmcp)) = (ours, rmcp) {
                assert_eq!(ours.name, rmcp.name);
                assert_eq!(ours.arguments, rmcp.arguments);
                let theirs = rmcp.meta.as_ref().map(|m| &m.0);
                let get = |k: &str| theirs.and_then(|m| m.get(k)).cloned();
                let meta = ours.meta.unwrap_or_default();
                assert_eq!(meta.protocol_version, get(meta::PROTOCOL_VERSION), "{text}");
                assert_eq!(meta.log_level, get(meta::LOG_LEVEL), "{text}");
                assert_eq!(meta.traceparent, get("traceparent"), "{text}");
                assert_eq!(meta.tracestate, get("tracestate"), "{text}");
                let caps = get(meta::CLIENT_CAPABILITIES).is_some_and(|c| c.is_object());
                assert_eq!(meta.capabilities, caps, "{text}");
            }
        }
    }

    #[test]
    fn the_last_of_a_repeated_member_counts_and_escaped_names_are_read() {
        let text = r#"{"io.modelcontextprotocol\/protocolVersion":"a","io.modelcontextprotocol/protocolVersion":"b","io.modelcontextprotocol/clientCapabilities":{"x":{}}}"#;
        let meta: RequestMeta = serde_json::from_str(text).unwrap();
        assert_eq!(meta.version(), Some("b"));
        assert!(meta.capabilities);
        let meta = meta_of(json!({meta::PROTOCOL_VERSION: 1}));
        assert_eq!((meta.version(), meta.capabilities), (None, false));
    }
}
