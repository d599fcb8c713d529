//! The latency distribution as bars, one bucketing for every renderer: the text report and the
//! HTML page draw the same bars with the same counts (the report's fixed buckets, the ones
//! `/metrics` and `zen top` use), from the first non-empty bucket to the last.
use zen_model::report::LatencyReport;

/// One bar of the distribution.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bar {
    /// `≤ 250 ms`, `≤ 2.5 s`, or `> 300 s` for the overflow bucket.
    pub label: String,
    /// Calls in this bucket alone.
    pub count: u64,
}

/// The bars from the first non-empty bucket to the last (none for a run without calls); a gap
/// inside that range is an empty bar, as it is a range of latency no call had.
pub(crate) fn bars(l: &LatencyReport) -> Vec<Bar> {
    let first = l.histogram.iter().position(|b| b.count > 0);
    let last = l.histogram.iter().rposition(|b| b.count > 0);
    let (Some(first), Some(last)) = (first, last) else {
        return Vec::new();
    };
    let top_bound = l
        .histogram
        .iter()
        .filter_map(|b| b.le_ms)
        .fold(0.0, f64::max);
    l.histogram[first..=last]
        .iter()
        .map(|bin| Bar {
            label: match bin.le_ms {
                Some(le) if le < 1000.0 => format!("≤ {le} ms"),
                Some(le) => format!("≤ {} s", le / 1000.0),
                None => format!("> {} s", top_bound / 1000.0),
            },
            count: bin.count,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bars_span_the_non_empty_buckets_and_keep_every_call() {
        let mut h = zen_model::hdr::new_histogram();
        for us in [3_000, 4_000, 700_000, 800_000, 900_000] {
            h.record(us).unwrap();
        }
        let bars = bars(&LatencyReport::from_histogram(&h));
        let labels: Vec<&str> = bars.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels.first(), Some(&"≤ 5 ms"));
        assert_eq!(labels.last(), Some(&"≤ 1 s"));
        assert_eq!(bars.iter().map(|b| b.count).sum::<u64>(), 5);
        assert!(bars.first().unwrap().count > 0 && bars.last().unwrap().count > 0);
    }
}
