//! What `zen report merge` says about shards (`--shard I/N`): parts missing or given twice,
//! generators that started apart (clocks that disagree, or a shard that missed `--start-at`),
//! and parts whose loads differ (shards are meant to be equal).
use zen_model::report::Report;

/// Shards that started further apart than this make a note (their series do not line up).
const START_SKEW_MS: f64 = 1000.0;

/// The notes a merge of `inputs` (name, report) should print about its shards.
pub(crate) fn notes(inputs: &[(String, Report)]) -> Vec<String> {
    let shards: Vec<(&str, &zen_model::report::ShardReport, &Report)> = (inputs.iter())
        .filter_map(|(name, r)| r.shard.as_ref().map(|s| (name.as_str(), s, r)))
        .collect();
    if shards.is_empty() {
        return Vec::new();
    }
    let mut notes = Vec::new();
    if shards.len() != inputs.len() {
        notes.push("some reports are shards (--shard) and some are not".to_string());
    }
    let count = shards[0].1.count;
    if shards.iter().any(|(_, s, _)| s.count != count) {
        notes.push(
            "the shards were parts of tests of different sizes (--shard I/N with different N)"
                .into(),
        );
    }
    let mut seen: Vec<u32> = shards.iter().map(|(_, s, _)| s.index).collect();
    seen.sort_unstable();
    let missing: Vec<String> = (0..count)
        .filter(|i| seen.binary_search(i).is_err())
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        notes.push(format!(
            "shards missing: {} (the merge is part of the load)",
            missing.join(", ")
        ));
    }
    seen.dedup();
    if seen.len() != shards.len() {
        notes.push("a shard was given twice: its calls count double".into());
    }
    let starts: Vec<f64> = shards
        .iter()
        .map(|(_, s, _)| s.started_unix_ms as f64)
        .collect();
    let spread = starts.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - starts.iter().copied().fold(f64::INFINITY, f64::min);
    if spread > START_SKEW_MS {
        notes.push(format!(
            "the shards started {:.1}s apart by their clocks: their loads overlapped less than \
             planned, or their clocks disagree (sync them, and give one --start-at)",
            spread / 1000.0
        ));
    }
    let agreed: Vec<Option<u64>> = shards.iter().map(|(_, s, _)| s.start_at_unix_ms).collect();
    if agreed.iter().any(|a| *a != agreed[0]) {
        notes.push("the shards were given different --start-at times".into());
    }
    let load = |r: &Report| {
        (
            r.load.model.clone(),
            r.load.duration_secs.map(|d| d.round() as u64),
            r.load.rate_per_sec.map(|x| (x * 1000.0).round() as u64),
        )
    };
    let first = load(shards[0].2);
    let sizes: Vec<u32> = shards
        .iter()
        .filter_map(|(_, _, r)| r.load.concurrency)
        .collect();
    let uneven = sizes
        .iter()
        .max()
        .zip(sizes.iter().min())
        .is_some_and(|(a, b)| a - b > 1);
    if shards.iter().any(|(_, _, r)| load(r) != first) || uneven {
        let names: Vec<&str> = shards.iter().map(|(n, _, _)| *n).collect();
        notes.push(format!(
            "the shards' loads disagree (model, duration, rate or concurrency): were {} run \
             with the same flags?",
            names.join(", ")
        ));
    }
    notes
}
