//! The load engine: closed loop (N workers, each sending its next call when the last returns)
//! or open loop (calls started on a fixed schedule whatever the replies do, with latency
//! measured from each call's intended send time, so a stalled server cannot hide its stall:
//! no coordinated omission). Calls are spread over the target's sessions.
pub(crate) mod recorder;
pub(crate) mod sampler;
pub(crate) mod spread;
pub(crate) mod stages;
pub(crate) mod watchdog;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::target::session::{CallError, LoadPeer};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::engine::recorder::{ErrorKind, Recorder};
use crate::engine::stages::Profile;
use crate::plan::op::Op;
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

/// A sent call later than this behind schedule counts as late.
const LATE_AFTER: Duration = Duration::from_millis(10);
/// Recent conversations kept per call kind for continuations.
const RECENT_THREADS: usize = 256;

/// Conversations a call kind may continue: (continuation id, follow-ups so far).
#[derive(Default)]
struct Threads(Mutex<VecDeque<(String, u32)>>);

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
        Model::Closed { concurrency, stop } => closed_loop(&shared, concurrency, stop, shape).await,
        Model::Open {
            rate,
            duration,
            max_in_flight,
        } => {
            let shape = shape.unwrap_or_else(|| Profile::constant(rate, duration));
            open_loop(&shared, &shape, max_in_flight).await;
        }
    }
    started.elapsed()
}

/// `concurrency` workers; with a shape, worker `w` works only while the shape is above `w`, so
/// the calls in flight follow the stages.
async fn closed_loop(shared: &Arc<Shared>, concurrency: u32, stop: Stop, shape: Option<Profile>) {
    let shape = shape.map(Arc::new);
    let start = Instant::now();
    let tickets = Arc::new(AtomicU64::new(match stop {
        Stop::Requests(n) => n,
        Stop::Duration(_) => u64::MAX,
    }));
    let deadline = match stop {
        Stop::Duration(d) => Some(Instant::now() + d),
        Stop::Requests(_) => None,
    };
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..concurrency {
        let (shared, tickets, shape) = (shared.clone(), tickets.clone(), shape.clone());
        workers.spawn(async move {
            let mut rng = StdRng::seed_from_u64(shared.plan.seed.wrapping_add(u64::from(w)));
            let session = w as usize % shared.peers.len();
            loop {
                if shared.stop.is_cancelled() || deadline.is_some_and(|d| Instant::now() >= d) {
                    return;
                }
                if let Some(shape) = &shape
                    && !shared.wait_for_turn(shape, w, start).await
                {
                    return;
                }
                let claimed = tickets
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
                if claimed.is_err() {
                    return;
                }
                let kind = shared.pick(&mut rng);
                shared.call(session, kind, &mut rng, None).await;
            }
        });
    }
    while workers.join_next().await.is_some() {}
}

/// Calls sent at the times the shape's rate gives, whatever the replies do.
async fn open_loop(shared: &Arc<Shared>, shape: &Profile, max_in_flight: u32) {
    let planned = (shape.total_calls() + 1e-9).floor() as u64;
    let duration = shape.duration();
    let slots = Arc::new(Semaphore::new(max_in_flight as usize));
    let mut rng = StdRng::seed_from_u64(shared.plan.seed);
    let start = Instant::now();
    let end = start + duration;
    let mut calls = tokio::task::JoinSet::new();
    let mut sent = 0;
    let (first, step) = shared
        .plan
        .shard
        .map_or((0, 1), |(index, count)| (u64::from(index), count as usize));
    let planned = (first..planned).step_by(step).count() as u64;
    for i in (first..).step_by(step).take(planned as usize) {
        let Some(due) = shape.send_time(i as f64) else {
            break;
        };
        let intended = start + Duration::from_secs_f64(due);
        tokio::select! {
            () = tokio::time::sleep_until(intended) => {}
            () = shared.stop.cancelled() => break,
        }
        let (permit, waited) = if let Ok(permit) = slots.clone().try_acquire_owned() {
            (permit, false)
        } else {
            // Every slot is busy: this send goes out late (and its latency shows it), or not
            // at all if the run ends first (then it is counted unsent, not late).
            tokio::select! {
                permit = slots.clone().acquire_owned() => (permit.expect("never closed"), true),
                () = shared.stop.cancelled() => break,
                () = tokio::time::sleep_until(end) => break,
            }
        };
        // Counted once, whether it waited for a slot or the schedule itself fell behind.
        if waited || Instant::now().duration_since(intended) > LATE_AFTER {
            shared.recorder.late.fetch_add(1, Ordering::Relaxed);
        }
        let kind = shared.pick(&mut rng);
        let call_seed: u64 = rng.random();
        let shared = shared.clone();
        let session = sent as usize % shared.peers.len();
        calls.spawn(async move {
            let mut rng = StdRng::seed_from_u64(call_seed);
            shared.call(session, kind, &mut rng, Some(intended)).await;
            drop(permit);
        });
        sent += 1;
        // Reap finished calls as we go so the set stays small.
        while calls.try_join_next().is_some() {}
    }
    shared
        .recorder
        .unsent
        .fetch_add(planned - sent, Ordering::Relaxed);
    while calls.join_next().await.is_some() {}
}

impl Shared {
    /// Wait until the shape is above worker `w`'s number; false when it never will be again
    /// (or the run is stopped).
    async fn wait_for_turn(&self, shape: &Profile, w: u32, start: Instant) -> bool {
        let now = start.elapsed().as_secs_f64();
        let Some(at) = shape.next_above(f64::from(w), now) else {
            return false;
        };
        if at > now {
            tokio::select! {
                () = tokio::time::sleep_until(start + Duration::from_secs_f64(at)) => {}
                () = self.stop.cancelled() => return false,
            }
        }
        true
    }

    fn pick(&self, rng: &mut StdRng) -> usize {
        let total = *self.cumulative.last().expect("at least one call kind");
        let roll = rng.random_range(0..total);
        self.cumulative.partition_point(|c| *c <= roll)
    }

    /// Make one call of kind `kind` on session `session` and record it.
    async fn call(&self, session: usize, kind: usize, rng: &mut StdRng, intended: Option<Instant>) {
        let peer = &self.peers[session];
        let spec = &self.plan.calls[kind];
        let mut args = spec.args.clone();
        let continued = if spec.continue_ratio > 0.0 && rng.random_bool(spec.continue_ratio) {
            self.threads[kind].take(rng)
        } else {
            None
        };
        if let Some((id, follow_ups)) = &continued {
            args.insert("continuation_id".into(), Value::String(id.clone()));
            if let Some(step) = spec.steps.get(*follow_ups as usize) {
                args.extend(step.clone());
            }
        }
        let request = async {
            let fresh = if self.plan.churn {
                let started = Instant::now();
                match peer.fresh().await {
                    Ok(fresh) => {
                        self.recorder.handshake(started.elapsed());
                        Some(fresh)
                    }
                    Err(e) => return (Err(e), None),
                }
            } else {
                None
            };
            let peer = fresh.as_ref().unwrap_or(peer);
            let result = match spec.op {
                Op::ToolsCall => {
                    let params = CallToolRequestParams::new(spec.tool.clone()).with_arguments(args);
                    peer.call_tool(params).await.map(Some)
                }
                op => {
                    let uri = match &spec.uris[..] {
                        [] => spec.uri.as_deref(),
                        uris => Some(uris[rng.random_range(0..uris.len())].as_str()),
                    };
                    let params = op.params(uri, spec.prompt.as_deref(), &spec.args);
                    peer.operate(op, &params).await.map(|()| None)
                }
            };
            (result, fresh)
        };
        self.recorder.call_started();
        let sent = Instant::now();
        let mut churned = None;
        let outcome = tokio::select! {
            outcome = tokio::time::timeout(self.plan.timeout, request) => {
                outcome.map(|(result, fresh)| {
                    churned = fresh;
                    result
                })
            }
            () = self.stop.cancelled() => {
                self.recorder.abort();
                return;
            }
        };
        let done = Instant::now();
        let failure = match outcome {
            Err(_) => Some((
                ErrorKind::Timeout,
                format!("no reply within {:?}", self.plan.timeout),
            )),
            Ok(Err(e @ CallError::JsonRpc { .. })) => Some((ErrorKind::JsonRpc, e.to_string())),
            Ok(Err(e @ CallError::InputRequired(_))) => {
                Some((ErrorKind::InputRequired, e.to_string()))
            }
            // The connection is gone for good (a stdio server exited): every later call would
            // fail at once, so the run stops here instead of counting millions of them.
            Ok(Err(e)) if peer.is_transport_closed() => {
                self.recorder
                    .target_lost(format!("the connection to the target closed ({e})"));
                self.recorder.abort();
                self.stop.cancel();
                return;
            }
            Ok(Err(e)) => Some((ErrorKind::Transport, e.to_string())),
            Ok(Ok(None)) => None,
            Ok(Ok(Some(reply))) if reply.is_error() => {
                Some((ErrorKind::Tool, result_text(&reply.into_result())))
            }
            Ok(Ok(Some(reply))) => {
                if spec.continue_ratio > 0.0 {
                    let id = continued.map(|(id, _)| id);
                    self.threads[kind].returned(&reply.into_result(), id, spec.max_chain);
                }
                None
            }
        };
        let us = (done - sent).as_micros() as u64;
        for spread in [&self.recorder.spread, &self.recorder.by_protocol]
            .into_iter()
            .flatten()
        {
            spread.record(session, failure.is_none(), us);
        }
        self.recorder.record(
            kind,
            failure,
            done - sent,
            intended.map(|i| done.duration_since(i)),
        );
        if let Some(fresh) = churned {
            fresh.close().await;
        }
    }
}

impl Threads {
    /// A recent conversation to continue, with its follow-ups so far.
    fn take(&self, rng: &mut StdRng) -> Option<(String, u32)> {
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
    fn returned(&self, result: &CallToolResult, continued: Option<String>, max_chain: u32) {
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
pub(crate) fn continuation_id(result: &CallToolResult) -> Option<String> {
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
pub(crate) fn result_text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.as_str()))
        .collect::<Vec<_>>()
        .join("\n")
}
