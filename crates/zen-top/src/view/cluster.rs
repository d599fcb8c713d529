//! Several instances in the header (`zen top --url A --url B …`): one line per instance and a
//! line of the cluster's totals; and, for any server, where its provider limits are held.
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use super::{fit_joined, fmt_bytes, fmt_count, fmt_duration, fmt_rate};
use crate::state::State;
use zen_model::feed::{Connection, Instance};
use zen_model::snapshot::{LimitsStats, Snapshot};

/// Header rows the instances need: one each plus the totals, or none for a single server.
pub(crate) fn height(state: &State) -> u16 {
    if state.instances.len() > 1 {
        state.instances.len() as u16 + 1
    } else {
        0
    }
}

/// The per-instance lines and the totals line.
pub(crate) fn lines(state: &State, width: u16) -> Vec<Line<'static>> {
    if state.instances.len() < 2 {
        return Vec::new();
    }
    let mut out: Vec<Line<'static>> = (state.instances.iter().enumerate())
        .map(|(i, instance)| instance_line(i, instance, width))
        .collect();
    out.push(totals_line(&state.instances, width));
    out
}

fn sep() -> Span<'static> {
    Span::styled(" │ ", Style::new().fg(Color::DarkGray))
}

fn instance_line(index: usize, instance: &Instance, width: u16) -> Line<'static> {
    let marker = if index == 0 { "▸" } else { " " };
    let mut items = vec![vec![Span::styled(
        format!("{marker}{} {}", index + 1, instance.url),
        Style::new().add_modifier(Modifier::BOLD),
    )]];
    if let Connection::Disconnected { reason } = &instance.connection {
        items.push(vec![Span::styled(
            format!("✕ {reason}"),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        )]);
    }
    if let Some(s) = &instance.snapshot {
        let t = &s.totals;
        items.extend([
            vec![Span::raw(format!("pid {}", s.server.pid))],
            vec![Span::raw(format!(
                "up {}",
                fmt_duration(s.server.uptime_secs)
            ))],
            vec![Span::raw(format!(
                "{}/s",
                fmt_rate(t.rates.calls_per_sec_1s)
            ))],
            vec![Span::raw(format!("{} in flight", t.in_flight))],
            vec![Span::raw(format!("{} errors", fmt_count(t.total_errors)))],
        ]);
        let here: u64 = s.limits.providers.iter().map(|p| p.held_here).sum();
        if s.limits.backend != "local" {
            items.push(vec![Span::raw(format!("{here} leases"))]);
        }
    }
    fit_joined(items, width, &sep())
}

/// Sums over the instances that answered; the cluster-wide figures (leases, the shared store)
/// from the freshest snapshot, since every instance reads the same Redis.
fn totals_line(instances: &[Instance], width: u16) -> Line<'static> {
    let up: Vec<&Snapshot> = (instances.iter())
        .filter(|i| i.connection == Connection::Connected)
        .filter_map(|i| i.snapshot.as_ref())
        .collect();
    let rate: f64 = up.iter().map(|s| s.totals.rates.calls_per_sec_1s).sum();
    let in_flight: u64 = up.iter().map(|s| s.totals.in_flight).sum();
    let errors: u64 = up.iter().map(|s| s.totals.total_errors).sum();
    let calls: u64 = up.iter().map(|s| s.totals.total_operations).sum();
    let style = if up.len() < instances.len() {
        Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
    } else {
        Style::new().add_modifier(Modifier::BOLD)
    };
    let mut items = vec![
        vec![Span::styled(
            format!("Σ cluster {}/{} up", up.len(), instances.len()),
            style,
        )],
        vec![Span::raw(format!("{}/s", fmt_rate(rate)))],
        vec![Span::raw(format!("{in_flight} in flight"))],
        vec![Span::raw(format!("{} calls", fmt_count(calls)))],
        vec![Span::raw(format!("{} errors", fmt_count(errors)))],
    ];
    if let Some(fresh) = up.iter().max_by_key(|s| s.taken_at_ms) {
        if fresh.limits.backend != "local" {
            items.push(vec![Span::raw(cluster_leases(&fresh.limits))]);
        }
        let store = &fresh.conversations;
        if store.kind == "redis" {
            items.push(vec![Span::raw(format!(
                "store {} threads {}",
                fmt_count(store.threads),
                fmt_bytes(store.bytes)
            ))]);
        }
    }
    fit_joined(items, width, &sep())
}

/// `leases simulated 20/32 (3 queued)`: held across the cluster per provider.
fn cluster_leases(limits: &LimitsStats) -> String {
    let each: Vec<String> = (limits.providers.iter())
        .map(|p| match p.waiting {
            0 => format!("{} {}/{}", p.name, p.held, p.limit),
            w => format!("{} {}/{} ({w} queued)", p.name, p.held, p.limit),
        })
        .collect();
    format!("leases {}", each.join(", "))
}

/// Where the provider limits are held, for the header's second line; nothing for local limits
/// (the default, shown by the pools panel).
pub(crate) fn limits_span(limits: &LimitsStats) -> Option<Span<'static>> {
    if limits.backend == "local" {
        return None;
    }
    if !limits.healthy {
        return Some(Span::styled(
            format!(
                "limits {} UNREACHABLE ({} refused)",
                limits.backend, limits.unavailable_total
            ),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ));
    }
    let held: u64 = limits.providers.iter().map(|p| p.held).sum();
    let here: u64 = limits.providers.iter().map(|p| p.held_here).sum();
    Some(Span::raw(format!(
        "limits {} shared: {held} leases in cluster, {here} here",
        limits.backend
    )))
}
