//! Reading a CLI's answer out of what it printed: Gemini CLI's JSON (`response`), Codex's JSON
//! lines (`item.completed` agent messages), Claude Code's JSON (`result`), or plain text. A CLI
//! whose output is not in the shape expected (another version, an error printed instead) is
//! shown as text with a note, never dropped.
use serde_json::Value;

/// How a CLI's output is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parser {
    /// `gemini -o json`: `{"response": …, "stats": {"models": {NAME: …}}}`.
    GeminiJson,
    /// `codex exec --json`: one event per line; the answer is the agent messages.
    CodexJsonl,
    /// `claude --print --output-format json`: `{"type": "result", "result": …, "is_error": …}`.
    ClaudeJson,
    /// Everything on stdout is the answer.
    Text,
}

impl Parser {
    /// The parser of a client file's `parser` name.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name.trim() {
            "gemini_json" => Parser::GeminiJson,
            "codex_jsonl" => Parser::CodexJsonl,
            "claude_json" => Parser::ClaudeJson,
            "text" | "plain" => Parser::Text,
            _ => return None,
        })
    }

    /// Its name, for the reply's metadata.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Parser::GeminiJson => "gemini_json",
            Parser::CodexJsonl => "codex_jsonl",
            Parser::ClaudeJson => "claude_json",
            Parser::Text => "text",
        }
    }
}

/// A CLI's answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Parsed {
    /// The answer.
    pub content: String,
    /// The model the CLI says it used, when it says.
    pub model: Option<String>,
    /// The CLI reported an error in its own output (Claude's `is_error`, Codex's error events).
    pub error: Option<String>,
    /// What the reader should know (the output was not in the expected shape).
    pub note: Option<String>,
}

impl Parsed {
    fn text(content: &str, note: Option<String>) -> Self {
        Parsed {
            content: content.trim().to_string(),
            model: None,
            error: None,
            note,
        }
    }
}

/// Read `stdout` with `parser`.
pub(crate) fn parse(parser: Parser, stdout: &str) -> Parsed {
    let read = match parser {
        Parser::Text => return Parsed::text(stdout, None),
        Parser::GeminiJson => gemini(stdout),
        Parser::CodexJsonl => codex(stdout),
        Parser::ClaudeJson => claude(stdout),
    };
    read.unwrap_or_else(|why| {
        Parsed::text(
            stdout,
            Some(format!(
                "the output was not {} ({why}); it is shown as the CLI printed it",
                parser.name()
            )),
        )
    })
}

/// The JSON object in `text`: all of it, or from its first `{` (some CLIs print a line first).
fn json_object(text: &str) -> Result<Value, String> {
    let start = text.find('{').ok_or("no JSON object")?;
    serde_json::from_str(text[start..].trim()).map_err(|e| format!("not JSON: {e}"))
}

fn gemini(stdout: &str) -> Result<Parsed, String> {
    let value = json_object(stdout)?;
    let error = (value.pointer("/error/message").and_then(Value::as_str)).map(str::to_string);
    let content = match value.get("response").and_then(Value::as_str) {
        Some(text) => text.trim().to_string(),
        None if error.is_some() => String::new(),
        None => return Err("no `response`".into()),
    };
    let model = (value.pointer("/stats/models").and_then(Value::as_object))
        .and_then(|models| models.keys().next().cloned());
    Ok(Parsed {
        content,
        model,
        error,
        note: None,
    })
}

fn codex(stdout: &str) -> Result<Parsed, String> {
    let mut messages = Vec::new();
    let mut errors = Vec::new();
    let mut events = 0;
    for line in stdout.lines().map(str::trim).filter(|l| l.starts_with('{')) {
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        events += 1;
        let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
        let item = event.get("item");
        let item_type = item.and_then(|i| i.get("type")).and_then(Value::as_str);
        if kind == "item.completed" && item_type == Some("agent_message") {
            if let Some(text) = item.and_then(|i| i.get("text")).and_then(Value::as_str) {
                messages.push(text.trim().to_string());
            }
        } else if kind == "error" || kind == "turn.failed" {
            let message = (event
                .get("message")
                .or_else(|| event.pointer("/error/message")))
            .and_then(Value::as_str)
            .unwrap_or("an error event without a message");
            errors.push(message.to_string());
        }
    }
    if events == 0 {
        return Err("no JSON events".into());
    }
    if messages.is_empty() && errors.is_empty() {
        return Err("no agent message among the events".into());
    }
    Ok(Parsed {
        content: messages.join("\n\n"),
        model: None,
        error: (!errors.is_empty()).then(|| errors.join("; ")),
        note: None,
    })
}

fn claude(stdout: &str) -> Result<Parsed, String> {
    let value = match json_object(stdout) {
        Ok(value) => value,
        // `--output-format json` in some versions prints the events as an array.
        Err(e) => match serde_json::from_str::<Value>(stdout.trim()) {
            Ok(Value::Array(events)) => (events.into_iter().rev())
                .find(|e| e.get("type").and_then(Value::as_str) == Some("result"))
                .ok_or("no result event")?,
            _ => return Err(e),
        },
    };
    let result = value
        .get("result")
        .and_then(Value::as_str)
        .ok_or("no `result`")?;
    let failed = value.get("is_error").and_then(Value::as_bool) == Some(true);
    let model = (value.get("modelUsage").and_then(Value::as_object))
        .and_then(|models| models.keys().next().cloned());
    Ok(Parsed {
        content: result.trim().to_string(),
        model,
        error: failed.then(|| result.trim().to_string()),
        note: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_clis_answer_is_read_from_its_own_shape() {
        let gemini = parse(
            Parser::GeminiJson,
            r#"Loaded cached credentials.
{"response": " 42 ", "stats": {"models": {"gemini-2.5-pro": {"tokens": {"total": 9}}}}}"#,
        );
        assert_eq!(
            (gemini.content.as_str(), gemini.model.as_deref()),
            ("42", Some("gemini-2.5-pro"))
        );
        let codex = parse(
            Parser::CodexJsonl,
            "{\"type\":\"thread.started\"}\n{\"type\":\"item.completed\",\"item\":{\"type\":\"reasoning\",\"text\":\"hm\"}}\n\
             {\"type\":\"item.completed\",\"item\":{\"type\":\"agent_message\",\"text\":\"first\"}}\n\
             {\"type\":\"item.completed\",\"item\":{\"type\":\"agent_message\",\"text\":\"second\"}}\n",
        );
        assert_eq!(codex.content, "first\n\nsecond");
        let claude = parse(
            Parser::ClaudeJson,
            r#"{"type": "result", "result": "done", "is_error": false, "modelUsage": {"claude-sonnet-4-5": {}}}"#,
        );
        assert_eq!((claude.content.as_str(), claude.error), ("done", None));
        let failed = parse(
            Parser::ClaudeJson,
            r#"[{"type": "system"}, {"type": "result", "result": "no credits", "is_error": true}]"#,
        );
        assert_eq!(failed.error.as_deref(), Some("no credits"));
        assert_eq!(parse(Parser::Text, " plain \n").content, "plain");
    }

    #[test]
    fn output_in_another_shape_is_kept_as_text_with_a_note() {
        let odd = parse(Parser::GeminiJson, "Usage: gemini [options]");
        assert_eq!(odd.content, "Usage: gemini [options]");
        assert!(
            odd.note
                .unwrap()
                .contains("not gemini_json (no JSON object)")
        );
        let codex = parse(
            Parser::CodexJsonl,
            "{\"type\":\"error\",\"message\":\"stream disconnected\"}",
        );
        assert_eq!(codex.error.as_deref(), Some("stream disconnected"));
    }
}
