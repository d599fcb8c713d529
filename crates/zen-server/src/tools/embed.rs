//! File embedding, the same for every model-calling tool: the files passed now first, then the
//! thread's earlier files newest first, each file once (whatever its spelling), within the
//! per-file, per-request and file-count limits; a note names every file left out and why.
use std::collections::BTreeSet;

use super::files::{FileError, FilePolicy};
use crate::conversations::Thread;

/// Largest file embedded into a prompt.
pub(crate) const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Most file bytes one request embeds (the conversation's files together): a bound on the
/// memory of one call, whatever the number of paths.
pub(crate) const MAX_EMBEDDED_BYTES: u64 = 8 * 1024 * 1024;
/// Most files one request embeds.
pub(crate) const MAX_FILES: usize = 64;

/// Read every file of the thread plus the new ones, each once; notes say what was skipped.
pub(crate) async fn embed_files(
    policy: &FilePolicy,
    thread: Option<&Thread>,
    new_files: &[String],
) -> (String, Vec<String>) {
    // The files passed now first, so a long conversation's old files never crowd them out;
    // owned paths, so nothing borrowed from the thread is held across the reads below.
    let mut paths: Vec<String> = new_files.to_vec();
    // Earlier files newest first: when the count or byte limit bites, the oldest are left out.
    if let Some(thread) = thread {
        for turn in thread.turns.iter().rev() {
            // Images a step recorded are sent as image parts, never embedded as text.
            let files = turn
                .files
                .iter()
                .filter(|f| !super::images::is_image_path(f));
            paths.extend(files.cloned());
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
    // The policy (files.rs) refuses /proc, /sys, /dev, paths outside ZEN_ALLOWED_PATHS, and
    // anything swapped under zen while it opens it; it reads at most the limit.
    let bytes =
        (policy.read_checked(path, MAX_FILE_BYTES.min(room)).await).map_err(|e| match e {
            FileError::TooLarge { len, .. } if len > MAX_FILE_BYTES => {
                format!("{len} bytes is over the 1 MiB limit")
            }
            FileError::TooLarge { len, .. } => format!(
                "{len} bytes would take the files of this request over {} MiB",
                MAX_EMBEDDED_BYTES / (1024 * 1024)
            ),
            other => other.to_string(),
        })?;
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    Ok(policy.scrub(text))
}
