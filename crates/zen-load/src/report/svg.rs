//! Charts as inline SVG, drawn here so the HTML report needs no script and no network: line
//! charts over time and a bar chart, with axes, ticks and a legend.
use std::fmt::Write;

/// Drawing area, in SVG user units (the chart scales to the page width).
pub(super) const WIDTH: f64 = 1000.0;
pub(super) const HEIGHT: f64 = 280.0;
pub(super) const LEFT: f64 = 70.0;
pub(super) const RIGHT: f64 = 20.0;
pub(super) const TOP: f64 = 48.0;
pub(super) const BOTTOM: f64 = 46.0;

/// Colours of the lines, in order.
pub(super) const PALETTE: [&str; 8] = [
    "#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777",
];

/// Dash patterns of the lines, in order (the first solid): with the colours and the widths,
/// two lines with the same values still show as two.
pub(super) const DASHES: [&str; 6] = ["none", "9 5", "3 4", "14 5 3 5", "6 3", "2 7"];

/// How line `i` of `n` is stroked: (colour, width, dash pattern). Earlier lines are wider, so
/// a later line drawn over one with the same values leaves it showing on both sides.
pub(super) fn stroke(i: usize, n: usize) -> (&'static str, f64, &'static str) {
    let width = 2.0 + 1.5 * n.saturating_sub(i + 1).min(4) as f64;
    (PALETTE[i % PALETTE.len()], width, DASHES[i % DASHES.len()])
}

/// One line of a chart: (x, y) points in data units.
pub(super) struct Line {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// What a chart shows and how its axes are called.
pub(super) struct Frame<'a> {
    /// The SVG element's id (the browser test looks for it).
    pub id: &'a str,
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
}

/// Text safe inside HTML and SVG.
pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A tick step of 1, 2 or 5 times a power of ten giving about `n` ticks over `span`.
pub(super) fn nice_step(span: f64, n: f64) -> f64 {
    if span <= 0.0 || !span.is_finite() {
        return 1.0;
    }
    let raw = span / n;
    let power = 10f64.powf(raw.log10().floor());
    let unit = raw / power;
    let nice = if unit <= 1.0 {
        1.0
    } else if unit <= 2.0 {
        2.0
    } else if unit <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// Most ticks an axis draws, whatever its numbers: tick loops count, they never step a float
/// until it passes a bound (a span of ±1e308 once made that loop endless).
const MAX_TICKS: usize = 50;

/// Round values from `lo` to `hi` every `step`, at most [`MAX_TICKS`] of them; none when the
/// numbers are not finite.
fn ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite() && step.is_finite() && step > 0.0) {
        return Vec::new();
    }
    let first = (lo / step).ceil();
    let last = (hi / step).floor();
    if !(first.is_finite() && last.is_finite()) || last < first {
        return Vec::new();
    }
    let count = ((last - first) as usize).saturating_add(1).min(MAX_TICKS);
    (0..count).map(|i| (first + i as f64) * step).collect()
}

/// A tick label: no more digits than the step needs.
fn tick_label(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    format!("{v:.decimals$}")
}

pub(super) fn open(out: &mut String, frame: &Frame) {
    let _ = write!(
        out,
        "<svg id=\"{}\" class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>\
         <text x=\"{LEFT}\" y=\"20\" class=\"title\">{}</text>\
         <text x=\"{}\" y=\"{}\" class=\"axis\" text-anchor=\"middle\">{}</text>\
         <text x=\"14\" y=\"{}\" class=\"axis\" text-anchor=\"middle\" transform=\"rotate(-90 14 {})\">{}</text>",
        escape(frame.id),
        escape(frame.title),
        escape(frame.title),
        LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
        HEIGHT - 8.0,
        escape(frame.x_label),
        TOP + (HEIGHT - TOP - BOTTOM) / 2.0,
        TOP + (HEIGHT - TOP - BOTTOM) / 2.0,
        escape(frame.y_label),
    );
}

/// The y grid and labels from 0 to `y_max`; returns the top of the scale.
pub(super) fn y_axis(out: &mut String, y_max: f64) -> f64 {
    // Values past f64's range (or NaN) leave the scale at 1: the chart still draws.
    let y_max = if y_max.is_finite() { y_max } else { 1.0 };
    let step = nice_step(y_max, 5.0);
    let top = (y_max / step).ceil().max(1.0) * step;
    let plot_h = HEIGHT - TOP - BOTTOM;
    for v in ticks(0.0, top + step / 2.0, step) {
        let y = TOP + plot_h * (1.0 - v / top);
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" class=\"grid\"/>\
             <text x=\"{}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            tick_label(v, step)
        );
    }
    top
}

/// A line chart; an empty one says there is nothing to show.
pub(super) fn line_chart(frame: &Frame, lines: &[Line]) -> String {
    let mut out = String::new();
    open(&mut out, frame);
    let all = || lines.iter().flat_map(|l| l.points.iter());
    let (x_min, x_max) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
        (lo.min(p.0), hi.max(p.0))
    });
    if !x_min.is_finite() {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" class=\"axis\" text-anchor=\"middle\">no data</text></svg>",
            WIDTH / 2.0,
            HEIGHT / 2.0
        );
        return out;
    }
    // Time starts at 0: the run's first second is where it starts, not the first point.
    let x_min = x_min.min(0.0);
    let x_span = (x_max - x_min).max(1e-9);
    let y_top = y_axis(&mut out, all().map(|p| p.1).fold(0.0, f64::max));
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let step = nice_step(x_span, 8.0);
    for v in ticks(x_min, x_max + 1e-9, step) {
        let x = LEFT + plot_w * (v - x_min) / x_span;
        let _ = write!(
            out,
            "<text x=\"{x:.1}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
            HEIGHT - BOTTOM + 16.0,
            tick_label(v, step)
        );
    }
    let mut legend_x = LEFT;
    for (i, line) in lines.iter().enumerate() {
        let (colour, width, dash) = stroke(i, lines.len());
        let path: Vec<String> = line
            .points
            .iter()
            .map(|(px, py)| {
                let x = LEFT + plot_w * (px - x_min) / x_span;
                let y = TOP + plot_h * (1.0 - py / y_top);
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let _ = write!(
            out,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"{width}\" \
             stroke-dasharray=\"{dash}\" stroke-linejoin=\"round\" data-line=\"{}\" points=\"{}\"/>",
            escape(&line.name),
            path.join(" ")
        );
        if let [(px, py)] = line.points.as_slice() {
            // A single point draws no line: show it as a dot.
            let x = LEFT + plot_w * (px - x_min) / x_span;
            let y = TOP + plot_h * (1.0 - py / y_top);
            let _ = write!(
                out,
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"{colour}\"/>"
            );
        }
        // The legend: one row under the title, each entry a sample of its stroke and its name.
        let _ = write!(
            out,
            "<line x1=\"{legend_x:.1}\" y1=\"33\" x2=\"{:.1}\" y2=\"33\" stroke=\"{colour}\" \
             stroke-width=\"{}\" stroke-dasharray=\"{dash}\"/>\
             <text x=\"{:.1}\" y=\"37\" class=\"legend\">{}</text>",
            legend_x + 24.0,
            width.min(4.0),
            legend_x + 28.0,
            escape(&line.name)
        );
        legend_x += 48.0 + 7.0 * line.name.chars().count() as f64;
    }
    axes(&mut out);
    out.push_str("</svg>");
    out
}

/// A bar chart of labelled counts (the latency distribution).
pub(super) fn bar_chart(frame: &Frame, bars: &[(String, f64)]) -> String {
    let mut out = String::new();
    open(&mut out, frame);
    let y_top = y_axis(&mut out, bars.iter().map(|b| b.1).fold(0.0, f64::max));
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / bars.len().max(1) as f64;
    // Label every bar when they fit, else every other one.
    let label_every = if slot >= 48.0 { 1 } else { 2 };
    for (i, (label, value)) in bars.iter().enumerate() {
        let h = plot_h * value / y_top;
        let x = LEFT + slot * i as f64;
        let _ = write!(
            out,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{}\">\
             <title>{}: {value}</title></rect>",
            x + slot * 0.1,
            TOP + plot_h - h,
            slot * 0.8,
            PALETTE[0],
            escape(label)
        );
        if i % label_every == 0 {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
                x + slot / 2.0,
                HEIGHT - BOTTOM + 16.0,
                escape(label)
            );
        }
    }
    axes(&mut out);
    out.push_str("</svg>");
    out
}

fn axes(out: &mut String) {
    let _ = write!(
        out,
        "<line x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{}\" class=\"axisline\"/>\
         <line x1=\"{LEFT}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" class=\"axisline\"/>",
        HEIGHT - BOTTOM,
        WIDTH - RIGHT,
        HEIGHT - BOTTOM,
        HEIGHT - BOTTOM
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(nice_step(100.0, 5.0), 20.0);
        assert_eq!(nice_step(7.0, 5.0), 2.0);
        assert_eq!(nice_step(0.3, 5.0), 0.1);
        assert_eq!(tick_label(0.5, 0.1), "0.5");
        assert_eq!(tick_label(40.0, 20.0), "40");
    }

    #[test]
    fn axes_of_absurd_numbers_end_with_few_ticks() {
        let frame = Frame {
            id: "c",
            title: "t",
            x_label: "x",
            y_label: "y",
        };
        for (x, y) in [
            (1e308, 1e308),
            (f64::MAX, f64::INFINITY),
            (-1e308, f64::NAN),
        ] {
            let line = Line {
                name: "l".into(),
                points: vec![(-x, 0.0), (x, y)],
            };
            let svg = line_chart(&frame, &[line]);
            assert!(
                svg.matches("class=\"tick\"").count() <= 2 * MAX_TICKS,
                "{svg}"
            );
        }
        assert_eq!(ticks(0.0, 1e308, 1.0).len(), MAX_TICKS);
        assert!(ticks(0.0, f64::INFINITY, 1.0).is_empty());
    }

    #[test]
    fn text_in_a_chart_is_escaped() {
        let frame = Frame {
            id: "c",
            title: "<script>",
            x_label: "x",
            y_label: "y",
        };
        let svg = line_chart(&frame, &[]);
        assert!(
            !svg.contains("<script>") && svg.contains("no data"),
            "{svg}"
        );
    }

    #[test]
    fn lines_with_the_same_values_stay_apart_by_colour_dash_and_width() {
        for n in 1..=8 {
            let strokes: Vec<_> = (0..n).map(|i| stroke(i, n)).collect();
            for (i, a) in strokes.iter().enumerate() {
                for b in &strokes[i + 1..] {
                    assert!(a.0 != b.0 || a.2 != b.2, "{n} lines: {a:?} and {b:?}");
                    assert!(a.1 >= b.1, "an earlier line is not narrower: {strokes:?}");
                }
            }
        }
    }
}
