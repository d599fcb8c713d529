//! What both shapes of consensus share: the models to ask (each with a stance, or the
//! caller's own stance prompt), asking them all at once (each under its provider's pool and
//! breaker, through `ToolContext::call_provider`), and the answers: recorded as turns, read back
//! from them, and rendered side by side.
use std::time::Instant;

use futures::future::join_all;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::conversations::Turn;
use crate::providers::{CompletionRequest, Message, Route};
use crate::tools::conversation::turn;
use crate::tools::{ToolContext, ToolError};

const SYSTEM_PROMPT: &str = include_str!("../prompts/consensus.txt");

/// Most models one call may ask: each holds a provider permit while it runs.
pub(crate) const MAX_MODELS: usize = 8;

/// How a model is asked to lean (zen-mcp-server's words `support` and `oppose` work too).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Stance {
    /// Argue for the proposal, while naming real blockers.
    #[serde(alias = "support", alias = "favor")]
    For,
    /// Argue against it, while granting what is genuinely good.
    #[serde(alias = "oppose")]
    Against,
    /// Weigh it evenly.
    #[default]
    Neutral,
}

impl Stance {
    /// The names a caller may give, for the schema.
    pub(crate) const NAMES: [&'static str; 3] = ["for", "against", "neutral"];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Stance::For => "for",
            Stance::Against => "against",
            Stance::Neutral => "neutral",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| [Stance::For, Stance::Against, Stance::Neutral][i])
    }

    fn instruction(self) -> &'static str {
        match self {
            Stance::For => {
                "Your stance: FOR. Make the strongest honest case for the proposal; \
                 if something would make it a mistake, still say so plainly."
            }
            Stance::Against => {
                "Your stance: AGAINST. Make the strongest honest case against \
                 the proposal; grant what is genuinely good about it."
            }
            Stance::Neutral => {
                "Your stance: NEUTRAL. Weigh both sides evenly and say which \
                 way the evidence leans."
            }
        }
    }
}

/// One model to ask.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ModelChoice {
    /// A model name from listmodels, or `provider/model`.
    pub model: String,
    /// `for`, `against` or `neutral` (default neutral).
    #[serde(default)]
    pub stance: Stance,
    /// The caller's own instruction for this model, instead of the stance's.
    #[serde(default)]
    pub stance_prompt: Option<String>,
}

impl ModelChoice {
    /// The system prompt for this model: the consensus prompt and its stance.
    fn system_prompt(&self) -> String {
        let lean = match self.stance_prompt.as_deref().map(str::trim) {
            Some(own) if !own.is_empty() => own,
            _ => self.stance.instruction(),
        };
        format!("{}\n\n{lean}", SYSTEM_PROMPT.trim_end())
    }
}

/// The models when the caller names none: the default model twice, for and against.
pub(crate) fn default_choices(ctx: &ToolContext) -> Vec<ModelChoice> {
    [Stance::For, Stance::Against]
        .map(|stance| ModelChoice {
            model: ctx.registry.default_model().to_string(),
            stance,
            stance_prompt: None,
        })
        .into()
}

/// One model's part of the reply.
#[derive(Debug, Serialize)]
pub(crate) struct Opinion {
    /// `provider/model`.
    pub model: String,
    /// How it was asked to lean.
    pub stance: Stance,
    /// How long its provider call took, waiting for the provider permit included.
    pub latency_ms: u64,
    /// Its answer, when it gave one.
    pub answer: Option<String>,
    /// Why it gave none.
    pub error: Option<String>,
}

impl Opinion {
    /// zen-mcp-server's `model_response` for this answer.
    pub(crate) fn python_response(&self) -> Value {
        let (provider, name) = self.model.split_once('/').unwrap_or(("", &self.model));
        match (&self.answer, &self.error) {
            (Some(answer), _) => json!({
                "model": self.model, "stance": self.stance, "status": "success",
                "verdict": answer, "metadata": {"provider": provider, "model_name": name},
            }),
            (None, error) => json!({
                "model": self.model, "stance": self.stance, "status": "error",
                "error": error.as_deref().unwrap_or(""),
            }),
        }
    }
}

/// Check the models and resolve every one before anything is spent.
pub(crate) fn routes(ctx: &ToolContext, models: &[ModelChoice]) -> Result<Vec<Route>, ToolError> {
    if models.len() < 2 || models.len() > MAX_MODELS {
        return Err(ToolError::bad_field(
            "consensus",
            "models",
            format!(
                "{} entries; give 2 to {MAX_MODELS} (the same model may appear twice with \
                 different stances)",
                models.len()
            ),
        ));
    }
    let mut seen = Vec::new();
    for (i, choice) in models.iter().enumerate() {
        if choice.model.trim().is_empty() {
            let field = format!("models[{i}].model");
            return Err(ToolError::bad_field(
                "consensus",
                &field,
                "must not be empty",
            ));
        }
        if seen.contains(&(choice.model.trim(), choice.stance)) {
            return Err(ToolError::bad_field(
                "consensus",
                &format!("models[{i}]"),
                format!(
                    "'{}' with stance {} is already listed; give it another stance or drop it",
                    choice.model,
                    choice.stance.as_str()
                ),
            ));
        }
        seen.push((choice.model.trim(), choice.stance));
    }
    (models.iter().enumerate())
        .map(|(i, choice)| {
            ctx.registry
                .resolve(Some(&choice.model))
                .map_err(|e| ToolError::bad_field("consensus", &format!("models[{i}].model"), e))
        })
        .collect()
}

/// What every model is asked: the history, the question, the images.
pub(crate) struct Question<'a> {
    /// The thread's earlier turns, as messages.
    pub history: &'a [Message],
    /// The proposal with the files embedded.
    pub text: &'a str,
    /// Images, as data URLs.
    pub images: &'a [String],
}

/// Ask every model at once; each failure becomes part of its answer, not the call's.
pub(crate) async fn ask_all(
    ctx: &ToolContext,
    routes: &[Route],
    models: &[ModelChoice],
    question: &Question<'_>,
) -> Vec<Opinion> {
    let asks = routes.iter().zip(models).map(|(route, choice)| {
        let mut messages = vec![Message::new("system", choice.system_prompt())];
        messages.extend(question.history.iter().cloned());
        let mut asking = Message::new("user", question.text);
        asking.images = question.images.to_vec();
        messages.push(asking);
        ask(ctx, route, choice.stance, messages)
    });
    join_all(asks).await
}

/// The answers as assistant turns: `[stance stance] answer` (or `failed: why`), by model.
pub(crate) fn answer_turns(opinions: &[Opinion]) -> Vec<Turn> {
    (opinions.iter())
        .map(|o| {
            let content = match (&o.answer, &o.error) {
                (Some(answer), _) => format!("[{} stance] {answer}", o.stance.as_str()),
                (None, error) => format!(
                    "[{} stance] failed: {}",
                    o.stance.as_str(),
                    error.as_deref().unwrap_or("")
                ),
            };
            turn("assistant", "consensus", content, Some(o.model.clone()))
        })
        .collect()
}

/// An answer read back from its turn (see [`answer_turns`]); `None` for any other turn.
pub(crate) fn read_answer(turn: &Turn) -> Option<Opinion> {
    if turn.role != "assistant" || turn.tool != "consensus" {
        return None;
    }
    let model = turn.model.clone()?;
    let rest = turn.content.strip_prefix('[')?;
    let (stance, said) = rest.split_once(" stance] ")?;
    let stance = Stance::parse(stance)?;
    let (answer, error) = match said.strip_prefix("failed: ") {
        Some(why) => (None, Some(why.to_string())),
        None => (Some(said.to_string()), None),
    };
    Some(Opinion {
        model,
        stance,
        latency_ms: 0,
        answer,
        error,
    })
}

/// Ask one model; its failure becomes part of the reply, not the call's.
async fn ask(ctx: &ToolContext, route: &Route, stance: Stance, messages: Vec<Message>) -> Opinion {
    let started = Instant::now();
    let request = CompletionRequest {
        model: route.model.clone(),
        messages,
        ..CompletionRequest::default()
    };
    let result = ctx.call_provider(route, request).await;
    let latency_ms = started.elapsed().as_millis() as u64;
    let model = format!("{}/{}", route.provider.name(), route.model);
    match result {
        Ok(completion) => Opinion {
            model,
            stance,
            latency_ms,
            answer: Some(completion.text),
            error: None,
        },
        Err(e) => Opinion {
            model,
            stance,
            latency_ms,
            answer: None,
            error: Some(e.message),
        },
    }
}

/// One line per failed model.
pub(crate) fn error_lines(opinions: &[Opinion]) -> String {
    (opinions.iter())
        .filter_map(|o| {
            Some(format!(
                "- {} ({}): {}\n",
                o.model,
                o.stance.as_str(),
                o.error.as_ref()?
            ))
        })
        .collect()
}

/// Every answer under its model and stance, then the side-by-side.
pub(crate) fn render(opinions: &[Opinion]) -> String {
    let mut text = String::new();
    for o in opinions {
        text.push_str(&format!(
            "## {} ({}, {} ms)\n",
            o.model,
            o.stance.as_str(),
            o.latency_ms
        ));
        match (&o.answer, &o.error) {
            (Some(answer), _) => text.push_str(answer),
            (None, error) => text.push_str(&format!("FAILED: {}", error.as_deref().unwrap_or(""))),
        }
        text.push_str("\n\n");
    }
    text.push_str("## Side by side\n");
    text.push_str(&summary_text(opinions));
    text
}

/// The first sentence of an answer: what it leads with.
fn lead(answer: &str) -> String {
    let end = answer.find(['.', '\n']).map_or(answer.len(), |i| i + 1);
    answer[..end.min(200)].trim().to_string()
}

/// Who answered under which stance, and what each leads with. The answers themselves are the
/// evidence; this only lines them up so agreement and difference are easy to see.
fn summary_text(opinions: &[Opinion]) -> String {
    let answered: Vec<&Opinion> = opinions.iter().filter(|o| o.answer.is_some()).collect();
    let mut text = format!("{} of {} models answered", answered.len(), opinions.len());
    let failed: Vec<&str> = (opinions.iter().filter(|o| o.answer.is_none()))
        .map(|o| o.model.as_str())
        .collect();
    if !failed.is_empty() {
        text.push_str(&format!(" ({} failed)", failed.join(", ")));
    }
    text.push_str(".\n");
    for stance in [Stance::For, Stance::Against, Stance::Neutral] {
        let models: Vec<&str> = (answered.iter().filter(|o| o.stance == stance))
            .map(|o| o.model.as_str())
            .collect();
        if !models.is_empty() {
            text.push_str(&format!("- {}: {}\n", stance.as_str(), models.join(", ")));
        }
    }
    let leads: Vec<String> = answered
        .iter()
        .map(|o| lead(o.answer.as_deref().unwrap_or("")))
        .collect();
    let same = leads.windows(2).all(|w| w[0] == w[1]);
    if same && !leads.is_empty() {
        text.push_str(&format!(
            "All answers lead with the same point: \"{}\"\n",
            leads[0]
        ));
    } else {
        text.push_str("They lead with different points:\n");
        for (o, l) in answered.iter().zip(&leads) {
            text.push_str(&format!("- {} ({}): \"{l}\"\n", o.model, o.stance.as_str()));
        }
    }
    text
}

/// The side-by-side's figures.
pub(crate) fn summary_json(opinions: &[Opinion]) -> Value {
    let answered = opinions.iter().filter(|o| o.answer.is_some()).count();
    json!({
        "asked": opinions.len(),
        "answered": answered,
        "failed": opinions.len() - answered,
        "slowest_ms": opinions.iter().map(|o| o.latency_ms).max(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opinion(model: &str, stance: Stance, answer: Option<&str>) -> Opinion {
        Opinion {
            model: model.into(),
            stance,
            latency_ms: 200,
            answer: answer.map(str::to_string),
            error: answer.is_none().then(|| "HTTP 500".to_string()),
        }
    }

    #[test]
    fn the_side_by_side_names_failures_stances_and_where_answers_differ() {
        let opinions = [
            opinion("a", Stance::For, Some("Yes, cache it. Reasons follow")),
            opinion("b", Stance::Against, Some("No: staleness bites.\nMore")),
            opinion("c", Stance::Neutral, None),
        ];
        let text = summary_text(&opinions);
        assert!(
            text.starts_with("2 of 3 models answered (c failed)."),
            "{text}"
        );
        assert!(text.contains("- for: a\n- against: b\n"), "{text}");
        assert!(text.contains("- a (for): \"Yes, cache it.\""), "{text}");
        assert!(
            text.contains("- b (against): \"No: staleness bites.\""),
            "{text}"
        );
        let same = [
            opinion("a", Stance::For, Some("Same point. x")),
            opinion("b", Stance::Neutral, Some("Same point. y")),
        ];
        assert!(summary_text(&same).contains("All answers lead with the same point"));
    }
}
