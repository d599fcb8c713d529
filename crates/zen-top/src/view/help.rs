//! The help overlay (`?`): keys and how to read the panels.
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

const KEYS: [(&str, &str); 9] = [
    ("q  Esc", "quit (Esc closes this help first)"),
    ("Ctrl-C", "quit"),
    ("p  space", "pause / resume the view"),
    ("+  -", "longer / shorter time window (30s to 1h)"),
    ("Tab  S-Tab", "focus the next / previous panel"),
    ("↑ ↓  j k", "scroll the focused tools or pools panel"),
    ("s", "sort tools by the next column"),
    ("S", "reverse the sort"),
    ("?", "show / hide this help"),
];

const NOTES: [&str; 3] = [
    "Rates, error % and latency lines: per refresh interval.",
    "Latency lines are exact: each interval's own calls.",
    "Tools: since start. Slope: least squares after 1 min.",
];

pub(crate) fn render(frame: &mut Frame, screen: Rect) {
    let width = screen.width.saturating_sub(4).min(64);
    let height = screen
        .height
        .saturating_sub(2)
        .min(KEYS.len() as u16 + NOTES.len() as u16 + 3);
    let area = Rect {
        x: screen.x + (screen.width - width) / 2,
        y: screen.y + (screen.height - height) / 2,
        width,
        height,
    };
    let key_style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!("{k:>11}  "), key_style),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.extend(
        NOTES
            .iter()
            .map(|n| Line::styled(*n, Style::new().fg(Color::DarkGray))),
    );
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .title(" Help · zen top ")
        .title_bottom(" ? or Esc to close ");
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}
