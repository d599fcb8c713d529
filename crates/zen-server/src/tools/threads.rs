//! The `threads` tool: find a conversation again after the client's context was cleared.
//! Lists the store's most recent threads (newest first), optionally those whose prompts
//! contain a phrase, and says how to continue one.
use async_trait::async_trait;
use rmcp::model::{JsonObject, ToolAnnotations};
use rmcp::schemars::{self, JsonSchema};
use serde::Deserialize;
use serde_json::json;
use tracing::Instrument;

use super::{
    Tool, ToolContext, ToolError, ToolReply, parse_args, read_only_local, reply, schema_of,
};
use crate::conversations::ThreadSummary;
use crate::metrics::CallOutcome;

/// Most threads one call lists.
const MAX_LIMIT: usize = 200;

/// Longest `query`, in characters: a phrase to find, not a document (a search costs the text
/// searched, and a store search stops at its deadline anyway).
pub(crate) const MAX_QUERY_CHARS: usize = 200;

/// `threads` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ThreadsArgs {
    /// How many threads to list, newest first (default 20, at most 200).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Only threads with a prompt containing this text (case-insensitive, at most 200 characters).
    #[serde(default)]
    pub query: Option<String>,
}

/// The threads tool.
pub(crate) struct Threads;

#[async_trait]
impl Tool for Threads {
    fn name(&self) -> &'static str {
        "threads"
    }

    fn description(&self) -> &'static str {
        "Find earlier conversations: the most recent threads, newest first, with their id, \
         last update, turns, model and first prompt; `query` keeps those whose prompts contain \
         a phrase. Continue one by passing its id as continuation_id to the tool its line names \
         (the tool of its latest turn: a workflow continues with its own tool)."
    }

    fn input_schema(&self) -> JsonObject {
        schema_of::<ThreadsArgs>()
    }

    fn output_schema(&self) -> JsonObject {
        reply::output_schema(json!({
            "threads": {"type": "array"},
            "complete": {"type": "boolean"},
        }))
    }

    fn annotations(&self) -> ToolAnnotations {
        read_only_local("Find conversations")
    }

    async fn call(
        &self,
        ctx: &ToolContext,
        arguments: Option<JsonObject>,
    ) -> Result<ToolReply, ToolError> {
        run(ctx, parse_args("threads", arguments)?).await
    }
}

/// List recent threads.
pub(crate) async fn run(ctx: &ToolContext, args: ThreadsArgs) -> Result<ToolReply, ToolError> {
    let limit = args.limit.unwrap_or(20);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ToolError::bad_input(format!(
            "invalid arguments for threads: limit: {limit} is outside 1 to {MAX_LIMIT}"
        )));
    }
    let query = args
        .query
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty());
    if let Some(q) = query
        && q.chars().count() > MAX_QUERY_CHARS
    {
        return Err(ToolError::bad_input(format!(
            "invalid arguments for threads: query: {} characters is over the limit of \
             {MAX_QUERY_CHARS}; search for a shorter phrase",
            q.chars().count()
        )));
    }
    let found = (ctx.memory.store.recent(limit, query))
        .instrument(crate::telemetry::otel::spans::store("recent"))
        .await
        .map_err(|e| ToolError::new(CallOutcome::ToolError, e.to_string()))?;
    let mut text = listing(
        &found.threads,
        query,
        ctx.config.memory.max_conversation_turns,
    );
    if !found.complete {
        text.push_str(&format!(
            "\n(The search stopped after {} before reading every conversation: older ones may \
             match too. A more specific query finds them sooner.)",
            zen_model::units::seconds(crate::conversations::search::SEARCH_DEADLINE)
        ));
    }
    // Each thread as stored, plus the tool to continue it with.
    let threads: Vec<serde_json::Value> = (found.threads.iter())
        .map(|t| {
            let mut entry = json!(t);
            entry["continue_with"] = json!(continue_with(t));
            entry
        })
        .collect();
    let extra = json!({ "threads": threads, "complete": found.complete });
    Ok(ToolReply::shaped("success", &text, text.clone(), extra))
}

/// The text a person reads: one line per thread, then how to continue one.
fn listing(threads: &[ThreadSummary], query: Option<&str>, max_turns: u32) -> String {
    if threads.is_empty() {
        return match query {
            Some(q) => format!("No live conversation has a prompt containing \"{q}\"."),
            None => "No live conversations yet: start one with chat.".to_string(),
        };
    }
    let mut text = String::new();
    for t in threads {
        let model = t.model.as_deref().unwrap_or("-");
        text.push_str(&format!(
            "{}  updated {}  {} turns  {} · {}  → continue with {}\n    \"{}\"\n",
            t.id,
            ago(t.updated_ms),
            t.turn_count,
            t.tool,
            model,
            continue_with(t),
            t.first_prompt
        ));
    }
    text.push_str(&format!(
        "\nTo continue one, call the tool its line names with its id as continuation_id: a \
         workflow's next step goes to its own tool, and chat takes any thread for a free-form \
         turn (a conversation holds up to {max_turns} turns, MAX_CONVERSATION_TURNS)."
    ));
    text
}

/// The tool a thread continues with: the tool of its latest turn (a workflow's next step must
/// go to that workflow; chat, consensus and clink threads go on in their own tool too), or chat
/// for a thread that names none.
fn continue_with(thread: &ThreadSummary) -> &str {
    if thread.tool.is_empty() {
        "chat"
    } else {
        &thread.tool
    }
}

/// How long ago a Unix-ms time was, for people.
fn ago(ms: u64) -> String {
    let secs = zen_model::clock::unix_ms().saturating_sub(ms) / 1000;
    match secs {
        0..60 => format!("{secs} s ago"),
        60..3600 => format!("{} min ago", secs / 60),
        _ => format!("{:.1} h ago", secs as f64 / 3600.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_says_how_to_continue_and_an_empty_one_says_why() {
        let t = ThreadSummary {
            id: uuid::Uuid::nil(),
            created_ms: 0,
            updated_ms: zen_model::clock::unix_ms(),
            tool: "chat".into(),
            model: Some("simulated/simulated".into()),
            turn_count: 4,
            first_prompt: "how do lifetimes work".into(),
        };
        let workflow = ThreadSummary {
            tool: "codereview".into(),
            ..t.clone()
        };
        let text = listing(&[t, workflow], None, 50);
        assert!(
            text.contains("4 turns") && text.contains("continuation_id"),
            "{text}"
        );
        assert!(
            text.contains("→ continue with chat") && text.contains("→ continue with codereview"),
            "{text}"
        );
        assert!(listing(&[], Some("x"), 50).contains("\"x\""));
    }
}
