//! The MCP operations a load run can make (`--op`, a scenario's `[[calls]] op`): besides
//! `tools/call`, the requests every client sends around it. Each gets its own latency histogram,
//! error counts and thresholds in the report.
use std::fmt;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

/// One kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub enum Op {
    /// `ping` (legacy revisions; 2026-07-28 dropped it).
    Ping,
    /// `tools/list`.
    ToolsList,
    /// `tools/call` of the call's tool: the default.
    #[default]
    ToolsCall,
    /// `resources/list`.
    ResourcesList,
    /// `resources/read` of a URI, or of one picked at random from the target's list.
    ResourcesRead,
    /// `prompts/list`.
    PromptsList,
    /// `prompts/get` of a prompt, with its arguments.
    PromptsGet,
    /// `completion/complete`, its params as given (`ref` and `argument`).
    Complete,
}

impl Op {
    /// Every operation, in the order `--help` lists them.
    pub const ALL: [Op; 8] = [
        Op::Ping,
        Op::ToolsList,
        Op::ToolsCall,
        Op::ResourcesList,
        Op::ResourcesRead,
        Op::PromptsList,
        Op::PromptsGet,
        Op::Complete,
    ];

    /// The JSON-RPC method.
    pub fn method(self) -> &'static str {
        match self {
            Op::Ping => "ping",
            Op::ToolsList => "tools/list",
            Op::ToolsCall => "tools/call",
            Op::ResourcesList => "resources/list",
            Op::ResourcesRead => "resources/read",
            Op::PromptsList => "prompts/list",
            Op::PromptsGet => "prompts/get",
            Op::Complete => "completion/complete",
        }
    }

    /// An operation by its method name.
    pub fn parse(text: &str) -> Result<Op, String> {
        let text = text.trim();
        Op::ALL
            .into_iter()
            .find(|op| op.method() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Op::ALL.iter().map(|op| op.method()).collect();
                format!(
                    "'{text}' is not an operation zen sends: {}",
                    names.join(", ")
                )
            })
    }

    /// The request's params for a call of this operation: `uri` for resources/read, `prompt`
    /// and `args` for prompts/get, `args` as the whole params for completion/complete.
    pub(crate) fn params(
        self,
        uri: Option<&str>,
        prompt: Option<&str>,
        args: &Map<String, Value>,
    ) -> Value {
        match self {
            Op::ResourcesRead => json!({ "uri": uri.unwrap_or_default() }),
            Op::PromptsGet => {
                // Prompt arguments are strings on the wire.
                let arguments: Map<String, Value> = (args.iter())
                    .map(|(k, v)| {
                        let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                        (k.clone(), Value::String(text))
                    })
                    .collect();
                json!({ "name": prompt.unwrap_or_default(), "arguments": arguments })
            }
            Op::Complete => Value::Object(args.clone()),
            _ => json!({}),
        }
    }

    /// The name a 2026-07-28 request carries in `Mcp-Name`: the prompt, or the resource's URI.
    pub(crate) fn name(params: &Value) -> Option<&str> {
        params
            .get("uri")
            .or_else(|| params.get("name"))
            .and_then(Value::as_str)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.method())
    }
}

impl<'de> Deserialize<'de> for Op {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Op, D::Error> {
        let text = String::deserialize(d)?;
        Op::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_parse_by_method_and_build_their_params() {
        for op in Op::ALL {
            assert_eq!(Op::parse(op.method()), Ok(op));
        }
        assert!(
            Op::parse("tools/delete")
                .unwrap_err()
                .contains("resources/read")
        );
        let mut args = Map::new();
        args.insert("city".into(), json!("Paris"));
        args.insert("n".into(), json!(3));
        let p = Op::PromptsGet.params(None, Some("args-prompt"), &args);
        assert_eq!(
            p,
            json!({"name": "args-prompt", "arguments": {"city": "Paris", "n": "3"}})
        );
        assert_eq!(Op::name(&p), Some("args-prompt"));
        let r = Op::ResourcesRead.params(Some("demo://x"), None, &Map::new());
        assert_eq!(Op::name(&r), Some("demo://x"));
    }
}
