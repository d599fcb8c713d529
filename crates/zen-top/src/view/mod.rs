//! Drawing: one module per panel, each a pure function of [`State`] into a frame area.
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Sparkline, Wrap};

use super::state::{Panel, State};
use zen_model::feed::Connection;

pub(crate) mod cluster;
pub(crate) mod header;
pub(crate) mod help;
pub(crate) mod latency;
pub(crate) mod memory;
pub(crate) mod pools;
pub(crate) mod throughput;
pub(crate) mod tools;

/// Draw the whole screen.
pub(crate) fn draw(frame: &mut Frame, state: &State) {
    let [head, body] = Layout::vertical([
        Constraint::Length(header::height(state)),
        Constraint::Fill(1),
    ])
    .areas(frame.area());
    header::render(frame, head, state);
    let [top, middle, bottom] = Layout::vertical([
        Constraint::Percentage(34),
        Constraint::Percentage(36),
        Constraint::Fill(1),
    ])
    .areas(body);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(34), Constraint::Fill(1)]).areas(top);
    throughput::render(frame, left, state);
    latency::render(frame, right, state);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(58), Constraint::Fill(1)]).areas(middle);
    tools::render(frame, left, state);
    pools::render(frame, right, state);
    memory::render(frame, bottom, state);
    if state.help {
        help::render(frame, frame.area());
    }
}

/// A panel's frame: thick borders when focused, so focus shows without colour too.
pub(crate) fn panel_block<'a>(
    title: impl Into<Line<'a>>,
    state: &State,
    panel: Panel,
) -> Block<'a> {
    let block = Block::bordered().title(title);
    if state.focus == panel {
        block
            .border_type(BorderType::Thick)
            .border_style(Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD))
    } else {
        block.border_style(Style::new().fg(Color::DarkGray))
    }
}

/// What a panel says before there is any snapshot to show.
pub(crate) fn placeholder(frame: &mut Frame, area: Rect, state: &State) {
    let text = match &state.connection {
        Connection::Disconnected { .. } => "no data yet: disconnected, retrying",
        _ => "waiting for the first snapshot…",
    };
    let p = Paragraph::new(text)
        .style(Style::new().fg(Color::DarkGray))
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true });
    frame.render_widget(p, area);
}

/// A sparkline of `values` drawn against the right edge of `area` (newest at the right), scaled
/// to the largest value, with gaps where a value is missing.
pub(crate) fn right_aligned_sparkline(
    frame: &mut Frame,
    area: Rect,
    values: &[Option<f64>],
    style: Style,
) {
    if area.width == 0 || area.height == 0 || values.is_empty() {
        return;
    }
    let n = values.len().min(area.width as usize);
    let values = &values[values.len() - n..];
    // Scaled by 100 so fractional rates keep their shape.
    let bars: Vec<Option<u64>> = values
        .iter()
        .map(|v| v.map(|v| (v.max(0.0) * 100.0).round() as u64))
        .collect();
    let max = bars.iter().flatten().copied().max().unwrap_or(0).max(1);
    let spark = Rect {
        x: area.x + area.width - n as u16,
        width: n as u16,
        ..area
    };
    frame.render_widget(Sparkline::default().data(bars).max(max).style(style), spark);
}

/// A line of labelled items in priority order: the first always, then the following ones while
/// they fit in `width`, so narrow panels drop the least important detail instead of cutting words.
pub(crate) fn fit_line(items: Vec<Vec<Span<'_>>>, width: u16) -> Line<'_> {
    fit_joined(items, width, &Span::raw(" "))
}

/// [`fit_line`] with `sep` between the items.
pub(crate) fn fit_joined<'a>(items: Vec<Vec<Span<'a>>>, width: u16, sep: &Span<'a>) -> Line<'a> {
    let mut spans: Vec<Span<'a>> = Vec::new();
    let mut used = 0;
    for (i, item) in items.into_iter().enumerate() {
        let gap = if i > 0 { sep.width() } else { 0 };
        let w: usize = item.iter().map(Span::width).sum::<usize>() + gap;
        if i > 0 && used + w > width as usize {
            break;
        }
        if i > 0 {
            spans.push(sep.clone());
        }
        spans.extend(item);
        used += w;
    }
    Line::from(spans)
}

/// A label in grey followed by its value.
pub(crate) fn labelled<'a>(label: &'a str, value: impl Into<Span<'a>>) -> Vec<Span<'a>> {
    vec![
        Span::styled(label, Style::new().fg(Color::DarkGray)),
        value.into(),
    ]
}

/// A window length: 30s, 1m, 15m, 1h.
pub(crate) fn fmt_span(secs: u64) -> String {
    match secs {
        s if s < 60 || s % 60 != 0 => fmt_duration(s as f64),
        s if s < 3600 || s % 3600 != 0 => format!("{}m", s / 60),
        s => format!("{}h", s / 3600),
    }
}

/// Milliseconds in a short human unit: 0.12ms, 3.4ms, 201ms, 1.2s, 42s, 5.0m.
pub(crate) fn fmt_ms(ms: f64) -> String {
    match ms {
        v if v <= 0.0 => "0ms".into(),
        v if v < 0.01 => "<0.01ms".into(),
        v if v < 1.0 => format!("{v:.2}ms"),
        v if v < 10.0 => format!("{v:.1}ms"),
        v if v < 1000.0 => format!("{v:.0}ms"),
        v if v < 10_000.0 => format!("{:.1}s", v / 1000.0),
        v if v < 60_000.0 => format!("{:.0}s", v / 1000.0),
        v => format!("{:.1}m", v / 60_000.0),
    }
}

/// Bytes in binary units, named as such (512 B, 6.5 KiB, 23.5 MiB): the one formatter.
pub(crate) use zen_model::units::bytes as fmt_bytes;

/// A count in at most about five characters: 999, 12.3k, 4.5M.
pub(crate) fn fmt_count(n: u64) -> String {
    match n {
        n if n < 10_000 => n.to_string(),
        n if n < 1_000_000 => format!("{:.1}k", n as f64 / 1e3),
        n => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// A rate with one decimal under 100.
pub(crate) fn fmt_rate(v: f64) -> String {
    if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// A duration as 42s, 12m05s, 3h02m or 2d03h.
pub(crate) fn fmt_duration(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    match s {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

#[cfg(test)]
mod tests;
