//! The soak's lines of the text report: the memory trend, how the curve was read, and the
//! one-hour projection part by part.
use std::fmt::Write;

use zen_model::units::bytes;

/// A slope for people: `+1.25 MiB/h`, or `n/a`.
fn per_hour(slope: Option<f64>) -> String {
    slope.map_or("n/a".into(), |s| format!("{s:+.2} MiB/h"))
}

/// MiB as a byte amount, signed: `+14.9 MiB`.
fn signed_mib(mb: f64) -> String {
    let sign = if mb < 0.0 { "-" } else { "+" };
    format!("{sign}{}", mib_bytes(mb.abs()))
}

/// MiB as a byte amount: `16 MiB`.
fn mib_bytes(mb: f64) -> String {
    bytes((mb.max(0.0) * 1_048_576.0) as u64)
}

/// The soak's memory lines: the trend, how the curve was read, the projection part by part.
pub(super) fn soak_lines(w: &mut String, soak: &zen_model::report::soak::SoakReport) {
    let t = &soak.target;
    let _ = writeln!(
        w,
        "  memory     target RSS {} → {} (peak {}) over {:.2} h after a {:.0}s warm-up; whole-run slope {} (R² {}); {} samples via {}",
        mib_bytes(t.start_mb),
        mib_bytes(t.end_mb),
        mib_bytes(t.peak_mb),
        t.span_hours,
        soak.warmup_secs,
        per_hour(t.slope_mb_per_hour),
        t.r_squared.map_or("n/a".into(), |r| format!("{r:.2}")),
        t.samples,
        soak.rss_source
    );
    if let Some(reading) = &soak.reading {
        let _ = writeln!(w, "  memory     {}", reading.summary);
        let _ = writeln!(w, "  memory     decided on {}", reading.deciding_why);
        let _ = writeln!(
            w,
            "  projection over one hour (max {}):",
            mib_bytes(soak.max_growth_mb)
        );
        let width = reading
            .projection
            .iter()
            .map(|p| p.name.chars().count())
            .max()
            .unwrap_or(0);
        for p in &reading.projection {
            let context = match p.cap_mb {
                Some(cap) => format!(
                    "{} of {}{}",
                    mib_bytes(p.now_mb),
                    mib_bytes(cap),
                    p.bounded_by
                        .as_deref()
                        .map(|b| format!(", {b}"))
                        .unwrap_or_default()
                ),
                None => format!("slope {:+.2} MiB/h", p.slope_mb_per_hour),
            };
            let _ = writeln!(
                w,
                "             {:<width$}  {:>10}  ({context})",
                p.name,
                signed_mib(p.growth_mb)
            );
        }
        let _ = writeln!(
            w,
            "             {:<width$}  {:>10}  (± {})",
            "total",
            signed_mib(reading.projected_growth_mb),
            mib_bytes(reading.projected_margin_mb)
        );
    }
    let g = &soak.generator;
    let _ = writeln!(
        w,
        "  memory     generator RSS {} → {}, slope {}",
        mib_bytes(g.start_mb),
        mib_bytes(g.end_mb),
        per_hour(g.slope_mb_per_hour)
    );
    if let Some(store) = &soak.store {
        let _ = writeln!(
            w,
            "  store      {}: {} of conversations; {} on disk (not in RSS), {} cached in memory",
            store.kind,
            bytes(store.bytes),
            store.file_bytes.map_or("nothing".into(), bytes),
            bytes(store.cache_bytes)
        );
    }
    if let (Some(peak), Some(budget)) =
        (soak.conversation_peak_bytes, soak.conversation_budget_bytes)
    {
        let _ = writeln!(
            w,
            "  memory     conversation store peak {} of a {} budget ({})",
            bytes(peak),
            bytes(budget),
            if peak <= budget {
                "never above it"
            } else {
                "ABOVE IT"
            }
        );
    }
    if let Some(file) = &soak.out_file {
        let _ = writeln!(w, "  series     {file}");
    }
}
