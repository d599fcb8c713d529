//! The chat flow: validate, look up the thread (pinned while the call runs), rebuild the history
//! for the model, call the provider, store the new turns (only what was said), and reply with a
//! continuation offer.
use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::json;
use uuid::Uuid;

use super::files::FilePolicy;
use super::{ChatArgs, ToolContext, ToolError, ToolReply};
use crate::clock::unix_ms;
use crate::memory::{ConversationStore, Thread, Turn};
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
    let route = ctx
        .registry
        .resolve(args.model.as_deref())
        .map_err(ToolError::bad_input)?;
    let store = ctx.memory.store.clone();

    let (thread_id, thread, _pin) = match args.continuation_id.as_deref().map(str::trim) {
        Some(raw) if !raw.is_empty() => {
            let id = Uuid::parse_str(raw).map_err(|_| {
                ToolError::bad_input(format!(
                    "invalid arguments for chat: continuation_id: '{raw}' is not a thread id \
                     (a UUID from an earlier chat reply)"
                ))
            })?;
            let thread = store.checkout(id).await.ok_or_else(|| {
                ToolError::bad_input(format!(
                    "continuation_id {id} is unknown or expired: conversations end \
                     {} hours after their last turn (CONVERSATION_TIMEOUT_HOURS), when zen \
                     restarts, or when evicted under memory pressure. Start a new conversation \
                     by leaving continuation_id out.",
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
            (id, Some(thread), Some(pin))
        }
        _ => {
            ctx.memory
                .watchdog
                .admit_new_thread()
                .map_err(ToolError::bad_input)?;
            (Uuid::new_v4(), None, None)
        }
    };

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

    let now = unix_ms();
    let model_label = format!("{}/{}", route.provider.name(), route.model);
    let turns = vec![
        Turn {
            role: "user".into(),
            content: args.prompt,
            tool: "chat".into(),
            model: None,
            timestamp_ms: now,
            files: args.absolute_file_paths,
        },
        Turn {
            role: "assistant".into(),
            content: completion.text.clone(),
            tool: "chat".into(),
            model: Some(model_label.clone()),
            timestamp_ms: now,
            files: Vec::new(),
        },
    ];
    let report = store
        .append_within(thread_id, turns, mem.max_conversation_turns)
        .await;
    // A new conversation whose first exchange was too large to keep has nothing to continue.
    let continuable = report.stored || continuing;
    if report.full {
        notes.push(format!(
            "another call on this conversation took its last turns at the same moment, so this \
             exchange was not kept: the conversation is full (MAX_CONVERSATION_TURNS {})",
            mem.max_conversation_turns
        ));
    } else if !report.stored {
        notes.push(format!(
            "this exchange ({} bytes) is larger than ZEN_THREAD_MAX_BYTES ({} bytes), so it was \
             not kept in memory: {}",
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
            "the {} oldest turns of this conversation were dropped from memory to keep it under \
             ZEN_THREAD_MAX_BYTES ({} bytes); the model no longer sees them",
            report.dropped_turns,
            mem.thread_max_bytes()
        ));
    }
    let turns_left = mem.max_conversation_turns.saturating_sub(report.turn_count);
    let mut text = completion.text.clone();
    text.push_str("\n\n---\n");
    for note in &notes {
        text.push_str(&format!("note: {note}\n"));
    }
    if !continuable {
        text.push_str("continuation_id: none (start a new conversation next time).\n");
    } else if turns_left >= 2 {
        text.push_str(&format!(
            "continuation_id: {thread_id} ({turns_left} turns left). Pass it as continuation_id to continue this conversation.\n"
        ));
    } else {
        text.push_str(&format!(
            "continuation_id: {thread_id} (no turns left: start a new conversation next time).\n"
        ));
    }
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
