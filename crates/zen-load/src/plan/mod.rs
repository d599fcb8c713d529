//! What to run: a scenario file and the command line merged into one plan (flags win).
pub mod op;
pub mod scenario;
pub mod settings;
pub mod shard;
