//! Helpers for library-level tests: a real `Server` (global permit → tool → provider permit →
//! simulated provider) built from `ServeConfig::defaults()` with a few fields changed, called
//! directly through `Server::call_tool`, as the MCP handler calls it.
#![allow(dead_code)]
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::CallToolResult;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use zen_server::config::{BreakerSpec, Latency, NameMap, ServeConfig, StoreKind};
use zen_server::serve::Server;

/// The defaults, with the simulated provider at a fixed latency and a fixed seed.
pub(crate) fn config(latency_ms: u64) -> ServeConfig {
    let mut c = ServeConfig::defaults();
    c.sim.sim_latency_ms = Latency::Fixed(latency_ms);
    c.sim.sim_seed = Some(7);
    // In memory: library tests never touch a data dir (the sqlite store has its own tests).
    c.store.kind = StoreKind::Memory;
    c
}

/// A `name=value` map, as the per-provider settings take it.
pub(crate) fn name_map<T>(items: &[(&str, T)]) -> NameMap<T>
where
    T: Clone,
{
    NameMap(
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// Breaker settings under which the simulated provider's breaker never opens, so every call
/// really reaches the provider (and waits for its faults).
pub(crate) fn breaker_never_opens() -> NameMap<BreakerSpec> {
    name_map(&[("simulated", BreakerSpec::new(1000, Duration::from_secs(1)))])
}

pub(crate) async fn app(config: ServeConfig) -> Arc<Server> {
    Server::new(config).await.expect("Server::new")
}

/// One tools/call through the Server, with a token nobody cancels.
pub(crate) async fn call(app: &Server, tool: &str, args: Value) -> CallToolResult {
    call_with(app, tool, args, CancellationToken::new()).await
}

pub(crate) async fn call_with(
    app: &Server,
    tool: &str,
    args: Value,
    ct: CancellationToken,
) -> CallToolResult {
    let args = match args {
        Value::Object(map) => Some(map),
        _ => None,
    };
    app.call_tool(tool, args, None, ct)
        .await
        .unwrap_or_else(|e| panic!("{tool} is a known tool: {e:?}"))
}

pub(crate) async fn chat(app: &Server, prompt: &str) -> CallToolResult {
    call(app, "chat", serde_json::json!({ "prompt": prompt })).await
}

pub(crate) async fn chat_on(app: &Server, prompt: &str, thread: &str) -> CallToolResult {
    call(
        app,
        "chat",
        serde_json::json!({ "prompt": prompt, "continuation_id": thread }),
    )
    .await
}

pub(crate) fn text(result: &CallToolResult) -> String {
    crate::util::text(result)
}

pub(crate) fn is_error(result: &CallToolResult) -> bool {
    crate::util::is_error(result)
}

/// The thread id a successful chat reply offers.
pub(crate) fn thread_of(result: &CallToolResult) -> String {
    assert!(!is_error(result), "{}", text(result));
    result
        .structured_content
        .as_ref()
        .expect("structured reply")["continuation_id"]
        .as_str()
        .expect("continuation_id")
        .to_string()
}

/// Every permit is back and nothing is in flight: each pool, the tool and provider series, and
/// the simulated provider's own count.
pub(crate) fn assert_idle(app: &Server) {
    let snap = app.snapshot();
    for pool in &snap.pools {
        assert_eq!(
            (pool.in_use, pool.waiting),
            (0, 0),
            "pool {} still busy: {pool:?}",
            pool.name
        );
    }
    assert_eq!(
        snap.totals.in_flight, 0,
        "tool calls in flight: {:?}",
        snap.totals
    );
    for (tool, stats) in &snap.tools {
        assert_eq!(stats.in_flight, 0, "{tool} in flight");
    }
    for (provider, stats) in &snap.providers {
        assert_eq!(stats.calls.in_flight, 0, "{provider} in flight");
    }
    assert_eq!(
        app.context.registry.simulated().in_flight(),
        0,
        "inside the simulated provider"
    );
}

/// Yield until `probe` holds: other tasks on this (paused-clock, current-thread) runtime run
/// in between, and no virtual time passes while any of them can make progress.
pub(crate) async fn until(what: &str, mut probe: impl FnMut() -> bool) {
    for _ in 0..100_000 {
        if probe() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("never saw: {what}");
}
