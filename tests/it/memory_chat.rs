//! The memory manager through the chat call path of a real Server: the conversation budget, turn
//! storage (no history doubling), pins under a call in flight, the per-thread cap, and the RSS
//! watchdog (fed real RSS readings); plus the watchdog's refusal through the real binary.
use std::time::Duration;

use serde_json::json;
use uuid::Uuid;
use zen_model::snapshot::WatchdogState;
use zen_server::conversations::Turn;

use crate::app_util::{app, chat, chat_on, config, is_error, text, thread_of, until};

const MIB: u64 = 1024 * 1024;

fn prompt_of(len: usize, i: usize) -> String {
    let mut p = format!("prompt {i}: ");
    while p.len() < len {
        p.push('p');
    }
    p
}

#[tokio::test(start_paused = true)]
async fn a_1_mib_conversation_budget_holds_through_10_000_new_chats() {
    let mut c = config(1);
    c.memory.conversation_memory_limit_mb = 1.0;
    let app = app(c).await;
    let budget = app.context.memory.stats().budget_bytes;
    assert_eq!(budget, MIB);
    let mut threads = Vec::new();
    for i in 0..10_000 {
        let reply = chat(&app, &prompt_of(300, i)).await;
        threads.push(thread_of(&reply));
        let stats = app.context.memory.stats();
        assert!(
            stats.bytes <= budget,
            "call {i}: {} > {budget}",
            stats.bytes
        );
    }
    let stats = app.context.memory.stats();
    assert!(stats.peak_bytes <= budget);
    assert!(stats.evictions.pressure > 8_000, "{:?}", stats.evictions);
    assert_eq!(stats.evictions.pressure + stats.threads, 10_000);
    // The most recent conversations continue, with their history.
    for id in &threads[threads.len() - 20..] {
        let again = chat_on(&app, "and then?", id).await;
        assert!(!is_error(&again), "{}", text(&again));
        assert!(text(&again).contains("Read 4 messages"), "{}", text(&again));
    }
    // The oldest were evicted, and say so.
    let gone = chat_on(&app, "hello?", &threads[0]).await;
    assert!(
        is_error(&gone) && text(&gone).contains("unknown or expired"),
        "{}",
        text(&gone)
    );
    assert!(app.context.memory.stats().bytes <= budget);
}

/// zen-mcp-server stored the rebuilt history as each new turn, so a thread doubled per turn.
/// Here each turn adds only the prompt and the reply.
#[tokio::test(start_paused = true)]
async fn regression_history_doubling_20_continued_turns_grow_linearly() {
    let app = app(config(1)).await;
    let prompt = "p".repeat(80);
    let first = chat(&app, &prompt).await;
    let id = thread_of(&first);
    let mut sizes = vec![app.context.memory.stats().bytes];
    for turn in 1..=20 {
        let reply = chat_on(&app, &prompt, &id).await;
        assert!(!is_error(&reply), "{}", text(&reply));
        // The model sees the whole history: system, 2 per earlier exchange, the new prompt.
        assert!(
            text(&reply).contains(&format!("Read {} messages", 2 + 2 * turn)),
            "{}",
            text(&reply)
        );
        sizes.push(app.context.memory.stats().bytes);
    }
    assert_eq!(app.context.memory.stats().threads, 1);
    let growth: Vec<u64> = sizes.windows(2).map(|w| w[1] - w[0]).collect();
    // One exchange: the 80-byte prompt and the 512-byte simulated reply, as JSON turns.
    let uuid = Uuid::parse_str(&id).unwrap();
    let thread = app
        .context
        .memory
        .store
        .checkout(uuid)
        .await
        .unwrap()
        .unwrap();
    app.context.memory.store.unpin(uuid);
    let exchange: u64 = thread.turns[..2]
        .iter()
        .map(|t| serde_json::to_vec(t).unwrap().len() as u64 + 1)
        .sum();
    assert!((650..800).contains(&exchange), "{exchange}");
    for g in &growth {
        // Only the digits of turn_count can add a byte or two.
        assert!(
            g.abs_diff(exchange) <= 2,
            "growth {growth:?} vs one exchange {exchange}"
        );
    }
    assert_eq!(thread.turns.len(), 42);
    assert!(
        thread
            .turns
            .iter()
            .filter(|t| t.role == "user")
            .all(|t| t.content == prompt)
    );
    assert!(sizes[20] < 22 * exchange);
}

#[tokio::test(start_paused = true)]
async fn a_thread_with_a_call_in_flight_is_not_evicted_under_that_call() {
    let mut c = config(1_000);
    c.memory.conversation_memory_limit_mb = 1.0;
    let app = app(c).await;
    let first = chat(&app, "remember this").await;
    let id = thread_of(&first);
    let uuid = Uuid::parse_str(&id).unwrap();
    let continued = {
        let (app, id) = (app.clone(), id.clone());
        tokio::spawn(async move { chat_on(&app, "still there?", &id).await })
    };
    until("the continued call inside the provider", || {
        app.context.registry.simulated().in_flight() == 1
    })
    .await;
    // Pressure while it runs: 5,000 other threads of 1 kB through a 1 MiB budget. The
    // continued thread is the least recently updated of all.
    for i in 0..5_000 {
        let turn = Turn {
            role: "user".into(),
            content: format!("{i:0>900}"),
            tool: "chat".into(),
            model: None,
            timestamp_ms: 0,
            files: Vec::new(),
        };
        app.context
            .memory
            .store
            .append(Uuid::new_v4(), vec![turn])
            .await
            .unwrap();
        assert!(app.context.memory.stats().bytes <= MIB);
    }
    assert!(app.context.memory.stats().evictions.pressure > 4_000);
    let reply = continued.await.unwrap();
    assert!(!is_error(&reply), "{}", text(&reply));
    let thread = app
        .context
        .memory
        .store
        .checkout(uuid)
        .await
        .unwrap()
        .expect("still stored");
    app.context.memory.store.unpin(uuid);
    // Both exchanges: the first one was not lost under the call.
    assert_eq!((thread.turns.len(), thread.turn_count), (4, 4));
    assert_eq!(thread.turns[0].content, "remember this");
}

#[tokio::test(start_paused = true)]
async fn a_thread_over_zen_thread_max_bytes_drops_its_oldest_turns_and_says_so() {
    let mut c = config(1);
    c.memory.thread_max_bytes = Some(3_000);
    let app = app(c).await;
    let id = thread_of(&chat(&app, &prompt_of(80, 0)).await);
    let mut dropped_note = None;
    for i in 1..8 {
        let reply = chat_on(&app, &prompt_of(80, i), &id).await;
        assert!(!is_error(&reply), "{}", text(&reply));
        assert!(app.context.memory.stats().bytes <= 3_000);
        if text(&reply).contains("dropped") {
            dropped_note.get_or_insert(text(&reply));
        }
    }
    let note = dropped_note.expect("a reply says turns were dropped");
    assert!(
        note.contains("oldest turns of this conversation were dropped"),
        "{note}"
    );
    assert!(note.contains("ZEN_THREAD_MAX_BYTES (3000 bytes)"), "{note}");
    let stats = app.context.memory.stats();
    assert!(stats.evictions.oversize > 0);
    let uuid = Uuid::parse_str(&id).unwrap();
    let thread = app
        .context
        .memory
        .store
        .checkout(uuid)
        .await
        .unwrap()
        .unwrap();
    app.context.memory.store.unpin(uuid);
    assert!(thread.dropped_turns > 0 && thread.turn_count == 16);
    assert_eq!(thread.turns.len() as u32 + thread.dropped_turns, 16);
    // The model is told too: system, the "dropped" note, the stored turns, the new prompt.
    let next = chat_on(&app, "next", &id).await;
    let seen = 1 + 1 + thread.turns.len() + 1;
    assert!(
        text(&next).contains(&format!("Read {seen} messages")),
        "{}",
        text(&next)
    );
}

/// One exchange larger than ZEN_THREAD_MAX_BYTES is not kept; the reply says so and offers
/// no continuation_id that would turn out unknown.
#[tokio::test(start_paused = true)]
async fn regression_an_exchange_over_zen_thread_max_bytes_is_not_kept_and_the_reply_says_so() {
    let mut c = config(1);
    c.memory.thread_max_bytes = Some(3_000);
    let app = app(c).await;
    let reply = chat(&app, &"big ".repeat(1_000)).await;
    assert!(!is_error(&reply), "{}", text(&reply));
    let body = text(&reply);
    assert!(
        body.contains("larger than ZEN_THREAD_MAX_BYTES (3000 bytes), so it was not kept"),
        "{body}"
    );
    assert!(body.contains("continuation_id: none"), "{body}");
    assert!(reply.structured_content.as_ref().unwrap()["continuation_id"].is_null());
    assert_eq!(app.context.memory.stats().threads, 0);
    // On an existing conversation it continues without that exchange.
    let id = thread_of(&chat(&app, "small").await);
    let big = chat_on(&app, &"big ".repeat(1_000), &id).await;
    assert!(
        text(&big).contains("the conversation continues without it"),
        "{}",
        text(&big)
    );
    assert_eq!(
        big.structured_content.as_ref().unwrap()["continuation_id"],
        json!(id)
    );
    let after = chat_on(&app, "small again", &id).await;
    assert!(text(&after).contains("Read 4 messages"), "{}", text(&after));
}

/// RSS readings are given, not sampled: what matters is how much of them conversations hold.
#[tokio::test(start_paused = true)]
async fn the_watchdog_refuses_new_threads_over_memory_limit_mb_and_recovers() {
    // A limit every reading below is measured against.
    let limit: u64 = 1000;
    let mut c = config(1);
    c.memory.memory_limit_mb = limit as f64 / MIB as f64;
    let app = app(c).await;
    let existing: Vec<String> = {
        let mut ids = Vec::new();
        for i in 0..10 {
            ids.push(thread_of(&chat(&app, &format!("before {i}")).await));
        }
        ids
    };

    // Over the limit, with conversations holding a large share of it (1.5x their bytes).
    let own_rss = app.context.memory.stats().bytes * 2;
    assert!(own_rss > limit);
    let small_rss = limit / 10;
    app.context.memory.observe_rss(own_rss).await;
    let stats = app.context.memory.stats();
    assert_eq!(stats.watchdog.state, WatchdogState::Refusing);
    assert_eq!(stats.watchdog.rss_bytes, own_rss);
    // It forced a cleanup: at least 20% of the threads went.
    assert_eq!((stats.threads, stats.evictions.pressure), (8, 2));
    let refused = chat(&app, "a new conversation").await;
    assert!(is_error(&refused));
    let message = text(&refused);
    assert!(
        message.contains("zen is over its memory limit"),
        "{message}"
    );
    assert!(message.contains("MEMORY_LIMIT_MB"), "{message}");
    assert!(
        message.contains("Existing conversations (continuation_id) still work"),
        "{message}"
    );
    // Existing threads continue.
    let kept = existing.last().unwrap();
    let again = chat_on(&app, "go on", kept).await;
    assert!(!is_error(&again), "{}", text(&again));
    assert_eq!(app.context.memory.stats().watchdog.refused_threads_total, 1);
    assert_eq!(app.snapshot().tools["chat"].errors.tool_error, 1);

    // A second high reading within the check interval does not wipe more threads.
    app.context.memory.observe_rss(own_rss).await;
    assert_eq!(app.context.memory.stats().threads, 8);

    app.context.memory.observe_rss(small_rss).await;
    assert_eq!(app.context.memory.stats().watchdog.state, WatchdogState::Ok);
    let recovered = chat(&app, "a new conversation, later").await;
    assert!(!is_error(&recovered), "{}", text(&recovered));
    assert_eq!(app.context.memory.stats().threads, 9);
}

#[tokio::test(start_paused = true)]
async fn memory_not_held_by_conversations_neither_evicts_nor_refuses_them() {
    // A session flood, say: RSS far over the limit while conversations hold a few KB of it.
    let mut c = config(1);
    c.memory.memory_limit_mb = 1000.0 / MIB as f64;
    let app = app(c).await;
    let kept = thread_of(&chat(&app, "a user's conversation").await);
    let flood_rss = 100 * MIB;
    app.context.memory.observe_rss(flood_rss).await;
    let stats = app.context.memory.stats();
    assert_eq!(stats.watchdog.state, WatchdogState::Refusing);
    assert_eq!((stats.threads, stats.evictions.pressure), (1, 0));
    assert_eq!(stats.watchdog.pressure_elsewhere_total, 1);
    let new = chat(&app, "a new conversation").await;
    assert!(!is_error(&new), "{}", text(&new));
    let again = chat_on(&app, "go on", &kept).await;
    assert!(!is_error(&again), "{}", text(&again));
    assert_eq!(app.context.memory.stats().watchdog.refused_threads_total, 0);
}

/// End to end: `zen serve` with MEMORY_LIMIT_MB far under its own RSS, which conversations do
/// not hold, keeps taking new conversations (it used to refuse them).
#[tokio::test]
async fn a_tiny_memory_limit_mb_does_not_refuse_conversations_for_memory_they_do_not_hold() {
    use crate::util::{call, is_error, snapshot, stdio_zen, text, wait_for};
    let zen = stdio_zen(
        &[],
        &[("ZEN_SIM_LATENCY_MS", "1"), ("MEMORY_LIMIT_MB", "1")],
    )
    .await;
    wait_for(
        "the watchdog to read RSS",
        Duration::from_secs(10),
        async || snapshot(&zen.client).await["conversations"]["watchdog"]["state"] == "refusing",
    )
    .await;
    let admitted = call(&zen.client, "chat", json!({"prompt": "hello"})).await;
    assert!(!is_error(&admitted), "{}", text(&admitted));
    let snap = snapshot(&zen.client).await;
    assert_eq!(
        snap["conversations"]["watchdog"]["refused_threads_total"],
        0
    );
    assert_eq!(snap["conversations"]["watchdog"]["limit_bytes"], MIB);
    assert!(
        snap["conversations"]["watchdog"]["rss_bytes"]
            .as_u64()
            .unwrap()
            > MIB
    );
    assert_eq!(snap["tools"]["chat"]["errors"]["tool_error"], 0);
}
