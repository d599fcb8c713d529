//! The `threads` tool's view of a Redis store: the most recently used live threads, newest
//! first, read from the LRU index one thread at a time (bounded by the limit, SCAN_LIMIT and
//! the search deadline).
use redis::aio::ConnectionManager;

use super::super::search::{Recent, SEARCH_DEADLINE, contains_folded, fold};
use super::{RedisStore, SCAN_LIMIT, StoreError, ThreadSummary, Turn, Uuid};

impl RedisStore {
    /// The most recently updated live threads, newest first; with `query`, only those with a
    /// prompt containing it.
    pub(super) async fn recent_threads(
        &self,
        limit: usize,
        query: Option<&str>,
    ) -> Result<Recent, StoreError> {
        let needle = query.map(fold);
        let cutoff = self.expired_before_ms();
        let deadline = tokio::time::Instant::now() + SEARCH_DEADLINE;
        let mut out = Vec::new();
        let mut conn = self.conn.clone();
        let lru = format!("{}lru", self.prefix);
        let mut start = 0isize;
        while out.len() < limit && start < SCAN_LIMIT {
            let ids: Vec<String> = self
                .within(
                    redis::cmd("ZREVRANGE")
                        .arg(&lru)
                        .arg(start)
                        .arg(start + 99)
                        .query_async(&mut conn),
                )
                .await?;
            if ids.is_empty() {
                break;
            }
            start += ids.len() as isize;
            for id in ids {
                if out.len() == limit {
                    break;
                }
                if tokio::time::Instant::now() >= deadline {
                    return Ok(Recent {
                        threads: out,
                        complete: false,
                    });
                }
                if let Some(summary) = self
                    .summary(&mut conn, &id, cutoff, needle.as_deref())
                    .await?
                {
                    out.push(summary);
                }
            }
        }
        // Stopping at SCAN_LIMIT with room left means older threads were not read.
        let complete = out.len() == limit || start < SCAN_LIMIT;
        Ok(Recent {
            threads: out,
            complete,
        })
    }

    /// One thread's summary, if it is live and (with a query) one of its prompts matches.
    async fn summary(
        &self,
        conn: &mut ConnectionManager,
        id: &str,
        cutoff: u64,
        needle: Option<&str>,
    ) -> Result<Option<ThreadSummary>, StoreError> {
        let key = format!("{}t:{id}", self.prefix);
        let fields: Vec<Option<String>> = self
            .within(
                redis::cmd("HMGET")
                    .arg(&key)
                    .arg(&[
                        "created_ms",
                        "updated_ms",
                        "turn_count",
                        "tool",
                        "model",
                        "first_prompt",
                    ])
                    .query_async(conn),
            )
            .await?;
        let num = |i: usize| fields[i].as_deref().and_then(|s| s.parse::<u64>().ok());
        let (Some(created_ms), Some(updated_ms)) = (num(0), num(1)) else {
            return Ok(None);
        };
        if updated_ms <= cutoff {
            return Ok(None);
        }
        if let Some(needle) = needle {
            let turns: Vec<String> = self
                .within(
                    redis::cmd("LRANGE")
                        .arg(format!("{}turns:{id}", self.prefix))
                        .arg(0)
                        .arg(-1)
                        .query_async(conn),
                )
                .await?;
            let matches = turns
                .iter()
                .filter_map(|t| serde_json::from_str::<Turn>(t).ok())
                .any(|t| t.role == "user" && contains_folded(&t.content, needle));
            if !matches {
                return Ok(None);
            }
        }
        Ok(Some(ThreadSummary {
            id: Uuid::parse_str(id).unwrap_or_default(),
            created_ms,
            updated_ms,
            tool: fields[3].clone().unwrap_or_default(),
            model: fields[4].clone(),
            turn_count: num(2).unwrap_or(0) as u32,
            first_prompt: fields[5].clone().unwrap_or_default(),
        }))
    }
}
