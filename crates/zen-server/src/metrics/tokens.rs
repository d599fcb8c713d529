//! Tokens per provider and model: the sums, and how many tokens each call used (a histogram,
//! so OpenTelemetry's `gen_ai.client.token.usage` is read from the snapshot like every figure).
use std::collections::BTreeMap;
use std::sync::Mutex;

use hdrhistogram::Histogram;

use zen_model::hdr::encode as encode_histogram;
use zen_model::snapshot::TokenStats;

/// Models are named by callers, so the token map is capped: past this many (provider, model)
/// pairs, further models are counted under `other`.
pub const MAX_TOKEN_SERIES: usize = 64;

/// One (provider, model)'s tokens.
struct TokenSeries {
    /// Tokens sent, summed.
    prompt: u64,
    /// Tokens received, summed.
    completion: u64,
    /// Tokens sent per call.
    prompt_per_call: Histogram<u64>,
    /// Tokens received per call.
    completion_per_call: Histogram<u64>,
}

impl TokenSeries {
    fn new() -> Self {
        // 2 significant digits up to 2^40 tokens a call: a few KB each, 64 pairs at most.
        let histogram = || Histogram::new_with_bounds(1, 1 << 40, 2).expect("valid bounds");
        TokenSeries {
            prompt: 0,
            completion: 0,
            prompt_per_call: histogram(),
            completion_per_call: histogram(),
        }
    }
}

/// (provider, model) → tokens, capped at [`MAX_TOKEN_SERIES`] pairs plus `other`.
#[derive(Default)]
pub struct Tokens {
    /// One lock per completion: a call records its tokens once.
    map: Mutex<BTreeMap<(&'static str, String), TokenSeries>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens")
    }
}

impl Tokens {
    /// Tokens a provider reported for one completion of `model`.
    pub fn record(&self, provider: &'static str, model: &str, prompt: u64, completion: u64) {
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut key = (provider, model.to_string());
        if !map.contains_key(&key) && map.len() >= MAX_TOKEN_SERIES {
            key.1 = "other".to_string();
        }
        let entry = map.entry(key).or_insert_with(TokenSeries::new);
        // Counts reported by a provider: a wrong one must not wrap the sum (nor panic).
        entry.prompt = entry.prompt.saturating_add(prompt);
        entry.completion = entry.completion.saturating_add(completion);
        entry.prompt_per_call.saturating_record(prompt);
        entry.completion_per_call.saturating_record(completion);
    }

    /// (bytes of the histograms made, bytes when every pair under the cap and `other` has
    /// its two).
    pub(super) fn histogram_bytes(&self) -> (u64, u64) {
        let map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(one) = map
            .values()
            .next()
            .map(|s| (s.prompt_per_call.distinct_values() * std::mem::size_of::<u64>()) as u64)
        else {
            // None made yet: the cap is the same count of histograms of one size.
            let size = TokenSeries::new().prompt_per_call.distinct_values();
            let cap =
                (MAX_TOKEN_SERIES as u64 + 1) * 2 * (size * std::mem::size_of::<u64>()) as u64;
            return (0, cap);
        };
        let made = map.len() as u64 * 2 * one;
        (made, (MAX_TOKEN_SERIES as u64 + 1) * 2 * one)
    }

    /// Tokens per provider and model, for the snapshot.
    pub fn stats(&self) -> Vec<TokenStats> {
        let map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (map.iter())
            .map(|((provider, model), s)| TokenStats {
                provider: provider.to_string(),
                model: model.clone(),
                prompt_tokens: s.prompt,
                completion_tokens: s.completion,
                prompt_per_call: encode_histogram(&s.prompt_per_call),
                completion_per_call: encode_histogram(&s.completion_per_call),
            })
            .collect()
    }
}
