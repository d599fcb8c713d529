//! The conformance suite every conversation-store backend passes (memory, sqlite and redis; each
//! test runs once per backend): the byte budget, exact byte accounting, LRU eviction that skips
//! pinned threads, per-thread caps, the turn cap under concurrent appends, and expiry on
//! tokio's paused clock.
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use zen_model::snapshot::StoreStats;
use zen_server::conversations::{
    AppendReport, ConversationStore, MemoryStore, RedisStore, SqliteStore, StoreLimits, Thread,
    Turn,
};
use zen_server::memory::monitor::{MemoryManager, run_monitor};

const MIB: u64 = 1024 * 1024;
const HOUR: Duration = Duration::from_secs(3600);

fn limits(budget_bytes: u64) -> StoreLimits {
    StoreLimits {
        budget_bytes,
        threshold: 0.8,
        thread_max_bytes: budget_bytes / 10,
        ttl: 3 * HOUR,
    }
}

fn turn(role: &str, content: String) -> Turn {
    Turn {
        role: role.to_string(),
        content,
        tool: "chat".to_string(),
        model: (role == "assistant").then(|| "simulated/simulated".to_string()),
        timestamp_ms: 1_700_000_000_000,
        files: Vec::new(),
    }
}

/// A user turn whose serialized form is about `bytes` long.
fn sized_turn(bytes: usize) -> Turn {
    turn("user", "x".repeat(bytes.saturating_sub(90)))
}

/// The turn of a one-turn thread of about 1 kB.
fn kb_thread_turn() -> Turn {
    sized_turn(876)
}

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy)]
enum Backend {
    Memory,
    Sqlite,
    Redis,
}

impl Backend {
    /// True when the backend's server is missing and ZEN_SKIP_REDIS_TESTS asks to skip (the
    /// test then returns); a missing redis-server without it fails the test.
    fn unavailable(self) -> bool {
        matches!(self, Backend::Redis) && !crate::redis_util::available()
    }
}

/// A store under test, with the old infallible call shapes (a store error fails the test).
struct Store {
    /// The backend under test.
    inner: Arc<dyn ConversationStore>,
    /// What the backend needs kept alive: the sqlite store's data dir, or the redis-server.
    _guard: Option<Box<dyn std::any::Any + Send + Sync>>,
}

impl Store {
    async fn new(backend: Backend, limits: StoreLimits) -> Store {
        match backend {
            Backend::Memory => Store {
                inner: Arc::new(MemoryStore::new(limits)),
                _guard: None,
            },
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let store = SqliteStore::open(dir.path(), limits, 1 << 20).unwrap();
                Store {
                    inner: Arc::new(store),
                    _guard: Some(Box::new(dir)),
                }
            }
            Backend::Redis => {
                let server = crate::redis_util::RedisServer::start().await;
                let store = RedisStore::open(&server.url(), "zen-test:", limits)
                    .await
                    .unwrap();
                Store {
                    inner: Arc::new(store),
                    _guard: Some(Box::new(server)),
                }
            }
        }
    }
    async fn append(&self, id: Uuid, turns: Vec<Turn>) -> AppendReport {
        self.inner.append(id, turns).await.expect("store write")
    }
    async fn append_within(&self, id: Uuid, turns: Vec<Turn>, max: u32) -> AppendReport {
        (self.inner.append_within(id, turns, max).await).expect("store write")
    }
    async fn checkout(&self, id: Uuid) -> Option<Thread> {
        self.inner.checkout(id).await.expect("store read")
    }
    fn unpin(&self, id: Uuid) {
        self.inner.unpin(id);
    }
    fn stats(&self) -> StoreStats {
        self.inner.stats()
    }
    /// The stored size of one thread (read without touching its place in the LRU order).
    async fn thread_size(&self, id: Uuid) -> Option<u64> {
        stored(self, id).await.map(|t| json_len(&t))
    }
}

/// The thread as stored (checked out, then unpinned again).
async fn stored(store: &Store, id: Uuid) -> Option<Thread> {
    let thread = store.checkout(id).await?;
    store.unpin(id);
    Some(thread)
}

/// Each named test, once per backend.
macro_rules! conformance {
    ($($flavor:tt $name:ident,)*) => {
        mod memory {
            $( conformance!(@one $flavor $name Memory); )*
        }
        mod sqlite {
            $( conformance!(@one $flavor $name Sqlite); )*
        }
        mod redis {
            $( conformance!(@redis $flavor $name); )*
        }
    };
    // Redis runs on its own (real) clock: the paused-clock test has a real-time twin below.
    (@redis paused $name:ident) => {};
    (@redis $flavor:tt $name:ident) => {
        conformance!(@one $flavor $name Redis);
    };
    (@one plain $name:ident $backend:ident) => {
        #[tokio::test]
        async fn $name() {
            if super::Backend::$backend.unavailable() {
                return;
            }
            super::$name(super::Backend::$backend).await
        }
    };
    (@one multi $name:ident $backend:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            if super::Backend::$backend.unavailable() {
                return;
            }
            super::$name(super::Backend::$backend).await
        }
    };
    (@one paused $name:ident $backend:ident) => {
        #[tokio::test(start_paused = true)]
        async fn $name() {
            if super::Backend::$backend.unavailable() {
                return;
            }
            super::$name(super::Backend::$backend).await
        }
    };
}

conformance! {
    plain a_1_mib_budget_holds_under_10_000_new_threads_of_1_kb,
    plain stored_size_is_exactly_the_serialized_thread,
    multi regression_two_calls_racing_for_the_last_turns_cannot_both_take_them,
    multi fifty_concurrent_appends_never_pass_the_turn_cap,
    plain a_pinned_thread_is_never_evicted_under_pressure,
    plain with_every_other_thread_pinned_the_budget_is_exceeded_by_at_most_the_thread_written,
    plain eviction_follows_last_update_not_last_read,
    paused expired_threads_are_freed_and_a_pinned_one_waits_for_its_call,
    plain regression_new_turns_over_thread_max_bytes_are_not_stored,
    plain recent_lists_newest_first_and_finds_prompts,
}

fn json_len(thread: &Thread) -> u64 {
    serde_json::to_vec(thread).unwrap().len() as u64
}

async fn a_1_mib_budget_holds_under_10_000_new_threads_of_1_kb(backend: Backend) {
    let store = Store::new(backend, limits(MIB)).await;
    let mut ids = Vec::new();
    for _ in 0..10_000 {
        let id = Uuid::new_v4();
        let report = store.append(id, vec![kb_thread_turn()]).await;
        assert!((990..=1010).contains(&report.thread_bytes), "{report:?}");
        let stats = store.stats();
        assert!(
            stats.bytes <= stats.budget_bytes,
            "{} > {}",
            stats.bytes,
            stats.budget_bytes
        );
        ids.push(id);
    }
    let stats = store.stats();
    assert!(stats.peak_bytes <= MIB);
    assert!(
        stats.peak_bytes > MIB * 9 / 10,
        "the budget was used: {}",
        stats.peak_bytes
    );
    // Nothing is lost from the books: every thread is stored or counted as evicted.
    assert_eq!(stats.evictions.pressure + stats.threads, 10_000);
    assert!(stats.evictions.pressure >= 9_000, "{stats:?}");
    assert_eq!(stats.evictions.expiry, 0);
    // Evictions go 20% at a time, not one thread per write.
    assert!(
        stats.cleanups_total < 100,
        "{} cleanups",
        stats.cleanups_total
    );
    // The most recent threads are the ones kept, and they can be continued.
    for id in &ids[ids.len() - 500..] {
        assert!(stored(&store, *id).await.is_some());
    }
    assert!(stored(&store, ids[0]).await.is_none());
    let last = *ids.last().unwrap();
    let report = store
        .append(last, vec![turn("assistant", "reply".into())])
        .await;
    assert_eq!(report.turn_count, 2);
    assert!(store.stats().bytes <= MIB);
}

async fn stored_size_is_exactly_the_serialized_thread(backend: Backend) {
    let store = Store::new(backend, limits(MIB)).await;
    let id = Uuid::new_v4();
    let mut user = turn(
        "user",
        "quotes \" backslashes \\ newlines \n tabs \t unicode é 😀 \u{0001}".into(),
    );
    user.files = vec!["/tmp/a file.rs".into(), "/tmp/ü.txt".into()];
    store
        .append(id, vec![user, turn("assistant", "ok".into())])
        .await;
    let thread = stored(&store, id).await.unwrap();
    assert_eq!(store.thread_size(id).await, Some(json_len(&thread)));
    assert_eq!(store.stats().bytes, json_len(&thread));
    // And after oversize drops rewrite the header.
    let small = Store::new(
        backend,
        StoreLimits {
            thread_max_bytes: 2_000,
            ..limits(MIB)
        },
    )
    .await;
    for i in 0..10 {
        small
            .append(id, vec![turn("user", format!("{i}").repeat(300))])
            .await;
        let thread = stored(&small, id).await.unwrap();
        assert_eq!(small.thread_size(id).await, Some(json_len(&thread)));
        assert!(json_len(&thread) <= 2_000);
    }
    assert!(stored(&small, id).await.unwrap().dropped_turns > 0);
}

fn arb_turn() -> impl Strategy<Value = Turn> {
    (
        prop_oneof![Just("user"), Just("assistant")],
        any::<String>(),
        proptest::collection::vec(any::<String>(), 0..3),
        any::<u64>(),
    )
        .prop_map(|(role, content, files, timestamp_ms)| {
            let mut t = turn(role, content);
            t.files = files;
            t.timestamp_ms = timestamp_ms;
            t
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn prop_stored_size_equals_serde_json_len(
        batches in proptest::collection::vec(proptest::collection::vec(arb_turn(), 1..4), 1..8),
        thread_max in 300u64..5_000,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        for backend in [Backend::Memory, Backend::Sqlite] {
            let limits = StoreLimits { thread_max_bytes: thread_max, ..limits(MIB) };
            let store = runtime.block_on(Store::new(backend, limits));
            let id = Uuid::new_v4();
            let batches = batches.clone();
            runtime.block_on(async {
                for batch in batches {
                    let before = store.thread_size(id).await;
                    let report = store.append(id, batch).await;
                    if !report.stored {
                        // Too big even alone: not stored, the thread unchanged.
                        prop_assert_eq!(store.thread_size(id).await, before);
                        prop_assert_eq!(report.thread_bytes, before.unwrap_or(0));
                        continue;
                    }
                    let thread = stored(&store, id).await.unwrap();
                    prop_assert_eq!(report.thread_bytes, json_len(&thread));
                    prop_assert_eq!(store.stats().bytes, json_len(&thread));
                    prop_assert!(json_len(&thread) <= thread_max);
                }
                Ok(())
            })?;
        }
    }
}

async fn regression_two_calls_racing_for_the_last_turns_cannot_both_take_them(backend: Backend) {
    // Both calls checked the cap before either wrote: the store decides under its lock.
    let store = Arc::new(Store::new(backend, limits(MIB)).await);
    let id = Uuid::new_v4();
    let exchange = || vec![turn("user", "q".into()), turn("assistant", "a".into())];
    for _ in 0..9 {
        assert!(store.append_within(id, exchange(), 20).await.stored);
    }
    let racers: Vec<_> = (0..2)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.append_within(id, exchange(), 20).await })
        })
        .collect();
    let mut reports = Vec::new();
    for racer in racers {
        reports.push(racer.await.unwrap());
    }
    assert_eq!(
        reports.iter().filter(|r| r.stored).count(),
        1,
        "{reports:?}"
    );
    let refused = reports.iter().find(|r| !r.stored).unwrap();
    assert!(refused.full && refused.turn_count == 20, "{refused:?}");
    assert_eq!(stored(&store, id).await.unwrap().turn_count, 20);
    // Without a cap, append goes on as before.
    assert!(store.append(id, exchange()).await.stored);
}

async fn a_pinned_thread_is_never_evicted_under_pressure(backend: Backend) {
    let store = Store::new(backend, limits(64 * 1024)).await;
    let pinned = Uuid::new_v4();
    store.append(pinned, vec![sized_turn(1000)]).await;
    // A call is in flight on it: checked out, not yet unpinned.
    assert!(store.checkout(pinned).await.is_some());
    for _ in 0..2_000 {
        store.append(Uuid::new_v4(), vec![sized_turn(1000)]).await;
        assert!(
            store.thread_size(pinned).await.is_some(),
            "the pinned thread was evicted"
        );
        assert!(store.stats().bytes <= 64 * 1024);
    }
    assert!(store.stats().evictions.pressure > 1_900);
    // The call ends and writes its turns: the thread is whole.
    let report = store.append(pinned, vec![sized_turn(1000)]).await;
    assert_eq!(report.turn_count, 2);
    store.unpin(pinned);
    // Unpinned and then the least recently updated, it goes like any other.
    for _ in 0..200 {
        store.append(Uuid::new_v4(), vec![sized_turn(1000)]).await;
    }
    assert!(store.thread_size(pinned).await.is_none());
}

/// Pinned threads are never evicted, even when they alone fill the budget: a new thread is
/// then stored over the budget, but by no more than itself, and it goes at the next write.
async fn with_every_other_thread_pinned_the_budget_is_exceeded_by_at_most_the_thread_written(
    backend: Backend,
) {
    let budget = 64 * 1024;
    let store = Store::new(backend, limits(budget)).await;
    let mut pinned = Vec::new();
    while store.stats().bytes + 1_000 <= budget {
        let id = Uuid::new_v4();
        store.append(id, vec![kb_thread_turn()]).await;
        assert!(store.checkout(id).await.is_some());
        pinned.push(id);
    }
    let pinned_bytes = store.stats().bytes;
    for _ in 0..20 {
        let report = store.append(Uuid::new_v4(), vec![kb_thread_turn()]).await;
        let total = store.stats().bytes;
        assert!(total > budget, "only pinned threads are left to evict");
        assert!(
            total <= budget + report.thread_bytes,
            "{total} > {budget} + {}",
            report.thread_bytes
        );
        assert_eq!(total, pinned_bytes + report.thread_bytes);
    }
    assert_eq!(store.stats().evictions.pressure, 19);
    for id in &pinned {
        assert!(store.thread_size(*id).await.is_some());
        store.unpin(*id);
    }
    // Unpinned, the next write brings the store back under its threshold.
    store.append(Uuid::new_v4(), vec![kb_thread_turn()]).await;
    assert!(store.stats().bytes as f64 <= budget as f64 * 0.8);
}

async fn eviction_follows_last_update_not_last_read(backend: Backend) {
    let probe = Store::new(backend, limits(MIB)).await;
    probe.append(Uuid::new_v4(), vec![sized_turn(1000)]).await;
    let one = probe.stats().bytes;
    // Room for 18 such threads and a little more.
    let budget = 18 * one + one / 2;
    let store = Store::new(backend, limits(budget)).await;
    let ids: Vec<Uuid> = (0..18).map(|_| Uuid::new_v4()).collect();
    for id in &ids {
        store.append(*id, vec![sized_turn(1000)]).await;
    }
    // Reading the oldest does not make it recent; updating the second oldest does.
    assert!(stored(&store, ids[0]).await.is_some());
    store.append(ids[1], vec![sized_turn(200)]).await;
    assert_eq!(store.stats().evictions.pressure, 0);
    // One more thread crosses the budget.
    store.append(Uuid::new_v4(), vec![sized_turn(1000)]).await;
    let order: Vec<usize> = std::iter::once(0)
        .chain(2..18)
        .chain(std::iter::once(1))
        .collect();
    let mut gone: Vec<usize> = Vec::new();
    for i in order.iter().copied() {
        if store.thread_size(ids[i]).await.is_none() {
            gone.push(i);
        }
    }
    // Least recently updated first, at least 20% of the 18, and down under the threshold.
    assert_eq!(gone, order[..gone.len()].to_vec());
    assert!(gone.len() >= 4, "{gone:?}");
    let stats = store.stats();
    assert!(
        stats.bytes as f64 <= budget as f64 * 0.8,
        "{} of {budget}",
        stats.bytes
    );
    assert_eq!(stats.evictions.pressure, gone.len() as u64);
    assert_eq!(stats.cleanups_total, 1);
    assert_eq!(stats.last_cleanup.unwrap().evicted, gone.len() as u64);
}

async fn expired_threads_are_freed_and_a_pinned_one_waits_for_its_call(backend: Backend) {
    // No timers run here, so tokio's paused clock moves only when told (advance).
    let store = Store::new(
        backend,
        StoreLimits {
            ttl: HOUR,
            ..limits(MIB)
        },
    )
    .await;
    let old: Vec<Uuid> = (0..50).map(|_| Uuid::new_v4()).collect();
    for id in &old {
        store.append(*id, vec![sized_turn(1000)]).await;
    }
    let pinned = old[7];
    assert!(store.checkout(pinned).await.is_some());
    tokio::time::advance(Duration::from_secs(30 * 60)).await;
    let fresh: Vec<Uuid> = (0..10).map(|_| Uuid::new_v4()).collect();
    let mut fresh_bytes = 0;
    for id in &fresh {
        fresh_bytes += store.append(*id, vec![sized_turn(1000)]).await.thread_bytes;
    }
    let pinned_bytes = json_len(&store.checkout(pinned).await.unwrap());
    store.unpin(pinned);
    // At 62.5 min the old ones are over an hour idle.
    tokio::time::advance(Duration::from_secs(32 * 60 + 30)).await;
    store.inner.cleanup(false).await.unwrap();
    let stats = store.stats();
    assert_eq!(stats.threads, 11, "10 fresh and the pinned old one");
    assert_eq!(
        stats.bytes,
        fresh_bytes + pinned_bytes,
        "expired threads' bytes are freed"
    );
    assert_eq!(stats.evictions.expiry, 49);
    assert_eq!(stats.evictions.pressure, 0);
    // An expired thread is never handed out, even before a cleanup ran.
    assert!(stored(&store, old[0]).await.is_none());
    // The call on the pinned thread ends; the next cleanup frees it too.
    store.unpin(pinned);
    store.inner.cleanup(false).await.unwrap();
    assert_eq!(store.stats().evictions.expiry, 50);
    // At 92.5 min the fresh ones have gone as well.
    tokio::time::advance(Duration::from_secs(30 * 60)).await;
    store.inner.cleanup(false).await.unwrap();
    let stats = store.stats();
    assert_eq!(
        (stats.threads, stats.bytes, stats.evictions.expiry),
        (0, 0, 60)
    );
}

/// The monitor runs the store's cleanup every ZEN_MEMORY_CHECK_SECS (memory backend: its
/// operations never wait on another thread, so the paused clock's auto-advance is exact).
#[tokio::test(start_paused = true)]
async fn the_monitor_frees_expired_threads_on_its_schedule() {
    let store = Arc::new(MemoryStore::new(StoreLimits {
        ttl: HOUR,
        ..limits(MIB)
    }));
    let manager = Arc::new(MemoryManager::new(
        store.clone(),
        u64::MAX,
        Duration::from_secs(300),
    ));
    let shutdown = CancellationToken::new();
    let monitor = tokio::spawn(run_monitor(manager.clone(), shutdown.clone()));
    for _ in 0..50 {
        store
            .append(Uuid::new_v4(), vec![sized_turn(1000)])
            .await
            .unwrap();
    }
    // The monitor runs every 5 minutes: at 55 min nothing is an hour idle yet; at 60 it is.
    tokio::time::sleep(Duration::from_secs(57 * 60)).await;
    assert_eq!(store.stats().evictions.expiry, 0, "not yet an hour idle");
    tokio::time::sleep(Duration::from_secs(5 * 60)).await;
    let stats = store.stats();
    assert_eq!((stats.threads, stats.evictions.expiry), (0, 50));
    shutdown.cancel();
    monitor.await.unwrap();
}

async fn fifty_concurrent_appends_never_pass_the_turn_cap(backend: Backend) {
    let store = Arc::new(Store::new(backend, limits(MIB)).await);
    let id = Uuid::new_v4();
    store.append(id, vec![turn("user", "start".into())]).await;
    let racers: Vec<_> = (0..50)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let exchange = vec![turn("user", format!("q{i}")), turn("assistant", "a".into())];
                store.append_within(id, exchange, 21).await
            })
        })
        .collect();
    let mut stored_count = 0;
    for racer in racers {
        let report = racer.await.unwrap();
        if report.stored {
            stored_count += 1;
        } else {
            assert!(report.full, "{report:?}");
        }
    }
    assert_eq!(stored_count, 10, "1 + 10 exchanges of 2 = 21 turns");
    let thread = stored(&store, id).await.unwrap();
    assert_eq!((thread.turn_count, thread.turns.len()), (21, 21));
}

async fn recent_lists_newest_first_and_finds_prompts(backend: Backend) {
    let store = Store::new(backend, limits(MIB)).await;
    let ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    for (i, id) in ids.iter().enumerate() {
        let prompt = format!(
            "question {i} about {}",
            if i == 2 { "Rust lifetimes" } else { "tea" }
        );
        store
            .append(
                *id,
                vec![turn("user", prompt), turn("assistant", "ok".into())],
            )
            .await;
        tokio::time::sleep(Duration::from_millis(2)).await; // distinct update times
    }
    let all = store.inner.recent(3, None).await.unwrap();
    assert!(all.complete);
    let all = all.threads;
    let listed: Vec<Uuid> = all.iter().map(|t| t.id).collect();
    assert_eq!(listed, vec![ids[4], ids[3], ids[2]]);
    assert_eq!(all[0].turn_count, 2);
    assert_eq!(all[0].tool, "chat");
    assert_eq!(all[0].model.as_deref(), Some("simulated/simulated"));
    assert!(all[0].first_prompt.starts_with("question 4"));
    let found = store
        .inner
        .recent(20, Some("rust LIFETIMES"))
        .await
        .unwrap();
    assert!(found.complete);
    let found = found.threads;
    assert_eq!(found.iter().map(|t| t.id).collect::<Vec<_>>(), vec![ids[2]]);
    assert!(
        store
            .inner
            .recent(20, Some("nothing like it"))
            .await
            .unwrap()
            .threads
            .is_empty()
    );
}

/// A write whose new turns alone are over ZEN_THREAD_MAX_BYTES used to be stored whole: one
/// such thread could hold more than the whole budget, and evicted every other thread for it.
async fn regression_new_turns_over_thread_max_bytes_are_not_stored(backend: Backend) {
    let store = Store::new(backend, limits(64 * 1024)).await; // thread max 6.5 kB
    let keep = Uuid::new_v4();
    store.append(keep, vec![sized_turn(1000)]).await;
    let keep_bytes = store.thread_size(keep).await.unwrap();
    let huge = Uuid::new_v4();
    let report = store.append(huge, vec![sized_turn(100 * 1024)]).await;
    assert!(!report.stored, "{report:?}");
    assert_eq!((report.turn_count, report.thread_bytes), (0, 0));
    assert!(report.new_bytes > 100_000);
    assert!(store.thread_size(huge).await.is_none());
    let stats = store.stats();
    assert!(stats.peak_bytes <= 64 * 1024, "{stats:?}");
    assert_eq!(stats.evictions.pressure, 0, "nothing was evicted for it");
    assert_eq!(stats.evictions.oversize, 1);
    // On a continued thread, the thread stays as it was.
    let report = store
        .append(
            keep,
            vec![sized_turn(10 * 1024), turn("assistant", "ok".into())],
        )
        .await;
    assert!(!report.stored);
    assert_eq!((report.turn_count, report.thread_bytes), (1, keep_bytes));
    let thread = stored(&store, keep).await.unwrap();
    assert_eq!(
        (thread.turns.len(), thread.turn_count, thread.dropped_turns),
        (1, 1, 0)
    );
    assert_eq!(store.stats().bytes, keep_bytes);
    assert_eq!(store.stats().evictions.oversize, 3);
}
