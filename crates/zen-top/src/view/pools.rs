//! Semaphore pools (global first, then one per provider): in use against the limit as a gauge,
//! then waiting, peak, rejected and queue-wait p99; below them each provider's circuit breaker.
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols;
use ratatui::text::Span;
use ratatui::widgets::{LineGauge, Paragraph};

use super::{fit_line, fmt_count, fmt_ms, labelled, panel_block, placeholder};
use crate::state::{Panel, State};
use zen_model::snapshot::BreakerState;

pub(crate) fn render(frame: &mut Frame, area: Rect, state: &State) {
    let block = panel_block(" Pools ", state, Panel::Pools);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(snap) = state.shown() else {
        return placeholder(frame, inner, state);
    };
    let dim = Style::new().fg(Color::DarkGray);
    let name_w = snap
        .pools
        .iter()
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(0);
    let used_w = snap
        .pools
        .iter()
        .map(|p| format!("{}/{}", p.in_use, p.limit).len())
        .max()
        .unwrap_or(0);
    // Two rows per pool; the scroll offset skips whole pools.
    let fit = (inner.height as usize / 2).max(1);
    let skip = state.pools_scroll.min(snap.pools.len().saturating_sub(fit));
    let mut y = inner.y;
    let bottom = inner.y + inner.height;
    for pool in snap.pools.iter().skip(skip) {
        if y + 2 > bottom {
            break;
        }
        let ratio = if pool.limit > 0 {
            (pool.in_use as f64 / f64::from(pool.limit)).min(1.0)
        } else {
            0.0
        };
        let color = match ratio {
            r if r >= 1.0 => Color::Red,
            r if r >= 0.8 => Color::Yellow,
            _ => Color::Green,
        };
        let label = format!(
            "{:<name_w$} {:>used_w$}",
            pool.name,
            format!("{}/{}", pool.in_use, pool.limit)
        );
        let gauge = LineGauge::default()
            .ratio(ratio)
            .label(Span::styled(
                label,
                Style::new().add_modifier(Modifier::BOLD),
            ))
            .filled_style(Style::new().fg(color))
            .unfilled_style(dim)
            .filled_symbol(symbols::line::THICK_HORIZONTAL)
            .unfilled_symbol(symbols::line::HORIZONTAL);
        frame.render_widget(
            gauge,
            Rect {
                y,
                height: 1,
                ..inner
            },
        );
        let warn = |v: u64| {
            if v > 0 {
                Style::new().fg(Color::Red)
            } else {
                Style::new()
            }
        };
        let stats = fit_line(
            vec![
                labelled(
                    " wait ",
                    Span::styled(fmt_count(pool.waiting), warn(pool.waiting)),
                ),
                labelled("peak ", fmt_count(pool.peak_in_use)),
                labelled(
                    "rej ",
                    Span::styled(fmt_count(pool.rejected_total), warn(pool.rejected_total)),
                ),
                labelled("q99 ", fmt_ms(pool.queue_wait.p99_ms)),
                labelled("peak wait ", fmt_count(pool.peak_waiting)),
            ],
            inner.width,
        );
        frame.render_widget(
            Paragraph::new(stats),
            Rect {
                y: y + 1,
                height: 1,
                ..inner
            },
        );
        y += 2;
    }
    // Breakers in the rows left.
    for (name, p) in &snap.providers {
        if y >= bottom {
            break;
        }
        let b = &p.breaker;
        let (text, style) = match b.state {
            BreakerState::Closed => ("closed", Style::new().fg(Color::Green)),
            BreakerState::HalfOpen => ("half-open", Style::new().fg(Color::Yellow)),
            BreakerState::Open => (
                "OPEN",
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            ),
        };
        let line = fit_line(
            vec![
                vec![
                    Span::styled("breaker ", dim),
                    Span::raw(format!("{name} ")),
                    Span::styled(text, style),
                ],
                labelled(
                    "fails ",
                    format!("{}/{}", b.consecutive_failures, b.failure_threshold),
                ),
                labelled("opened ", format!("{}×", b.opened_total)),
            ],
            inner.width,
        );
        frame.render_widget(
            Paragraph::new(line),
            Rect {
                y,
                height: 1,
                ..inner
            },
        );
        y += 1;
    }
}
