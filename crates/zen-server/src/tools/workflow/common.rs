//! The fields the workflow tools share, named and typed as zen-mcp-server names them. A tool's
//! table (its `Spec.fields`) lists the groups and single fields it takes, then its own.
use super::fields::{Field, Kind};
use crate::providers::ThinkingMode;

/// How sure the caller is, in rising order; the top (`certain`) asks the model at once.
pub(crate) const CONFIDENCE: [&str; 7] = [
    "exploring",
    "low",
    "medium",
    "high",
    "very_high",
    "almost_certain",
    "certain",
];

/// Severities, for `severity_filter` (plus `all`).
pub(crate) const SEVERITY_FILTER: [&str; 5] = ["critical", "high", "medium", "low", "all"];

/// `external` asks a model at the end; `internal` finishes without one.
pub(crate) const VALIDATION: [&str; 2] = ["external", "internal"];

pub(crate) const STEP: Field = Field::required(
    "step",
    Kind::Text,
    "What you are doing or concluding in this step.",
);
pub(crate) const STEP_NUMBER: Field = Field::required(
    "step_number",
    Kind::Integer { min: 1 },
    "This step's number, from 1.",
);
pub(crate) const TOTAL_STEPS: Field = Field::required(
    "total_steps",
    Kind::Integer { min: 1 },
    "How many steps you expect in all (may grow as you learn more).",
);
pub(crate) const NEXT_STEP_REQUIRED: Field = Field::required(
    "next_step_required",
    Kind::Bool,
    "true if another step follows; false on the final step, which asks the model with \
     everything gathered (unless use_assistant_model is false).",
);
pub(crate) const FINDINGS: Field = Field::required(
    "findings",
    Kind::Text,
    "What you found in this step: facts, evidence, open questions.",
);
pub(crate) const CONTINUATION_ID: Field = Field::optional(
    "continuation_id",
    Kind::Text,
    "Thread id from step 1's reply (required from step 2 on), or from any earlier zen reply to \
     start with that history.",
);
pub(crate) const USE_ASSISTANT_MODEL: Field = Field::optional(
    "use_assistant_model",
    Kind::Bool,
    "false finishes on the final step without a model call: the reply sums up the steps \
     recorded (default true).",
);
pub(crate) const MODEL: Field = Field::optional(
    "model",
    Kind::Text,
    "Model for the final step: a name from listmodels, `provider/model`, or `auto` (default: \
     DEFAULT_MODEL).",
);
pub(crate) const TEMPERATURE: Field = Field::optional(
    "temperature",
    Kind::Number { min: 0.0, max: 1.0 },
    "Sampling temperature of the final model call, 0 (focused) to 1 (creative).",
);
pub(crate) const THINKING_MODE: Field = Field::optional(
    "thinking_mode",
    Kind::Enum(&ThinkingMode::NAMES),
    "Reasoning depth of the final model call, sent as the provider's reasoning setting where \
     it has one (OpenAI reasoning models, Gemini 2.5+, OpenRouter); ignored elsewhere.",
);
pub(crate) const IMAGES: Field = Field::optional(
    "images",
    Kind::Images,
    "Absolute image paths (png, jpeg, gif, webp) or data URLs, sent to the model on the final \
     step as image parts; refused for models that take no images.",
);
pub(crate) const RELEVANT_FILES: Field = Field::optional(
    "relevant_files",
    Kind::Paths,
    "Absolute paths of the files that matter; embedded on the final step.",
);
pub(crate) const RELEVANT_CONTEXT: Field = Field::optional(
    "relevant_context",
    Kind::TextList,
    "Functions, methods or symbols central to the work (e.g. `Cache.evict`).",
);
pub(crate) const FILES_CHECKED: Field = Field::optional(
    "files_checked",
    Kind::TextList,
    "Every file you examined, relevant or not (recorded, not embedded).",
);
pub(crate) const ISSUES_FOUND: Field = Field::optional(
    "issues_found",
    Kind::Objects,
    "Issues so far, each an object such as {\"severity\": \"critical|high|medium|low\", \
     \"description\": \"...\"}.",
);
pub(crate) const HYPOTHESIS: Field = Field::optional(
    "hypothesis",
    Kind::Text,
    "Your current theory or best answer.",
);
pub(crate) const CONFIDENCE_FIELD: Field = Field::optional(
    "confidence",
    Kind::Enum(&CONFIDENCE),
    "How sure you are; `certain` asks the model now, whatever next_step_required says.",
);
pub(crate) const SEVERITY: Field = Field::optional(
    "severity_filter",
    Kind::Enum(&SEVERITY_FILTER),
    "Lowest severity to report (default all).",
);
pub(crate) const FOCUS_AREAS: Field = Field::optional(
    "focus_areas",
    Kind::TextList,
    "Aspects to weigh especially, e.g. performance, security, maintainability.",
);

/// The step fields of every workflow tool but the planner (which has no findings).
pub(crate) const STEPS: &[Field] = &[
    STEP,
    STEP_NUMBER,
    TOTAL_STEPS,
    NEXT_STEP_REQUIRED,
    FINDINGS,
    CONTINUATION_ID,
    USE_ASSISTANT_MODEL,
];

/// How the final model call is made.
pub(crate) const ASK: &[Field] = &[MODEL, TEMPERATURE, THINKING_MODE, IMAGES];

/// What an investigation gathers.
pub(crate) const INVESTIGATION: &[Field] = &[
    RELEVANT_FILES,
    RELEVANT_CONTEXT,
    FILES_CHECKED,
    ISSUES_FOUND,
    HYPOTHESIS,
    CONFIDENCE_FIELD,
];
