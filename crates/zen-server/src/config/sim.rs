//! The built-in simulated provider's settings.
use clap::Args;

use super::values::{Fraction, Latency, NameMap, parse_faults, parse_fraction, parse_latency};

/// The built-in simulated provider (used when no API key is set).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Simulated provider")]
pub struct SimConfig {
    /// Reply latency in ms: fixed (`200`) or uniform in a range (`50..400`)
    #[arg(long, env = "ZEN_SIM_LATENCY_MS", default_value = "200", value_parser = parse_latency, value_name = "MS|LO..HI")]
    pub sim_latency_ms: Latency,
    /// Share of calls that fail like a provider 5xx, 0.0 to 1.0
    #[arg(long, env = "ZEN_SIM_ERROR_RATE", default_value_t = 0.0, value_parser = parse_fraction, value_name = "RATE")]
    pub sim_error_rate: f64,
    /// Size of each simulated reply in bytes
    #[arg(
        long,
        env = "ZEN_SIM_REPLY_BYTES",
        default_value_t = 512,
        value_name = "BYTES"
    )]
    pub sim_reply_bytes: usize,
    /// Seed for the simulated provider's randomness (runs repeat exactly with the same seed)
    #[arg(long, env = "ZEN_SIM_SEED", value_name = "SEED")]
    pub sim_seed: Option<u64>,
    /// Models the simulated provider offers, comma-separated (all share the simulated pool),
    /// so consensus and the workflows run without keys
    #[arg(
        long,
        env = "ZEN_SIM_MODELS",
        value_delimiter = ',',
        default_value = "simulated",
        value_name = "MODELS"
    )]
    pub sim_models: Vec<String>,
    /// Injected faults, each `kind=rate`: hang (never answers), 429 (with Retry-After), 500, slow (trickles 10x latency); e.g. 429=0.05,hang=0.01
    #[arg(long, env = "ZEN_SIM_FAULTS", default_value = "", value_parser = parse_faults, value_name = "KIND=RATE,..")]
    pub sim_faults: NameMap<Fraction>,
}
