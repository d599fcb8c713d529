//! Latency: p50/p90/p99 over time (per interval, exact: from the two snapshots' histograms) as a
//! chart, and the window's calls grouped in the fixed buckets of `snapshot::BUCKET_BOUNDS_MS`.
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph, Wrap};

use super::{fit_line, fmt_count, fmt_duration, fmt_ms, fmt_span, panel_block, placeholder};
use crate::history::bucket_deltas;
use crate::state::{Panel, State};
use zen_model::snapshot::BUCKET_BOUNDS_MS;

const COLORS: [Color; 3] = [Color::Green, Color::Yellow, Color::Red];

pub(crate) fn render(frame: &mut Frame, area: Rect, state: &State) {
    let [chart, dist] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Fill(1)]).areas(area);
    render_chart(frame, chart, state);
    render_distribution(frame, dist, state);
}

/// The percentile lines over the window.
pub(crate) fn render_chart(frame: &mut Frame, area: Rect, state: &State) {
    let block = panel_block(" Latency ", state, Panel::Latency);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if state.shown().is_none() {
        return placeholder(frame, inner, state);
    }
    let (end, span) = (state.end_ms(), state.window_ms());
    let h = &state.history;
    let now = h.at_or_before(end).and_then(|s| s.interval);
    let current = [
        now.and_then(|i| i.p50_ms),
        now.and_then(|i| i.p90_ms),
        now.and_then(|i| i.p99_ms),
    ];
    let items = ["p50 ", "p90 ", "p99 "]
        .iter()
        .zip(current)
        .zip(COLORS)
        .map(|((name, v), color)| {
            vec![
                Span::styled(*name, Style::new().fg(color)),
                Span::raw(v.map_or("—".into(), fmt_ms)),
            ]
        })
        .collect();
    let [legend, plot] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(inner);
    frame.render_widget(Paragraph::new(fit_line(items, legend.width)), legend);

    let bins = h.bins_for(span, plot.width.saturating_mul(2));
    let secs = |i: usize| -(span as f64 / 1000.0) * (1.0 - (i as f64 + 1.0) / bins as f64);
    let series: Vec<Vec<(f64, f64)>> = (0..3)
        .map(|k| {
            h.binned(end, span, bins, true, |s| {
                s.interval.and_then(|i| [i.p50_ms, i.p90_ms, i.p99_ms][k])
            })
            .into_iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (secs(i), v)))
            .collect()
        })
        .collect();
    let top = series.iter().flatten().map(|p| p.1).fold(0.0, f64::max);
    if top <= 0.0 {
        let msg = Paragraph::new("no calls in the window").style(Style::new().fg(Color::DarkGray));
        return frame.render_widget(msg, plot);
    }
    let datasets = series
        .iter()
        .zip(COLORS)
        .map(|(points, color)| {
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::new().fg(color))
                .data(points)
        })
        .collect();
    let ceiling = top * 1.1;
    let chart = Chart::new(datasets)
        .legend_position(None)
        .x_axis(
            Axis::default()
                .bounds([-(span as f64) / 1000.0, 0.0])
                .labels([
                    format!("-{}", fmt_duration(span as f64 / 1000.0)),
                    "now".into(),
                ])
                .style(Style::new().fg(Color::DarkGray)),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, ceiling])
                .labels(["0".to_string(), fmt_ms(ceiling)])
                .style(Style::new().fg(Color::DarkGray)),
        );
    frame.render_widget(chart, plot);
}

/// Calls per fixed bucket over the window, one row per bucket from the fastest to the slowest
/// non-empty one; when they do not fit, the lighter ends are gathered into a `≤` first row and a
/// `>` last row. The all-time exact percentiles go in the bottom title.
pub(crate) fn render_distribution(frame: &mut Frame, area: Rect, state: &State) {
    let (end, span) = (state.end_ms(), state.window_ms());
    let h = &state.history;
    let newest = h.at_or_before(end);
    let base = h
        .window_base(end, span)
        .filter(|b| Some(b.t_ms) != newest.map(|n| n.t_ms));
    let wide = area.width >= 32;
    let scope = match base {
        Some(b) if b.t_ms + span <= end => fmt_span(span / 1000),
        Some(_) if wide => "since attach".into(),
        Some(_) => "attach".into(),
        None if wide => "since start".into(),
        None => "all".into(),
    };
    let name = if wide { "Distribution" } else { "Dist" };
    let mut block = panel_block(format!(" {name} · {scope} "), state, Panel::Latency);
    if let Some(s) = state.shown().filter(|s| s.totals.latency.count > 0) {
        let l = &s.totals.latency;
        block = block.title_bottom(if wide {
            format!(
                " all: p50 {} p99 {} max {} ",
                fmt_ms(l.p50_ms),
                fmt_ms(l.p99_ms),
                fmt_ms(l.max_ms)
            )
        } else {
            format!(" all p99 {} ", fmt_ms(l.p99_ms))
        });
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(newest) = newest else {
        return placeholder(frame, inner, state);
    };
    let counts = bucket_deltas(base, newest);
    let Some(lo) = counts.iter().position(|&c| c > 0) else {
        let text = if newest.count == 0 {
            "no calls yet"
        } else {
            "no calls in the window"
        };
        let msg = Paragraph::new(text)
            .style(Style::new().fg(Color::DarkGray))
            .wrap(Wrap { trim: true });
        return frame.render_widget(msg, inner);
    };
    let hi = counts.iter().rposition(|&c| c > 0).unwrap_or(lo);
    let shown = fold_rows(&counts, lo, hi, inner.height as usize);
    let max = shown.iter().map(|r| r.1).max().unwrap_or(1).max(1);
    let label_w = shown.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let count_w = shown
        .iter()
        .map(|r| fmt_count(r.1).len())
        .max()
        .unwrap_or(1);
    let bar_w = (inner.width as usize).saturating_sub(label_w + count_w + 2);
    let lines: Vec<Line> = shown
        .iter()
        .map(|(label, c)| {
            let len = ((*c as f64 / max as f64) * bar_w as f64).ceil() as usize;
            Line::from(vec![
                Span::styled(
                    format!("{label:>label_w$} "),
                    Style::new().fg(Color::DarkGray),
                ),
                Span::styled(
                    format!("{:<bar_w$}", "█".repeat(len.min(bar_w))),
                    Style::new().fg(Color::Blue),
                ),
                Span::raw(format!(" {:>count_w$}", fmt_count(*c))),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Rows for buckets `lo..=hi` in at most `rows` lines: while too many, the lighter end bucket
/// joins a gathering row (`≤bound` below, `>bound` above).
fn fold_rows(counts: &[u64], lo: usize, hi: usize, rows: usize) -> Vec<(String, u64)> {
    let (mut a, mut b) = (lo, hi);
    let lines = |a: usize, b: usize| b - a + 1 + usize::from(a > lo) + usize::from(b < hi);
    while lines(a, b) > rows.max(1) && a < b {
        if counts[a] <= counts[b] {
            a += 1;
        } else {
            b -= 1;
        }
    }
    let mut out = Vec::new();
    if a > lo {
        out.push((
            format!("≤{}", fmt_ms(BUCKET_BOUNDS_MS[a - 1])),
            counts[lo..a].iter().sum(),
        ));
    }
    out.extend((a..=b).map(|i| (bucket_label(i), counts[i])));
    if b < hi {
        out.push((
            format!(">{}", fmt_ms(BUCKET_BOUNDS_MS[b])),
            counts[b + 1..=hi].iter().sum(),
        ));
    }
    out.truncate(rows.max(1));
    out
}

/// `≤25ms` for a bounded bucket, `>5.0m` for the last.
fn bucket_label(i: usize) -> String {
    match BUCKET_BOUNDS_MS.get(i) {
        Some(b) => format!("≤{}", fmt_ms(*b)),
        None => format!(">{}", fmt_ms(*BUCKET_BOUNDS_MS.last().unwrap_or(&0.0))),
    }
}
