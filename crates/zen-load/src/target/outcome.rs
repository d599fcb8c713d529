//! How a request to the target failed, classified as the report counts it, whichever client
//! (rmcp's over stdio, zen's lean one over HTTP) sent it.
use serde_json::Value;

/// Why a request failed.
#[derive(Debug)]
pub(crate) enum CallError {
    /// The server answered with a JSON-RPC error.
    JsonRpc {
        /// The JSON-RPC error code.
        code: i32,
        /// The server's message.
        message: String,
        /// The error's `data` (the supported versions of a -32022, for one).
        data: Option<Value>,
        /// The HTTP status it came with, when not 200 (MCP 2026-07-28 answers most protocol
        /// errors with 400 or 404).
        status: Option<u16>,
    },
    /// The server asked for input first (`resultType: "input_required"`, MCP 2026-07-28
    /// `basic/patterns/mrtr`): a load test cannot answer an elicitation or a sampling request,
    /// so the call ends here, with what was asked.
    InputRequired(String),
    /// A non-2xx HTTP status without a JSON-RPC error in its body.
    Http {
        /// The status.
        status: u16,
        /// The start of the body (servers say why there).
        body: String,
    },
    /// The request or its reply did not get through (connection, framing, a reply that is not
    /// a valid result).
    Transport(String),
}

impl CallError {
    /// A JSON-RPC error as a reply carried it (`status`: the HTTP status, if not 200).
    pub(crate) fn json_rpc(
        code: i32,
        message: String,
        data: Option<Value>,
        status: Option<u16>,
    ) -> Self {
        CallError::JsonRpc {
            code,
            message,
            data,
            status,
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::JsonRpc {
                code,
                message,
                status: Some(status),
                ..
            } => write!(f, "{message} ({code}, HTTP {status})"),
            CallError::JsonRpc { code, message, .. } => write!(f, "{message} ({code})"),
            CallError::Http { status, body } => {
                let reason = hyper::StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("");
                write!(f, "HTTP {status} {reason}: {body}")
            }
            CallError::InputRequired(text) | CallError::Transport(text) => f.write_str(text),
        }
    }
}

/// The message for an `input_required` result: what the server asked for, by key and method
/// (`inputRequests`), and that a load test cannot answer it.
pub(crate) fn input_required(requests: &[(String, String)], has_state: bool) -> CallError {
    let asked = if requests.is_empty() {
        if has_state {
            "a retry carrying its requestState".to_string()
        } else {
            "nothing it named".to_string()
        }
    } else {
        let named: Vec<String> = requests
            .iter()
            .map(|(key, method)| format!("{method} '{key}'"))
            .collect();
        named.join(", ")
    };
    CallError::InputRequired(format!(
        "the server answered resultType input_required, asking for {asked}: a load test cannot \
         answer it (call a tool that completes without the client's input)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_required_names_what_was_asked() {
        let asked = [("user_name".to_string(), "elicitation/create".to_string())];
        let text = input_required(&asked, true).to_string();
        assert!(text.contains("input_required") && text.contains("elicitation/create 'user_name'"));
        let err = CallError::json_rpc(-32602, "bad".into(), None, Some(400));
        assert_eq!(err.to_string(), "bad (-32602, HTTP 400)");
    }
}
