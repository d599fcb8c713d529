//! Reading a report file as hostile input: `zen report` reads files from other machines, and
//! a file that was never written by zen once took `zen report html` into an endless loop (series
//! times of ±1e308) and, on large files, to 5–6 times the file's size in memory. So a report
//! is read
//! - only from a regular file of at most [`MAX_REPORT_BYTES`], streamed into the report types
//!   (never held as text as well);
//! - with its series merged pairwise past 1 200 points as it is read, as a run writes it
//!   (`zen_model::report::series::bounded`), so the series costs what a run's does;
//! - with its numbers checked where they enter: series times, intervals and latencies, and
//!   latency figures, within what a run can have; at most [`MAX_POOLS`] pool names (the charts
//!   draw one line per pool over the whole series);
//! - with each error bucket cut to what a run writes ([`ERROR_SAMPLES`] messages of
//!   [`SAMPLE_CHARS`] characters).
//!
//! Every refusal names the file, the field and the bound.
use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};
use zen_model::report::series::Point;
use zen_model::report::{ERROR_SAMPLES, LatencyReport, Report, SAMPLE_CHARS};

/// The largest report file read: zen's own reports are well under 2 MiB (the series stops at
/// 1 200 points); this leaves room for merges of many runs.
pub const MAX_REPORT_BYTES: u64 = 16 * 1024 * 1024;
/// Most distinct pool names in a series (zen has one per provider, plus the global pool).
pub const MAX_POOLS: usize = 64;
/// Most buckets of a latency histogram (zen writes 20).
const MAX_BINS: usize = 256;
/// Longest encoded HDR histogram (zen's are a few kB).
const MAX_HDR_CHARS: usize = 1024 * 1024;
/// Longest time a run or an interval may have, seconds (ten years).
const MAX_SECS: f64 = 315_576_000.0;
/// Largest latency, ms (a day; zen's histograms stop at an hour).
const MAX_MS: f64 = 86_400_000.0;

/// A JSON report from a file, checked; errors say which file, what is wrong and what to do.
pub fn read(path: &Path) -> Result<Report> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read the report {}", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read the report {}", path.display()))?;
    if !meta.is_file() {
        bail!(
            "{} is not a regular file: give a JSON report",
            path.display()
        );
    }
    if meta.len() > MAX_REPORT_BYTES {
        bail!(
            "{} is {} bytes, over the {} MiB a report may have (zen's own reports are well \
             under 2 MiB); it is not a zen JSON report",
            path.display(),
            meta.len(),
            MAX_REPORT_BYTES / (1024 * 1024)
        );
    }
    // Streamed from a buffered reader capped at the limit (the file may grow meanwhile).
    let reader = std::io::BufReader::new(file.take(MAX_REPORT_BYTES));
    let de = &mut serde_json::Deserializer::from_reader(reader);
    let mut report: Report = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a zen JSON report (at {}: {}); make one with zen stress --json or --out",
            path.display(),
            e.path(),
            e.inner()
        )
    })?;
    de.end()
        .map_err(|e| anyhow::anyhow!("{} has more after its JSON report ({e})", path.display()))?;
    check(&mut report).map_err(|why| {
        anyhow::anyhow!(
            "{} is not a report zen can read: {why}; make one with zen stress --json or --out",
            path.display()
        )
    })?;
    Ok(report)
}

/// The report's numbers within what a run can have, its samples cut to what a run writes.
pub(crate) fn check(r: &mut Report) -> Result<(), String> {
    within("elapsed_secs", r.elapsed_secs, MAX_SECS)?;
    latency("latency", &r.latency)?;
    if let Some(l) = &r.latency_uncorrected {
        latency("latency_uncorrected", l)?;
    }
    for (name, tool) in &r.tools {
        latency(&format!("tools.{name}.latency"), &tool.latency)?;
    }
    series(&r.series)?;
    for bucket in r.errors.values_mut() {
        bucket.samples.truncate(ERROR_SAMPLES);
        for sample in &mut bucket.samples {
            if let Some((cut, _)) = sample.char_indices().nth(SAMPLE_CHARS) {
                sample.truncate(cut);
            }
        }
    }
    Ok(())
}

/// A number in `0..=max` (which also rules out NaN and the infinities).
fn within(field: &str, value: f64, max: f64) -> Result<(), String> {
    if (0.0..=max).contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "{field} is {}, outside 0 to {max}",
            readable(value)
        ))
    }
}

/// A number as people read it: huge and tiny ones in e-notation.
fn readable(value: f64) -> String {
    if value != 0.0 && !(1e-3..1e9).contains(&value.abs()) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

fn latency(field: &str, l: &LatencyReport) -> Result<(), String> {
    let figures = [
        ("mean_ms", l.mean_ms),
        ("p50_ms", l.p50_ms),
        ("p90_ms", l.p90_ms),
        ("p99_ms", l.p99_ms),
        ("p999_ms", l.p999_ms),
        ("max_ms", l.max_ms),
    ];
    for (name, value) in figures {
        within(&format!("{field}.{name}"), value, MAX_MS)?;
    }
    if l.histogram.len() > MAX_BINS {
        return Err(format!(
            "{field}.histogram has {} buckets, more than {MAX_BINS}",
            l.histogram.len()
        ));
    }
    for (i, bin) in l.histogram.iter().enumerate() {
        if let Some(le) = bin.le_ms {
            within(&format!("{field}.histogram[{i}].le_ms"), le, MAX_MS)?;
        }
    }
    if l.hdr.len() > MAX_HDR_CHARS {
        return Err(format!(
            "{field}.hdr is {} characters, more than {MAX_HDR_CHARS}",
            l.hdr.len()
        ));
    }
    Ok(())
}

fn series(points: &[Point]) -> Result<(), String> {
    let mut pools = BTreeSet::new();
    for (i, p) in points.iter().enumerate() {
        within(&format!("series[{i}].t"), p.t, MAX_SECS)?;
        within(&format!("series[{i}].secs"), p.secs, MAX_SECS)?;
        within(&format!("series[{i}].p50_ms"), p.p50_ms, MAX_MS)?;
        within(&format!("series[{i}].p99_ms"), p.p99_ms, MAX_MS)?;
        pools.extend(p.pools_in_use.iter().flat_map(|m| m.keys()));
        if pools.len() > MAX_POOLS {
            return Err(format!(
                "its series names more than {MAX_POOLS} pools (series[{i}])"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_series_numbers_are_refused_and_samples_cut() {
        let mut r: Report = serde_json::from_str(include_str!("testdata/report.json"))
            .expect("the test report parses");
        assert_eq!(check(&mut r.clone()), Ok(()));
        let mut bad = r.clone();
        bad.series[0].t = 1e308;
        let err = check(&mut bad).unwrap_err();
        assert!(err.contains("series[0].t is 1e308"), "{err}");
        let mut bad = r.clone();
        bad.latency.p99_ms = -1.0;
        assert!(check(&mut bad).unwrap_err().contains("latency.p99_ms"));
        let bucket = r.errors.entry("tool_error".into()).or_default();
        bucket.samples = vec!["x".repeat(10_000); 50];
        check(&mut r).unwrap();
        let samples = &r.errors["tool_error"].samples;
        assert_eq!(samples.len(), ERROR_SAMPLES);
        assert!(samples.iter().all(|s| s.chars().count() == SAMPLE_CHARS));
    }
}
