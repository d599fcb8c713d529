//! A fake OpenAI-compatible provider on 127.0.0.1:0 (axum): it keeps every request body, counts
//! the requests inside it at once, and can hold each request until `gate` of them are inside
//! together (so a test learns whether zen sent them at once without timing anything).
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// What the provider saw, shared with its handler.
struct Seen {
    /// Every request body, in arrival order.
    bodies: Mutex<Vec<Value>>,
    /// Requests inside now.
    inside: AtomicU64,
    /// The most requests inside at once.
    peak: AtomicU64,
    /// Hold each request until this many are inside together (1: answer at once).
    gate: u64,
    /// Wakes held requests when another arrives.
    arrived: Notify,
}

/// The running provider; dropping it stops it.
pub(crate) struct FakeProvider {
    /// Base URL for OPENAI_BASE_URL or CUSTOM_API_URL (`http://127.0.0.1:PORT/v1`).
    pub url: String,
    /// What it saw.
    seen: Arc<Seen>,
    /// The server task.
    task: JoinHandle<()>,
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Longest a request is held waiting for the others: past it, it answers anyway (and the peak
/// shows they did not come together).
const GATE_WAIT: Duration = Duration::from_secs(20);

impl FakeProvider {
    /// A provider that holds each request until `gate` requests are inside at once.
    pub(crate) async fn start(gate: u64) -> FakeProvider {
        let seen = Arc::new(Seen {
            bodies: Mutex::new(Vec::new()),
            inside: AtomicU64::new(0),
            peak: AtomicU64::new(0),
            gate,
            arrived: Notify::new(),
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(complete))
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeProvider { url, seen, task }
    }

    /// Every request body so far.
    pub(crate) fn bodies(&self) -> Vec<Value> {
        self.seen.bodies.lock().unwrap().clone()
    }

    /// The most requests that were inside at once.
    pub(crate) fn peak(&self) -> u64 {
        self.seen.peak.load(Ordering::SeqCst)
    }
}

/// One chat completion: kept, held at the gate, answered with what the request held.
async fn complete(State(seen): State<Arc<Seen>>, Json(body): Json<Value>) -> Json<Value> {
    seen.bodies.lock().unwrap().push(body.clone());
    let now = seen.inside.fetch_add(1, Ordering::SeqCst) + 1;
    seen.peak.fetch_max(now, Ordering::SeqCst);
    seen.arrived.notify_waiters();
    let deadline = tokio::time::Instant::now() + GATE_WAIT;
    loop {
        // Registered before the check, so an arrival between the two is not missed.
        let woken = seen.arrived.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        if seen.peak.load(Ordering::SeqCst) >= seen.gate {
            break;
        }
        if tokio::time::timeout_at(deadline, woken).await.is_err() {
            break;
        }
    }
    seen.inside.fetch_sub(1, Ordering::SeqCst);
    let model = body["model"].as_str().unwrap_or("?");
    let system = body["messages"][0]["content"].as_str().unwrap_or("");
    let stance = ["FOR", "AGAINST", "NEUTRAL"]
        .into_iter()
        .find(|s| system.contains(&format!("Your stance: {s}")))
        .unwrap_or("none");
    Json(json!({
        "choices": [{"index": 0, "message": {"role": "assistant",
            "content": format!("fake answer from {model}, stance {stance}.")}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5},
    }))
}
