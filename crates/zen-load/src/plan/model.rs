//! The load model from the flags over the scenario's `[load]` and `[[stages]]`: a closed loop
//! (concurrency, a call count or a duration), an open loop (`--rate`), or stages of either.
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::args::LoadArgs;
use crate::engine::stages::{Profile, parse_stages};
use crate::engine::{Model, Stop};
use crate::plan::scenario::{LoadSection, Scenario};

/// Defaults that differ between stress and soak.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    /// Closed-loop concurrency when nothing sets it.
    pub concurrency: u32,
    /// Run length when nothing sets one (soak); `None`: a call count (stress).
    pub duration: Option<Duration>,
}

/// Open loop: calls outstanding at once unless --max-in-flight says otherwise.
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 1024;

/// The model to run, and its stages if it has any.
pub(crate) fn model(
    load: &LoadArgs,
    scenario: &Scenario,
    defaults: Defaults,
) -> Result<(Model, Option<Profile>)> {
    let s = &scenario.load;
    Ok(match shape(load, scenario)? {
        Some((profile, open)) => (staged_model(&profile, open, load, s)?, Some(profile)),
        None => (constant_model(load, s, defaults)?, None),
    })
}

/// The load model without stages: closed (concurrency, count or duration) or open (`--rate`).
fn constant_model(load: &LoadArgs, s: &LoadSection, defaults: Defaults) -> Result<Model> {
    let rate = match load.rate {
        Some(Some(rate)) => Some(rate),
        Some(None) => bail!(
            "--rate without a value goes with --stages; give calls per second, e.g. --rate 100"
        ),
        None => s.rate,
    };
    let duration = load.duration.or(s.duration);
    let requests = load.requests.or(s.requests);
    let concurrency = load.concurrency.or(s.concurrency);
    Ok(if let Some(rate) = rate {
        if !(rate > 0.0 && rate.is_finite()) {
            bail!("--rate {rate}: expected calls per second above 0");
        }
        if requests.is_some() || concurrency.is_some() {
            bail!(
                "--rate is an open loop: use it with --duration and --max-in-flight, not --requests or --concurrency"
            );
        }
        let duration = duration.or(defaults.duration).context(
            "--rate needs --duration (how long to keep the schedule going), e.g. --rate 100 --duration 30s",
        )?;
        Model::Open {
            rate,
            duration,
            max_in_flight: load
                .max_in_flight
                .or(s.max_in_flight)
                .unwrap_or(DEFAULT_MAX_IN_FLIGHT),
        }
    } else {
        if load.max_in_flight.is_some() {
            bail!(
                "--max-in-flight applies to the open loop (--rate); in a closed loop use --concurrency"
            );
        }
        let concurrency = concurrency.unwrap_or(defaults.concurrency);
        let stop = match (requests, duration) {
            (Some(_), Some(_)) if load.requests.is_some() && load.duration.is_some() => {
                bail!("give --requests or --duration, not both")
            }
            // A flag beats the scenario's other stop condition.
            (Some(n), Some(d)) => {
                if load.duration.is_some() {
                    Stop::Duration(d)
                } else {
                    Stop::Requests(n)
                }
            }
            (Some(n), None) => Stop::Requests(n),
            (None, Some(d)) => Stop::Duration(d),
            (None, None) => match defaults.duration {
                Some(d) => Stop::Duration(d),
                None => Stop::Requests(u64::from(concurrency)),
            },
        };
        // No more callers than calls: the report's concurrency is what really ran.
        let concurrency = match stop {
            Stop::Requests(n) => concurrency.min(u32::try_from(n).unwrap_or(u32::MAX)),
            Stop::Duration(_) => concurrency,
        };
        Model::Closed { concurrency, stop }
    })
}

/// The stages to run, if any, and whether their targets are rates (open loop).
fn shape(load: &LoadArgs, scenario: &Scenario) -> Result<Option<(Profile, bool)>> {
    let stages = match &load.stages {
        Some(text) => parse_stages(text).map_err(|e| anyhow::anyhow!("--stages: {e}"))?,
        // A flag that sets the load model beats the scenario's stages.
        None if !scenario.stages.is_empty()
            && load.concurrency.is_none()
            && load.requests.is_none()
            && load.duration.is_none()
            && !matches!(load.rate, Some(Some(_))) =>
        {
            scenario.stages.clone()
        }
        None => return Ok(None),
    };
    let open = match load.rate {
        Some(Some(rate)) => bail!(
            "--rate {rate} with --stages: the stage targets are the rates; give --rate without a value"
        ),
        Some(None) => true,
        None => scenario.load.open_loop,
    };
    Ok(Some((Profile::from_stages(&stages), open)))
}

/// The model that holds a shape: its peak and its total length.
fn staged_model(profile: &Profile, open: bool, load: &LoadArgs, s: &LoadSection) -> Result<Model> {
    let duration = profile.duration();
    if open {
        return Ok(Model::Open {
            rate: profile.peak(),
            duration,
            max_in_flight: load
                .max_in_flight
                .or(s.max_in_flight)
                .unwrap_or(DEFAULT_MAX_IN_FLIGHT),
        });
    }
    if load.max_in_flight.is_some() {
        bail!(
            "--max-in-flight applies to the open loop (--stages … --rate); closed-loop stages set the calls in flight"
        );
    }
    Ok(Model::Closed {
        concurrency: (profile.peak().ceil() as u32).max(1),
        stop: Stop::Duration(duration),
    })
}
