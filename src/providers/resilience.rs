//! Provider calls that survive a flaky provider: a per-attempt timeout, retries with
//! exponential backoff and jitter that honour Retry-After (backon), and a circuit breaker per
//! provider (closed → open → half-open) so a failing provider fails fast instead of piling up
//! calls behind it.
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use tokio::time::Instant;

use super::{Completion, CompletionRequest, Provider, ProviderError};
use crate::config::BreakerSpec;
use crate::snapshot::{BreakerState, BreakerStats};

/// How one provider call is retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Backoff before the first retry; doubles per retry, with jitter.
    pub base_backoff: Duration,
    /// Timeout of one attempt.
    pub attempt_timeout: Duration,
}

#[derive(Debug)]
enum State {
    /// Calls flow; `failures` in a row so far.
    Closed { failures: u32 },
    /// Calls fail fast until `until`.
    Open { until: Instant, failures: u32 },
    /// One trial call is allowed through; its result closes or reopens the breaker.
    HalfOpen { trial_in_flight: bool },
}

/// One provider's circuit breaker.
#[derive(Debug)]
pub struct Breaker {
    /// Provider name, for error messages.
    provider: &'static str,
    /// Failures that open it and how long it stays open.
    spec: BreakerSpec,
    /// The state machine; a mutex because transitions read and write several fields at once.
    state: Mutex<State>,
    /// Times it opened, for the snapshot and /metrics.
    opened_total: AtomicU64,
    /// Every state change, so a reader notices flapping between two snapshots.
    transitions_total: AtomicU64,
    /// Calls refused while open.
    short_circuited_total: AtomicU64,
}

impl Breaker {
    pub fn new(provider: &'static str, spec: BreakerSpec) -> Self {
        Breaker {
            provider,
            spec,
            state: Mutex::new(State::Closed { failures: 0 }),
            opened_total: AtomicU64::new(0),
            transitions_total: AtomicU64::new(0),
            short_circuited_total: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// May a call go to the provider now? `Ok(true)`: yes, as the half-open trial (its result
    /// alone decides the state); `Ok(false)`: yes, as an ordinary call.
    pub fn admit(&self) -> Result<bool, ProviderError> {
        let mut state = self.lock();
        let now = Instant::now();
        match *state {
            State::Closed { .. } => Ok(false),
            State::Open { until, .. } if now >= until => {
                *state = State::HalfOpen {
                    trial_in_flight: true,
                };
                self.transitions_total.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    provider = self.provider,
                    "circuit breaker half-open: one trial call"
                );
                Ok(true)
            }
            State::HalfOpen {
                trial_in_flight: false,
            } => {
                *state = State::HalfOpen {
                    trial_in_flight: true,
                };
                Ok(true)
            }
            State::Open { until, failures } => {
                self.short_circuited_total.fetch_add(1, Ordering::Relaxed);
                Err(ProviderError::CircuitOpen {
                    provider: self.provider,
                    failures,
                    retry_in: until.saturating_duration_since(now),
                })
            }
            State::HalfOpen { .. } => {
                self.short_circuited_total.fetch_add(1, Ordering::Relaxed);
                Err(ProviderError::CircuitOpen {
                    provider: self.provider,
                    failures: self.spec.failures,
                    retry_in: Duration::ZERO,
                })
            }
        }
    }

    /// Record an attempt's result (only provider faults count as failures). `trial`: the
    /// attempt was admitted as the half-open trial.
    pub fn record(&self, result: &Result<Completion, ProviderError>, trial: bool) {
        let fault = matches!(result, Err(e) if e.is_provider_fault());
        let mut state = self.lock();
        let next = match (&*state, fault) {
            // A call admitted before the breaker opened finished late, while the trial is out:
            // only the trial decides.
            (State::HalfOpen { trial_in_flight }, _) if !trial => State::HalfOpen {
                trial_in_flight: *trial_in_flight,
            },
            (State::Closed { .. }, false) => State::Closed { failures: 0 },
            (State::Closed { failures }, true) if failures + 1 >= self.spec.failures => {
                self.open(failures + 1)
            }
            (State::Closed { failures }, true) => State::Closed {
                failures: failures + 1,
            },
            (State::HalfOpen { .. }, false) => {
                tracing::info!(
                    provider = self.provider,
                    "circuit breaker closed: trial call succeeded"
                );
                self.transitions_total.fetch_add(1, Ordering::Relaxed);
                State::Closed { failures: 0 }
            }
            (State::HalfOpen { .. }, true) => self.open(self.spec.failures),
            // A call admitted before the breaker opened finished late: the state stands.
            (State::Open { until, failures }, _) => State::Open {
                until: *until,
                failures: *failures,
            },
        };
        *state = next;
    }

    /// A call admitted as the half-open trial was abandoned (cancelled): let another try.
    pub fn release_trial(&self) {
        let mut state = self.lock();
        if let State::HalfOpen {
            trial_in_flight: true,
        } = *state
        {
            *state = State::HalfOpen {
                trial_in_flight: false,
            };
        }
    }

    fn open(&self, failures: u32) -> State {
        self.opened_total.fetch_add(1, Ordering::Relaxed);
        self.transitions_total.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            provider = self.provider,
            failures,
            open_for = ?self.spec.open_for,
            "circuit breaker opened"
        );
        State::Open {
            until: Instant::now() + self.spec.open_for,
            failures,
        }
    }

    pub fn stats(&self) -> BreakerStats {
        let state = self.lock();
        let (public, failures) = match *state {
            State::Closed { failures } => (BreakerState::Closed, failures),
            State::Open { failures, until } if Instant::now() < until => {
                (BreakerState::Open, failures)
            }
            // Past its open time it will admit the next call: show it as half-open already.
            State::Open { failures, .. } => (BreakerState::HalfOpen, failures),
            State::HalfOpen { .. } => (BreakerState::HalfOpen, self.spec.failures),
        };
        BreakerStats {
            state: public,
            consecutive_failures: failures,
            failure_threshold: self.spec.failures,
            open_for_secs: self.spec.open_for.as_secs_f64(),
            opened_total: self.opened_total.load(Ordering::Relaxed),
            transitions_total: self.transitions_total.load(Ordering::Relaxed),
            short_circuited_total: self.short_circuited_total.load(Ordering::Relaxed),
        }
    }
}

/// Releases a half-open trial slot if the attempt is dropped before it records a result.
struct TrialGuard<'a> {
    breaker: &'a Breaker,
    armed: bool,
}

impl Drop for TrialGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.breaker.release_trial();
        }
    }
}

/// One attempt: breaker admission, the provider call under a timeout, the breaker's record.
async fn attempt(
    provider: &dyn Provider,
    breaker: &Breaker,
    request: &CompletionRequest,
    timeout: Duration,
) -> Result<Completion, ProviderError> {
    let trial = breaker.admit()?;
    // Only the trial holds the half-open slot, so only the trial gives it back.
    let mut guard = TrialGuard {
        breaker,
        armed: trial,
    };
    let result = match tokio::time::timeout(timeout, provider.complete(request)).await {
        Ok(result) => result,
        Err(_) => Err(ProviderError::Timeout {
            provider: provider.name(),
            after: timeout,
        }),
    };
    guard.armed = false;
    breaker.record(&result, trial);
    result
}

/// Call the provider with retries. `on_retry` is told of each retry (for the metrics).
/// The caller holds the provider permit for the whole of this, backoff included.
pub async fn call_with_retries(
    provider: &dyn Provider,
    breaker: &Breaker,
    request: &CompletionRequest,
    policy: RetryPolicy,
    on_retry: impl Fn(&ProviderError),
) -> Result<Completion, ProviderError> {
    let backoff = ExponentialBuilder::default()
        .with_min_delay(policy.base_backoff)
        .with_max_delay(policy.base_backoff * 16)
        .with_max_times(policy.max_attempts.saturating_sub(1) as usize)
        .with_jitter();
    (|| attempt(provider, breaker, request, policy.attempt_timeout))
        .retry(backoff)
        .when(ProviderError::is_retryable)
        // Retry-After wins over our own backoff when it asks for longer.
        .adjust(|err, planned| match (err.retry_after(), planned) {
            (Some(asked), Some(planned)) => Some(asked.max(planned)),
            (_, planned) => planned,
        })
        .notify(|err, _| on_retry(err))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail() -> Result<Completion, ProviderError> {
        Err(ProviderError::Status {
            provider: "simulated",
            status: 500,
            message: "boom".into(),
            retry_after: None,
        })
    }

    fn ok() -> Result<Completion, ProviderError> {
        Ok(Completion { text: "hi".into() })
    }

    fn breaker() -> Breaker {
        Breaker::new(
            "simulated",
            BreakerSpec {
                failures: 2,
                open_for: Duration::from_secs(30),
            },
        )
    }

    #[tokio::test(start_paused = true)]
    async fn only_the_half_open_trial_decides_and_only_it_frees_its_slot() {
        let b = breaker();
        // A call admitted while closed, still out when the breaker opens.
        assert!(!b.admit().unwrap());
        for _ in 0..2 {
            assert!(!b.admit().unwrap());
            b.record(&fail(), false);
        }
        assert_eq!(b.stats().state, BreakerState::Open);
        assert!(matches!(b.admit(), Err(ProviderError::CircuitOpen { .. })));
        tokio::time::advance(Duration::from_secs(31)).await;
        assert!(
            b.admit().unwrap(),
            "the first call after open_for is the trial"
        );
        assert!(b.admit().is_err(), "one trial at a time");
        // The early call finishes late: it neither closes nor reopens the breaker...
        b.record(&ok(), false);
        assert_eq!(b.stats().state, BreakerState::HalfOpen);
        b.record(&fail(), false);
        assert_eq!(b.stats().state, BreakerState::HalfOpen);
        assert!(b.admit().is_err(), "...nor frees the trial's slot");
        // The trial's success closes it.
        b.record(&ok(), true);
        assert_eq!(b.stats().state, BreakerState::Closed);
        assert_eq!(b.stats().opened_total, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn an_abandoned_trial_lets_the_next_call_try_and_a_failed_trial_reopens() {
        let b = breaker();
        for _ in 0..2 {
            b.admit().unwrap();
            b.record(&fail(), false);
        }
        tokio::time::advance(Duration::from_secs(31)).await;
        assert!(b.admit().unwrap());
        b.release_trial(); // what TrialGuard does when the trial is cancelled
        assert!(b.admit().unwrap(), "the next call becomes the trial");
        b.record(&fail(), true);
        assert_eq!(b.stats().state, BreakerState::Open);
        assert_eq!(b.stats().opened_total, 2);
    }
}
