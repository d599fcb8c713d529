//! Provider calls that survive a flaky provider: a per-attempt timeout and a circuit breaker
//! per provider (closed → open → half-open) so a failing provider fails fast instead of piling
//! up calls behind it. An open breaker lets one trial call through after a few seconds, and
//! doubles that wait after each failed trial up to its longest, so a provider back after a blip
//! is used again within seconds and one that stays down is not hammered. Retries around
//! attempts are in `retry`.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::{Completion, CompletionRequest, Provider, ProviderError};
use crate::config::BreakerSpec;
use zen_model::snapshot::{BreakerState, BreakerStats};

/// The most of the opening error a refusal quotes, in characters.
const LAST_ERROR_CHARS: usize = 200;

/// `last_error` is the error that opened the breaker, quoted when a call is refused, so the
/// caller learns why without digging through logs.
#[derive(Debug)]
enum State {
    /// Calls flow; `failures` in a row so far.
    Closed { failures: u32 },
    /// Calls fail fast until `until`, `waited` after it opened.
    Open {
        until: Instant,
        waited: Duration,
        failures: u32,
        last_error: Arc<str>,
    },
    /// One trial call is allowed through; its result closes or reopens the breaker (for twice
    /// `waited`, at most the spec's longest).
    HalfOpen {
        trial_in_flight: bool,
        waited: Duration,
        last_error: Arc<str>,
    },
}

/// One provider's circuit breaker.
#[derive(Debug)]
pub(crate) struct Breaker {
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
    pub(crate) fn new(provider: &'static str, spec: BreakerSpec) -> Self {
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
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// May a call go to the provider now? `Ok(true)`: yes, as the half-open trial (its result
    /// alone decides the state); `Ok(false)`: yes, as an ordinary call.
    pub(crate) fn admit(&self) -> Result<bool, ProviderError> {
        let mut state = self.lock();
        let now = Instant::now();
        match &mut *state {
            State::Closed { .. } => Ok(false),
            State::Open {
                until,
                waited,
                last_error,
                ..
            } if now >= *until => {
                let (last_error, waited) = (last_error.clone(), *waited);
                *state = State::HalfOpen {
                    trial_in_flight: true,
                    waited,
                    last_error,
                };
                self.transitions_total.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    provider = self.provider,
                    "circuit breaker half-open: one trial call"
                );
                Ok(true)
            }
            State::HalfOpen {
                trial_in_flight, ..
            } if !*trial_in_flight => {
                *trial_in_flight = true;
                Ok(true)
            }
            State::Open {
                until,
                failures,
                last_error,
                ..
            } => Err(self.refuse(*failures, until.saturating_duration_since(now), last_error)),
            State::HalfOpen { last_error, .. } => {
                Err(self.refuse(self.spec.failures, Duration::ZERO, last_error))
            }
        }
    }

    /// The error for a call refused while open (or while the half-open trial is out).
    fn refuse(&self, failures: u32, retry_in: Duration, last_error: &str) -> ProviderError {
        self.short_circuited_total.fetch_add(1, Ordering::Relaxed);
        ProviderError::CircuitOpen {
            provider: self.provider,
            failures,
            retry_in,
            last_error: last_error.to_string(),
        }
    }

    /// Record an attempt's result (only provider faults count as failures). `trial`: the
    /// attempt was admitted as the half-open trial.
    pub(crate) fn record(&self, result: &Result<Completion, ProviderError>, trial: bool) {
        let fault = result.as_ref().err().filter(|e| e.is_provider_fault());
        let mut state = self.lock();
        let next = match (&*state, fault) {
            // A call admitted before the breaker opened finished late, while the trial is out:
            // only the trial decides.
            (State::HalfOpen { .. }, _) if !trial => return,
            (State::Closed { .. }, None) => State::Closed { failures: 0 },
            (State::Closed { failures }, Some(e)) if failures + 1 >= self.spec.failures => {
                self.open(failures + 1, e, self.spec.first_retry)
            }
            (State::Closed { failures }, Some(_)) => State::Closed {
                failures: failures + 1,
            },
            (State::HalfOpen { .. }, None) => {
                tracing::info!(
                    provider = self.provider,
                    "circuit breaker closed: trial call succeeded"
                );
                self.transitions_total.fetch_add(1, Ordering::Relaxed);
                State::Closed { failures: 0 }
            }
            (State::HalfOpen { waited, .. }, Some(e)) => {
                let longer = waited.saturating_mul(2).min(self.spec.open_for);
                self.open(self.spec.failures, e, longer.max(self.spec.first_retry))
            }
            // A call admitted before the breaker opened finished late: the state stands.
            (State::Open { .. }, _) => return,
        };
        *state = next;
    }

    /// A call admitted as the half-open trial was abandoned (cancelled): let another try.
    pub(crate) fn release_trial(&self) {
        if let State::HalfOpen {
            trial_in_flight, ..
        } = &mut *self.lock()
        {
            *trial_in_flight = false;
        }
    }

    /// Open for `wait`: the first time the spec's first retry, after a failed trial twice the
    /// last wait (at most the spec's longest).
    fn open(&self, failures: u32, error: &ProviderError, wait: Duration) -> State {
        self.opened_total.fetch_add(1, Ordering::Relaxed);
        self.transitions_total.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            provider = self.provider,
            failures,
            open_for = ?wait,
            %error,
            "circuit breaker opened"
        );
        let now = Instant::now();
        State::Open {
            until: now.checked_add(wait).unwrap_or(now + self.spec.open_for),
            waited: wait,
            failures,
            last_error: one_line(&error.to_string(), LAST_ERROR_CHARS).into(),
        }
    }

    pub(crate) fn stats(&self) -> BreakerStats {
        let state = self.lock();
        // open_for: this time's wait while open or half-open, the first wait while closed.
        let (public, failures, open_for) = match *state {
            State::Closed { failures } => (BreakerState::Closed, failures, self.spec.first_retry),
            State::Open {
                failures,
                until,
                waited,
                ..
            } if Instant::now() < until => (BreakerState::Open, failures, waited),
            // Past its open time it will admit the next call: show it as half-open already.
            State::Open {
                failures, waited, ..
            } => (BreakerState::HalfOpen, failures, waited),
            State::HalfOpen { waited, .. } => (BreakerState::HalfOpen, self.spec.failures, waited),
        };
        BreakerStats {
            state: public,
            consecutive_failures: failures,
            failure_threshold: self.spec.failures,
            open_for_secs: open_for.as_secs_f64(),
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

/// An error as one line of at most `max` characters. Provider errors are already scrubbed of
/// API keys where they are made; this keeps a multi-line or huge body out of a refusal.
fn one_line(text: &str, max: usize) -> String {
    let mut line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max + 1)
        .collect();
    if line.chars().count() > max {
        line = line.chars().take(max).collect();
        line.push('…');
    }
    line
}

/// One attempt: breaker admission, the provider call under a timeout, the breaker's record.
pub(super) async fn attempt(
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

    fn completion() -> Completion {
        Completion {
            text: "hi".into(),
            usage: None,
        }
    }

    fn breaker() -> Breaker {
        Breaker::new("simulated", BreakerSpec::new(2, Duration::from_secs(30)))
    }

    /// Open `b` (2 failures in a row).
    fn trip(b: &Breaker) {
        for _ in 0..2 {
            b.admit().unwrap();
            b.record(&fail(), false);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_open_breaker_tries_again_after_seconds_and_backs_off_to_its_longest() {
        let b = breaker();
        trip(&b);
        assert_eq!(b.stats().open_for_secs, 3.0);
        // Each failed trial doubles the wait: 3, 6, 12, 24, then the longest, 30.
        for wait in [3, 6, 12, 24, 30, 30] {
            tokio::time::advance(Duration::from_millis(wait * 1000 - 100)).await;
            assert!(b.admit().is_err(), "still open {wait}s after opening");
            tokio::time::advance(Duration::from_millis(100)).await;
            assert!(b.admit().unwrap(), "the trial {wait}s after opening");
            b.record(&fail(), true);
            let next = (wait * 2).min(30) as f64;
            assert_eq!(b.stats().open_for_secs, next);
        }
        // A provider that is back: the trial closes it, and the next opening starts at 3 s again.
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(b.admit().unwrap());
        b.record(&Ok(completion()), true);
        assert_eq!(b.stats().state, BreakerState::Closed);
        trip(&b);
        assert_eq!(b.stats().open_for_secs, 3.0);
        tokio::time::advance(Duration::from_secs(3)).await;
        assert!(b.admit().unwrap());
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
        tokio::time::advance(Duration::from_secs(3)).await;
        assert!(
            b.admit().unwrap(),
            "the first call after open_for is the trial"
        );
        assert!(b.admit().is_err(), "one trial at a time");
        // The early call finishes late: it neither closes nor reopens the breaker...
        b.record(&Ok(completion()), false);
        assert_eq!(b.stats().state, BreakerState::HalfOpen);
        b.record(&fail(), false);
        assert_eq!(b.stats().state, BreakerState::HalfOpen);
        assert!(b.admit().is_err(), "...nor frees the trial's slot");
        // The trial's success closes it.
        b.record(&Ok(completion()), true);
        assert_eq!(b.stats().state, BreakerState::Closed);
        assert_eq!(b.stats().opened_total, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn an_abandoned_trial_lets_the_next_call_try_and_a_failed_trial_reopens() {
        let b = breaker();
        trip(&b);
        tokio::time::advance(Duration::from_secs(3)).await;
        assert!(b.admit().unwrap());
        b.release_trial(); // what TrialGuard does when the trial is cancelled
        assert!(b.admit().unwrap(), "the next call becomes the trial");
        b.record(&fail(), true);
        assert_eq!(b.stats().state, BreakerState::Open);
        assert_eq!(b.stats().opened_total, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn an_open_breaker_names_the_error_that_opened_it() {
        let b = breaker();
        let long = format!("first line\nsecond {}", "x".repeat(1000));
        for message in ["an older error", long.as_str()] {
            b.admit().unwrap();
            b.record(
                &Err(ProviderError::Status {
                    provider: "simulated",
                    status: 503,
                    message: message.into(),
                    retry_after: None,
                }),
                false,
            );
        }
        let refused = b.admit().unwrap_err().to_string();
        assert!(
            refused
                .contains("(the last: provider simulated returned HTTP 503: first line second xxx"),
            "{refused}"
        );
        assert!(
            !refused.contains("older") && !refused.contains('\n'),
            "{refused}"
        );
        assert!(refused.len() < 400, "cut short: {} bytes", refused.len());
        // Still named while the half-open trial is out.
        tokio::time::advance(Duration::from_secs(3)).await;
        assert!(b.admit().unwrap());
        assert!(b.admit().unwrap_err().to_string().contains("HTTP 503"));
    }
}
