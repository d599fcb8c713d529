//! Provider request latency per (provider, model): the provider series says how long a
//! provider's requests took, this says which model they were for, so OpenTelemetry's
//! `gen_ai.client.operation.duration` carries `gen_ai.request.model`. Capped like the tokens.
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::CallOutcome;
use super::tokens::MAX_TOKEN_SERIES;
use zen_model::hdr::{encode as encode_histogram, new_histogram};
use zen_model::snapshot::ModelLatency;

/// One (provider, model)'s requests.
struct ModelSeries {
    /// Requests finished, whatever the outcome.
    calls: u64,
    /// Every request's latency (µs).
    latency_us: Histogram<u64>,
    /// Failed requests' latency per error kind, made on the first failure of that kind.
    failed_us: BTreeMap<&'static str, Histogram<u64>>,
}

/// (provider, model) → request latency, capped at [`MAX_TOKEN_SERIES`] pairs plus `other`.
#[derive(Default)]
pub(super) struct ModelLatencies {
    /// One lock per finished provider request.
    map: Mutex<BTreeMap<(&'static str, String), ModelSeries>>,
}

impl std::fmt::Debug for ModelLatencies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ModelLatencies")
    }
}

impl ModelLatencies {
    /// One provider request for `model` ended with `outcome` after `elapsed`; past the cap, new
    /// models are counted under `other` rather than dropped.
    pub(super) fn record(
        &self,
        provider: &'static str,
        model: &str,
        outcome: CallOutcome,
        elapsed: Duration,
    ) {
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut key = (provider, model.to_string());
        if !map.contains_key(&key) && map.len() >= MAX_TOKEN_SERIES {
            key.1 = "other".to_string();
        }
        let entry = map.entry(key).or_insert_with(|| ModelSeries {
            calls: 0,
            latency_us: new_histogram(),
            failed_us: BTreeMap::new(),
        });
        let us = elapsed.as_micros().max(1) as u64;
        entry.calls += 1;
        entry.latency_us.saturating_record(us);
        if outcome != CallOutcome::Ok {
            let failed = (entry.failed_us.entry(outcome.as_str())).or_insert_with(new_histogram);
            failed.saturating_record(us);
        }
    }

    /// (histograms made, most that can be made): one for every request and one per error
    /// kind, for each pair under the cap plus `other`.
    pub(super) fn histograms(&self) -> (usize, usize) {
        let map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let made = map.values().map(|s| 1 + s.failed_us.len()).sum();
        (
            made,
            (MAX_TOKEN_SERIES + 1) * (1 + super::series::ERROR_KINDS.len()),
        )
    }

    /// Latency per provider and model, for the snapshot.
    pub(super) fn stats(&self) -> Vec<ModelLatency> {
        let map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (map.iter())
            .map(|((provider, model), s)| ModelLatency {
                provider: provider.to_string(),
                model: model.clone(),
                calls: s.calls,
                hdr: encode_histogram(&s.latency_us),
                failed_hdr: (s.failed_us.iter())
                    .map(|(kind, h)| (kind.to_string(), encode_histogram(h)))
                    .collect(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_past_the_cap_are_counted_under_other() {
        let m = ModelLatencies::default();
        for i in 0..MAX_TOKEN_SERIES + 3 {
            m.record(
                "sim",
                &format!("m{i}"),
                CallOutcome::Ok,
                Duration::from_millis(1),
            );
        }
        m.record("sim", "m0", CallOutcome::Timeout, Duration::from_millis(5));
        let stats = m.stats();
        assert_eq!(stats.len(), MAX_TOKEN_SERIES + 1);
        let other = stats.iter().find(|s| s.model == "other").expect("other");
        assert_eq!(other.calls, 3, "the 3 models past the cap, all counted");
        let m0 = stats.iter().find(|s| s.model == "m0").expect("m0");
        assert_eq!(m0.calls, 2);
        assert_eq!(m0.failed_hdr.keys().collect::<Vec<_>>(), ["timeout"]);
        let total: u64 = stats.iter().map(|s| s.calls).sum();
        assert_eq!(total, MAX_TOKEN_SERIES as u64 + 4);
    }
}
