//! The server's side of a report, when the target is zen: its pools, providers, memory and CPU
//! around the run, from two snapshots.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::snapshot::Snapshot;

/// zen's own figures around the run (peaks are since the server started).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ServerSide {
    /// Each pool's figures: the global pool first, then one per provider.
    pub pools: Vec<PoolSide>,
    /// Each provider's requests, retries and circuit breaker.
    pub providers: Vec<ProviderSide>,
    /// The server's resident memory before the run, bytes.
    pub rss_before_bytes: u64,
    /// The server's resident memory after the run, bytes.
    pub rss_after_bytes: u64,
    /// Conversation bytes stored after the run (held against the budget).
    pub conversation_bytes: u64,
    /// Most conversation bytes ever stored at once.
    pub conversation_peak_bytes: u64,
    /// The conversation store's byte budget (CONVERSATION_MEMORY_LIMIT_MB in bytes).
    pub conversation_budget_bytes: u64,
    /// Conversation threads stored after the run.
    pub conversation_threads: u64,
    /// Threads evicted during the run, under pressure or on expiry.
    pub evictions_during_run: u64,
    /// Prompt tokens the providers reported during the run (all providers and models).
    #[serde(default)]
    pub prompt_tokens_during_run: u64,
    /// Completion tokens the providers reported during the run.
    #[serde(default)]
    pub completion_tokens_during_run: u64,
    /// CPU time (user + system) the server process used during the run (0 from a zen that
    /// does not report it).
    #[serde(default)]
    pub cpu_secs_during_run: f64,
    /// That CPU time per call of the run (its own snapshot calls included, which are two).
    #[serde(default)]
    pub cpu_us_per_call: f64,
}

/// One pool's figures around a run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PoolSide {
    /// `global` or the provider's name.
    pub name: String,
    /// Permits in the pool.
    pub limit: u32,
    /// Most permits ever held at once.
    pub peak_in_use: u64,
    /// Most calls ever waiting for a permit at once.
    pub peak_waiting: u64,
    /// Permits held when the run ended.
    pub in_use_after: u64,
    /// 99th percentile wait for a permit during the run, ms (0 when no permit was taken).
    pub queue_wait_p99_ms: f64,
    /// Calls the pool turned away during the run (queue timeout or shutdown).
    pub rejected_during_run: u64,
}

/// One provider's figures around a run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProviderSide {
    /// The provider (`openai`, `simulated`, …).
    pub name: String,
    /// Most requests to it ever in flight at once.
    pub peak_in_flight: u64,
    /// Provider requests finished during the run (retries happen inside one).
    pub calls_during_run: u64,
    /// Extra attempts made after retryable failures during the run.
    pub retries_during_run: u64,
    /// Times its circuit breaker opened during the run.
    pub breaker_opened_during_run: u64,
    /// Its circuit breaker's state after the run: `closed`, `open` or `half_open`.
    pub breaker_state_after: String,
}

impl ServerSide {
    /// The difference between two snapshots of the same server.
    pub fn between(before: &Snapshot, after: &Snapshot, calls: u64) -> Self {
        let pools = after
            .pools
            .iter()
            .map(|p| {
                let was = before.pools.iter().find(|b| b.name == p.name);
                PoolSide {
                    name: p.name.clone(),
                    limit: p.limit,
                    peak_in_use: p.peak_in_use,
                    peak_waiting: p.peak_waiting,
                    in_use_after: p.in_use,
                    // The run's own waits, exactly: the server may have queued before the run.
                    queue_wait_p99_ms: crate::snapshot::WindowLatency::between(
                        was.map(|b| &b.queue_wait),
                        &p.queue_wait,
                    )
                    .map_or(0.0, |w| w.p99_ms),
                    rejected_during_run: p.rejected_total - was.map_or(0, |b| b.rejected_total),
                }
            })
            .collect();
        let providers = after
            .providers
            .iter()
            .map(|(name, p)| {
                let was = before.providers.get(name);
                ProviderSide {
                    name: name.clone(),
                    peak_in_flight: p.calls.peak_in_flight,
                    calls_during_run: p.calls.total_operations
                        - was.map_or(0, |b| b.calls.total_operations),
                    retries_during_run: p.retries_total - was.map_or(0, |b| b.retries_total),
                    breaker_opened_during_run: p.breaker.opened_total
                        - was.map_or(0, |b| b.breaker.opened_total),
                    breaker_state_after: p.breaker.state.as_str().to_string(),
                }
            })
            .collect();
        let ev = |s: &Snapshot| {
            let e = &s.conversations.evictions;
            e.pressure + e.expiry
        };
        let cpu = (after.system.cpu_secs - before.system.cpu_secs).max(0.0);
        let tokens_before = crate::snapshot::token_totals(&before.tokens);
        let tokens_after = crate::snapshot::token_totals(&after.tokens);
        ServerSide {
            pools,
            providers,
            rss_before_bytes: before.system.rss_bytes,
            rss_after_bytes: after.system.rss_bytes,
            conversation_bytes: after.conversations.bytes,
            conversation_peak_bytes: after.conversations.peak_bytes,
            conversation_budget_bytes: after.conversations.budget_bytes,
            conversation_threads: after.conversations.threads,
            evictions_during_run: ev(after) - ev(before),
            prompt_tokens_during_run: tokens_after.0.saturating_sub(tokens_before.0),
            completion_tokens_during_run: tokens_after.1.saturating_sub(tokens_before.1),
            cpu_secs_during_run: cpu,
            cpu_us_per_call: if calls == 0 {
                0.0
            } else {
                cpu * 1e6 / calls as f64
            },
        }
    }
}
