//! A soak's warm-up and sample interval, scaled to its length so a one-minute soak reaches a
//! verdict as surely as a one-hour one; a plan that cannot gather enough samples after its
//! warm-up is refused before any load is sent, saying what to change.
use std::time::Duration;

use anyhow::{Result, bail};

use crate::soak::outcome::MIN_SAMPLES;

/// Samples the default interval aims for after the warm-up (three times the minimum, so a few
/// late ticks on a busy machine cannot cost the verdict).
const AIMED_SAMPLES: u32 = 3 * MIN_SAMPLES as u32;
/// The default interval never goes below this (sampling costs the target a /proc read)…
const MIN_DEFAULT_INTERVAL: Duration = Duration::from_millis(250);
/// … nor above this (a long soak still sees spikes).
const MAX_DEFAULT_INTERVAL: Duration = Duration::from_secs(10);
/// The shortest interval one may ask for.
pub(super) const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// When sampling starts counting and how often it happens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct SoakPlan {
    /// Samples before this are shown but not judged (start-up allocations are not a leak).
    pub warmup: Duration,
    /// Time between memory samples.
    pub interval: Duration,
}

/// Default warm-up: the larger of 10 % of the run and the lesser of 60 s and a quarter of it
/// (6 min for 1 h, 60 s for 5 min, 15 s for 1 min).
pub(super) fn default_warmup(planned: Duration) -> Duration {
    (planned / 10).max(Duration::from_mins(1).min(planned / 4))
}

/// Default interval: about `AIMED_SAMPLES` samples after the warm-up, within 250 ms to 10 s.
pub(super) fn default_interval(planned: Duration, warmup: Duration) -> Duration {
    (planned.saturating_sub(warmup) / AIMED_SAMPLES)
        .clamp(MIN_DEFAULT_INTERVAL, MAX_DEFAULT_INTERVAL)
}

/// Fill in the defaults and check that the run can reach a verdict; the error says what to change.
pub(super) fn plan(
    planned: Duration,
    warmup: Option<Duration>,
    interval: Option<Duration>,
) -> Result<SoakPlan> {
    let warmup = warmup.unwrap_or_else(|| default_warmup(planned));
    let interval = interval.unwrap_or_else(|| default_interval(planned, warmup));
    let human = |d: Duration| humantime::format_duration(d).to_string();
    if interval < MIN_INTERVAL {
        bail!(
            "--sample-interval {} is below the 100ms minimum",
            human(interval)
        );
    }
    if planned <= warmup {
        bail!(
            "the run ({}) is not longer than its warm-up ({}), so no verdict is possible: \
             lengthen --duration or shorten --warmup",
            human(planned),
            human(warmup)
        );
    }
    let judged = planned.checked_sub(warmup).unwrap();
    let samples = judged.as_secs_f64() / interval.as_secs_f64();
    if samples < MIN_SAMPLES as f64 {
        let needed = warmup + interval * MIN_SAMPLES as u32;
        // A shorter interval helps only if it stays above the minimum.
        let faster = round_down(judged / MIN_SAMPLES as u32);
        let faster = if faster >= MIN_INTERVAL {
            format!(
                ", or sample more often (--sample-interval {})",
                human(faster)
            )
        } else {
            String::new()
        };
        bail!(
            "this soak would take about {} memory samples after its warm-up, and a verdict needs \
             {MIN_SAMPLES}: with a {} warm-up and a sample every {}, run at least {} \
             (--duration){faster}, or shorten --warmup",
            samples.floor(),
            human(warmup),
            human(interval),
            human(round_up(needed)),
        );
    }
    Ok(SoakPlan { warmup, interval })
}

/// Whole seconds above, for a suggestion people can type.
fn round_up(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs() + u64::from(d.subsec_nanos() > 0))
}

/// Whole milliseconds below.
fn round_down(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn defaults_scale_with_the_run() {
        let hour = plan(secs(3600), None, None).unwrap();
        assert_eq!(hour.warmup, secs(360));
        assert_eq!(hour.interval, secs(10));
        let minute = plan(secs(60), None, None).unwrap();
        assert_eq!(minute.warmup, secs(15));
        assert_eq!(minute.interval, Duration::from_millis(750));
        assert_eq!(plan(secs(300), None, None).unwrap().warmup, secs(60));
        // Short runs still get enough samples by default, down to about 7 s.
        for s in [7, 10, 20, 30, 60, 120, 600, 86_400] {
            let p = plan(secs(s), None, None).unwrap();
            let samples =
                secs(s).checked_sub(p.warmup).unwrap().as_secs_f64() / p.interval.as_secs_f64();
            assert!(samples >= MIN_SAMPLES as f64, "{s}s: {p:?}");
        }
    }

    #[test]
    fn a_plan_without_enough_samples_is_refused_saying_what_to_change() {
        let err = plan(secs(60), Some(secs(10)), Some(secs(10)))
            .unwrap_err()
            .to_string();
        assert!(err.contains("about 5 memory samples"), "{err}");
        assert!(err.contains("run at least 3m 30s"), "{err}");
        assert!(err.contains("--sample-interval 2s 500ms"), "{err}");
        let err = plan(secs(3), None, None).unwrap_err().to_string();
        assert!(err.contains("a verdict needs 20"), "{err}");
        let err = plan(secs(60), Some(secs(60)), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not longer than its warm-up"), "{err}");
        assert!(plan(secs(60), None, Some(Duration::from_millis(50))).is_err());
    }
}
