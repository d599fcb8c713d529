//! Memory: the server's RSS over the window with its least-squares slope, the conversation store
//! against its budget, evictions by cause, the watchdog and the last cleanup.
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Chart, Dataset, Gauge, GraphType, Paragraph};

use super::{
    fit_line, fmt_bytes, fmt_count, fmt_duration, fmt_ms, labelled, panel_block, placeholder,
};
use crate::history::{SLOPE_MIN_SPAN_MS, SLOPE_WARMUP_MS};
use crate::state::{Panel, State};
use zen_model::snapshot::Snapshot;
use zen_model::snapshot::{Cause, WatchdogState};

const MB: f64 = 1_048_576.0;

pub(crate) fn render(frame: &mut Frame, area: Rect, state: &State) {
    let block = panel_block(" Memory ", state, Panel::Memory);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(snap) = state.shown() else {
        return placeholder(frame, inner, state);
    };
    let [left, _, right] = Layout::horizontal([
        Constraint::Percentage(50),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(inner);
    render_rss(frame, left, state, snap);
    render_store(frame, right, snap);
}

/// What stands for a slope not drawn yet: "warm-up" until the server has been up for the warm-up
/// (start-up allocation is not a leak) plus the shortest stretch a slope needs, else "—".
fn warming(state: &State, end: u64) -> &'static str {
    let newest = state.history.at_or_before(end);
    match newest {
        Some(s) if s.uptime_ms < SLOPE_WARMUP_MS + SLOPE_MIN_SPAN_MS => "warm-up",
        _ => "—",
    }
}

fn render_rss(frame: &mut Frame, area: Rect, state: &State, snap: &Snapshot) {
    let (end, span) = (state.end_ms(), state.window_ms());
    let h = &state.history;
    let dim = Style::new().fg(Color::DarkGray);
    // No "-0.0" for a flat line.
    let slope = h
        .rss_slope_mb_per_hour(end, span)
        .map(|s| if s.abs() < 0.05 { 0.0 } else { s });
    let slope_style = match slope {
        Some(s) if s > 50.0 => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        Some(s) if s > 5.0 => Style::new().fg(Color::Yellow),
        _ => Style::new(),
    };
    let line = fit_line(
        vec![
            labelled("RSS ", fmt_bytes(snap.system.rss_bytes)),
            labelled(
                "slope ",
                Span::styled(
                    slope.map_or_else(|| warming(state, end).into(), |s| format!("{s:+.1} MB/h")),
                    slope_style,
                ),
            ),
            labelled("cpu ", format!("{:.0}%", snap.system.cpu_percent)),
            labelled("threads ", snap.system.threads.to_string()),
        ],
        area.width,
    );
    let [label, plot] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    frame.render_widget(Paragraph::new(line), label);
    let bins = h.bins_for(span, plot.width.saturating_mul(2));
    let step = span as f64 / 1000.0 / bins.max(1) as f64;
    let window = span as f64 / 1000.0;
    let points: Vec<(f64, f64)> = h
        .binned(end, span, bins, false, |s| Some(s.rss_bytes as f64 / MB))
        .into_iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (-window + step * (i as f64 + 1.0), v)))
        .collect();
    if points.len() < 2 || plot.height == 0 {
        return;
    }
    let lo = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let hi = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    // At least 1 MB of range, so flat memory draws flat rather than as noise.
    let pad = ((1.0 - (hi - lo)) / 2.0).max(0.0);
    let (lo, hi) = ((lo - pad).max(0.0), hi + pad);
    let dataset = Dataset::default()
        .marker(Marker::Braille)
        .graph_type(GraphType::Line)
        .style(Style::new().fg(Color::Magenta))
        .data(&points);
    let chart = Chart::new(vec![dataset])
        .legend_position(None)
        .x_axis(Axis::default().bounds([-window, 0.0]))
        .y_axis(
            Axis::default()
                .bounds([lo, hi])
                .labels([format!("{lo:.1}"), format!("{hi:.1}")])
                .style(dim),
        );
    frame.render_widget(chart, plot);
}

fn render_store(frame: &mut Frame, area: Rect, snap: &Snapshot) {
    let c = &snap.conversations;
    let dim = Style::new().fg(Color::DarkGray);
    let w = area.width;
    let line = fit_line(
        vec![
            labelled("conversations ", fmt_count(c.threads)),
            vec![
                Span::raw(fmt_bytes(c.bytes)),
                Span::styled(" of ", dim),
                Span::raw(fmt_bytes(c.budget_bytes)),
            ],
            labelled("peak ", fmt_bytes(c.peak_bytes)),
        ],
        w,
    );
    let ratio = if c.budget_bytes > 0 {
        (c.bytes as f64 / c.budget_bytes as f64).min(1.0)
    } else {
        0.0
    };
    let color = if ratio >= c.threshold {
        Color::Red
    } else if ratio >= c.threshold * 0.75 {
        Color::Yellow
    } else {
        Color::Blue
    };
    let gauge = Gauge::default()
        .ratio(ratio)
        .use_unicode(true)
        .label(format!(
            "{:.1}% (cleanup at {:.0}%)",
            ratio * 100.0,
            c.threshold * 100.0
        ))
        .gauge_style(Style::new().fg(color).bg(Color::Black));
    let e = &c.evictions;
    let mut parts = vec![
        labelled("evicted: pressure ", fmt_count(e.pressure)),
        labelled("expiry ", fmt_count(e.expiry)),
        labelled("oversize ", fmt_count(e.oversize)),
    ];
    // Where the store keeps them: on disk (apart from RSS) with a cache, or in memory.
    if let Some(file) = c.file_bytes {
        parts.push(labelled("disk ", fmt_bytes(file)));
        parts.push(labelled("cache ", fmt_bytes(c.cache_bytes)));
    } else if !c.kind.is_empty() {
        parts.push(labelled("store ", Span::raw(c.kind.clone())));
    }
    let evictions = fit_line(parts, w);
    let (state, style) = match c.watchdog.state {
        WatchdogState::Ok => ("ok", Style::new().fg(Color::Green)),
        WatchdogState::Warning => (
            "WARNING",
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ),
        WatchdogState::Refusing => (
            "REFUSING",
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
    };
    let wd = &c.watchdog;
    let watchdog = fit_line(
        vec![
            labelled("watchdog ", Span::styled(state, style)),
            vec![
                Span::raw(fmt_bytes(wd.rss_bytes)),
                Span::styled(" of ", dim),
                Span::raw(fmt_bytes(wd.limit_bytes)),
            ],
            labelled("refused ", fmt_count(wd.refused_threads_total)),
        ],
        w,
    );
    let last = match &c.last_cleanup {
        Some(l) => {
            let cause = match l.cause {
                Cause::Pressure => "pressure",
                Cause::Expiry => "expiry",
                Cause::Watchdog => "watchdog",
            };
            let ago = snap.taken_at_ms.saturating_sub(l.at_ms) as f64 / 1000.0;
            vec![
                labelled("last ", format!("{} ago", fmt_duration(ago))),
                labelled(
                    "",
                    format!(
                        "{cause}, {} evicted in {}",
                        l.evicted,
                        fmt_ms(l.duration_ms)
                    ),
                ),
            ]
        }
        None => Vec::new(),
    };
    let mut items = vec![labelled("cleanups ", fmt_count(c.cleanups_total))];
    items.extend(last);
    let cleanups = fit_line(items, w);
    // Most important first when the panel is short.
    let row = |i: u16| Rect {
        y: area.y + i,
        height: 1,
        ..area
    };
    let lines = [line, watchdog, evictions, cleanups];
    for (i, l) in lines.into_iter().enumerate().take(area.height as usize) {
        let i = i as u16;
        // The gauge goes right under the first line, when there is room for everything else too.
        let y = if i == 0 || area.height < 5 { i } else { i + 1 };
        if y < area.height {
            frame.render_widget(Paragraph::new(l), row(y));
        }
    }
    if area.height >= 5 {
        frame.render_widget(gauge, row(1));
    }
}
