//! The conversations a call kind may continue, learnt from the replies, and reading a reply's
//! text and thread id.
use std::collections::VecDeque;
use std::sync::Mutex;

use rand::RngExt;
use rand::rngs::StdRng;
use rmcp::model::CallToolResult;
use serde_json::Value;

/// Recent conversations kept per call kind for continuations.
const RECENT_THREADS: usize = 256;

/// Conversations a call kind may continue: (continuation id, follow-ups so far).
#[derive(Default)]
pub(super) struct Threads(Mutex<VecDeque<(String, u32)>>);

impl Threads {
    /// A recent conversation to continue, with its follow-ups so far.
    pub(super) fn take(&self, rng: &mut StdRng) -> Option<(String, u32)> {
        let q = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if q.is_empty() {
            return None;
        }
        Some(q[rng.random_range(0..q.len())].clone())
    }

    /// Learn the conversation a reply belongs to; retire it after `max_chain` follow-ups.
    pub(super) fn returned(
        &self,
        result: &CallToolResult,
        continued: Option<String>,
        max_chain: u32,
    ) {
        let mut q = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match continued {
            Some(id) => {
                if let Some(pos) = q.iter().position(|(t, _)| *t == id) {
                    q[pos].1 += 1;
                    if q[pos].1 >= max_chain {
                        q.remove(pos);
                    }
                }
            }
            None => {
                if let Some(id) = continuation_id(result) {
                    if q.len() == RECENT_THREADS {
                        q.pop_front();
                    }
                    q.push_back((id, 0));
                }
            }
        }
    }
}

/// The thread id in a reply: structured `continuation_id`, else `continuation_id: <id>` in text.
fn continuation_id(result: &CallToolResult) -> Option<String> {
    if let Some(id) = result
        .structured_content
        .as_ref()
        .and_then(|v| v.get("continuation_id"))
        .and_then(Value::as_str)
    {
        return Some(id.to_string());
    }
    let text = result_text(result);
    let at = text.find("continuation_id")? + "continuation_id".len();
    let rest = text[at..].trim_start_matches([':', ' ', '"', '=']);
    let id: String = rest
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect();
    (id.len() >= 8).then_some(id)
}

/// All text content of a tool result.
pub(super) fn result_text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.as_str()))
        .collect::<Vec<_>>()
        .join("\n")
}
