//! What a model can take, as its record says: images (and how many megabytes of them), a
//! temperature (and which), a reasoning setting for `thinking_mode`, its context window and
//! longest reply. Tools read it from the [`Route`](super::Route) a model name resolves to, and the
//! OpenAI-compatible provider shapes each request by it (no temperature for a model that refuses
//! one, `reasoning_effort` only where a model has it).
use rmcp::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};

/// `thinking_mode`, as zen-mcp-server's tools take it: how hard a reasoning model should think.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ThinkingMode {
    /// As little reasoning as the model allows.
    Minimal,
    /// Light reasoning.
    Low,
    /// The usual depth.
    Medium,
    /// Deep reasoning.
    High,
    /// The deepest the model offers.
    Max,
}

impl ThinkingMode {
    /// The five names, lowest first (the enum of the tools' `thinking_mode` argument).
    pub const NAMES: [&'static str; 5] = ["minimal", "low", "medium", "high", "max"];

    /// The mode called `name`, if it is one of [`ThinkingMode::NAMES`].
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "minimal" => ThinkingMode::Minimal,
            "low" => ThinkingMode::Low,
            "medium" => ThinkingMode::Medium,
            "high" => ThinkingMode::High,
            "max" => ThinkingMode::Max,
            _ => return None,
        })
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// How a model takes a reasoning setting; `thinking_mode` is sent this way, or not at all when a
/// model has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reasoning {
    /// `reasoning_effort`: minimal, low, medium or high (the GPT-5 family).
    EffortWithMinimal,
    /// `reasoning_effort`: low, medium or high (o-series, Gemini's compatible endpoint, most
    /// OpenAI-compatible servers).
    Effort,
    /// `reasoning_effort`: low or high (grok-3-mini).
    EffortLowHigh,
    /// `reasoning: {"effort": …}` (OpenRouter).
    OpenRouter,
}

impl Reasoning {
    /// The effort word this model understands for `mode` (the nearest one it has).
    pub fn effort(self, mode: ThinkingMode) -> &'static str {
        match (self, mode) {
            (Reasoning::EffortWithMinimal, ThinkingMode::Minimal) => "minimal",
            (_, ThinkingMode::Minimal | ThinkingMode::Low) => "low",
            (Reasoning::EffortLowHigh, _) | (_, ThinkingMode::High | ThinkingMode::Max) => "high",
            (_, ThinkingMode::Medium) => "medium",
        }
    }
}

/// Which temperatures a model accepts (zen-mcp-server's `temperature_constraint`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TemperatureRule {
    /// Any value from `min` to `max`; others are moved to the nearest end.
    Range {
        /// Lowest accepted.
        min: f64,
        /// Highest accepted.
        max: f64,
    },
    /// Only this value (reasoning models that take a temperature but ignore it).
    Fixed {
        /// The one value sent.
        value: f64,
    },
}

impl TemperatureRule {
    /// The usual range of OpenAI-compatible APIs.
    pub const STANDARD: TemperatureRule = TemperatureRule::Range { min: 0.0, max: 2.0 };

    /// The value to send for a requested one.
    pub fn corrected(self, requested: f64) -> f64 {
        match self {
            TemperatureRule::Range { min, max } => requested.clamp(min, max),
            TemperatureRule::Fixed { value } => value,
        }
    }
}

/// What a model can take. Small and `Copy`: every resolved route carries one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Capabilities {
    /// Context window in tokens (prompt and reply together).
    pub context_window: u64,
    /// Longest reply in tokens.
    pub max_output_tokens: u64,
    /// The model reads images (`images` are sent to it as image parts).
    pub supports_images: bool,
    /// The most image data one request may carry, in megabytes (0 when it takes none).
    pub max_image_size_mb: f64,
    /// The model takes a temperature; when false, a requested one is not sent.
    pub supports_temperature: bool,
    /// Which temperatures it takes, when it takes one.
    pub temperature: TemperatureRule,
    /// How `thinking_mode` reaches it; `None`: the model has no reasoning setting and
    /// `thinking_mode` is not sent.
    pub reasoning: Option<Reasoning>,
}

impl Capabilities {
    /// What zen assumes of a model no record describes (a name a provider accepts by its
    /// prefix, or `provider/model`): text only, a temperature in the standard range, no
    /// reasoning setting, and zen-mcp-server's generic 32K context.
    pub const GENERIC: Capabilities = Capabilities {
        context_window: 32_768,
        max_output_tokens: 8_192,
        supports_images: false,
        max_image_size_mb: 0.0,
        supports_temperature: true,
        temperature: TemperatureRule::STANDARD,
        reasoning: None,
    };

    /// A text model of this context window and longest reply, otherwise [`Self::GENERIC`].
    pub const fn text(context_window: u64, max_output_tokens: u64) -> Self {
        Capabilities {
            context_window,
            max_output_tokens,
            ..Self::GENERIC
        }
    }

    /// The image budget of one request in bytes (0 when the model takes no images).
    pub fn max_image_bytes(&self) -> u64 {
        if self.supports_images {
            (self.max_image_size_mb.max(0.0) * 1024.0 * 1024.0) as u64
        } else {
            0
        }
    }

    /// The temperature to send for `requested`: `None` when the model takes none (the
    /// parameter is left out, as zen-mcp-server does), else the value its rule allows.
    pub fn temperature_for(&self, requested: Option<f64>) -> Option<f64> {
        let requested = requested?;
        self.supports_temperature
            .then(|| self.temperature.corrected(requested))
    }

    /// The effort word to send for `thinking_mode`, when the model has a reasoning setting.
    pub fn effort_for(&self, mode: Option<ThinkingMode>) -> Option<(Reasoning, &'static str)> {
        let reasoning = self.reasoning?;
        Some((reasoning, reasoning.effort(mode?)))
    }
}

impl Default for Capabilities {
    fn default() -> Self {
        Self::GENERIC
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effort_words_fit_each_reasoning_style() {
        use ThinkingMode::{High, Low, Max, Medium, Minimal};
        let words = |r: Reasoning| [Minimal, Low, Medium, High, Max].map(|m| r.effort(m));
        assert_eq!(
            words(Reasoning::EffortWithMinimal),
            ["minimal", "low", "medium", "high", "high"]
        );
        assert_eq!(
            words(Reasoning::Effort),
            ["low", "low", "medium", "high", "high"]
        );
        assert_eq!(
            words(Reasoning::EffortLowHigh),
            ["low", "low", "high", "high", "high"]
        );
    }

    #[test]
    fn temperature_is_left_out_clamped_or_fixed_as_the_model_needs() {
        let mut c = Capabilities::GENERIC;
        assert_eq!(c.temperature_for(None), None);
        assert_eq!(c.temperature_for(Some(0.3)), Some(0.3));
        assert_eq!(c.temperature_for(Some(9.0)), Some(2.0));
        c.temperature = TemperatureRule::Fixed { value: 1.0 };
        assert_eq!(c.temperature_for(Some(0.3)), Some(1.0));
        c.supports_temperature = false;
        assert_eq!(c.temperature_for(Some(0.3)), None);
    }

    #[test]
    fn thinking_mode_names_round_trip() {
        for name in ThinkingMode::NAMES {
            assert_eq!(
                ThinkingMode::parse(name).map(ThinkingMode::as_str),
                Some(name)
            );
        }
        assert_eq!(ThinkingMode::parse("huge"), None);
    }

    #[test]
    fn image_budget_is_zero_for_text_models() {
        let mut c = Capabilities::text(8_192, 1_024);
        c.max_image_size_mb = 5.0;
        assert_eq!(c.max_image_bytes(), 0, "supports_images is false");
        c.supports_images = true;
        assert_eq!(c.max_image_bytes(), 5 * 1024 * 1024);
        assert_eq!(c.effort_for(Some(ThinkingMode::High)), None);
    }
}
