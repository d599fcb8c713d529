//! What a tool may use: the settings, providers, the concurrency, metrics and memory managers,
//! and the one provider call path (provider permit, breaker, retries, metrics). It imports the
//! managers and providers, never the transport or the server above it, and it is the one place
//! the snapshot is assembled.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Result;
use tracing::Instrument;

use super::ToolError;
use crate::concurrency::{Pools, SharedLimits};
use crate::config::{OTHER_POOLS, ServeConfig};
use crate::memory::monitor::MemoryManager;
use crate::metrics::{CallOutcome, Metrics};
use crate::providers::resilience::Breaker;
use crate::providers::retry::{CallDeadline, ProviderCall, RetryPolicy, call_with_retries};
use crate::providers::{Completion, CompletionRequest, Registry, Route};
use zen_model::clock::unix_ms;
use zen_model::snapshot::{ProviderStats, ServerInfo, Snapshot, SnapshotSource};

/// How clients reach this server, for the snapshot and discovery file.
#[derive(Debug, Clone)]
pub struct TransportInfo {
    /// `stdio` or `http`.
    pub kind: &'static str,
    /// The MCP URL when serving HTTP.
    pub endpoint: Option<String>,
}

/// The services shared by every tool call of every session.
pub struct ToolContext {
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
    breakers: BTreeMap<&'static str, Arc<Breaker>>,
    /// Set once the transport is up.
    transport: OnceLock<TransportInfo>,
    /// Set when shutdown begins, for the snapshot.
    draining: AtomicBool,
    /// Unix ms at start.
    started_at_ms: u64,
}

impl ToolContext {
    /// Build the providers and managers from the configuration (connecting to Redis, when a
    /// setting names one, before it returns).
    pub async fn new(config: ServeConfig, tool_names: &[&'static str]) -> Result<Self> {
        let registry = Registry::from_config(&config.providers, &config.sim)?;
        let names: Vec<&'static str> = registry.providers().iter().map(|p| p.name()).collect();
        // The model providers' pools, and clink's (its CLIs are limited like a provider).
        let pooled: Vec<&str> = names.iter().copied().chain(OTHER_POOLS).collect();
        let pools = Pools::new(
            config.limits.max_concurrent_requests,
            pooled
                .iter()
                .map(|n| (n.to_string(), config.limits.provider_limit(n))),
            config.limits.queue_timeout(),
        )
        .with_shared(open_shared_limits(&config, &pooled).await?);
        let breakers = names
            .iter()
            .map(|n| (*n, Arc::new(Breaker::new(n, config.providers.breaker(n)))))
            .collect();
        let mem = &config.memory;
        let store = crate::conversations::open(&config.store, mem).await?;
        let memory = Arc::new(MemoryManager::new(
            store,
            mem.rss_limit_bytes(),
            Duration::from_secs_f64(mem.memory_check_secs),
        ));
        Ok(ToolContext {
            metrics: Metrics::new(tool_names, &names),
            config,
            registry,
            pools,
            memory,
            breakers,
            transport: OnceLock::new(),
            draining: AtomicBool::new(false),
            started_at_ms: unix_ms(),
        })
    }

    /// Record how clients reach the server (once, when the transport is up).
    pub fn set_transport(&self, info: TransportInfo) {
        let _ = self.transport.set(info);
    }

    /// How clients reach the server: `stdio` or `http`.
    pub fn transport_kind(&self) -> &'static str {
        self.transport.get().map_or("stdio", |t| t.kind)
    }

    /// Mark the server as draining (shown in the snapshot).
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Who this server is, cheaply (the version tool reads it on every call).
    pub fn server_info(&self) -> ServerInfo {
        let transport = self.transport.get();
        ServerInfo {
            name: "zen".to_string(),
            version: zen_model::VERSION.to_string(),
            pid: std::process::id(),
            transport: self.transport_kind().to_string(),
            endpoint: transport.and_then(|t| t.endpoint.clone()),
            started_at_ms: self.started_at_ms,
            uptime_secs: self.metrics.uptime().as_secs_f64(),
            draining: self.draining.load(Ordering::Relaxed),
        }
    }

    /// One provider request: the provider permit is held for all of it, retries and backoff
    /// included, and released however it ends; when this future is dropped mid-attempt (the
    /// client went away), the attempt keeps the permit until the provider answers or
    /// [`crate::providers::retry::ABANDONED_GRACE`] passes, so the provider never sees more
    /// than its limit.
    pub async fn call_provider(
        &self,
        route: &Route,
        request: CompletionRequest,
    ) -> Result<Completion, ToolError> {
        let name = route.provider.name();
        let permit = (self.pools.acquire_provider(name))
            .instrument(tracing::info_span!(target: "zen_otel", "wait provider permit", zen.pool.name = name))
            .await
            .map_err(|refused| ToolError::new(CallOutcome::Rejected, refused.to_string()))?;
        let recording = self.metrics.begin_provider_model(name, &request.model);
        let policy = RetryPolicy {
            max_attempts: self.config.providers.max_retries,
            base_backoff: self.config.providers.retry_backoff,
            attempt_timeout: self.config.providers.request_timeout(name),
            max_wait: self.config.providers.max_retry_wait,
            // From the permit on: the permit is held for no longer than ZEN_CALL_TIMEOUT.
            deadline: Some(CallDeadline::after(self.config.providers.call_timeout)),
        };
        let span = provider_span(name, &request.model);
        let call = ProviderCall {
            provider: route.provider.clone(),
            breaker: self.breakers[name].clone(),
            request: Arc::new(request),
            permit: Arc::new(permit),
        };
        let request = &call.request;
        let result = call_with_retries(&call, policy, |err| {
            self.metrics.record_retry(name);
            tracing::warn!(provider = name, error = %err, "retrying a failed provider request");
        })
        .instrument(span.clone())
        .await;
        let outcome = match &result {
            Ok(_) => CallOutcome::Ok,
            Err(e) if e.is_timeout() => CallOutcome::Timeout,
            Err(_) => CallOutcome::ProviderError,
        };
        recording.finish(outcome);
        if let Err(err) = &result {
            crate::telemetry::otel::spans::fail(&span, outcome.as_str());
            // A warning, so a client that asked for log messages sees it (crate::client_log).
            tracing::warn!(provider = name, model = %request.model, "provider request failed: {err}");
        }
        if let Ok(Completion { usage: Some(u), .. }) = &result {
            span.record("gen_ai.usage.input_tokens", u.prompt_tokens);
            span.record("gen_ai.usage.output_tokens", u.completion_tokens);
            (self.metrics).record_tokens(
                name,
                &request.model,
                u.prompt_tokens,
                u.completion_tokens,
            );
        }
        result.map_err(|e| ToolError::new(outcome, e.to_string()))
    }
}

/// The shared provider limits, when ZEN_SHARED_LIMITS names a Redis: `Err` (exit 2) when it
/// does not answer at start.
async fn open_shared_limits(
    config: &ServeConfig,
    providers: &[&str],
) -> Result<Option<SharedLimits>> {
    let Some(url) = &config.cluster.shared_limits else {
        return Ok(None);
    };
    let limits = (providers.iter()).map(|n| (n.to_string(), config.limits.provider_limit(n)));
    let prefix = &config.store.redis_prefix;
    Ok(Some(
        SharedLimits::open(url, prefix, config.cluster.lease(), limits).await?,
    ))
}

/// The span of one provider request (`chat <model>`, kind client), retries inside.
fn provider_span(provider: &str, model: &str) -> tracing::Span {
    tracing::info_span!(
        target: "zen_otel",
        "chat",
        otel.name = format!("chat {model}"),
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        gen_ai.operation.name = "chat",
        gen_ai.provider.name = provider,
        gen_ai.request.model = model,
        gen_ai.usage.input_tokens = tracing::field::Empty,
        gen_ai.usage.output_tokens = tracing::field::Empty,
        error.type = tracing::field::Empty,
    )
}

impl SnapshotSource for ToolContext {
    /// The one way figures leave the managers.
    fn snapshot(&self) -> Snapshot {
        let providers = self
            .metrics
            .provider_stats()
            .into_iter()
            .map(|(name, (calls, retries_total))| {
                let stats = ProviderStats {
                    calls,
                    retries_total,
                    breaker: self.breakers[name].stats(),
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
            tokens: self.metrics.token_stats(),
            model_latency: self.metrics.model_latency(),
            limits: self.pools.limits_stats(),
            otel: crate::telemetry::otel::export::export_stats_if_on(),
            bounded: (self.memory.store.bounded_part().into_iter())
                .chain([self.metrics.histogram_part()])
                .collect(),
        }
    }
}
