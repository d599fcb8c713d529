//! A session's rate limit on log messages: a token bucket, so a burst of warnings (a provider
//! going down under 20 calls at once) gets through, and a steady flood is cut to a trickle.
#[cfg(test)]
use std::time::Duration;
use std::time::Instant;

/// Messages that may go out at once.
pub(super) const BURST: usize = 20;
/// Messages a second, sustained.
pub(super) const PER_SECOND: u32 = 5;

/// The bucket: tokens left and when it was last filled.
pub(super) struct Bucket {
    /// Messages that may go out now.
    tokens: f64,
    /// When `tokens` was last brought up to date.
    at: Instant,
}

impl Bucket {
    /// A full bucket.
    pub(super) fn new(now: Instant) -> Bucket {
        Bucket {
            tokens: BURST as f64,
            at: now,
        }
    }

    /// Take a token at `now`; false when none is left.
    pub(super) fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at);
        self.at = now;
        self.tokens = elapsed
            .as_secs_f64()
            .mul_add(f64::from(PER_SECOND), self.tokens)
            .min(BURST as f64);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// As if a second had passed (tests).
    #[cfg(test)]
    pub(super) fn refill_for_test(&mut self) {
        self.at = self
            .at
            .checked_sub(Duration::from_secs(1))
            .unwrap_or(self.at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_sustained_rate() {
        let start = Instant::now();
        let mut bucket = Bucket::new(start);
        let first = (0..BURST * 2).filter(|_| bucket.take(start)).count();
        assert_eq!(first, BURST);
        let later = start + Duration::from_secs(2);
        let then = (0..BURST * 2).filter(|_| bucket.take(later)).count();
        assert_eq!(then, 2 * PER_SECOND as usize);
    }
}
