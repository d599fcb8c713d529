//! What to run: a scenario file and the command line merged into one plan (flags win).
mod calls;
mod de;
mod model;
pub mod op;
pub mod scenario;
pub mod settings;
pub mod shard;
mod target;
pub mod thresholds;
