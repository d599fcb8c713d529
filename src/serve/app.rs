//! The host's state: providers and the three managers (concurrency, metrics, memory), the one
//! place a tool call passes through (admission, global permit, metrics) and the one place a
//! provider request passes through (provider permit, breaker, retries, metrics).
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Result;
use rmcp::ErrorData as McpError;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TaskTrackerToken;

use super::tools::{self, ToolError, ToolName, ToolReply};
use crate::concurrency::Pools;
use crate::config::ServeConfig;
use crate::memory::in_process::StoreLimits;
use crate::memory::monitor::{MemoryManager, run_monitor};
use crate::memory::{InProcessStore, unix_ms};
use crate::metrics::{Metrics, Outcome};
use crate::providers::resilience::Breaker;
use crate::providers::retry::{RetryPolicy, call_with_retries};
use crate::providers::{Completion, CompletionRequest, Registry, Route};
use crate::snapshot::{ProviderStats, ServerInfo, Snapshot};

/// How clients reach this server, for the snapshot and discovery file.
#[derive(Debug, Clone)]
pub struct TransportInfo {
    /// `stdio` or `http`.
    pub kind: &'static str,
    /// The MCP URL when serving HTTP.
    pub endpoint: Option<String>,
}

/// A tool call counted for the drain from the moment a transport read it, so a call read just
/// before stdin closed is finished, not refused. Rides in the request's extensions.
#[derive(Debug, Clone)]
pub struct Admitted {
    /// Held, never read: the call counts for the drain until this token is dropped.
    _token: TaskTrackerToken,
}

/// Everything a tool call needs, shared by every session.
pub struct App {
    /// The settings zen started with (the version tool summarises them).
    pub config: ServeConfig,
    /// Model name → provider.
    pub registry: Registry,
    /// The concurrency manager.
    pub pools: Pools,
    /// The metrics collector.
    pub metrics: Metrics,
    /// The conversation store and the RSS watchdog.
    pub memory: Arc<MemoryManager>,
    /// One circuit breaker per provider, fixed at start.
    breakers: BTreeMap<&'static str, Breaker>,
    /// Tool calls in flight; closed when shutdown begins, so new calls are refused while
    /// these drain.
    calls: TaskTracker,
    /// Set once the transport is up.
    transport: OnceLock<TransportInfo>,
    /// Unix ms at start.
    started_at_ms: u64,
}

impl App {
    /// Build the providers and managers from the configuration.
    pub fn new(config: ServeConfig) -> Result<Arc<Self>> {
        let registry = Registry::from_config(&config.providers, &config.sim)?;
        let names: Vec<&'static str> = registry.providers().iter().map(|p| p.name()).collect();
        let pools = Pools::new(
            config.limits.max_concurrent_requests,
            names
                .iter()
                .map(|n| (n.to_string(), config.limits.provider_limit(n))),
            config.limits.queue_timeout(),
        );
        let breakers = names
            .iter()
            .map(|n| (*n, Breaker::new(n, config.providers.breaker(n))))
            .collect();
        let mem = &config.memory;
        let store = InProcessStore::new(StoreLimits {
            budget_bytes: mem.budget_bytes(),
            threshold: mem.memory_cleanup_threshold,
            thread_max_bytes: mem.thread_max_bytes(),
            ttl: mem.conversation_ttl(),
        });
        let memory = Arc::new(MemoryManager::new(
            Arc::new(store),
            mem.rss_limit_bytes(),
            Duration::from_secs_f64(mem.memory_check_secs),
        ));
        Ok(Arc::new(App {
            metrics: Metrics::new(&ToolName::ALL.map(ToolName::as_str), &names),
            config,
            registry,
            pools,
            memory,
            breakers,
            calls: TaskTracker::new(),
            transport: OnceLock::new(),
            started_at_ms: unix_ms(),
        }))
    }

    /// Record how clients reach the server (once, when the transport is up).
    pub fn set_transport(&self, info: TransportInfo) {
        let _ = self.transport.set(info);
    }

    /// Start the process sampler and the memory monitor; they stop with `shutdown`.
    pub fn spawn_background(self: &Arc<Self>, shutdown: &CancellationToken) {
        tokio::spawn(run_monitor(self.memory.clone(), shutdown.clone()));
        tokio::spawn(sample_process(self.clone(), shutdown.clone()));
    }

    /// The one way figures leave the managers.
    pub fn snapshot(&self) -> Snapshot {
        let providers = self
            .metrics
            .provider_stats()
            .into_iter()
            .map(|(name, (calls, retries_total))| {
                let breaker = self.breakers[name].stats();
                let stats = ProviderStats {
                    calls,
                    retries_total,
                    breaker,
                };
                (name.to_string(), stats)
            })
            .collect();
        Snapshot {
            server: self.server_info(),
            taken_at_ms: unix_ms(),
            totals: self.metrics.total_stats(),
            tools: self.metrics.tool_stats(),
            providers,
            pools: self.pools.stats(),
            system: self.metrics.system(),
            conversations: self.memory.stats(),
            protocol: self.metrics.protocol_stats(),
        }
    }

    /// Who this server is, cheaply (the version tool reads it on every call).
    pub fn server_info(&self) -> ServerInfo {
        let transport = self.transport.get();
        ServerInfo {
            name: "zen".to_string(),
            version: crate::VERSION.to_string(),
            pid: std::process::id(),
            transport: transport.map_or("stdio", |t| t.kind).to_string(),
            endpoint: transport.and_then(|t| t.endpoint.clone()),
            started_at_ms: self.started_at_ms,
            uptime_secs: self.metrics.uptime().as_secs_f64(),
            draining: self.calls.is_closed(),
        }
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
        let Some(tool) = ToolName::parse(name) else {
            self.metrics.count_unknown_tool();
            return Err(McpError::invalid_params(
                format!(
                    "unknown tool '{name}': zen has {}",
                    ToolName::ALL.map(ToolName::as_str).join(", ")
                ),
                None,
            ));
        };
        let recording = self.metrics.begin_tool(tool.as_str());
        // Cancellation is checked first on every poll: a cancelled call that is woken because a
        // permit came free must not take it and start a provider request nobody will read.
        let result = tokio::select! {
            biased;
            _ = ct.cancelled() => Err(ToolError::new(Outcome::Timeout, "cancelled: the client cancelled the call or the server is shutting down")),
            result = self.run_tool(tool, arguments, admitted, ct.clone()) => result,
        };
        match result {
            Ok(reply) => {
                recording.finish(Outcome::Ok);
                Ok(reply.into_result())
            }
            Err(err) => {
                recording.finish(err.outcome);
                Ok(CallToolResult::error(vec![ContentBlock::text(err.message)]))
            }
        }
    }

    async fn run_tool(
        &self,
        tool: ToolName,
        arguments: Option<JsonObject>,
        admitted: Option<Admitted>,
        ct: CancellationToken,
    ) -> Result<ToolReply, ToolError> {
        // Counted for the drain; the permit is moved into this call and released when it ends.
        let _call = match admitted {
            Some(admitted) => admitted,
            None if self.calls.is_closed() => {
                self.pools.global.reject_shutting_down();
                return Err(ToolError::new(
                    Outcome::Rejected,
                    "zen is shutting down and takes no new calls; retry against a running server",
                ));
            }
            None => self.admit(),
        };
        // `metrics` is the instrument panel: it must answer while the pool is saturated (that is
        // when people look), and it must not count itself in the figures it reports. It holds no
        // provider and takes microseconds, so it skips the global pool.
        let _permit = match tool {
            ToolName::Metrics => None,
            _ => Some(
                self.pools
                    .acquire_global()
                    .await
                    .map_err(|busy| ToolError::new(Outcome::Rejected, busy.to_string()))?,
            ),
        };
        tools::run(self, tool, arguments, ct).await
    }

    /// One provider request: the provider permit is held for all of it, retries and backoff
    /// included, and released however it ends (the permit is an owned value dropped here).
    pub async fn call_provider(
        &self,
        route: &Route,
        request: CompletionRequest,
    ) -> Result<Completion, ToolError> {
        let name = route.provider.name();
        let _permit = self
            .pools
            .acquire_provider(name)
            .await
            .map_err(|busy| ToolError::new(Outcome::Rejected, busy.to_string()))?;
        let recording = self.metrics.begin_provider(name);
        let policy = RetryPolicy {
            max_attempts: self.config.providers.max_retries,
            base_backoff: self.config.providers.retry_backoff,
            attempt_timeout: self.config.providers.request_timeout(name),
            max_wait: self.config.providers.max_retry_wait,
            // A tool call has no deadline of its own yet; each attempt has its timeout.
            deadline: None,
        };
        let result = call_with_retries(
            route.provider.as_ref(),
            &self.breakers[name],
            &request,
            policy,
            |err| {
                self.metrics.record_retry(name);
                tracing::debug!(provider = name, error = %err, "retrying provider request");
            },
        )
        .await;
        let outcome = match &result {
            Ok(_) => Outcome::Ok,
            Err(e) if e.is_timeout() => Outcome::Timeout,
            Err(_) => Outcome::ProviderError,
        };
        recording.finish(outcome);
        result.map_err(|e| ToolError::new(outcome, e.to_string()))
    }

    /// Stop taking calls and wait for in-flight ones, until `deadline` at most. True if all
    /// finished. A deadline, not a timeout: a caller that polls again must not restart the clock.
    pub async fn drain(&self, deadline: tokio::time::Instant) -> bool {
        self.calls.close();
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
        }
        drained
    }
}

/// Sample the process once a second (never on the call path) and feed the watchdog.
async fn sample_process(app: Arc<App>, shutdown: CancellationToken) {
    let Some(mut meter) = crate::process::CpuMeter::new(std::process::id()) else {
        tracing::warn!("cannot read this process's figures: RSS and CPU stay at 0");
        return;
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let Some((cpu_percent, sysinfo_rss)) = meter.refresh() else {
            continue;
        };
        let proc = crate::process::sample(std::process::id());
        let rss_bytes = proc.map_or(sysinfo_rss, |p| p.rss_bytes);
        app.metrics.set_system(crate::snapshot::SystemStats {
            memory_usage_mb: rss_bytes as f64 / (1024.0 * 1024.0),
            rss_bytes,
            cpu_percent,
            threads: proc.and_then(|p| p.threads).unwrap_or(0),
            uptime_minutes: 0.0, // filled in when read
        });
        app.memory.observe_rss(rss_bytes).await;
    }
}
