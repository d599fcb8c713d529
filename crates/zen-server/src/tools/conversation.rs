//! Threads for every model-calling tool: open one (new, or continued from any tool's
//! `continuation_id`, pinned while the call runs), embed files by the shared rules, rebuild the
//! history for the model, store the new turns, and offer the continuation. A thread started by
//! chat continues in codereview or consensus with all its earlier turns, and back.
use std::sync::Arc;

use serde_json::{Value, json};
use tracing::Instrument;
use uuid::Uuid;

use super::embed::embed_files;
use super::files::FilePolicy;
use super::{ToolContext, ToolError};
use crate::config::MemoryConfig;
use crate::conversations::{AppendReport, ConversationStore, Thread, Turn};
use crate::metrics::CallOutcome;
use crate::providers::{CompletionRequest, Message, Route, ThinkingMode};
use crate::telemetry::otel::spans as otel_spans;
use zen_model::clock::unix_ms;

/// Unpins a continued thread when the call ends, however it ends.
struct Pin {
    /// The store that pinned it.
    store: Arc<dyn ConversationStore>,
    /// The pinned thread.
    id: Uuid,
}

impl Drop for Pin {
    fn drop(&mut self) {
        self.store.unpin(self.id);
    }
}

/// One call's thread: new, or an earlier one checked out and pinned.
pub(crate) struct Conversation {
    /// The thread id (a fresh v7 UUID for a new thread).
    pub id: Uuid,
    /// The checked-out copy of a continued thread; `None` for a new one.
    thread: Option<Thread>,
    /// Keeps a continued thread pinned (never evicted) until the call ends.
    _pin: Option<Pin>,
}

/// How the new turns were kept, and what the client may do next.
pub(crate) struct Recorded {
    /// The thread the turns were kept in; `None` when nothing was kept in a new thread.
    pub thread: Option<Uuid>,
    /// Turns the conversation may still take (each prompt and each reply is a turn).
    pub turns_left: u32,
    /// MAX_CONVERSATION_TURNS, for the message at the limit.
    max_turns: u32,
    /// What the user should know (skipped files, dropped turns, an exchange not kept).
    pub notes: Vec<String>,
}

/// The fewest turns a continuation takes: the caller's message and the reply.
const TURNS_PER_CALL: u32 = 2;

/// What one model call asks, after the thread's history.
pub(crate) struct Question {
    /// The tool's system prompt.
    pub system: &'static str,
    /// The user message: the question with its files embedded.
    pub text: String,
    /// Images, as data URLs.
    pub images: Vec<String>,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// Reasoning depth.
    pub thinking_mode: Option<ThinkingMode>,
}

/// A model's answer.
pub(crate) struct Answer {
    /// What it said.
    pub text: String,
    /// `provider/model`.
    pub model: String,
    /// Its assistant turn, to record.
    pub turn: Turn,
}

/// The `metadata` of a reply from a model, as zen-mcp-server names it.
pub(crate) fn model_metadata(tool: &str, route: &Route) -> Value {
    json!({
        "tool_name": tool,
        "model_used": route.model,
        "provider_used": route.provider.name(),
    })
}

/// A turn of one call, stamped now.
pub(crate) fn turn(role: &str, tool: &str, content: String, model: Option<String>) -> Turn {
    Turn {
        role: role.into(),
        content,
        tool: tool.into(),
        model,
        timestamp_ms: unix_ms(),
        files: Vec::new(),
    }
}

impl Conversation {
    /// The thread to continue (checked out and pinned for this call), or a new thread once the
    /// watchdog admits one. `new_turns` is how many turns this call will add.
    pub(crate) async fn open(
        ctx: &ToolContext,
        tool: &str,
        continuation_id: Option<&str>,
        new_turns: u32,
    ) -> Result<Self, ToolError> {
        let mem = &ctx.config.memory;
        let store = &ctx.memory.store;
        let raw = match continuation_id.map(str::trim) {
            Some(raw) if !raw.is_empty() => raw,
            _ => {
                (ctx.memory.watchdog.admit_new_thread()).map_err(ToolError::bad_input)?;
                // Time-ordered (v7): new threads land at the end of the store's indexes instead
                // of at random pages, which keeps disk writes per call small.
                return Ok(Conversation {
                    id: Uuid::now_v7(),
                    thread: None,
                    _pin: None,
                });
            }
        };
        let id = Uuid::parse_str(raw).map_err(|_| {
            ToolError::bad_field(
                tool,
                "continuation_id",
                format!("'{raw}' is not a thread id (a UUID from an earlier zen reply)"),
            )
        })?;
        let checkout = store.checkout(id);
        let found = (checkout.instrument(otel_spans::store("checkout")).await)
            .map_err(|e| ToolError::new(CallOutcome::ToolError, e.to_string()))?;
        let thread = found.ok_or_else(|| {
            ToolError::bad_input(format!(
                "continuation_id {id} is unknown or expired: conversations end {} hours after \
                 their last turn (CONVERSATION_TIMEOUT_HOURS) or when evicted to keep the store \
                 under CONVERSATION_MEMORY_LIMIT_MB. Find older threads with the threads tool, or \
                 start a new conversation by leaving continuation_id out.",
                mem.conversation_timeout_hours
            ))
        })?;
        let pin = Pin {
            store: store.clone(),
            id,
        };
        if thread.turn_count + new_turns > mem.max_conversation_turns {
            return Err(ToolError::bad_input(format!(
                "conversation {id} is full: it has {} of MAX_CONVERSATION_TURNS ({}) turns and \
                 this call adds {new_turns}. Start a new conversation by leaving continuation_id out.",
                thread.turn_count, mem.max_conversation_turns
            )));
        }
        Ok(Conversation {
            id,
            thread: Some(thread),
            _pin: Some(pin),
        })
    }

    /// The continued thread's turns, oldest first (none for a new thread, or once
    /// [`Conversation::take_history`] has taken them).
    pub(crate) fn turns(&self) -> &[Turn] {
        self.thread.as_ref().map_or(&[], |t| t.turns.as_slice())
    }

    /// True when this call continues an earlier thread.
    pub(crate) fn is_continuing(&self) -> bool {
        self.thread.is_some()
    }

    /// The thread's files and `new_files`, embedded by the shared rules; notes say what was
    /// left out.
    pub(crate) async fn embed(
        &self,
        ctx: &ToolContext,
        new_files: &[String],
    ) -> (String, Vec<String>) {
        let policy = FilePolicy::new(&ctx.config);
        embed_files(&policy, self.thread.as_ref(), new_files).await
    }

    /// Notes for the files among `paths` that could not be embedded later (checked now, when
    /// a step only records them, so the caller hears at once rather than never).
    pub(crate) async fn check_files(ctx: &ToolContext, paths: &[String]) -> Vec<String> {
        let policy = FilePolicy::new(&ctx.config);
        let mut notes = Vec::new();
        for path in paths {
            if let Err(why) = policy.check(path).await {
                notes.push(format!("file {path} will not be embedded: {why}"));
            }
        }
        notes
    }

    /// The earlier turns as model messages (taken out of the checked-out copy, not copied),
    /// after a note when old turns were dropped.
    pub(crate) fn take_history(&mut self) -> Vec<Message> {
        let Some(thread) = self.thread.as_mut() else {
            return Vec::new();
        };
        let mut messages = Vec::new();
        if thread.dropped_turns > 0 {
            messages.push(Message::new(
                "system",
                format!(
                    "({} earlier turns of this conversation were dropped to save memory.)",
                    thread.dropped_turns
                ),
            ));
        }
        let turns = std::mem::take(&mut thread.turns);
        messages.extend(turns.into_iter().map(|t| Message::new(&t.role, t.content)));
        messages
    }

    /// Ask `route`'s model: the system prompt, this thread's history, then `question` with its
    /// images. The answer and its assistant turn (made by `tool`, naming `provider/model`).
    pub(crate) async fn ask(
        &mut self,
        ctx: &ToolContext,
        route: &Route,
        tool: &str,
        question: Question,
    ) -> Result<Answer, ToolError> {
        let mut messages = vec![Message::new("system", question.system.trim_end())];
        messages.extend(self.take_history());
        let mut asking = Message::new("user", question.text);
        asking.images = question.images;
        messages.push(asking);
        let request = CompletionRequest {
            model: route.model.clone(),
            messages,
            temperature: question.temperature,
            thinking: question.thinking_mode,
        };
        let completion = ctx.call_provider(route, request).await?;
        let model = format!("{}/{}", route.provider.name(), route.model);
        let turn = turn(
            "assistant",
            tool,
            completion.text.clone(),
            Some(model.clone()),
        );
        Ok(Answer {
            text: completion.text,
            model,
            turn,
        })
    }

    /// Store this call's turns. `answer` is quoted in the error when they cannot be kept, so a
    /// model's reply is never lost.
    pub(crate) async fn record(
        self,
        ctx: &ToolContext,
        turns: Vec<Turn>,
        answer: &str,
    ) -> Result<Recorded, ToolError> {
        let mem = &ctx.config.memory;
        let continuing = self.is_continuing();
        let report = (ctx.memory.store)
            .append_within(self.id, turns, mem.max_conversation_turns)
            .instrument(otel_spans::store("append"))
            .await
            .map_err(|e| {
                ToolError::new(
                    CallOutcome::ToolError,
                    format!(
                        "{e}. The call finished, but its turns could not be kept, so this \
                         conversation cannot continue from it. The answer was:\n\n{answer}"
                    ),
                )
            })?;
        // A new conversation whose first exchange was too large to keep has nothing to continue.
        let continuable = report.stored || continuing;
        Ok(Recorded {
            thread: continuable.then_some(self.id),
            turns_left: if continuable {
                mem.max_conversation_turns.saturating_sub(report.turn_count)
            } else {
                0
            },
            max_turns: mem.max_conversation_turns,
            notes: store_notes(&report, mem, continuable),
        })
    }
}

impl Recorded {
    /// The thread to continue, while it has room for another call: at the last turn none is
    /// offered (as zen-mcp-server did), rather than an id whose next call would be refused.
    pub(crate) fn continuation(&self) -> Option<Uuid> {
        self.thread.filter(|_| self.turns_left >= TURNS_PER_CALL)
    }

    /// The notes and the continuation offer, appended under a rule to a reply.
    pub(crate) fn footer(&self, extra_notes: &[String]) -> String {
        let mut text = String::from("\n\n---\n");
        for note in extra_notes.iter().chain(&self.notes) {
            text.push_str(&format!("note: {note}\n"));
        }
        match (self.continuation(), self.thread) {
            (Some(id), _) => text.push_str(&format!(
                "continuation_id: {id} ({} turns left). Pass it as continuation_id to continue this conversation (with any zen tool that takes one).\n",
                self.turns_left
            )),
            (None, Some(_)) => text.push_str(&format!(
                "This conversation has reached MAX_CONVERSATION_TURNS ({}), so no continuation is offered: start a new conversation next time.\n",
                self.max_turns
            )),
            (None, None) => {
                text.push_str("continuation_id: none (start a new conversation next time).\n");
            }
        }
        text
    }

    /// zen-mcp-server's `continuation_offer`, or null at the last turn.
    fn offer(&self) -> Value {
        match self.continuation() {
            Some(id) => json!({
                "continuation_id": id,
                "remaining_turns": self.turns_left,
                "note": format!(
                    "You can continue this conversation for {} more turns (each call takes at \
                     least two: your message and the reply). Pass continuation_id to any zen \
                     tool that takes one.",
                    self.turns_left
                ),
            }),
            None => Value::Null,
        }
    }

    /// The continuation fields of a structured reply: zen-mcp-server's `continuation_offer`,
    /// and zen's own (the id to continue, the thread, the turns left, the notes).
    pub(crate) fn fields(&self, extra_notes: &[String]) -> Value {
        let notes: Vec<&String> = extra_notes.iter().chain(&self.notes).collect();
        json!({
            "continuation_offer": self.offer(),
            "continuation_id": self.continuation(),
            "thread_id": self.thread,
            "remaining_turns": self.turns_left,
            "turns_left": self.turns_left,
            "notes": notes,
        })
    }

    /// zen-mcp-server's status of a reply from a model: a continuation is on offer or not.
    pub(crate) fn status(&self) -> &'static str {
        if self.continuation().is_some() {
            "continuation_available"
        } else {
            "success"
        }
    }
}

/// What the user should know about how the exchange was kept.
fn store_notes(report: &AppendReport, mem: &MemoryConfig, continuable: bool) -> Vec<String> {
    let mut notes = Vec::new();
    if report.full {
        notes.push(format!(
            "another call on this conversation took its last turns at the same moment, so this \
             exchange was not kept: the conversation is full (MAX_CONVERSATION_TURNS {})",
            mem.max_conversation_turns
        ));
    } else if !report.stored {
        notes.push(format!(
            "this exchange ({} bytes) is larger than ZEN_THREAD_MAX_BYTES ({} bytes), so it was \
             not kept: {}",
            report.new_bytes,
            mem.thread_max_bytes(),
            if continuable {
                "the conversation continues without it"
            } else {
                "there is no conversation to continue"
            }
        ));
    }
    if report.dropped_turns > 0 {
        notes.push(format!(
            "the {} oldest turns of this conversation were dropped to keep it under \
             ZEN_THREAD_MAX_BYTES ({} bytes); the model no longer sees them",
            report.dropped_turns,
            mem.thread_max_bytes()
        ));
    }
    notes
}

/// The note for a thinking mode the model has no reasoning setting for (its capabilities say).
pub(crate) fn thinking_note(route: &Route, mode: Option<ThinkingMode>) -> Option<String> {
    let mode = mode?;
    route.capabilities.reasoning.is_none().then(|| {
        format!(
            "thinking_mode {} was not sent: {}/{} has no reasoning setting",
            mode.as_str(),
            route.provider.name(),
            route.model
        )
    })
}

/// The user message: the prompt with the embedded files after it.
pub(crate) fn with_files(prompt: &str, files_text: &str) -> String {
    if files_text.is_empty() {
        prompt.to_string()
    } else {
        format!("{prompt}\n\n{files_text}")
    }
}

/// Refuse an empty or oversized text argument before anything is spent on it.
pub(crate) fn check_text(
    tool: &str,
    field: &str,
    text: &str,
    mem: &MemoryConfig,
) -> Result<(), ToolError> {
    if text.trim().is_empty() {
        return Err(ToolError::bad_field(tool, field, "must not be empty"));
    }
    if text.len() > mem.max_prompt_bytes {
        return Err(ToolError::bad_field(
            tool,
            field,
            format!(
                "{} bytes is over the {} byte limit (ZEN_MAX_PROMPT_BYTES); put large content \
                 in a file and pass its path instead",
                text.len(),
                mem.max_prompt_bytes
            ),
        ));
    }
    Ok(())
}
