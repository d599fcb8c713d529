//! The parts of zen's memory that a setting bounds: the store's page cache, conversations kept
//! in RAM, the metric histograms. Each names its size now and its cap, so a soak projects each
//! to its bound (it cannot grow past it) and extrapolates only the rest of the process.
use serde::{Deserialize, Serialize};

/// One bounded part of the process's memory.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct BoundedPart {
    /// A stable key: `store_cache`, `conversations`, `histograms`.
    pub key: String,
    /// What it is, for people: "the SQLite store's page cache".
    pub name: String,
    /// Its size now, bytes (an upper bound of what it adds to RSS).
    pub bytes: u64,
    /// The most it can reach, bytes.
    pub cap_bytes: u64,
    /// What sets the cap (a setting's name, or why it is fixed).
    pub bounded_by: String,
}
