//! The load engine shared by `zen stress` and `zen soak`: targets, the closed and open loop
//! engine, scenarios, the recorder, reports and the soak verdict.
pub mod ceiling;
pub mod ceiling_report;
pub mod engine;
pub mod hdr;
mod http_pool;
mod http_target;
pub mod live;
mod mcp_http;
pub mod preflight;
pub mod progress;
pub mod recorder;
pub mod render;
pub mod report;
pub mod run;
pub mod scenario;
pub mod series;
pub mod session;
pub mod settings;
pub mod soak_plan;
pub mod soak_sampler;
pub mod soak_verdict;
pub mod spread;
mod sse;
pub mod stages;
pub mod target;
pub mod verdict;
pub mod watchdog;
