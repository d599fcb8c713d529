//! One test on many machines (`--shard I/N`, `--start-at`): each generator runs the I-th of N
//! equal parts of the load, all starting at one wall-clock instant, and `zen report merge` of
//! their reports is the report of the whole. Closed loop: the concurrency, call count and
//! sessions are split. Open loop: shard I sends the calls I, I+N, I+2N… of the one schedule,
//! so the union of the shards is exactly the requested schedule, whatever its shape.
use std::time::{Duration, SystemTime};

use anyhow::{Result, bail};

use crate::engine::{Model, Stop};

/// This generator's part of the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based, like Kubernetes' `JOB_COMPLETION_INDEX`.
    pub index: u32,
    /// How many generators share the load.
    pub count: u32,
}

impl Shard {
    /// `I/N`, 0 ≤ I < N.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || {
            format!(
                "'{text}' is not I/N: the 0-based shard index and the shard count, e.g. 0/3 \
                 (Kubernetes: --shard $(JOB_COMPLETION_INDEX)/3)"
            )
        };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(format!(
                "--shard {text}: the index runs from 0 to the count less one (0/{count} … {}/{count})",
                count.saturating_sub(1)
            ));
        }
        Ok(Shard { index, count })
    }

    /// This shard's share of `total` things (the first `total % count` shards get one more).
    pub fn part(self, total: u64) -> u64 {
        let (n, i) = (u64::from(self.count), u64::from(self.index));
        total / n + u64::from(i < total % n)
    }

    /// The model this shard runs. Closed loop: its share of the callers and calls (at least
    /// one caller each). Open loop: the same schedule (the engine sends every N-th call of
    /// it) with its share of the in-flight cap.
    pub fn split(self, model: Model) -> Result<Model> {
        Ok(match model {
            Model::Closed { concurrency, stop } => {
                if concurrency < self.count {
                    bail!(
                        "--shard {}/{}: a concurrency of {concurrency} cannot be split {} ways; \
                         give at least {} (one caller per shard)",
                        self.index,
                        self.count,
                        self.count,
                        self.count
                    );
                }
                let stop = match stop {
                    Stop::Requests(n) => Stop::Requests(self.part(n).max(1)),
                    d @ Stop::Duration(_) => d,
                };
                Model::Closed {
                    concurrency: self.part(u64::from(concurrency)) as u32,
                    stop,
                }
            }
            Model::Open {
                rate,
                duration,
                max_in_flight,
            } => Model::Open {
                rate,
                duration,
                max_in_flight: (self.part(u64::from(max_in_flight)) as u32).max(1),
            },
        })
    }
}

/// `--start-at`: an RFC 3339 UTC instant (`2026-12-03T15:00:00Z`) not in the past.
pub fn parse_start_at(text: &str) -> Result<SystemTime, String> {
    let at = humantime::parse_rfc3339_weak(text.trim_end_matches('Z')).map_err(|e| {
        format!(
            "'{text}' is not an RFC 3339 UTC time ({e}), e.g. 2026-12-03T15:00:00Z \
             (date -u -d '+1 min' +%FT%TZ)"
        )
    })?;
    Ok(at)
}

/// `at` as `--start-at` takes it (RFC 3339, UTC, whole seconds).
pub fn format_rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()
}

/// How long until `at`, or an error when it has passed (shards that missed it would not start
/// together).
pub fn until(at: SystemTime) -> Result<Duration> {
    match at.duration_since(SystemTime::now()) {
        Ok(wait) => Ok(wait),
        Err(late) => bail!(
            "--start-at {} is {:.1}s in the past: give every shard a time far enough ahead for \
             all of them to start and connect",
            humantime::format_rfc3339_seconds(at),
            late.duration().as_secs_f64()
        ),
    }
}

/// Milliseconds since the epoch.
pub fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_the_load_exactly() {
        let s = |t: &str| Shard::parse(t).unwrap();
        assert!(Shard::parse("3/3").unwrap_err().contains("0/3"));
        assert!(Shard::parse("a/3").is_err());
        let parts: Vec<u64> = (0..3).map(|i| s(&format!("{i}/3")).part(10)).collect();
        assert_eq!(parts, [4, 3, 3]);
        let closed = Model::Closed {
            concurrency: 30,
            stop: Stop::Requests(100),
        };
        let total: u32 = (0..3)
            .map(|i| match s(&format!("{i}/3")).split(closed).unwrap() {
                Model::Closed { concurrency, .. } => concurrency,
                Model::Open { .. } => 0,
            })
            .sum();
        assert_eq!(total, 30);
        let tiny = Model::Closed {
            concurrency: 2,
            stop: Stop::Requests(2),
        };
        assert!(s("0/3").split(tiny).is_err());
        assert!(until(SystemTime::now() - Duration::from_secs(5)).is_err());
        let at = parse_start_at("2030-01-02T03:04:05Z").unwrap();
        assert_eq!(unix_ms(at), 1_893_553_445_000);
    }
}
