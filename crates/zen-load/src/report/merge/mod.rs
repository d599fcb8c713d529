//! `zen report merge`: runs made in parallel (several machines or processes against one
//! system) as one exact report. Histograms are added, so the merged percentiles are those of
//! all the calls, not an average of percentiles; counts are summed; the time series are lined
//! up by wall-clock time. The server side is per run and is left out: read it in the inputs.
use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};

mod series;

use zen_model::report::ErrorBucket;
use zen_model::report::verdict::{Measured, Parts, judge_all};
use zen_model::report::{
    CallCounts, Generator, LatencyReport, LoadReport, Report, TargetReport, ToolReport,
};

/// Error messages kept per kind in a merge, as in a run.
use zen_model::report::ERROR_SAMPLES as SAMPLES;

/// Merge the reports (each with the name it was read from, for messages). Also returns what
/// a reader should know about the merge (figures left out, thresholds that differed).
pub fn merge(inputs: &[(String, Report)]) -> Result<(Report, Vec<String>)> {
    let Some((_, first)) = inputs.first() else {
        bail!("nothing to merge: give two or more JSON reports");
    };
    for (name, r) in inputs {
        if r.command != "stress" {
            bail!(
                "{name} is a {} report: merge combines zen stress reports (a soak judges one \
                 server's memory over time, which does not add up across runs)",
                r.command
            );
        }
    }
    let reports: Vec<&Report> = inputs.iter().map(|(_, r)| r).collect();
    let spans = inputs
        .iter()
        .map(|(name, r)| wall_span(name, r))
        .collect::<Result<Vec<_>>>()?;
    let start = spans.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
    let end = spans.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
    let elapsed_secs = ((end - start) / 1000.0).max(0.0);

    let calls = add_calls(&reports);
    let latency = merge_latency(reports.iter().map(|r| &r.latency))?;
    let latency_uncorrected = if reports.iter().all(|r| r.latency_uncorrected.is_some()) {
        Some(merge_latency(
            reports
                .iter()
                .filter_map(|r| r.latency_uncorrected.as_ref()),
        )?)
    } else {
        None
    };
    let throughput_per_sec = calls.total as f64 / elapsed_secs.max(1e-9);
    let thresholds = first.thresholds.clone();
    let tools = merge_tools(&reports, |r| &r.tools)?;
    let operations = merge_tools(&reports, |r| &r.operations)?;
    let mut verdict = judge_all(
        &thresholds,
        Measured {
            calls: calls.total,
            error_rate: calls.error_rate,
            p99_ms: latency.p99_ms,
            throughput: throughput_per_sec,
        },
        &Parts {
            operations: &operations,
            tools: &tools,
            elapsed_secs,
        },
    );
    let ended: Vec<String> = inputs
        .iter()
        .filter_map(|(name, r)| r.ended_early.as_ref().map(|why| format!("{name}: {why}")))
        .collect();
    let partial = reports.iter().any(|r| r.partial);
    if partial {
        verdict.incomplete(&ended.join("; "));
    }
    let cpu_secs: f64 = reports.iter().map(|r| r.generator.cpu_secs).sum();
    let mut notes = crate::report::shards::notes(inputs);
    let limits = |r: &Report| serde_json::to_value(&r.thresholds).unwrap_or_default();
    if same(reports.iter().map(|r| limits(r)).collect::<Vec<_>>().iter()).is_none() {
        notes.push(format!(
            "the runs' thresholds differ: the merge is judged by the first one's ({})",
            inputs[0].0
        ));
    }
    if reports.iter().any(|r| r.server.is_some()) {
        notes.push(
            "the server-side figures (pools, providers, RSS) are per run and left out of the \
             merge: read them in the inputs"
                .into(),
        );
    }
    if reports.iter().any(|r| r.ceiling.is_some()) {
        notes.push(
            "a --find-ceiling search is one run's answer and is left out of the merge".into(),
        );
    }
    if reports.iter().any(|r| !r.targets.is_empty()) {
        notes.push(
            "the per-instance shares (--url A --url B) are per run and left out of the merge: \
             read them in the inputs"
                .into(),
        );
    }
    let merged = Report {
        schema_version: first.schema_version,
        command: first.command.clone(),
        zen_version: zen_model::VERSION.to_string(),
        scenario: same(reports.iter().map(|r| &r.scenario)).flatten(),
        partial,
        ended_early: (!ended.is_empty()).then(|| ended.join("; ")),
        target: merged_target(&reports),
        load: merged_load(&reports),
        elapsed_secs,
        throughput_per_sec,
        latency,
        latency_uncorrected,
        tools,
        operations,
        handshake: if reports.iter().any(|r| r.handshake.is_some()) {
            Some(merge_latency(
                reports.iter().filter_map(|r| r.handshake.as_ref()),
            )?)
        } else {
            None
        },
        targets: Vec::new(),
        protocols: Vec::new(),
        shard: None,
        ceiling: None,
        errors: merge_errors(&reports),
        server: None,
        generator: Generator {
            cpu_secs,
            cpu_us_per_call: match calls.total {
                0 => 0.0,
                n => cpu_secs * 1e6 / n as f64,
            },
            rss_bytes: reports
                .iter()
                .map(|r| r.generator.rss_bytes)
                .max()
                .unwrap_or(0),
        },
        calls,
        thresholds,
        verdict,
        soak: None,
        series: series::merge_series(
            &reports
                .iter()
                .map(|r| r.series.as_slice())
                .collect::<Vec<_>>(),
            one_server(&reports),
            start,
        ),
    };
    Ok((merged, notes))
}

/// Histograms added: the merged figures are exactly those of every call together.
pub fn merge_latency<'a>(parts: impl Iterator<Item = &'a LatencyReport>) -> Result<LatencyReport> {
    let mut all = zen_model::hdr::new_histogram();
    for part in parts {
        let h = zen_model::hdr::decode(&part.hdr)
            .context("a report's latency histogram (hdr) cannot be read")?;
        all.add(&h)
            .map_err(|e| anyhow::anyhow!("histograms do not add: {e:?}"))?;
    }
    Ok(LatencyReport::from_histogram(&all))
}

/// The run's wall-clock span in ms since the epoch: (start of the load, end of the load).
fn wall_span(name: &str, r: &Report) -> Result<(f64, f64)> {
    let first = r.series.first().with_context(|| {
        format!("{name} has no time series: merge lines runs up by it; rerun with this zen")
    })?;
    let Some(unix_ms) = first.unix_ms else {
        bail!(
            "{name} has no wall-clock times in its series (an older zen made it): merge lines \
             runs up by them; rerun it with this zen"
        );
    };
    let start = unix_ms as f64 - first.t * 1000.0;
    Ok((start, start + r.elapsed_secs * 1000.0))
}

fn add_calls(reports: &[&Report]) -> CallCounts {
    let sum = |f: fn(&CallCounts) -> u64| sat_sum(reports.iter().map(|r| f(&r.calls)));
    let (total, failed) = (sum(|c| c.total), sum(|c| c.failed));
    CallCounts {
        total,
        ok: sum(|c| c.ok),
        failed,
        error_rate: zen_model::snapshot::error_rate(failed, total),
        late: sum(|c| c.late),
        unsent: sum(|c| c.unsent),
        aborted: sum(|c| c.aborted),
        // The runs' peaks may not have coincided: this is the most there can have been.
        peak_in_flight: sum(|c| c.peak_in_flight),
    }
}

/// A sum of counts read from report files: a file with absurd counts must not wrap (or, in a
/// debug build, panic) the merge.
fn sat_sum(values: impl Iterator<Item = u64>) -> u64 {
    values.fold(0, u64::saturating_add)
}

/// The value when every report has the same one.
fn same<'a, T: PartialEq + Clone + 'a>(mut values: impl Iterator<Item = &'a T>) -> Option<T> {
    let first = values.next()?;
    values.all(|v| v == first).then(|| first.clone())
}

fn merged_target(reports: &[&Report]) -> TargetReport {
    let first = &reports[0].target;
    let mut labels: Vec<&str> = reports.iter().map(|r| r.target.label.as_str()).collect();
    labels.dedup();
    TargetReport {
        kind: same(reports.iter().map(|r| &r.target.kind)).unwrap_or_else(|| "merged".into()),
        label: labels.join(", "),
        server_name: first.server_name.clone(),
        server_version: first.server_version.clone(),
        pid: None,
        protocol: same(reports.iter().map(|r| &r.target.protocol))
            .unwrap_or_else(|| "mixed".into()),
        protocol_requested: same(reports.iter().map(|r| &r.target.protocol_requested))
            .unwrap_or_else(|| "mixed".into()),
        session_protocols: reports
            .iter()
            .flat_map(|r| r.target.session_protocols.iter().cloned())
            .collect(),
        headers: {
            let mut names: Vec<String> = (reports.iter())
                .flat_map(|r| r.target.headers.iter().cloned())
                .collect();
            names.sort();
            names.dedup();
            names
        },
    }
}

/// The combined load: what every generator offered together.
fn merged_load(reports: &[&Report]) -> LoadReport {
    let loads: Vec<&LoadReport> = reports.iter().map(|r| &r.load).collect();
    let sum_u32 = |f: fn(&LoadReport) -> Option<u32>| {
        let all: Option<Vec<u64>> = loads.iter().map(|l| f(l).map(u64::from)).collect();
        all.map(|v| u32::try_from(sat_sum(v.into_iter())).unwrap_or(u32::MAX))
    };
    let max_f64 =
        |f: fn(&LoadReport) -> Option<f64>| loads.iter().filter_map(|l| f(l)).reduce(f64::max);
    LoadReport {
        model: same(loads.iter().map(|l| &l.model)).unwrap_or_else(|| "mixed".into()),
        concurrency: sum_u32(|l| l.concurrency),
        requests: (loads.iter().map(|l| l.requests))
            .collect::<Option<Vec<u64>>>()
            .map(|v| sat_sum(v.into_iter())),
        rate_per_sec: loads.iter().map(|l| l.rate_per_sec).sum(),
        max_in_flight: sum_u32(|l| l.max_in_flight),
        duration_secs: max_f64(|l| l.duration_secs),
        sessions: (loads.iter()).fold(0, |sum: u32, l| sum.saturating_add(l.sessions)),
        timeout_secs: max_f64(|l| Some(l.timeout_secs)).unwrap_or(0.0),
        // Each run's stages are its own shape; the merged series shows what they made together.
        stages: None,
    }
}

/// A per-tool (or per-operation) breakdown, added up by name.
fn merge_tools(
    reports: &[&Report],
    part: fn(&Report) -> &BTreeMap<String, ToolReport>,
) -> Result<BTreeMap<String, ToolReport>> {
    let mut names: Vec<&String> = reports.iter().flat_map(|r| part(r).keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let parts: Vec<&ToolReport> =
                reports.iter().filter_map(|r| part(r).get(name)).collect();
            let merged = ToolReport {
                calls: sat_sum(parts.iter().map(|t| t.calls)),
                ok: sat_sum(parts.iter().map(|t| t.ok)),
                failed: sat_sum(parts.iter().map(|t| t.failed)),
                latency: merge_latency(parts.iter().map(|t| &t.latency))?,
            };
            Ok((name.clone(), merged))
        })
        .collect()
}

fn merge_errors(reports: &[&Report]) -> BTreeMap<String, ErrorBucket> {
    let mut merged: BTreeMap<String, ErrorBucket> = BTreeMap::new();
    for (kind, bucket) in reports.iter().flat_map(|r| &r.errors) {
        let into = merged.entry(kind.clone()).or_default();
        into.count = into.count.saturating_add(bucket.count);
        for sample in &bucket.samples {
            if into.samples.len() < SAMPLES && !into.samples.contains(sample) {
                into.samples.push(sample.clone());
            }
        }
    }
    merged
}

/// Every run drove the same URL: one server, seen by each (else each run had its own).
fn one_server(reports: &[&Report]) -> bool {
    reports.iter().all(|r| r.target.kind == "http")
        && same(reports.iter().map(|r| &r.target.label)).is_some()
}
