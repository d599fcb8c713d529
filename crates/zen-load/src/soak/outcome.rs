//! What the verdict decides and from what: the load it judges, the samples it needs, and a
//! decision with why a run could not decide. Shared by the verdict and its words.
use zen_model::report::soak::PartProjection;
use zen_model::report::verdict::Status;

/// Samples needed after the warm-up for any verdict.
pub(crate) const MIN_SAMPLES: u64 = 20;
/// Successful calls a soak needs: memory under no load proves nothing.
pub(crate) const MIN_OK_CALLS: u64 = 20;

/// How the calls went.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Load {
    /// Calls that succeeded.
    pub ok: u64,
    /// Calls that failed.
    pub failed: u64,
    /// The error rate allowed (`--max-error-rate`).
    pub max_error_rate: f64,
}

/// What the projection says, and what would settle it when it cannot.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    /// PASS, FAIL or INCONCLUSIVE.
    pub status: Status,
    /// Why, when inconclusive.
    pub undecided: Option<Undecided>,
    /// A run length that would decide, seconds.
    pub decide_with_secs: Option<f64>,
}

/// Why a run could not decide.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Undecided {
    /// The curve rose into a stretch too short to judge (at, height).
    RoseAtEnd { at_secs: f64, height_mb: f64 },
    /// Over the limit, but growth is slowing as a filling cache's does.
    Slowing,
    /// A bounded part still far from its cap (its projection).
    Filling(PartProjection),
    /// The projection and its error straddle the limit.
    Straddles,
}
