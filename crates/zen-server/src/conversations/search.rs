//! How every backend searches recent threads for the `threads` tool, the same way: a thread
//! matches when one of its prompts contains the query, ignoring case, in time linear in the
//! text searched whatever the query (SQLite's `instr` compared the query at every position:
//! query length × stored text), and no search runs past [`SEARCH_DEADLINE`].
use std::time::Duration;

use serde::Serialize;

use super::ThreadSummary;

/// The longest a search of the store may run; past it, what was found so far is the answer
/// and it says the search stopped.
pub(crate) const SEARCH_DEADLINE: Duration = Duration::from_secs(3);

/// The threads a search found.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Recent {
    /// Newest first.
    pub threads: Vec<ThreadSummary>,
    /// False when the search stopped (at its deadline or scan limit) before reading every live
    /// thread: older threads may match too.
    pub complete: bool,
}

impl Recent {
    /// Every live thread was read.
    pub fn complete(threads: Vec<ThreadSummary>) -> Self {
        Recent {
            threads,
            complete: true,
        }
    }
}

/// The query as every backend compares it: lowercased once.
pub(crate) fn fold(query: &str) -> String {
    query.to_lowercase()
}

/// Does `text` contain `folded` (a query through [`fold`]), ignoring case? One pass over the
/// lowercased text and a linear-time substring search, so the cost is that of the text.
pub(crate) fn contains_folded(text: &str, folded: &str) -> bool {
    if folded.is_empty() {
        return true;
    }
    text.to_lowercase().contains(folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_ignores_case_and_finds_phrases() {
        let q = fold("Rust LIFETIMES");
        assert!(contains_folded("how do rust lifetimes work", &q));
        assert!(!contains_folded("rust traits", &q));
        assert!(contains_folded("ÉCOLE", &fold("école")));
        assert!(contains_folded("anything", ""));
    }

    #[test]
    fn a_long_query_on_a_long_text_costs_the_text_not_their_product() {
        // The pattern that made a naive search quadratic: a near-miss at every position.
        let text = "a".repeat(1 << 20);
        let query = fold(&format!("{}b", "a".repeat(199)));
        let started = std::time::Instant::now();
        assert!(!contains_folded(&text, &query));
        // A naive search compares about 200 MB here; this reads the 1 MB text a few times.
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}
