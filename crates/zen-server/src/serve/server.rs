//! The server: the tool context shared by every session, plus the calls in flight. The one place
//! a tool call passes through (admission, the global permit, metrics) on its way to the tool;
//! the provider call path lives in the tool context, below it.
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use rmcp::ErrorData as McpError;
use rmcp::model::{CallToolResult, JsonObject};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TaskTrackerToken;

use crate::config::ServeConfig;
use crate::memory::monitor::run_monitor;
use crate::metrics::CallOutcome;
use crate::protocol::logging::{Level, Note};
use crate::telemetry::otel;
use crate::tools::{Tool, ToolContext, ToolError, ToolRegistry, ToolReply};
use tracing::Instrument;
use zen_model::snapshot::{Snapshot, SnapshotSource};

/// The reply of a call still running when the drain deadline passes.
const DRAIN_DEADLINE_PASSED: &str = "cancelled: zen is shutting down and this call did not finish \
     within ZEN_DRAIN_TIMEOUT; retry it against a running server";

/// How long cancelled calls may take to hand their error replies over.
const ABORT_GRACE: Duration = Duration::from_secs(1);

/// A tool call counted for the drain from the moment a transport read it, so a call read just
/// before stdin closed is finished, not refused. Rides in the request's extensions.
#[derive(Debug, Clone)]
pub struct Admitted {
    /// Held, never read: the call counts for the drain until this token is dropped.
    _token: TaskTrackerToken,
}

/// The server every session shares.
pub struct Server {
    /// What tools use: settings, providers, managers.
    pub context: Arc<ToolContext>,
    /// The tools offered (after DISABLED_TOOLS).
    pub tools: ToolRegistry,
    /// Tool calls in flight; closed when shutdown begins, so new calls are refused while
    /// these drain.
    calls: TaskTracker,
    /// Cancelled when the drain deadline passes: calls still running end with an error reply.
    abort: CancellationToken,
    /// The start-up warnings, sent to a client that asks for log messages
    /// ([`crate::client_log`]).
    pub(crate) startup_warnings: Vec<Note>,
}

impl Server {
    /// Build the providers and managers from the configuration.
    pub async fn new(config: ServeConfig) -> Result<Arc<Self>> {
        let (tools, warnings) = ToolRegistry::new(&config.tools.disabled_tools, &config.clink);
        for warning in &warnings {
            tracing::warn!("{warning}");
        }
        let context = ToolContext::new(config, &tools.names()).await?;
        let note = |logger: &str, data: &String| Note {
            level: Level::Warning,
            logger: logger.to_string(),
            data: data.clone(),
        };
        let startup_warnings = (warnings.iter().map(|w| note("zen::tools", w)))
            .chain((context.registry.startup_warnings().iter()).map(|w| note("zen::providers", w)))
            .collect();
        Ok(Arc::new(Server {
            context: Arc::new(context),
            tools,
            calls: TaskTracker::new(),
            abort: CancellationToken::new(),
            startup_warnings,
        }))
    }

    /// Start the process sampler and the memory monitor; they stop with `shutdown`.
    pub fn spawn_background(&self, shutdown: &CancellationToken) {
        tokio::spawn(run_monitor(self.context.memory.clone(), shutdown.clone()));
        tokio::spawn(sample_process(self.context.clone(), shutdown.clone()));
    }

    /// The current snapshot (see [`ToolContext`]).
    pub fn snapshot(&self) -> Snapshot {
        self.context.snapshot()
    }

    /// Count a call as in flight now (see [`Admitted`]).
    pub fn admit(&self) -> Admitted {
        Admitted {
            _token: self.calls.token(),
        }
    }

    /// Serve one tools/call: admission, the global permit, the tool, the metrics.
    /// An unknown tool is a JSON-RPC error; every other failure is a tool result with isError.
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: Option<JsonObject>,
        admitted: Option<Admitted>,
        ct: CancellationToken,
    ) -> Result<CallToolResult, McpError> {
        let span = tracing::Span::none();
        self.call_tool_in(name, arguments, admitted, ct, &span)
            .await
    }

    /// [`Server::call_tool`] inside the call's trace `span`, which learns how the call failed.
    pub async fn call_tool_in(
        &self,
        name: &str,
        arguments: Option<JsonObject>,
        admitted: Option<Admitted>,
        ct: CancellationToken,
        span: &tracing::Span,
    ) -> Result<CallToolResult, McpError> {
        let Some(tool) = self.tools.get(name) else {
            self.context.metrics.count_unknown_tool();
            otel::spans::fail(span, "unknown_tool");
            return Err(self.unknown_tool(name));
        };
        let recording = self.context.metrics.begin_tool(tool.name());
        // Cancellation is checked first on every poll: a cancelled call that is woken because a
        // permit came free must not take it and start a provider request nobody will read.
        let result = tokio::select! {
            biased;
            () = ct.cancelled() => Err(ToolError::new(CallOutcome::Timeout, "cancelled: the client cancelled the call or the server is shutting down")),
            () = self.abort.cancelled() => Err(ToolError::new(CallOutcome::Timeout, DRAIN_DEADLINE_PASSED)),
            result = self.run_tool(tool.as_ref(), arguments, admitted) => result,
        };
        match result {
            Ok(reply) => {
                recording.finish(CallOutcome::Ok);
                Ok(reply.into_result())
            }
            Err(err) => {
                otel::spans::fail(span, err.outcome.as_str());
                recording.finish(err.outcome);
                Ok(err.into_result())
            }
        }
    }

    /// The JSON-RPC error for a name that is not an enabled tool.
    fn unknown_tool(&self, name: &str) -> McpError {
        let enabled = self.tools.names().join(", ");
        let message = if self.tools.is_disabled(name) {
            format!(
                "tool '{name}' is disabled on this server (DISABLED_TOOLS); enabled tools: {enabled}"
            )
        } else {
            format!("unknown tool '{name}': zen has {enabled}")
        };
        McpError::invalid_params(message, None)
    }

    async fn run_tool(
        &self,
        tool: &dyn Tool,
        arguments: Option<JsonObject>,
        admitted: Option<Admitted>,
    ) -> Result<ToolReply, ToolError> {
        // Counted for the drain; the permit is moved into this call and released when it ends.
        let _call = match admitted {
            Some(admitted) => admitted,
            None if self.calls.is_closed() => {
                self.context.pools.global.reject_shutting_down();
                return Err(ToolError::new(
                    CallOutcome::Rejected,
                    "zen is shutting down and takes no new calls; retry against a running server",
                ));
            }
            None => self.admit(),
        };
        // Only `metrics` skips the global pool (see its `needs_global_permit`).
        let _permit = if tool.needs_global_permit() {
            Some(
                self.context
                    .pools
                    .acquire_global()
                    .instrument(tracing::info_span!(target: "zen_otel", "wait global permit"))
                    .await
                    .map_err(|busy| ToolError::new(CallOutcome::Rejected, busy.to_string()))?,
            )
        } else {
            None
        };
        tool.call(&self.context, arguments).await
    }

    /// Stop taking calls and wait for in-flight ones, until `deadline` at most. True if all
    /// finished. A deadline, not a timeout: a caller that polls again must not restart the clock.
    pub async fn drain(&self, deadline: tokio::time::Instant) -> bool {
        self.calls.close();
        self.context.set_draining();
        let in_flight = self.calls.len();
        if in_flight > 0 {
            tracing::info!(in_flight, "draining in-flight calls");
        }
        let drained = tokio::time::timeout_at(deadline, self.calls.wait())
            .await
            .is_ok();
        if !drained {
            tracing::warn!(
                still_running = self.calls.len(),
                "drain timeout reached; cancelling the calls still running"
            );
            // Each cancelled call answers at once with an error; wait for those answers to be
            // handed to the transport, briefly, since they need no provider.
            self.abort.cancel();
            let _ = tokio::time::timeout(ABORT_GRACE, self.calls.wait()).await;
        }
        drained
    }
}

/// Sample the process once a second (never on the call path) and feed the watchdog.
async fn sample_process(context: Arc<ToolContext>, shutdown: CancellationToken) {
    let Some(mut meter) = zen_os::process::CpuMeter::new(std::process::id()) else {
        tracing::warn!("cannot read this process's figures: RSS and CPU stay at 0");
        return;
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let Some((cpu_percent, sysinfo_rss)) = meter.refresh() else {
            continue;
        };
        let proc = zen_os::process::sample(std::process::id());
        let rss_bytes = proc.map_or(sysinfo_rss, |p| p.rss_bytes);
        let heap = zen_os::ffi::heap_stats().unwrap_or_default();
        context
            .metrics
            .set_system(zen_model::snapshot::SystemStats {
                memory_usage_mb: zen_model::snapshot::mib(rss_bytes),
                rss_bytes,
                cpu_percent,
                threads: proc.and_then(|p| p.threads).unwrap_or(0),
                uptime_minutes: 0.0, // filled in when read
                cpu_secs: 0.0,       // likewise
                heap_in_use_bytes: heap.in_use_bytes,
                heap_free_bytes: heap.free_bytes,
                sqlite_bytes: zen_os::ffi::sqlite_memory_used().0,
            });
        context.memory.observe_rss(rss_bytes).await;
    }
}
