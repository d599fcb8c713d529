//! The `consensus` tool: one call asks several models at once (each under its provider's pool
//! and breaker, through `ToolContext::call_provider`), each with a stance, and replies with
//! every answer (or its error) and latency, then a short side-by-side. One call, one thread.
use std::time::Instant;

use async_trait::async_trait;
use futures::future::join_all;
use rmcp::model::{JsonObject, ToolAnnotations};
use rmcp::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::conversation::{Conversation, check_text, turn, with_files};
use super::{Tool, ToolContext, ToolError, ToolReply, asks_a_model, parse_args, schema_of};
use crate::metrics::CallOutcome;
use crate::providers::{CompletionRequest, Message, Route};

const SYSTEM_PROMPT: &str = include_str!("prompts/consensus.txt");

/// Most models one call may ask: each holds a provider permit while it runs.
const MAX_MODELS: usize = 8;

/// How a model is asked to lean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Stance {
    /// Argue for the proposal, while naming real blockers.
    For,
    /// Argue against it, while granting what is genuinely good.
    Against,
    /// Weigh it evenly.
    #[default]
    Neutral,
}

impl Stance {
    fn as_str(self) -> &'static str {
        match self {
            Stance::For => "for",
            Stance::Against => "against",
            Stance::Neutral => "neutral",
        }
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
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ModelChoice {
    /// A model name from listmodels, or `provider/model`.
    pub model: String,
    /// `for`, `against` or `neutral` (default neutral).
    #[serde(default)]
    pub stance: Stance,
}

/// `consensus` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConsensusArgs {
    /// The proposal or question every model weighs.
    pub prompt: String,
    /// At least two models, each with an optional stance; the same model may appear twice
    /// with different stances.
    pub models: Vec<ModelChoice>,
    /// Absolute paths of files every model sees; each at most 1 MiB, embedded once.
    #[serde(default)]
    pub absolute_file_paths: Vec<String>,
    /// Thread id from an earlier zen reply, to weigh the proposal with that history.
    #[serde(default)]
    pub continuation_id: Option<String>,
}

/// One model's part of the reply.
#[derive(Debug, Serialize)]
struct Opinion {
    /// `provider/model`.
    model: String,
    /// How it was asked to lean.
    stance: Stance,
    /// How long its provider call took, waiting for the provider permit included.
    latency_ms: u64,
    /// Its answer, when it gave one.
    answer: Option<String>,
    /// Why it gave none.
    error: Option<String>,
}

/// The consensus tool.
pub(crate) struct Consensus;

#[async_trait]
impl Tool for Consensus {
    fn name(&self) -> &'static str {
        "consensus"
    }

    fn description(&self) -> &'static str {
        "Ask several models the same question at once, each with a stance (for, against, \
         neutral), and get every answer with its latency side by side, plus where they agree \
         and differ. All models run in parallel under their providers' limits; one failing \
         model does not fail the call. Replies carry a continuation_id usable with any tool."
    }

    fn input_schema(&self) -> JsonObject {
        schema_of::<ConsensusArgs>()
    }

    fn annotations(&self) -> ToolAnnotations {
        asks_a_model("Consensus of several models")
    }

    async fn call(
        &self,
        ctx: &ToolContext,
        arguments: Option<JsonObject>,
    ) -> Result<ToolReply, ToolError> {
        run(ctx, parse_args("consensus", arguments)?).await
    }
}

/// Check the arguments and resolve every model before anything is spent.
fn routes(ctx: &ToolContext, args: &ConsensusArgs) -> Result<Vec<Route>, ToolError> {
    check_text("consensus", "prompt", &args.prompt, &ctx.config.memory)?;
    if args.models.len() < 2 || args.models.len() > MAX_MODELS {
        return Err(ToolError::bad_field(
            "consensus",
            "models",
            format!(
                "{} entries; give 2 to {MAX_MODELS} (the same model may appear twice with \
                 different stances)",
                args.models.len()
            ),
        ));
    }
    let mut seen = Vec::new();
    for (i, choice) in args.models.iter().enumerate() {
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
    (args.models.iter().enumerate())
        .map(|(i, choice)| {
            ctx.registry
                .resolve(Some(&choice.model))
                .map_err(|e| ToolError::bad_field("consensus", &format!("models[{i}].model"), e))
        })
        .collect()
}

/// Run one consensus call.
pub(crate) async fn run(ctx: &ToolContext, args: ConsensusArgs) -> Result<ToolReply, ToolError> {
    let routes = routes(ctx, &args)?;
    let new_turns = 1 + routes.len() as u32;
    let mut conversation =
        Conversation::open(ctx, "consensus", args.continuation_id.as_deref(), new_turns).await?;
    let (files_text, notes) = conversation.embed(ctx, &args.absolute_file_paths).await;
    let history = conversation.take_history();
    let question = with_files(&args.prompt, &files_text);
    let asks = routes.iter().zip(&args.models).map(|(route, choice)| {
        let mut messages = vec![Message::new(
            "system",
            format!(
                "{}\n\n{}",
                SYSTEM_PROMPT.trim_end(),
                choice.stance.instruction()
            ),
        )];
        messages.extend(history.iter().cloned());
        messages.push(Message::new("user", question.clone()));
        ask(ctx, route, choice.stance, messages)
    });
    let opinions = join_all(asks).await;
    drop(history);
    if opinions.iter().all(|o| o.answer.is_none()) {
        return Err(ToolError::new(
            CallOutcome::ProviderError,
            format!("every model failed:\n{}", error_lines(&opinions)),
        ));
    }
    let body = render(&opinions);
    let mut asked = turn("user", "consensus", args.prompt, None);
    asked.files = args.absolute_file_paths;
    let mut turns = vec![asked];
    turns.extend(opinions.iter().map(|o| {
        let content = match (&o.answer, &o.error) {
            (Some(answer), _) => format!("[{} stance] {answer}", o.stance.as_str()),
            (None, error) => format!(
                "[{} stance] failed: {}",
                o.stance.as_str(),
                error.as_deref().unwrap_or("")
            ),
        };
        turn("assistant", "consensus", content, Some(o.model.clone()))
    }));
    let recorded = conversation.record(ctx, turns, &body).await?;
    let mut structured = recorded.fields(&notes);
    structured["opinions"] = json!(opinions);
    structured["summary"] = summary_json(&opinions);
    Ok(ToolReply {
        text: format!("{body}{}", recorded.footer(&notes)),
        structured: Some(structured),
    })
}

/// Ask one model; its failure becomes part of the reply, not the call's.
async fn ask(ctx: &ToolContext, route: &Route, stance: Stance, messages: Vec<Message>) -> Opinion {
    let started = Instant::now();
    let request = CompletionRequest {
        thinking: None,
        model: route.model.clone(),
        messages,
        temperature: None,
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

fn error_lines(opinions: &[Opinion]) -> String {
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
fn render(opinions: &[Opinion]) -> String {
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

fn summary_json(opinions: &[Opinion]) -> Value {
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
