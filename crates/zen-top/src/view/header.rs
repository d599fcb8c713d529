//! The header: connection state, server identity and uptime, view settings, breakers, and the
//! run line when a load run feeds the dashboard.
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{fit_joined, fmt_count, fmt_duration, fmt_span};
use crate::state::State;
use zen_model::feed::Connection;
use zen_model::snapshot::{BreakerState, token_totals};

/// Rows the header needs.
pub(crate) fn height(state: &State) -> u16 {
    2 + u16::from(state.run.is_some()) + super::cluster::height(state)
}

pub(crate) fn render(frame: &mut Frame, area: Rect, state: &State) {
    let sep = || Span::styled(" │ ", Style::new().fg(Color::DarkGray));
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut items = vec![vec![connection(&state.connection)]];
    if let Some(s) = state.shown() {
        let server = &s.server;
        if server.draining {
            items.push(vec![Span::styled(
                "draining",
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            )]);
        }
        items.extend([
            vec![Span::styled(
                format!("{} {}", server.name, server.version),
                bold,
            )],
            vec![Span::raw(format!("pid {}", server.pid))],
            vec![Span::raw(server.transport.clone())],
            vec![Span::raw(format!(
                "up {}",
                fmt_duration(server.uptime_secs)
            ))],
        ]);
    }
    let mut first = fit_joined(items, area.width, &sep()).spans;
    let mut second = vec![
        Span::raw(format!("window {}", fmt_span(state.window_secs()))),
        sep(),
        if state.frozen.is_some() {
            Span::styled(
                "⏸ paused",
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            )
        } else {
            Span::raw("▶ live")
        },
    ];
    if let Some(s) = state.shown().filter(|s| !s.providers.is_empty()) {
        let open = s
            .providers
            .values()
            .filter(|p| p.breaker.state == BreakerState::Open)
            .count();
        let half = s
            .providers
            .values()
            .filter(|p| p.breaker.state == BreakerState::HalfOpen)
            .count();
        let text = match (open, half) {
            (0, 0) => format!("breakers: {} closed", s.providers.len()),
            (o, h) => {
                let names = |want: BreakerState| {
                    s.providers
                        .iter()
                        .filter(|(_, p)| p.breaker.state == want)
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                };
                let mut parts = Vec::new();
                if o > 0 {
                    parts.push(format!("OPEN {}", names(BreakerState::Open)));
                }
                if h > 0 {
                    parts.push(format!("half-open {}", names(BreakerState::HalfOpen)));
                }
                format!("breakers: {}", parts.join(" "))
            }
        };
        let style = if open > 0 {
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        second.extend([sep(), Span::styled(text, style)]);
    }
    if let Some(limits) = state
        .shown()
        .and_then(|s| super::cluster::limits_span(&s.limits))
    {
        second.extend([sep(), limits]);
    }
    // Tokens since the server started, all providers and models (the snapshot has the split).
    if let Some(s) = state.shown().filter(|s| !s.tokens.is_empty()) {
        let (prompt, completion) = token_totals(&s.tokens);
        let text = format!(
            "tokens {} in {} out",
            fmt_count(prompt),
            fmt_count(completion)
        );
        second.extend([sep(), Span::raw(text)]);
    }
    second.extend([
        sep(),
        Span::styled("? help", Style::new().fg(Color::DarkGray)),
    ]);
    // The title goes at the right of the first line when it fits.
    let used: usize = first.iter().map(Span::width).sum();
    let title_width = Span::raw(state.title.as_str()).width();
    if used + 2 + title_width <= area.width as usize {
        first.push(Span::raw(
            " ".repeat(area.width as usize - used - title_width),
        ));
        first.push(Span::styled(
            state.title.clone(),
            Style::new().fg(Color::Cyan),
        ));
    }
    let mut lines = vec![Line::from(first), Line::from(second)];
    if let Some(run) = &state.run {
        lines.push(run_line(run));
    }
    lines.extend(super::cluster::lines(state, area.width));
    frame.render_widget(Paragraph::new(lines), area);
}

fn connection(c: &Connection) -> Span<'static> {
    match c {
        Connection::Connecting => Span::styled("◌ connecting…", Style::new().fg(Color::Yellow)),
        Connection::Connected => Span::styled("● connected", Style::new().fg(Color::Green)),
        Connection::Disconnected { reason } => Span::styled(
            format!("✕ disconnected, retrying ({reason})"),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
    }
}

fn run_line(run: &zen_model::feed::RunStatus) -> Line<'static> {
    let elapsed = run.elapsed.as_secs_f64();
    let time = match run.total {
        Some(total) if !total.is_zero() => format!(
            "run {} / {} ({:.0}%)",
            fmt_duration(elapsed),
            fmt_duration(total.as_secs_f64()),
            (100.0 * elapsed / total.as_secs_f64()).min(100.0)
        ),
        _ => format!("run {}", fmt_duration(elapsed)),
    };
    let done = run.ok + run.failed;
    let failed_pct = if done > 0 {
        100.0 * run.failed as f64 / done as f64
    } else {
        0.0
    };
    let failed_style = if run.failed > 0 {
        Style::new().fg(Color::Red)
    } else {
        Style::new()
    };
    Line::from(vec![
        Span::styled(time, Style::new().add_modifier(Modifier::BOLD)),
        Span::styled(" │ ", Style::new().fg(Color::DarkGray)),
        Span::styled(format!("ok {}", run.ok), Style::new().fg(Color::Green)),
        Span::styled(" │ ", Style::new().fg(Color::DarkGray)),
        Span::styled(
            format!("failed {} ({failed_pct:.1}%)", run.failed),
            failed_style,
        ),
    ])
}
