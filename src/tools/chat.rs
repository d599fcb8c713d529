//! The chat flow: validate, look up the thread (pinned while the call runs), rebuild the history
//! for the model, call the provider, store the new turns (only what was said), and reply with a
//! continuation offer.
use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::json;
use tracing::Instrument;
use uuid::Uuid;

use super::files::FilePolicy;
use super::{ChatArgs, ToolContext, ToolError, ToolReply};
use crate::clock::unix_ms;
use crate::config::MemoryConfig;
use crate::conversations::{AppendReport, ConversationStore, Thread, Turn};
use crate::metrics::CallOutcome;
use crate::otel::spans as otel_spans;
use crate::providers::{CompletionRequest, Message};

/// Largest file embedded into a prompt.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Most file bytes one request embeds (the conversation's files together): a bound on the
/// memory of one call, whatever the number of paths.
pub const MAX_EMBEDDED_BYTES: u64 = 8 * 1024 * 1024;
/// Most files one request embeds.
pub const MAX_FILES: usize = 64;

const SYSTEM_PROMPT: &str = "You are a senior engineering thinking partner reached through the \
zen MCP server's chat tool. Another AI assistant and its user are asking; be direct, concrete \
and brief, and say so when you are unsure.";

/// Unpins a continued thread when the call ends, however it ends.
struct Pin {
    store: Arc<dyn ConversationStore>,
    id: Uuid,
}

impl Drop for Pin {
    fn drop(&mut self) {
        self.store.unpin(self.id);
    }
}

/// Run one chat call.
pub async fn run(ctx: &ToolContext, args: ChatArgs) -> Result<ToolReply, ToolError> {
    let mem = &ctx.config.memory;
    validate(&args, mem)?;
    let route = ctx
        .registry
        .resolve(args.model.as_deref())
        .map_err(ToolError::bad_input)?;
    let (thread_id, thread, _pin) = open_thread(ctx, args.continuation_id.as_deref()).await?;

    let policy = FilePolicy::new(&ctx.config);
    let (files_text, mut notes) =
        embed_files(&policy, thread.as_ref(), &args.absolute_file_paths).await;
    let continuing = thread.is_some();
    let messages = history(thread, &args.prompt, &files_text);
    let completion = ctx
        .call_provider(
            &route,
            CompletionRequest {
                model: route.model.clone(),
                messages,
                temperature: args.temperature,
            },
        )
        .await?;

    let model_label = format!("{}/{}", route.provider.name(), route.model);
    let turns = exchange(
        args.prompt,
        args.absolute_file_paths,
        &completion.text,
        &model_label,
    );
    let report = ctx
        .memory
        .store
        .append_within(thread_id, turns, mem.max_conversation_turns)
        .instrument(otel_spans::store("append"))
        .await
        .map_err(|e| {
            ToolError::new(
                CallOutcome::ToolError,
                format!(
                    "{e}. The model answered, but its reply could not be kept, so this \
                     conversation cannot continue from it. The reply was:\n\n{}",
                    completion.text
                ),
            )
        })?;
    // A new conversation whose first exchange was too large to keep has nothing to continue.
    let continuable = report.stored || continuing;
    notes.extend(store_notes(&report, mem, continuable));
    let turns_left = mem.max_conversation_turns.saturating_sub(report.turn_count);
    let text = reply_text(
        &completion.text,
        &notes,
        continuable.then_some(thread_id),
        turns_left,
    );
    Ok(ToolReply {
        text,
        structured: Some(json!({
            "reply": completion.text,
            "continuation_id": continuable.then_some(thread_id),
            "turns_left": if continuable { turns_left } else { 0 },
            "model": model_label,
            "notes": notes,
        })),
    })
}

/// Refuse bad arguments before anything is spent on them.
fn validate(args: &ChatArgs, mem: &MemoryConfig) -> Result<(), ToolError> {
    if args.prompt.trim().is_empty() {
        return Err(ToolError::bad_input(
            "invalid arguments for chat: prompt: must not be empty",
        ));
    }
    if args.prompt.len() > mem.max_prompt_bytes {
        return Err(ToolError::bad_input(format!(
            "invalid arguments for chat: prompt: {} bytes is over the {} byte limit \
             (ZEN_MAX_PROMPT_BYTES); put large content in a file and pass it in absolute_file_paths",
            args.prompt.len(),
            mem.max_prompt_bytes
        )));
    }
    if let Some(t) = args.temperature
        && !(0.0..=1.0).contains(&t)
    {
        return Err(ToolError::bad_input(format!(
            "invalid arguments for chat: temperature: {t} is outside 0 to 1"
        )));
    }
    Ok(())
}

/// The thread to continue (checked out and pinned for this call), or a new thread id once the
/// watchdog admits one.
async fn open_thread(
    ctx: &ToolContext,
    continuation_id: Option<&str>,
) -> Result<(Uuid, Option<Thread>, Option<Pin>), ToolError> {
    let mem = &ctx.config.memory;
    let store = &ctx.memory.store;
    let raw = match continuation_id.map(str::trim) {
        Some(raw) if !raw.is_empty() => raw,
        _ => {
            ctx.memory
                .watchdog
                .admit_new_thread()
                .map_err(ToolError::bad_input)?;
            // Time-ordered (v7): new threads land at the end of the store's indexes instead of
            // at random pages, which keeps disk writes per call small.
            return Ok((Uuid::now_v7(), None, None));
        }
    };
    let id = Uuid::parse_str(raw).map_err(|_| {
        ToolError::bad_input(format!(
            "invalid arguments for chat: continuation_id: '{raw}' is not a thread id \
             (a UUID from an earlier chat reply)"
        ))
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
    if thread.turn_count + 2 > mem.max_conversation_turns {
        return Err(ToolError::bad_input(format!(
            "conversation {id} is full: it has {} of MAX_CONVERSATION_TURNS ({}) turns. \
             Start a new conversation by leaving continuation_id out.",
            thread.turn_count, mem.max_conversation_turns
        )));
    }
    Ok((id, Some(thread), Some(pin)))
}

/// The two turns one call adds: only what was said.
fn exchange(prompt: String, files: Vec<String>, reply: &str, model: &str) -> Vec<Turn> {
    let now = unix_ms();
    vec![
        Turn {
            role: "user".into(),
            content: prompt,
            tool: "chat".into(),
            model: None,
            timestamp_ms: now,
            files,
        },
        Turn {
            role: "assistant".into(),
            content: reply.to_string(),
            tool: "chat".into(),
            model: Some(model.to_string()),
            timestamp_ms: now,
            files: Vec::new(),
        },
    ]
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

/// The reply, its notes, and the continuation offer.
fn reply_text(reply: &str, notes: &[String], thread: Option<Uuid>, turns_left: u32) -> String {
    let mut text = reply.to_string();
    text.push_str("\n\n---\n");
    for note in notes {
        text.push_str(&format!("note: {note}\n"));
    }
    match thread {
        None => text.push_str("continuation_id: none (start a new conversation next time).\n"),
        Some(id) if turns_left >= 2 => text.push_str(&format!(
            "continuation_id: {id} ({turns_left} turns left). Pass it as continuation_id to continue this conversation.\n"
        )),
        Some(id) => text.push_str(&format!(
            "continuation_id: {id} (no turns left: start a new conversation next time).\n"
        )),
    }
    text
}

/// The messages the model sees: system prompt, the stored turns, then the new prompt with the
/// thread's files embedded once.
/// The messages for the provider; takes the checked-out copy of the thread to move its turns
/// out rather than copy them again.
fn history(thread: Option<Thread>, prompt: &str, files_text: &str) -> Vec<Message> {
    let mut messages = vec![Message::new("system", SYSTEM_PROMPT)];
    if let Some(thread) = thread {
        if thread.dropped_turns > 0 {
            messages.push(Message::new(
                "system",
                format!(
                    "({} earlier turns of this conversation were dropped to save memory.)",
                    thread.dropped_turns
                ),
            ));
        }
        messages.extend(
            thread
                .turns
                .into_iter()
                .map(|t| Message::new(&t.role, t.content)),
        );
    }
    let content = if files_text.is_empty() {
        prompt.to_string()
    } else {
        format!("{prompt}\n\n{files_text}")
    };
    messages.push(Message::new("user", content));
    messages
}

/// Read every file of the thread plus the new ones, each once; notes say what was skipped.
async fn embed_files(
    policy: &FilePolicy,
    thread: Option<&Thread>,
    new_files: &[String],
) -> (String, Vec<String>) {
    // The files passed now first, so a long conversation's old files never crowd them out;
    // owned paths, so nothing borrowed from the thread is held across the reads below.
    let mut paths: Vec<String> = new_files.to_vec();
    if let Some(thread) = thread {
        for turn in &thread.turns {
            paths.extend(turn.files.iter().cloned());
        }
    }
    // The same file under two spellings (/a//f, /a/./f, a symlink) is embedded once.
    let mut seen = BTreeSet::new();
    let mut text = String::new();
    let mut notes = Vec::new();
    let mut embedded = 0usize;
    let mut older_left_out = 0usize;
    for (index, path) in paths.iter().enumerate() {
        let is_new = index < new_files.len();
        // Only absolute paths are read, so only they are resolved (a relative one would be
        // resolved against zen's own working directory).
        let key = if std::path::Path::new(path).is_absolute() {
            tokio::fs::canonicalize(path)
                .await
                .map_or_else(|_| path.clone(), |p| p.to_string_lossy().into_owned())
        } else {
            path.clone()
        };
        if !seen.insert(key) {
            continue;
        }
        if embedded == MAX_FILES {
            if is_new {
                notes.push(format!(
                    "skipped file {path}: a request embeds at most {MAX_FILES} files"
                ));
            } else {
                older_left_out += 1;
            }
            continue;
        }
        let room = MAX_EMBEDDED_BYTES.saturating_sub(text.len() as u64);
        match read_file(policy, path, room).await {
            Ok(content) => {
                embedded += 1;
                text.push_str(&format!(
                    "=== file: {path} ===\n{content}\n=== end of {path} ===\n"
                ));
            }
            Err(why) if is_new => notes.push(format!("skipped file {path}: {why}")),
            Err(_) => {} // reported when it was passed; it may have gone since
        }
    }
    if older_left_out > 0 {
        notes.push(format!(
            "left out {older_left_out} files from earlier turns: a request embeds at most {MAX_FILES} files"
        ));
    }
    (text, notes)
}

/// Read a file to embed, if it is text within both the per-file limit and `room`, the bytes
/// the request may still embed.
async fn read_file(policy: &FilePolicy, path: &str, room: u64) -> Result<String, String> {
    // The policy (files.rs) refuses /proc, /sys, /dev and paths outside ZEN_ALLOWED_PATHS.
    let path = policy.check(path).await?;
    let meta = tokio::fs::metadata(&path)
        .await
        .map_err(|e| format!("cannot read it ({e})"))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!("{} bytes is over the 1 MiB limit", meta.len()));
    }
    if meta.len() > room {
        return Err(format!(
            "{} bytes would take the files of this request over {} MiB",
            meta.len(),
            MAX_EMBEDDED_BYTES / (1024 * 1024)
        ));
    }
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| format!("cannot read it ({e})"))?;
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    Ok(policy.scrub(text))
}
