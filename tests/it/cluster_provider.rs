//! A fake OpenAI-compatible provider on 127.0.0.1:0 that counts what the provider side sees:
//! requests in flight now and at most. Every reply takes `delay`; a prompt containing `HOLD`
//! is held for a minute (to keep a permit busy until the test kills its holder).
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::routing::post;
use serde_json::{Value, json};

/// Requests in flight, as the provider counts them.
#[derive(Default)]
pub(crate) struct Counts {
    /// Requests being answered now.
    now: AtomicU64,
    /// Most requests ever answered at once.
    peak: AtomicU64,
    /// Requests answered or started in all.
    total: AtomicU64,
    /// Requests whose body contained the watched text.
    watched: AtomicU64,
}

/// Decrements `now` however a request ends (including the client going away).
struct InFlight(Arc<Counts>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The running fake; dropping it stops the server.
pub(crate) struct FakeProvider {
    /// Base URL for CUSTOM_API_URL, e.g. http://127.0.0.1:PORT/v1.
    pub url: String,
    /// What it counted.
    counts: Arc<Counts>,
    /// The server task.
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeProvider {
    pub(crate) async fn start(delay: Duration) -> FakeProvider {
        Self::watching(delay, "\u{0}never sent\u{0}").await
    }

    /// [`FakeProvider::start`], also counting requests whose body contains `watch`.
    pub(crate) async fn watching(delay: Duration, watch: &'static str) -> FakeProvider {
        Self::serve(delay, watch, false).await
    }

    /// [`FakeProvider::start`], but a request keeps being worked on (and counted) for all of
    /// `delay` when its client goes away, as a real API keeps generating until it notices.
    pub(crate) async fn stubborn(delay: Duration) -> FakeProvider {
        Self::serve(delay, "\u{0}never sent\u{0}", true).await
    }

    async fn serve(delay: Duration, watch: &'static str, stubborn: bool) -> FakeProvider {
        let counts = Arc::new(Counts::default());
        let shared = counts.clone();
        let handler = move |body: axum::Json<Value>| {
            let counts = shared.clone();
            let work = async move {
                let now = counts.now.fetch_add(1, Ordering::SeqCst) + 1;
                counts.peak.fetch_max(now, Ordering::SeqCst);
                counts.total.fetch_add(1, Ordering::SeqCst);
                let text = body.0.to_string();
                if text.contains(watch) {
                    counts.watched.fetch_add(1, Ordering::SeqCst);
                }
                let _in_flight = InFlight(counts);
                let held = text.contains("HOLD");
                let wait = if held { Duration::from_secs(60) } else { delay };
                tokio::time::sleep(wait).await;
                axum::Json(json!({
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1}
                }))
            };
            async move {
                if stubborn {
                    tokio::spawn(work).await.unwrap()
                } else {
                    work.await
                }
            }
        };
        let app = axum::Router::new().route("/v1/chat/completions", post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeProvider { url, counts, task }
    }

    /// Requests in flight now.
    pub(crate) fn now(&self) -> u64 {
        self.counts.now.load(Ordering::SeqCst)
    }

    /// Most requests in flight at once so far.
    pub(crate) fn peak(&self) -> u64 {
        self.counts.peak.load(Ordering::SeqCst)
    }

    /// Requests received in all.
    pub(crate) fn total(&self) -> u64 {
        self.counts.total.load(Ordering::SeqCst)
    }

    /// Requests whose body contained the watched text.
    pub(crate) fn watched(&self) -> u64 {
        self.counts.watched.load(Ordering::SeqCst)
    }
}
