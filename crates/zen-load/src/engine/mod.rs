//! The load engine: closed loop (N workers, each sending its next call when the last returns)
//! or open loop (calls started on a fixed schedule whatever the replies do, with latency
//! measured from each call's intended send time, so a stalled server cannot hide its stall:
//! no coordinated omission). Calls are spread over the target's sessions.
//!
//! Here: the load model and the plan, and one run's shared state; `loops` paces the calls,
//! `call` makes and records one, `threads` keeps the conversations calls may continue.
mod call;
mod loops;
pub(crate) mod recorder;
pub(crate) mod sampler;
pub(crate) mod spread;
pub(crate) mod stages;
mod threads;
pub(crate) mod watchdog;
use std::sync::Arc;
use std::time::Duration;

use crate::target::session::LoadPeer;
use rand::RngExt;
use rand::rngs::StdRng;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::engine::recorder::Recorder;
use crate::engine::stages::Profile;
use crate::engine::threads::Threads;
use crate::plan::scenario::CallSpec;

/// When a closed loop stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    /// After this many calls in all.
    Requests(u64),
    /// After this long (calls in flight at the end finish).
    Duration(Duration),
}

/// The load model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    Closed {
        concurrency: u32,
        stop: Stop,
    },
    Open {
        rate: f64,
        duration: Duration,
        max_in_flight: u32,
    },
}

impl Model {
    /// How long the run is planned to last; `None` when it stops after a call count.
    pub fn duration(&self) -> Option<Duration> {
        match *self {
            Model::Closed {
                stop: Stop::Duration(d),
                ..
            }
            | Model::Open { duration: d, .. } => Some(d),
            Model::Closed { .. } => None,
        }
    }

    /// The most calls in flight at once (what an HTTP connection pool is sized to).
    pub fn in_flight(&self) -> usize {
        match *self {
            Model::Closed { concurrency, .. } => concurrency as usize,
            Model::Open { max_in_flight, .. } => max_in_flight as usize,
        }
    }
}

/// Everything a run needs besides the target.
#[derive(Debug, Clone)]
pub struct Plan {
    pub model: Model,
    /// Per-call timeout.
    pub timeout: Duration,
    /// The call mix.
    pub calls: Vec<CallSpec>,
    /// Seeds the mix and continuation choices.
    pub seed: u64,
    /// `--stages`: the target over time (the model then holds its peak and total length).
    pub shape: Option<Profile>,
    /// `--churn`: every call on a new session (a new client identity), its handshake
    /// counted in the call's latency and recorded apart.
    pub churn: bool,
    /// `--shard I/N` as (I, N): an open loop sends the calls I, I+N, I+2N… of its schedule.
    pub shard: Option<(u32, u32)>,
}

/// Shared state of one run.
struct Shared {
    plan: Plan,
    peers: Vec<LoadPeer>,
    recorder: Arc<Recorder>,
    stop: CancellationToken,
    /// Cumulative weights, for picking a call kind.
    cumulative: Vec<u32>,
    threads: Vec<Threads>,
}

/// Run the plan against the peers until done or `stop` fires. Returns the run's wall time.
pub(crate) async fn run(
    plan: Plan,
    peers: Vec<LoadPeer>,
    recorder: Arc<Recorder>,
    stop: CancellationToken,
) -> Duration {
    let cumulative = plan
        .calls
        .iter()
        .scan(0, |acc, c| {
            *acc += c.weight;
            Some(*acc)
        })
        .collect();
    let threads = plan.calls.iter().map(|_| Threads::default()).collect();
    let shape = plan.shape.clone();
    let shared = Arc::new(Shared {
        plan,
        peers,
        recorder,
        stop,
        cumulative,
        threads,
    });
    let started = Instant::now();
    match shared.plan.model {
        Model::Closed { concurrency, stop } => {
            loops::closed_loop(&shared, concurrency, stop, shape).await;
        }
        Model::Open {
            rate,
            duration,
            max_in_flight,
        } => {
            let shape = shape.unwrap_or_else(|| Profile::constant(rate, duration));
            loops::open_loop(&shared, &shape, max_in_flight).await;
        }
    }
    started.elapsed()
}

impl Shared {
    fn pick(&self, rng: &mut StdRng) -> usize {
        let total = *self.cumulative.last().expect("at least one call kind");
        let roll = rng.random_range(0..total);
        self.cumulative.partition_point(|c| *c <= roll)
    }
}
