//! Throughput and error rate over the window, as sparklines, derived from successive snapshots'
//! call counters (so they are exact per interval, whatever the refresh rate).
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Span;
use ratatui::widgets::Paragraph;

use super::{
    fit_line, fmt_count, fmt_rate, labelled, panel_block, placeholder, right_aligned_sparkline,
};
use crate::history::Sample;
use crate::state::{Panel, State};

pub(crate) fn render(frame: &mut Frame, area: Rect, state: &State) {
    let block = panel_block(" Throughput ", state, Panel::Throughput);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(snap) = state.shown() else {
        return placeholder(frame, inner, state);
    };
    let (end, span) = (state.end_ms(), state.window_ms());
    let h = &state.history;
    let bins = h.bins_for(span, inner.width);
    let calls = h.binned(end, span, bins, false, |s| {
        s.interval.map(|i| i.calls_per_sec)
    });
    let errors = h.binned(end, span, bins, false, |s| {
        s.interval.and_then(|i| i.error_pct)
    });
    let in_window = |f: fn(&Sample) -> u64| match (h.window_base(end, span), h.at_or_before(end)) {
        (Some(base), Some(last)) => f(last).saturating_sub(f(base)),
        _ => 0,
    };
    let now = h.at_or_before(end).and_then(|s| s.interval);
    let max_calls = calls.iter().flatten().copied().fold(0.0, f64::max);
    let max_err = errors.iter().flatten().copied().fold(0.0, f64::max);
    let w = inner.width;
    let calls_line = fit_line(
        vec![
            labelled(
                "calls/s ",
                now.map_or("—".into(), |i| fmt_rate(i.calls_per_sec)),
            ),
            labelled("max ", fmt_rate(max_calls)),
            labelled("in flight ", snap.totals.in_flight.to_string()),
        ],
        w,
    );
    let err_now = now.and_then(|i| i.error_pct);
    let err_style = if err_now.unwrap_or(0.0) >= 5.0 {
        Style::new().fg(Color::Red)
    } else {
        Style::new()
    };
    let (failed, calls_done) = (in_window(|s| s.errors), in_window(|s| s.calls));
    let errors_line = fit_line(
        vec![
            labelled(
                "errors ",
                Span::styled(
                    err_now.map_or("—".into(), |e| format!("{e:.1}%")),
                    err_style,
                ),
            ),
            labelled("max ", format!("{max_err:.1}%")),
            labelled(
                "failed ",
                format!("{}/{}", fmt_count(failed), fmt_count(calls_done)),
            ),
        ],
        w,
    );
    let spark = inner.height.saturating_sub(2) / 2;
    let [l1, s1, l2, s2] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(spark),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(calls_line), l1);
    right_aligned_sparkline(frame, s1, &calls, Style::new().fg(Color::Green));
    frame.render_widget(Paragraph::new(errors_line), l2);
    right_aligned_sparkline(frame, s2, &errors, Style::new().fg(Color::Red));
}
