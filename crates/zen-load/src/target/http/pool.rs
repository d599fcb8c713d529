//! The keep-alive connection pool under the lean client ([`crate::target::http::session`]). For `http://`
//! targets it is hyper's own pooled client: reqwest, on top of the same pool, adds per request
//! two URL parses (its redirect layer runs even with redirects off), a retry layer and boxing,
//! about a fifth of the generator's CPU per call. `https://` targets go through reqwest, which
//! brings TLS (rustls); its extra cost hardly shows next to TLS's.
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

/// Idle connections kept open past the run's own in-flight count (the snapshot call, a soak's
/// sampler).
const SPARE_CONNECTIONS: usize = 4;

/// How long an idle pooled connection stays open.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a new connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One pool for every session of a target (cheap to clone: shared inside).
#[derive(Clone)]
pub(crate) struct Pool {
    /// hyper's client for `http://`.
    plain: Client<HttpConnector, Full<Bytes>>,
    /// reqwest's for `https://`, built on first use.
    tls: Arc<std::sync::OnceLock<reqwest::Client>>,
    /// Idle connections kept per host.
    max_idle: usize,
    /// Extra headers on every request and the TLS trust settings (`-H`, `--cacert`, …).
    access: Arc<crate::target::access::Access>,
}

/// A reply: status and headers now, the body as it comes.
pub(crate) struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The reply's headers.
    pub headers: HeaderMap,
    /// The body, from whichever client sent the request.
    body: ReplyBody,
}

enum ReplyBody {
    /// hyper's body (`http://`).
    Plain(Incoming),
    /// reqwest's response (`https://`).
    Tls(reqwest::Response),
}

impl Pool {
    /// A pool keeping up to `in_flight` (plus a few) idle connections per host, HTTP/1.1
    /// keep-alive, Nagle off, no redirects followed (a run measures the endpoint it was given).
    pub(crate) fn new(in_flight: usize) -> Pool {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let max_idle = in_flight + SPARE_CONNECTIONS;
        let plain = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(max_idle)
            .pool_idle_timeout(IDLE_TIMEOUT)
            .pool_timer(TokioTimer::new())
            .build(connector);
        Pool {
            plain,
            tls: Arc::default(),
            max_idle,
            access: Arc::default(),
        }
    }

    /// The same pool sending `access`'s headers on every request and trusting what it says.
    pub(crate) fn with_access(mut self, access: Arc<crate::target::access::Access>) -> Pool {
        self.access = access;
        self
    }

    /// Send one request (`headers` besides Host, which the client adds).
    pub(crate) async fn send(
        &self,
        method: Method,
        uri: &Uri,
        mut headers: HeaderMap,
        body: Bytes,
    ) -> Result<Reply, String> {
        if self.access.has_headers() {
            self.access.apply(&mut headers);
        }
        if uri.scheme_str() == Some("https") {
            return self.send_tls(method, uri, headers, body).await;
        }
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = method;
        *request.uri_mut() = uri.clone();
        *request.headers_mut() = headers;
        let response = self.plain.request(request).await.map_err(|e| chain(&e))?;
        let (parts, body) = response.into_parts();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body: ReplyBody::Plain(body),
        })
    }

    async fn send_tls(
        &self,
        method: Method,
        uri: &Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<Reply, String> {
        let client = if let Some(client) = self.tls.get() {
            client
        } else {
            zen_os::tls::use_ring();
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(self.max_idle)
                .pool_idle_timeout(IDLE_TIMEOUT)
                .connect_timeout(CONNECT_TIMEOUT)
                .tcp_nodelay(true)
                .redirect(reqwest::redirect::Policy::none());
            let client = (self.access.tls(client))
                .map_err(|e| format!("{e:#}"))?
                .build()
                .map_err(|e| format!("cannot build the HTTPS client: {}", chain(&e)))?;
            self.tls.get_or_init(|| client)
        };
        let response = client
            .request(method, uri.to_string())
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(|e| chain(&e))?;
        Ok(Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body: ReplyBody::Tls(response),
        })
    }
}

impl Reply {
    /// The next piece of the body; `None` at its end.
    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>, String> {
        match &mut self.body {
            ReplyBody::Tls(response) => response.chunk().await.map_err(|e| chain(&e)),
            ReplyBody::Plain(body) => loop {
                match body.frame().await {
                    None => return Ok(None),
                    Some(Err(e)) => return Err(chain(&e)),
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            return Ok(Some(data));
                        }
                    }
                }
            },
        }
    }

    /// The declared body length, if any.
    pub(crate) fn content_length(&self) -> Option<u64> {
        self.headers
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    }
}

/// An error with its causes: the clients' Display hides them (connection refused, reset).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
