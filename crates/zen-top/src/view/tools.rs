//! Per-tool table: calls, error %, in flight, p50, p99 (since the server started), sortable.
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Cell, Row, Table};

use super::{fmt_count, fmt_ms, panel_block, placeholder};
use crate::state::{Panel, SortKey, State};

const HEADERS: [(SortKey, &str); 6] = [
    (SortKey::Name, "tool"),
    (SortKey::Calls, "calls"),
    (SortKey::ErrorPct, "err%"),
    (SortKey::InFlight, "infl"),
    (SortKey::P50, "p50"),
    (SortKey::P99, "p99"),
];

fn sort_name(key: SortKey) -> &'static str {
    HEADERS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("", |(_, n)| n)
}

pub(crate) fn render(frame: &mut Frame, area: Rect, state: &State) {
    // Figures sort largest first and names A to Z unless reversed.
    let arrow = if (state.sort == SortKey::Name) == state.reversed {
        "▼"
    } else {
        "▲"
    };
    let title = format!(" Tools · by {} {arrow} ", sort_name(state.sort));
    let block = panel_block(title, state, Panel::Tools);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if state.shown().is_none() {
        return placeholder(frame, inner, state);
    }
    let tools = state.sorted_tools();
    let visible = (inner.height as usize).saturating_sub(1).max(1);
    let skip = state.tools_scroll.min(tools.len().saturating_sub(visible));
    let dim = Style::new().fg(Color::DarkGray);
    // Wide panels also get p90, max and the failures by kind.
    let wide = inner.width >= 84;
    let name_w = tools
        .iter()
        .map(|t| t.0.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 24) as u16;
    let mut titles: Vec<Cell> = HEADERS
        .iter()
        .map(|(key, name)| {
            let text = if *key == state.sort {
                format!("{name}{arrow}")
            } else {
                name.to_string()
            };
            let style = if *key == state.sort {
                Style::new().add_modifier(Modifier::BOLD)
            } else {
                dim
            };
            Cell::from(text).style(style)
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(name_w),
        Constraint::Length(6),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(6),
        Constraint::Length(6),
    ];
    if wide {
        titles.insert(5, Cell::from("p90").style(dim));
        titles.extend(["max", "tool/prov/tmo/rej"].map(|t| Cell::from(t).style(dim)));
        widths.extend([
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(23),
        ]);
    }
    let rows = tools.iter().skip(skip).map(|(name, c)| {
        let any = c.total_operations > 0;
        let err = if any {
            format!("{:.1}", 100.0 * c.error_rate)
        } else {
            "—".into()
        };
        let err_style = match c.error_rate {
            r if r >= 0.05 => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            r if r > 0.0 => Style::new().fg(Color::Yellow),
            _ => Style::new(),
        };
        let lat = |v: f64| {
            if c.latency.count > 0 {
                fmt_ms(v)
            } else {
                "—".into()
            }
        };
        let mut cells = vec![
            Cell::from(name.to_string()),
            Cell::from(fmt_count(c.total_operations)),
            Cell::from(err).style(err_style),
            Cell::from(c.in_flight.to_string()),
            Cell::from(lat(c.latency.p50_ms)),
            Cell::from(lat(c.latency.p99_ms)),
        ];
        if wide {
            let e = &c.errors;
            cells.insert(5, Cell::from(lat(c.latency.p90_ms)));
            cells.extend([
                Cell::from(lat(c.latency.max_ms)),
                Cell::from(format!(
                    "{}/{}/{}/{}",
                    fmt_count(e.tool_error),
                    fmt_count(e.provider_error),
                    fmt_count(e.timeout),
                    fmt_count(e.rejected)
                )),
            ]);
        }
        Row::new(cells)
    });
    let table = Table::new(rows, widths)
        .header(Row::new(titles))
        .column_spacing(if wide { 2 } else { 1 });
    frame.render_widget(table, inner);
}
