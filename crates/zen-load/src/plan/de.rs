//! Serde helpers of scenario files.
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// A duration given as seconds (`5`, `0.5`) or as text (`"750ms"`, `"1m"`).
pub(crate) fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(f64),
        Text(String),
    }
    let raw = Option::<Raw>::deserialize(d)?;
    match raw {
        None => Ok(None),
        Some(Raw::Secs(s)) if s >= 0.0 && s.is_finite() => Ok(Some(Duration::from_secs_f64(s))),
        Some(Raw::Secs(s)) => Err(serde::de::Error::custom(format!(
            "{s} is not a duration of zero or more"
        ))),
        Some(Raw::Text(t)) => zen_model::units::parse_duration(&t)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}
