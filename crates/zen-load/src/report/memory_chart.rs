//! The soak page's memory chart: the target's and the generator's RSS over the run (and, for zen,
//! each bounded part), with the warm-up and the deciding window shaded, the steps marked, and
//! the limit drawn as the line RSS may not climb above from the start of the deciding window.
//! Values come from a report file: anything not finite is left out, and every loop is bounded.
use std::fmt::Write;

use super::svg::{
    BOTTOM, Frame, HEIGHT, LEFT, PALETTE, RIGHT, TOP, WIDTH, escape, nice_step, open, y_axis,
};
use zen_model::report::soak::{MemoryPoint, SoakReport};

/// The chart's id (the page tests look for it).
pub const MEMORY_CHART_ID: &str = "chart-memory";

/// Largest value drawn (MiB or seconds): beyond it a report is not a real run.
const SANE: f64 = 1e9;
/// Most x-axis ticks drawn.
const MAX_TICKS: usize = 20;

/// A named series of (seconds, MiB).
struct Curve {
    name: String,
    points: Vec<(f64, f64)>,
    dashed: bool,
}

fn sane(v: f64) -> bool {
    v.is_finite() && v.abs() <= SANE
}

/// The chart, or nothing when the report has no memory series.
pub(super) fn memory_chart(soak: &SoakReport) -> String {
    let curves = curves(&soak.memory_series);
    let all = || curves.iter().flat_map(|c| c.points.iter());
    let x_max = all().map(|p| p.0).fold(0.0, f64::max);
    let y_max = all().map(|p| p.1).fold(0.0, f64::max);
    if curves.iter().all(|c| c.points.is_empty()) || x_max <= 0.0 {
        return String::new();
    }
    let frame = Frame {
        id: MEMORY_CHART_ID,
        title: "Memory (RSS) over the run",
        x_label: "seconds into the run",
        y_label: "MiB",
    };
    let mut out = String::new();
    open(&mut out, &frame);
    let plot = Plot {
        x_max,
        y_top: y_axis(&mut out, y_max * 1.05),
    };
    bands(&mut out, soak, &plot);
    x_ticks(&mut out, &plot);
    for (i, curve) in curves.iter().enumerate() {
        plot.polyline(&mut out, curve, PALETTE[i % PALETTE.len()]);
    }
    limit_line(&mut out, soak, &plot);
    steps(&mut out, soak, &plot);
    legend(&mut out, &curves);
    out.push_str("</svg>");
    out
}

/// The series to draw: RSS of both sides, then each bounded part.
fn curves(series: &[MemoryPoint]) -> Vec<Curve> {
    let points = |f: &dyn Fn(&MemoryPoint) -> Option<f64>| -> Vec<(f64, f64)> {
        (series.iter())
            .filter_map(|p| Some((p.t_secs, f(p)?)))
            .filter(|(t, v)| sane(*t) && sane(*v) && *t >= 0.0)
            .collect()
    };
    let mut out = vec![
        Curve {
            name: "target RSS".into(),
            points: points(&|p| Some(p.target_mb)),
            dashed: false,
        },
        Curve {
            name: "generator RSS".into(),
            points: points(&|p| Some(p.generator_mb)),
            dashed: false,
        },
    ];
    let mut keys: Vec<&String> = series.iter().flat_map(|p| p.parts.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys.into_iter().take(PALETTE.len() - 3) {
        out.push(Curve {
            name: key.replace('_', " "),
            points: points(&|p| p.parts.get(key).copied()),
            dashed: true,
        });
    }
    out
}

/// Data to drawing coordinates.
struct Plot {
    x_max: f64,
    y_top: f64,
}

impl Plot {
    fn x(&self, secs: f64) -> f64 {
        LEFT + (WIDTH - LEFT - RIGHT) * (secs / self.x_max).clamp(0.0, 1.0)
    }

    fn y(&self, mb: f64) -> f64 {
        TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - (mb / self.y_top).clamp(0.0, 1.0))
    }

    fn polyline(&self, out: &mut String, curve: &Curve, colour: &str) {
        let path: Vec<String> = (curve.points.iter())
            .map(|&(t, v)| format!("{:.1},{:.1}", self.x(t), self.y(v)))
            .collect();
        let dash = if curve.dashed {
            " stroke-dasharray=\"5 3\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{dash} points=\"{}\"/>",
            path.join(" ")
        );
    }
}

/// The warm-up (grey) and the deciding window (green), each labelled.
fn bands(out: &mut String, soak: &SoakReport, plot: &Plot) {
    let mut band = |from: f64, to: f64, fill: &str, label: &str| {
        if !(sane(from) && sane(to)) || to <= from {
            return;
        }
        let (x0, x1) = (plot.x(from), plot.x(to));
        let _ = write!(
            out,
            "<rect x=\"{x0:.1}\" y=\"{TOP}\" width=\"{:.1}\" height=\"{}\" fill=\"{fill}\">\
             <title>{label}</title></rect>\
             <text x=\"{:.1}\" y=\"{}\" class=\"tick\">{label}</text>",
            x1 - x0,
            HEIGHT - TOP - BOTTOM,
            x0 + 4.0,
            TOP + 12.0
        );
    };
    band(0.0, soak.warmup_secs, "#f1f1f1", "warm-up");
    if let Some(r) = &soak.reading {
        band(
            r.deciding.start_secs,
            r.deciding.end_secs,
            "#e7f6ea",
            "deciding window",
        );
    }
}

/// The x axis' ticks, at most [`MAX_TICKS`].
fn x_ticks(out: &mut String, plot: &Plot) {
    let step = nice_step(plot.x_max, 8.0);
    for i in 0..=MAX_TICKS {
        let v = step * i as f64;
        if v > plot.x_max + 1e-9 {
            break;
        }
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
            plot.x(v),
            HEIGHT - BOTTOM + 16.0,
            if step >= 1.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        );
    }
}

/// The limit: from the target's RSS at the start of the deciding window, the allowed growth
/// per hour, to the end of the run.
fn limit_line(out: &mut String, soak: &SoakReport, plot: &Plot) {
    let Some(r) = &soak.reading else { return };
    let start = r.deciding.start_secs;
    let base = (soak.memory_series.iter())
        .filter(|p| p.t_secs >= start)
        .map(|p| p.target_mb)
        .find(|v| sane(*v))
        .unwrap_or(r.deciding.rss_mean_mb);
    let end = plot.x_max;
    let top = base + soak.max_growth_mb * (end - start) / 3600.0;
    if !(sane(base) && sane(top) && sane(start)) || end <= start {
        return;
    }
    let _ = write!(
        out,
        "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#b91c1c\" \
         stroke-width=\"1.5\" stroke-dasharray=\"2 4\"><title>limit</title></line>\
         <text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\" fill=\"#b91c1c\">limit \
         +{} MiB/h</text>",
        plot.x(start),
        plot.y(base),
        plot.x(end),
        plot.y(top),
        plot.x(end) - 4.0,
        plot.y(top) - 6.0,
        soak.max_growth_mb
    );
}

/// A dashed vertical line at each step, labelled with its height.
fn steps(out: &mut String, soak: &SoakReport, plot: &Plot) {
    let Some(r) = &soak.reading else { return };
    for step in r
        .steps
        .iter()
        .filter(|s| sane(s.at_secs) && sane(s.height_mb))
    {
        let x = plot.x(step.at_secs);
        let label = format!(
            "{:+.1} MiB{}",
            step.height_mb,
            step.cause
                .as_deref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default()
        );
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#555\" \
             stroke-dasharray=\"4 3\"><title>{}</title></line>\
             <text x=\"{:.1}\" y=\"{}\" class=\"tick\">{}</text>",
            HEIGHT - BOTTOM,
            escape(&label),
            x + 3.0,
            TOP + 26.0,
            escape(&label)
        );
    }
}

fn legend(out: &mut String, curves: &[Curve]) {
    let mut x = LEFT;
    for (i, curve) in curves.iter().enumerate() {
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"31\" width=\"12\" height=\"4\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"37\" class=\"legend\">{}</text>",
            PALETTE[i % PALETTE.len()],
            x + 16.0,
            escape(&curve.name)
        );
        x += 36.0 + 7.0 * curve.name.chars().count() as f64;
    }
}
