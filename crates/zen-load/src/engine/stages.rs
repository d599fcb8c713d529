//! Load shapes, as k6 users know them: stages of (duration, target), each ramping linearly from
//! the previous stage's target (the first from 0) to its own. The target is calls in flight in a
//! closed loop, calls started per second in an open one. A `Profile` is the piecewise-linear
//! target over time; the open loop reads its send times off the profile's integral, so a ramp
//! of arrivals is exact, not stepped.
use std::time::Duration;

use anyhow::{Result, bail};
use serde::Deserialize;

/// One stage: reach `target` over `duration`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// How long the ramp to `target` takes (then the next stage starts).
    #[serde(deserialize_with = "stage_duration")]
    pub duration: Duration,
    /// Calls in flight (closed loop) or calls per second (open loop) at the end of the stage.
    pub target: f64,
}

/// A stage's length in a scenario: seconds, or text like "30s".
fn stage_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(f64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Secs(s) if s >= 0.0 && s.is_finite() => Ok(Duration::from_secs_f64(s)),
        Raw::Secs(s) => Err(serde::de::Error::custom(format!(
            "{s} is not a duration of zero or more"
        ))),
        Raw::Text(t) => zen_model::units::parse_duration(&t).map_err(serde::de::Error::custom),
    }
}

/// Parse `--stages "30s:10,1m:50,30s:0"`.
pub(crate) fn parse_stages(text: &str) -> Result<Vec<Stage>, String> {
    let stages = text
        .split(',')
        .map(|part| {
            let part = part.trim();
            let (d, t) = part.split_once(':').ok_or_else(|| {
                format!("'{part}' is not DURATION:TARGET (e.g. 30s:10, the whole flag e.g. \"30s:10,1m:50,30s:0\")")
            })?;
            let duration = zen_model::units::parse_duration(d.trim())?;
            let target: f64 = t
                .trim()
                .parse()
                .map_err(|_| format!("'{t}' in '{part}' is not a number (the stage's target)"))?;
            Ok(Stage { duration, target })
        })
        .collect::<Result<Vec<_>, String>>()?;
    check(&stages).map_err(|e| e.to_string())?;
    Ok(stages)
}

/// Stages that make a run: at least one, targets finite and not negative, some time in all.
pub(crate) fn check(stages: &[Stage]) -> Result<()> {
    if stages.is_empty() {
        bail!("no stages: give at least one DURATION:TARGET, e.g. 30s:10");
    }
    for (i, s) in stages.iter().enumerate() {
        if !(s.target >= 0.0 && s.target.is_finite()) {
            bail!(
                "stage {}: target {} must be a number of 0 or more",
                i + 1,
                s.target
            );
        }
    }
    if stages.iter().all(|s| s.duration.is_zero()) {
        bail!("the stages last 0s in all: give them a length, e.g. 30s:10");
    }
    if stages.iter().all(|s| s.target == 0.0) {
        bail!("every stage's target is 0, so no call would be made");
    }
    Ok(())
}

/// The target over time: corners (seconds, value), linear in between.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// (time since start in seconds, target there), first at t = 0, times not decreasing.
    corners: Vec<(f64, f64)>,
}

impl Profile {
    /// The ramp the stages describe, from 0 at the start.
    pub fn from_stages(stages: &[Stage]) -> Self {
        let mut corners = vec![(0.0, 0.0)];
        let mut t = 0.0;
        for s in stages {
            t += s.duration.as_secs_f64();
            corners.push((t, s.target));
        }
        Profile { corners }
    }

    /// The same target from start to end.
    pub fn constant(value: f64, duration: Duration) -> Self {
        Profile {
            corners: vec![(0.0, value), (duration.as_secs_f64(), value)],
        }
    }

    /// Total length.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.corners.last().map_or(0.0, |c| c.0))
    }

    /// The stages back: (duration in seconds, target at its end).
    pub fn stages(&self) -> Vec<(f64, f64)> {
        self.corners
            .windows(2)
            .map(|w| (w[1].0 - w[0].0, w[1].1))
            .collect()
    }

    /// The highest target anywhere.
    pub fn peak(&self) -> f64 {
        self.corners.iter().map(|c| c.1).fold(0.0, f64::max)
    }

    /// The target at `t` seconds (0 past the end).
    #[cfg(test)]
    pub fn at(&self, t: f64) -> f64 {
        for w in self.corners.windows(2) {
            let ((t0, v0), (t1, v1)) = (w[0], w[1]);
            if t >= t0 && t < t1 {
                return v0 + (v1 - v0) * (t - t0) / (t1 - t0);
            }
        }
        0.0
    }

    /// The first time at or after `from` when the target is above `level`; None if it never is
    /// again. A closed-loop worker numbered `level` runs exactly while the target is above it.
    pub fn next_above(&self, level: f64, from: f64) -> Option<f64> {
        for w in self.corners.windows(2) {
            let ((t0, v0), (t1, v1)) = (w[0], w[1]);
            if t1 <= from || t1 <= t0 {
                continue;
            }
            let start = from.max(t0);
            let v_start = v0 + (v1 - v0) * (start - t0) / (t1 - t0);
            if v_start > level {
                return Some(start);
            }
            if v1 > level {
                // Rising through `level` inside this segment; a hair past it, so strictly above.
                let cross = t0 + (level - v0) / (v1 - v0) * (t1 - t0);
                return Some(cross.max(start) + 1e-6);
            }
        }
        None
    }

    /// Calls in all over the profile read as calls per second.
    pub fn total_calls(&self) -> f64 {
        self.corners
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) * (w[0].1 + w[1].1) / 2.0)
            .sum()
    }

    /// When call number `n` (from 0) is due, reading the profile as calls per second: the time
    /// at which the integral of the rate reaches `n`. None past the end.
    pub fn send_time(&self, n: f64) -> Option<f64> {
        let mut done = 0.0;
        for w in self.corners.windows(2) {
            let ((t0, v0), (t1, v1)) = (w[0], w[1]);
            let len = t1 - t0;
            let area = len * (v0 + v1) / 2.0;
            if len <= 0.0 || done + area <= n {
                done += area;
                continue;
            }
            // Solve done + v0·x + (v1 − v0)/(2·len)·x² = n for x in [0, len].
            let c = n - done;
            let a = (v1 - v0) / (2.0 * len);
            let x = if a.abs() < 1e-12 {
                c / v0
            } else {
                (-v0 + (v0 * v0 + 4.0 * a * c).max(0.0).sqrt()) / (2.0 * a)
            };
            return Some(t0 + x.clamp(0.0, len));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_parse_and_bad_ones_say_what_is_wrong() {
        let s = parse_stages("30s:10, 1m:50,30s:0").unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[1].duration, Duration::from_secs(60));
        assert_eq!(s[1].target, 50.0);
        assert!(parse_stages("30s").unwrap_err().contains("DURATION:TARGET"));
        assert!(parse_stages("30s:x").unwrap_err().contains("not a number"));
        assert!(parse_stages("0s:5").unwrap_err().contains("0s in all"));
        assert!(parse_stages("5s:0").unwrap_err().contains("no call"));
        assert!(parse_stages("5s:-1").unwrap_err().contains("0 or more"));
    }

    #[test]
    fn the_profile_ramps_linearly_from_zero() {
        let p = Profile::from_stages(&parse_stages("10s:10,10s:10,10s:0").unwrap());
        assert_eq!(p.duration(), Duration::from_secs(30));
        assert_eq!(p.at(5.0), 5.0);
        assert_eq!(p.at(15.0), 10.0);
        assert_eq!(p.at(25.0), 5.0);
        assert_eq!(p.at(31.0), 0.0);
        assert_eq!(p.peak(), 10.0);
        assert_eq!(p.total_calls(), 50.0 + 100.0 + 50.0);
        // Worker 2 starts when the ramp passes 2 and stops when it falls back to 2.
        let start = p.next_above(2.0, 0.0).unwrap();
        assert!((start - 2.0).abs() < 1e-3, "{start}");
        assert_eq!(p.next_above(2.0, 12.0), Some(12.0));
        assert_eq!(p.next_above(9.0, 29.0), None);
    }

    #[test]
    fn open_loop_send_times_follow_the_integral_of_the_rate() {
        let p = Profile::from_stages(&parse_stages("10s:10,10s:10").unwrap());
        // The ramp holds 50 calls: call 50 is due at 10 s, call 12.5 at 5 s (area 0.5·t²).
        assert!((p.send_time(50.0).unwrap() - 10.0).abs() < 1e-9);
        assert!((p.send_time(12.5).unwrap() - 5.0).abs() < 1e-9);
        assert!((p.send_time(60.0).unwrap() - 11.0).abs() < 1e-9);
        assert_eq!(p.send_time(150.0), None);
        let c = Profile::constant(4.0, Duration::from_secs(2));
        assert_eq!(c.send_time(3.0), Some(0.75));
        assert_eq!(c.total_calls(), 8.0);
        // Falling rates too.
        let down = Profile::from_stages(&parse_stages("0s:10,10s:0").unwrap());
        let t = down.send_time(25.0).unwrap();
        assert!((10.0 * t - t * t / 2.0 - 25.0).abs() < 1e-6, "{t}");
    }
}
