//! The built-in simulated provider: zen's embedded default, so everything works offline and
//! load tests are repeatable. Latency, error rate, reply size, seed and injected faults come
//! from the ZEN_SIM_* settings. Its replies say they are simulated.
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::{
    Capabilities, Completion, CompletionRequest, ModelInfo, Provider, ProviderError, Usage,
};
use crate::config::{Latency, SimConfig};

const NAME: &str = "simulated";

/// What the dice chose for one call.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fate {
    Reply,
    Fail500,
    RateLimited,
    Hang,
    Slow,
}

/// The simulated provider.
pub struct SimulatedProvider {
    /// Latency, error rate, reply size and faults.
    config: SimConfig,
    /// One generator for every call, seeded from ZEN_SIM_SEED when set, so runs repeat.
    rng: Mutex<StdRng>,
    /// The models of ZEN_SIM_MODELS (default one, `simulated`); the first is also `sim`.
    models: Vec<ModelInfo>,
    /// Calls inside `complete` right now: counted here, independent of zen's pools, so tests
    /// can check the pools from the provider's side.
    in_flight: AtomicU64,
    /// The most calls ever inside `complete` at once.
    peak_in_flight: AtomicU64,
}

impl SimulatedProvider {
    pub fn new(config: SimConfig) -> Self {
        let seed = config.sim_seed.unwrap_or_else(rand::random);
        SimulatedProvider {
            models: model_list(&config.sim_models),
            config,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            in_flight: AtomicU64::new(0),
            peak_in_flight: AtomicU64::new(0),
        }
    }

    /// The most calls that were inside the provider at once.
    pub fn peak_in_flight(&self) -> u64 {
        self.peak_in_flight.load(Ordering::Relaxed)
    }

    /// Calls inside the provider now.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    fn roll(&self) -> (Duration, Fate) {
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let latency_ms = match self.config.sim_latency_ms {
            Latency::Fixed(ms) => ms,
            Latency::Uniform(lo, hi) => rng.random_range(lo..=hi),
        };
        let mut dice: f64 = rng.random();
        let mut fate = Fate::Reply;
        let faults = &self.config.sim_faults.0;
        let table = [
            (self.config.sim_error_rate, Fate::Fail500),
            (faults.get("500").map_or(0.0, |f| f.0), Fate::Fail500),
            (faults.get("429").map_or(0.0, |f| f.0), Fate::RateLimited),
            (faults.get("hang").map_or(0.0, |f| f.0), Fate::Hang),
            (faults.get("slow").map_or(0.0, |f| f.0), Fate::Slow),
        ];
        for (rate, candidate) in table {
            if dice < rate {
                fate = candidate;
                break;
            }
            dice -= rate;
        }
        (Duration::from_millis(latency_ms), fate)
    }

    fn reply(&self, request: &CompletionRequest) -> String {
        const FILLER: &str = " Lorem ipsum dolor sit amet, consectetur adipiscing elit.";
        let prompt_chars: usize = request.messages.iter().map(|m| m.content.len()).sum();
        let mut text = format!(
            "[simulated reply: zen's built-in provider, no model was called] Read {} messages ({} bytes) for model '{}'.",
            request.messages.len(),
            prompt_chars,
            request.model
        );
        // What reached the provider besides text, so a caller can see it arrived.
        let images: usize = request.messages.iter().map(|m| m.images.len()).sum();
        if images > 0 {
            text.push_str(&format!(" Saw {images} images."));
        }
        if let Some(mode) = request.thinking {
            text.push_str(&format!(" Thinking mode: {}.", mode.as_str()));
        }
        while text.len() < self.config.sim_reply_bytes {
            text.push_str(FILLER);
        }
        // Cut on a character boundary: the model name in the text may be any UTF-8.
        let mut cut = self.config.sim_reply_bytes.max(1).min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text
    }
}

/// The offered models: ZEN_SIM_MODELS trimmed, without blanks or repeats, `simulated` when
/// nothing is left. All of them share the simulated provider's pool and breaker.
fn model_list(names: &[String]) -> Vec<ModelInfo> {
    let mut seen: Vec<&str> = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        if !seen.contains(&name) {
            seen.push(name);
        }
    }
    if seen.is_empty() {
        seen.push(NAME);
    }
    (seen.iter().enumerate())
        .map(|(i, name)| {
            // Takes everything, so every tool's path (images, thinking_mode) runs offline.
            let capabilities = Capabilities {
                supports_images: true,
                max_image_size_mb: 20.0,
                reasoning: Some(super::Reasoning::Effort),
                ..Capabilities::text(1_000_000, 65_536)
            };
            let model = ModelInfo::new(*name, capabilities);
            if i == 0 {
                model.with_aliases(&["sim"])
            } else {
                model
            }
        })
        .collect()
}

/// Plausible token counts: about four bytes of English per token, as OpenAI's rule of thumb
/// has it, and a few tokens of framing per message.
fn simulated_usage(request: &CompletionRequest, reply: &str) -> Usage {
    let prompt: usize = (request.messages.iter())
        .map(|m| m.content.len().div_ceil(4) + 4)
        .sum();
    Usage {
        prompt_tokens: prompt as u64,
        completion_tokens: reply.len().div_ceil(4) as u64,
    }
}

/// Counts a call inside the provider for as long as it lives (also when the call is dropped).
struct InsideGuard<'a>(&'a AtomicU64);

impl Drop for InsideGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[async_trait]
impl Provider for SimulatedProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn models(&self) -> &[ModelInfo] {
        &self.models
    }

    async fn complete(&self, request: &CompletionRequest) -> Result<Completion, ProviderError> {
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak_in_flight.fetch_max(now, Ordering::Relaxed);
        let _inside = InsideGuard(&self.in_flight);
        let (latency, fate) = self.roll();
        match fate {
            Fate::Hang => std::future::pending::<()>().await,
            Fate::Slow => tokio::time::sleep(latency * 10).await,
            _ => tokio::time::sleep(latency).await,
        }
        match fate {
            Fate::Fail500 => Err(ProviderError::Status {
                provider: NAME,
                status: 500,
                message: "simulated internal server error (ZEN_SIM_ERROR_RATE / ZEN_SIM_FAULTS)"
                    .to_string(),
                retry_after: None,
            }),
            Fate::RateLimited => Err(ProviderError::Status {
                provider: NAME,
                status: 429,
                message: "simulated rate limit (ZEN_SIM_FAULTS 429)".to_string(),
                retry_after: Some(Duration::from_millis(200)),
            }),
            _ => {
                let text = self.reply(request);
                let usage = simulated_usage(request, &text);
                Ok(Completion {
                    text,
                    usage: Some(usage),
                })
            }
        }
    }
}
