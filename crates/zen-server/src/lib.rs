//! The MCP tool host behind `zen serve`. A call flows transport ([`serve`]) → the tool registry
//! ([`tools`]) → a tool, which takes a permit from the pools ([`concurrency`]), reads and appends
//! its thread ([`conversations`]) and asks a model ([`providers`]); [`metrics`] and [`memory`] see
//! every call, and [`telemetry`] publishes the one Snapshot they make. [`config`] is the one place
//! that knows the settings' names; [`protocol`] the one place that knows MCP's rules.

pub mod client_log;
pub mod concurrency;
pub mod config;
pub mod conversations;
pub mod memory;
pub mod metrics;
pub(crate) mod protocol;
pub mod providers;
pub(crate) mod redis_connect;
pub mod serve;
pub mod telemetry;
pub mod tools;
