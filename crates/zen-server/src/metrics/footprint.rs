//! The metric histograms as a bounded part of zen's memory: each is made at its series' first
//! use (or first failure of a kind), and the series are fixed or capped, so their bytes grow to
//! a known most and no further. A soak projects them to that bound.
use super::Metrics;
use super::series::{ERROR_KINDS, latency_histogram_bytes};
use zen_model::snapshot::BoundedPart;

impl Metrics {
    /// The histograms made so far and the most that can be made, in bytes.
    pub fn histogram_part(&self) -> BoundedPart {
        let one = latency_histogram_bytes();
        let series = std::iter::once(&self.total)
            .chain(self.tools.values())
            .chain(self.providers.values().map(|(s, _)| s));
        let (made, most) = series.fold((0, 0), |(made, most), s| {
            (made + s.histograms(), most + 1 + ERROR_KINDS.len())
        });
        let (model_made, model_most) = self.models.histograms();
        let (token_bytes, token_cap) = self.tokens.histogram_bytes();
        BoundedPart {
            key: "histograms".to_string(),
            name: "metric histograms".to_string(),
            bytes: (made + model_made) as u64 * one + token_bytes,
            cap_bytes: (most + model_most) as u64 * one + token_cap,
            bounded_by: "the tools, the providers and 64 models, each made once".to_string(),
        }
    }
}
