//! The managers' cost on every tool call, with 32 tasks contending on a 2-worker runtime:
//! global permit + tool recording + provider permit + provider recording, then release.
//!
//! `cargo bench --bench hot_path` reports the time per call (criterion's "time" is per
//! iteration, one iteration = one call). Before the benchmarks it measures the collector's
//! memory bound: the process RSS after 10,000 and after 1,000,000 recorded calls.
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use tokio::runtime::Runtime;
use zen_server::concurrency::Pools;
use zen_server::metrics::{CallOutcome, Metrics};

const TASKS: u64 = 32;
const TOOLS: [&str; 4] = ["chat", "listmodels", "metrics", "version"];

struct Managers {
    pools: Pools,
    metrics: Metrics,
}

fn managers(provider_limit: u32) -> Arc<Managers> {
    Arc::new(Managers {
        pools: Pools::new(
            50,
            [("simulated".to_string(), provider_limit)],
            Some(Duration::from_secs(60)),
        ),
        metrics: Metrics::new(&TOOLS, &["simulated"]),
    })
}

/// One call's worth of manager work. `hold` yields while both permits are held, as a real call
/// awaits its provider, so other tasks queue for the permits.
async fn one_call(m: &Managers, hold: bool) {
    let global = m.pools.acquire_global().await.expect("no queue timeout");
    let tool = m.metrics.begin_tool("chat");
    let permit = m
        .pools
        .acquire_provider("simulated")
        .await
        .expect("no queue timeout");
    let provider = m.metrics.begin_provider("simulated");
    if hold {
        tokio::task::yield_now().await;
    }
    provider.finish(CallOutcome::Ok);
    drop(permit);
    tool.finish(CallOutcome::Ok);
    drop(global);
}

/// `calls` calls spread over 32 tasks; returns the wall time.
fn run(rt: &Runtime, m: &Arc<Managers>, calls: u64, hold: bool) -> Duration {
    let per_task = calls.div_ceil(TASKS);
    rt.block_on(async {
        let started = Instant::now();
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let m = m.clone();
                tokio::spawn(async move {
                    for _ in 0..per_task {
                        one_call(&m, hold).await;
                        if !hold {
                            // Interleave the tasks (each would otherwise run its whole loop
                            // in one poll and never meet the others).
                            tokio::task::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("bench task");
        }
        // Scale to exactly `calls` calls.
        started
            .elapsed()
            .mul_f64(calls as f64 / (per_task * TASKS) as f64)
    })
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn rss() -> u64 {
    zen_os::process::sample(std::process::id()).map_or(0, |s| s.rss_bytes)
}

/// The collector is fixed-size: RSS after 1,000,000 calls within 5 MB of RSS after 10,000.
fn collector_memory(rt: &Runtime) {
    let m = managers(8);
    // Multiples of the 32 tasks: 10,016 calls, then 989,984 more.
    run(rt, &m, 313 * TASKS, true);
    let after_10k = rss();
    run(rt, &m, 30_937 * TASKS, true);
    let after_1m = rss();
    let stats = m.metrics.total_stats();
    assert_eq!(stats.total_operations, 1_000_000);
    let growth = after_1m as f64 - after_10k as f64;
    let mib = |b: f64| b / (1024.0 * 1024.0);
    println!(
        "collector memory: RSS {:.2} MiB after 10,000 calls, {:.2} MiB after 1,000,000: {:+.3} MiB",
        mib(after_10k as f64),
        mib(after_1m as f64),
        mib(growth)
    );
    assert!(
        growth <= 5.0 * 1024.0 * 1024.0,
        "RSS grew {:.2} MiB between 10,000 and 1,000,000 calls",
        mib(growth)
    );
}

fn hot_path(c: &mut Criterion, rt: &Runtime) {
    let mut group = c.benchmark_group("hot_path_32_tasks");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    // Permits to spare (global 50, provider 32): the cost of the managers themselves.
    let roomy = managers(32);
    group.bench_function("acquire_record_release", |b| {
        b.iter_custom(|calls| run(rt, &roomy, calls, false));
    });
    // A provider pool of 8 held across a yield: 24 tasks queue for it at any time.
    let queued = managers(8);
    group.bench_function("acquire_record_release_queued", |b| {
        b.iter_custom(|calls| run(rt, &queued, calls, true));
    });
    group.finish();
    let s = queued.pools.stats();
    assert!(s[1].peak_waiting > 0, "the provider pool was contended");
}

fn main() {
    let rt = runtime();
    collector_memory(&rt);
    let mut c = Criterion::default().configure_from_args();
    hot_path(&mut c, &rt);
    c.final_summary();
}
