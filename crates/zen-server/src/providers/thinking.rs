//! `thinking_mode` (zen-mcp-server's five levels) and what each provider makes of it: OpenAI's
//! reasoning models and Gemini's OpenAI-compatible endpoint take `reasoning_effort`, OpenRouter
//! takes `reasoning: {effort}`; models without a reasoning setting ignore it (the tools say so).
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// How hard a model should think, as zen-mcp-server's `thinking_mode` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThinkingMode {
    /// The least reasoning the model allows.
    Minimal,
    /// Light reasoning.
    Low,
    /// The default of most reasoning models.
    Medium,
    /// Deep reasoning.
    High,
    /// The most the model allows.
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

    /// The `reasoning_effort` level: the APIs know low, medium and high (GPT-5 also minimal),
    /// so `max` asks for high and `minimal` for low where minimal is unknown.
    fn effort(self, knows_minimal: bool) -> &'static str {
        match self {
            ThinkingMode::Minimal if knows_minimal => "minimal",
            ThinkingMode::Minimal | ThinkingMode::Low => "low",
            ThinkingMode::Medium => "medium",
            ThinkingMode::High | ThinkingMode::Max => "high",
        }
    }
}

/// OpenAI models with a reasoning effort (the o-series and GPT-5); GPT-4.1 has none.
fn openai_reasons(model: &str) -> bool {
    ["o1", "o3", "o4", "gpt-5"]
        .iter()
        .any(|p| model.starts_with(p))
}

/// Gemini models that think (2.5 and later) through the compatible endpoint.
fn gemini_reasons(model: &str) -> bool {
    model.starts_with("gemini-2.5") || model.starts_with("gemini-3")
}

/// The name of the setting `provider` sends for `model`, when it has one.
pub(crate) fn setting_name(provider: &str, model: &str) -> Option<&'static str> {
    match provider {
        "openai" if openai_reasons(model) => Some("reasoning_effort"),
        "gemini" if gemini_reasons(model) => Some("reasoning_effort"),
        "openrouter" => Some("reasoning.effort"),
        "simulated" => Some("the simulated reply"),
        _ => None,
    }
}

/// The request body fields `mode` becomes for `model` at an OpenAI-compatible `provider`:
/// `(field, value)` pairs to add, none when it has no reasoning setting.
pub(crate) fn body_fields(
    provider: &str,
    model: &str,
    mode: Option<ThinkingMode>,
) -> Option<(&'static str, Value)> {
    let mode = mode?;
    match setting_name(provider, model)? {
        "reasoning_effort" => {
            let effort = mode.effort(provider == "openai" && model.starts_with("gpt-5"));
            Some(("reasoning_effort", json!(effort)))
        }
        "reasoning.effort" => Some(("reasoning", json!({ "effort": mode.effort(false) }))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_provider_gets_its_own_reasoning_field_or_none() {
        let high = Some(ThinkingMode::Max);
        assert_eq!(
            body_fields("openai", "o3", high),
            Some(("reasoning_effort", json!("high")))
        );
        assert_eq!(
            body_fields("openai", "gpt-5", Some(ThinkingMode::Minimal)),
            Some(("reasoning_effort", json!("minimal")))
        );
        assert_eq!(
            body_fields("openai", "o4-mini", Some(ThinkingMode::Minimal)),
            Some(("reasoning_effort", json!("low")))
        );
        assert_eq!(body_fields("openai", "gpt-4.1", high), None);
        assert_eq!(
            body_fields("gemini", "gemini-2.5-pro", Some(ThinkingMode::Medium)),
            Some(("reasoning_effort", json!("medium")))
        );
        assert_eq!(
            body_fields("openrouter", "x/y", Some(ThinkingMode::Low)),
            Some(("reasoning", json!({"effort": "low"})))
        );
        assert_eq!(body_fields("custom", "llama3.2", high), None);
        assert_eq!(body_fields("openai", "o3", None), None);
    }

    #[test]
    fn names_round_trip() {
        for name in ThinkingMode::NAMES {
            assert_eq!(ThinkingMode::parse(name).unwrap().as_str(), name);
        }
        assert_eq!(ThinkingMode::parse("huge"), None);
    }
}
