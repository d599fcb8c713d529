//! The server's side of the text report (zen targets): its pools, providers, memory,
//! conversations and CPU around the run, and where the calls' time went.
use std::fmt::Write;

use zen_model::report::{Report, ServerSide};
use zen_model::units::bytes;

/// The `server` lines of the text report.
pub(super) fn write(w: &mut String, r: &Report, s: &ServerSide) {
    if r.target.kind == "http" {
        // A server this run did not start may have peaked before it.
        let _ = writeln!(
            w,
            "  server     peaks below are since the server started, not only this run"
        );
    }
    if let Some(first) = r.targets.first() {
        let _ = writeln!(
            w,
            "  server     figures below are {}'s (the first --url)",
            first.label
        );
    }
    for p in &s.pools {
        let _ = writeln!(
            w,
            "  server     pool {:<10} peak {}/{} in use, peak {} waiting, queue wait p99 {:.1} ms, {} rejected, {} in use after",
            p.name,
            p.peak_in_use,
            p.limit,
            p.peak_waiting,
            p.queue_wait_p99_ms,
            p.rejected_during_run,
            p.in_use_after
        );
    }
    for p in s.providers.iter().filter(|p| p.calls_during_run > 0) {
        let _ = writeln!(
            w,
            "  server     provider {:<8} peak {} in flight, {} calls, {} retries, breaker opened {}x, now {}",
            p.name,
            p.peak_in_flight,
            p.calls_during_run,
            p.retries_during_run,
            p.breaker_opened_during_run,
            p.breaker_state_after
        );
    }
    let _ = writeln!(
        w,
        "  server     RSS {} before, {} after; conversations {} threads, {} (peak {} of {} budget)",
        bytes(s.rss_before_bytes),
        bytes(s.rss_after_bytes),
        s.conversation_threads,
        bytes(s.conversation_bytes),
        bytes(s.conversation_peak_bytes),
        bytes(s.conversation_budget_bytes)
    );
    let _ = writeln!(
        w,
        "  server     tokens {} prompt, {} completion during the run",
        s.prompt_tokens_during_run, s.completion_tokens_during_run
    );
    if s.cpu_secs_during_run > 0.0 {
        let _ = writeln!(
            w,
            "  server     CPU {:.2} s ({:.1} µs per call)",
            s.cpu_secs_during_run, s.cpu_us_per_call
        );
    }
    time_split(w, r, s);
}

/// Where the tool calls' time went: what the client saw (from send to reply), the part inside
/// zen (its own histograms: from the call's arrival at the tool host, the pool wait included),
/// and the rest, which is the pipe or connection and the client (the difference of the means).
fn time_split(w: &mut String, r: &Report, s: &ServerSide) {
    let Some(server) = &s.time_in_server else {
        return;
    };
    let Some(client) = client_tool_latency(r) else {
        return;
    };
    let transport =
        if matches!(r.target.kind.as_str(), "http" | "sse") || r.target.label.contains("http") {
            "connection"
        } else {
            "stdio pipe"
        };
    let queue = s
        .pools
        .first()
        .map(|p| format!(", {} pool wait p99 {:.1} ms", p.name, p.queue_wait_p99_ms))
        .unwrap_or_default();
    let rest = (client.mean_ms - server.mean_ms).max(0.0);
    let share = if client.mean_ms > 0.0 {
        rest / client.mean_ms * 100.0
    } else {
        0.0
    };
    let _ = writeln!(
        w,
        "  time       client saw    mean {:.1} ms  p50 {:.1}  p99 {:.1}  ({} tool calls, send to reply)",
        client.mean_ms, client.p50_ms, client.p99_ms, client.count
    );
    let _ = writeln!(
        w,
        "  time       in the server mean {:.1} ms  p50 {:.1}  p99 {:.1}  ({} calls, arrival to reply{queue})",
        server.mean_ms, server.p50_ms, server.p99_ms, server.calls
    );
    let _ = writeln!(
        w,
        "  time       in the {transport} and client: mean {rest:.1} ms ({share:.0}% of the client's mean)"
    );
}

/// The client's latency of the run's tool calls (every tool together), from send to reply.
fn client_tool_latency(r: &Report) -> Option<zen_model::snapshot::WindowLatency> {
    let mut all = zen_model::hdr::new_histogram();
    for tool in r.tools.values() {
        all.add(zen_model::hdr::decode(&tool.latency.hdr).ok()?)
            .ok()?;
    }
    zen_model::snapshot::WindowLatency::of(&all)
}
