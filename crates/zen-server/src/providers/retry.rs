//! Retries around breaker-guarded attempts: exponential backoff with jitter (backon's
//! schedule), Retry-After honoured, and every wait capped, because the caller holds its provider
//! permit while it sleeps: a provider asking for an hour must not take a permit for an hour.
//!
//! An attempt runs in a task of its own that holds the provider permit. When its caller stops
//! waiting (the client hung up or cancelled, ZEN_CALL_TIMEOUT passed), the provider is still
//! working on the request: closing the connection does not stop a real API at once, so
//! releasing the permit then let a provider limited to 2 see 12 requests at once. The attempt
//! is instead left to finish, its answer dropped, and the permit released when it ends or
//! [`ABANDONED_GRACE`] passes, whichever is first; no retry follows an abandoned attempt. An
//! in-process provider (the simulated one) stops when its future is dropped: its attempts run
//! inline and give the permit back at once.
use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::time::Instant;

use tracing::Instrument;

use super::resilience::{Breaker, attempt};
use super::{Completion, CompletionRequest, Provider, ProviderError};

/// How long an attempt its caller stopped waiting for may keep its provider permit.
pub(crate) const ABANDONED_GRACE: Duration = Duration::from_secs(30);

/// One provider call: what its attempts need, owned, so an attempt can outlive its caller.
#[derive(Clone)]
pub(crate) struct ProviderCall {
    /// The provider asked.
    pub provider: Arc<dyn Provider>,
    /// Its circuit breaker.
    pub breaker: Arc<Breaker>,
    /// The request, sent again on a retry.
    pub request: Arc<CompletionRequest>,
    /// The provider permit (held by every attempt until it ends).
    pub permit: Arc<dyn Any + Send + Sync>,
}

impl ProviderCall {
    /// One attempt in its own task: the answer, or the attempt left to finish under the permit
    /// (for at most `grace`) once this future is dropped.
    fn attempt(
        &self,
        timeout: Duration,
        grace: Duration,
    ) -> impl Future<Output = Result<Completion, ProviderError>> + use<> {
        let (mut tx, rx) = tokio::sync::oneshot::channel();
        let call = self.clone();
        let name = call.provider.name();
        let task = async move {
            let work = attempt(
                call.provider.as_ref(),
                &call.breaker,
                &call.request,
                timeout,
            );
            tokio::pin!(work);
            let answered = tokio::select! {
                result = &mut work => Some(result),
                () = tx.closed() => None,
            };
            if let Some(result) = answered {
                let _ = tx.send(result);
            } else {
                tracing::debug!(
                    provider = name,
                    "a provider request's caller is gone; its permit is held until the \
                     provider answers (at most {grace:?})"
                );
                let _ = tokio::time::timeout(grace, work).await;
            }
            drop(call.permit);
        };
        tokio::spawn(task.in_current_span());
        async move {
            rx.await.unwrap_or_else(|_| {
                Err(ProviderError::Connect {
                    provider: name,
                    message: "the request's task ended without an answer".into(),
                })
            })
        }
    }
}

/// How one provider call is retried.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Backoff before the first retry; doubles per retry, with jitter.
    pub base_backoff: Duration,
    /// Timeout of one attempt.
    pub attempt_timeout: Duration,
    /// ZEN_MAX_RETRY_WAIT: the longest sleep before a retry; a longer Retry-After fails the call.
    pub max_wait: Duration,
    /// When the whole call must be over (ZEN_CALL_TIMEOUT): no retry sleeps past it, and an
    /// attempt still running then is cut off.
    pub deadline: Option<CallDeadline>,
}

/// The deadline of a whole provider call, and the setting it came from (for the message).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallDeadline {
    /// When the call must be over.
    pub at: Instant,
    /// ZEN_CALL_TIMEOUT, named in the error.
    pub limit: Duration,
}

impl CallDeadline {
    /// Starting now, `limit` from now (saturating: a huge setting never overflows the clock).
    pub(crate) fn after(limit: Duration) -> Self {
        let now = Instant::now();
        CallDeadline {
            at: now
                .checked_add(limit)
                .unwrap_or(now + Duration::from_secs(86_400 * 365)),
            limit,
        }
    }

    fn passed(
        self,
        provider: &'static str,
        attempts: u32,
        last: Option<ProviderError>,
    ) -> ProviderError {
        ProviderError::CallTimeout {
            provider,
            limit: self.limit,
            attempts,
            last_error: last.map(|e| e.to_string()),
        }
    }
}

/// After a failed attempt: sleep this long and try again, or end with this error.
#[derive(Debug)]
enum Next {
    Retry(Duration, ProviderError),
    GiveUp(ProviderError),
}

/// Decide what follows `err`, given the schedule's next backoff (`None`: attempts used up).
fn plan(err: ProviderError, backoff: Option<Duration>, policy: &RetryPolicy, now: Instant) -> Next {
    if !err.is_retryable() {
        return Next::GiveUp(err);
    }
    // Checked before the attempts left: even on the last attempt, "come back in an hour" is
    // the clearer answer.
    if let ProviderError::Status {
        provider,
        retry_after: Some(asked),
        ..
    } = err
        && asked > policy.max_wait
    {
        return Next::GiveUp(ProviderError::RetryTooLong {
            provider,
            asked,
            max_wait: policy.max_wait,
        });
    }
    let Some(backoff) = backoff else {
        return Next::GiveUp(err);
    };
    // Retry-After wins over our own backoff when it asks for longer.
    let wait = backoff
        .min(policy.max_wait)
        .max(err.retry_after().unwrap_or_default());
    match policy.deadline {
        // A retry that could only start after the deadline is no retry: answer now.
        // checked_add: a huge ZEN_MAX_RETRY_WAIT must not overflow the clock.
        Some(deadline) if now.checked_add(wait).is_none_or(|end| end >= deadline.at) => {
            Next::GiveUp(err)
        }
        _ => Next::Retry(wait, err),
    }
}

/// The error a call ends with: when the breaker refused a retry because this call's own
/// failures opened it, the failure itself (e.g. which URL could not be reached), not "the
/// breaker is open, retry later", which points the wrong way on the very first call.
fn own_failure(err: ProviderError, last: Option<ProviderError>) -> ProviderError {
    match (err, last) {
        (ProviderError::CircuitOpen { .. }, Some(last)) => last,
        (err, _) => err,
    }
}

/// Call the provider with retries. `on_retry` is told of each retry (for the metrics).
/// The caller holds the provider permit for the whole of this, backoff included, and each
/// attempt holds it until the attempt ends (see the module doc).
pub(crate) async fn call_with_retries(
    call: &ProviderCall,
    policy: RetryPolicy,
    on_retry: impl Fn(&ProviderError),
) -> Result<Completion, ProviderError> {
    let provider = call.provider.as_ref();
    let mut schedule = ExponentialBuilder::default()
        .with_min_delay(policy.base_backoff)
        .with_max_delay(policy.base_backoff.saturating_mul(16))
        .with_max_times(policy.max_attempts.saturating_sub(1) as usize)
        .with_jitter()
        .build();
    let mut number: u32 = 0;
    // This call's last failed attempt: named when the call ends on a timeout, and answered
    // instead of the breaker's refusal when its own failures opened the breaker.
    let mut last_error: Option<ProviderError> = None;
    loop {
        number += 1;
        // A span per attempt and per backoff sleep, so a trace shows where the time went.
        let span = tracing::info_span!(
            target: "zen_otel",
            "attempt",
            zen.attempt = number,
            error.type = tracing::field::Empty,
        );
        let tried = if provider.works_on_when_abandoned() {
            let detached = span.in_scope(|| call.attempt(policy.attempt_timeout, ABANDONED_GRACE));
            futures::future::Either::Left(detached)
        } else {
            let inline = attempt(
                provider,
                &call.breaker,
                &call.request,
                policy.attempt_timeout,
            );
            futures::future::Either::Right(inline)
        };
        let tried = tried.instrument(span.clone());
        let result = match policy.deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline.at, tried).await {
                Ok(result) => result,
                Err(_) => return Err(deadline.passed(provider.name(), number, last_error)),
            },
            None => tried.await,
        };
        let err = match result {
            Ok(completion) => return Ok(completion),
            Err(err) => err,
        };
        span.record("error.type", err.kind_name());
        match plan(err, schedule.next(), &policy, Instant::now()) {
            Next::Retry(wait, err) => {
                on_retry(&err);
                last_error = Some(err);
                let ms = wait.as_millis() as u64;
                let backoff =
                    tracing::info_span!(target: "zen_otel", "backoff", zen.backoff_ms = ms);
                tokio::time::sleep(wait).instrument(backoff).await;
            }
            Next::GiveUp(err) => return Err(own_failure(err, last_error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::config::BreakerSpec;
    use crate::providers::ModelInfo;

    /// A provider that answers 429 with a fixed Retry-After after `delay`, counting its attempts.
    struct RateLimiting {
        /// Retry-After of every reply.
        retry_after: Option<Duration>,
        /// How long each attempt takes before its reply.
        delay: Duration,
        /// Attempts so far.
        attempts: Mutex<u32>,
    }

    #[async_trait]
    impl Provider for RateLimiting {
        fn name(&self) -> &'static str {
            "custom"
        }
        fn models(&self) -> &[ModelInfo] {
            &[]
        }
        async fn complete(&self, _: &CompletionRequest) -> Result<Completion, ProviderError> {
            *self.attempts.lock().unwrap() += 1;
            tokio::time::sleep(self.delay).await;
            Err(ProviderError::Status {
                provider: "custom",
                status: 429,
                message: "slow down".into(),
                retry_after: self.retry_after,
            })
        }
    }

    fn policy(base_backoff: Duration, deadline: Option<Duration>) -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            base_backoff,
            attempt_timeout: Duration::from_secs(5),
            max_wait: Duration::from_secs(30),
            deadline: deadline.map(CallDeadline::after),
        }
    }

    /// Run one call against a provider sending `retry_after` at once; (error, attempts, time).
    async fn run(retry_after: Option<Duration>, policy: RetryPolicy) -> (String, u32, Duration) {
        run_slow(retry_after, Duration::ZERO, policy).await
    }

    /// Run one call against a provider whose attempts each take `delay`.
    async fn run_slow(
        retry_after: Option<Duration>,
        delay: Duration,
        policy: RetryPolicy,
    ) -> (String, u32, Duration) {
        let provider = Arc::new(RateLimiting {
            retry_after,
            delay,
            attempts: Mutex::new(0),
        });
        let spec = BreakerSpec::new(1000, Duration::from_secs(1));
        let call = ProviderCall {
            provider: provider.clone(),
            breaker: Arc::new(Breaker::new("custom", spec)),
            request: Arc::new(CompletionRequest {
                model: "m".into(),
                ..CompletionRequest::default()
            }),
            permit: Arc::new(()),
        };
        let started = Instant::now();
        let err = call_with_retries(&call, policy, |_| {}).await.unwrap_err();
        let attempts = *provider.attempts.lock().unwrap();
        (err.to_string(), attempts, started.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn the_whole_call_ends_at_its_deadline_whatever_the_attempts_and_waits() {
        // Three attempts of 4 s and their backoffs would take over 12 s; the call has 6 s.
        let policy = policy(Duration::from_millis(100), Some(Duration::from_secs(6)));
        let (text, attempts, took) = run_slow(None, Duration::from_secs(4), policy).await;
        assert_eq!((attempts, took), (2, Duration::from_secs(6)));
        assert!(
            text.contains("ZEN_CALL_TIMEOUT=6s")
                && text.contains("2 attempts")
                && text.contains("the last: provider custom returned HTTP 429: slow down"),
            "{text}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_of_an_hour_fails_at_once_instead_of_sleeping_on_the_permit() {
        let policy = policy(Duration::from_millis(500), None);
        let (err, attempts, took) = run(Some(Duration::from_secs(3600)), policy).await;
        assert_eq!(
            err,
            "rate limited by custom: it asks to retry after 3600 s (more than \
             ZEN_MAX_RETRY_WAIT=30s); try again later"
        );
        assert_eq!((attempts, took), (1, Duration::ZERO));
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_within_the_cap_is_honoured() {
        let policy = policy(Duration::from_millis(10), None);
        let (err, attempts, took) = run(Some(Duration::from_secs(20)), policy).await;
        assert!(err.contains("HTTP 429"), "{err}");
        assert_eq!(attempts, 3);
        assert!(took >= Duration::from_secs(40), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn our_own_backoff_never_sleeps_past_max_retry_wait() {
        // A 100 s backoff doubling per retry, capped at 30 s each.
        let policy = policy(Duration::from_secs(100), None);
        let (_, attempts, took) = run(None, policy).await;
        assert_eq!(attempts, 3);
        assert_eq!(took, Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_that_would_start_past_the_deadline_is_not_waited_for() {
        let policy = policy(Duration::from_millis(10), Some(Duration::from_secs(5)));
        let (err, attempts, took) = run(Some(Duration::from_secs(20)), policy).await;
        assert!(err.contains("HTTP 429"), "{err}");
        assert_eq!((attempts, took), (1, Duration::ZERO));
    }
}
