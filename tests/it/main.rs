//! One integration-test binary: every test starts the real `zen` binary (or the real library)
//! against real processes on 127.0.0.1, on ephemeral ports.
// The tests signal the processes they start (SIGTERM, SIGKILL) and set rlimits through libc.
#![allow(unsafe_code)]
mod fake_provider;
mod raw_http;
mod top;
mod util;

mod architecture;
mod cli_help;
mod cli_output;
mod clink;
mod cluster_limits;
mod cluster_provider;
mod cluster_stress;
mod compat_python;
mod hardening;
mod hostile_provider;
// Issue 25: bounded under hostile input, round three.
mod hostile3;
mod hostile_server;
// Issue 24: MCP 2026-07-28 with the official suites and SDKs.
mod conformance_client;
mod conformance_server;
mod interop;
mod lean_http_client;
mod model_files;
mod otel_export;
mod otlp_receiver;
mod protocol_load;
mod provider_openai;
mod reply_equality;
mod report;
mod report_html;
mod serve_bounds;
mod serve_bounds_stdio;
mod serve_http;
mod serve_http_direct;
mod serve_http_json;
mod serve_modern;
mod serve_stdio;
mod shapes;
mod soak;
mod stress;
mod tool_arguments;
mod tools_consensus;
mod tools_dropin;
mod tools_registry;
mod tools_workflow;
// Issue 30: messages that point at the fix; the README's commands, run as written.
mod docs_readme;
mod first_hour;
// Issue 30: the first load runs tell the truth (progress, series, reports, store warning).
mod first_load;
// Issue 28: zen stress reaches every server its users run.
mod reach_auth;
mod reach_ops;
mod reach_shards;
mod reach_sse;
// Issue 28: thresholds per operation and per tool.
mod reach_limits;

// Library-level: a real Server or store, called directly (paused tokio time where it helps).
mod app_util;
mod concurrency_limits;
mod memory_chat;
mod metrics_counts;
mod prometheus_real;
mod redis_util;
mod store_conformance;
mod store_redis;
mod store_sqlite;
// Issue 26: the SQLite store keeps answering while it cleans up.
mod store_cleanup;
// Issue 24 (logging): zen's warnings reach the client as notifications/message.
mod client_log;
