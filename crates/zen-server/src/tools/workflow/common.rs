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
    "false on the final step, which asks the model with everything gathered.",
);
pub(crate) const FINDINGS: Field = Field::required(
    "findings",
    Kind::Text,
    "What you found in this step: facts, evidence, open questions.",
);
pub(crate) const CONTINUATION_ID: Field = Field::optional(
    "continuation_id",
    Kind::Text,
    "Thread id from step 1's reply (required from step 2 on), or any zen reply's.",
);
pub(crate) const USE_ASSISTANT_MODEL: Field = Field::optional(
    "use_assistant_model",
    Kind::Bool,
    "false: the final step sums up the steps without a model call.",
);
pub(crate) const MODEL: Field = Field::optional(
    "model",
    Kind::Text,
    "Model for the final step (listmodels; default DEFAULT_MODEL).",
);
pub(crate) const TEMPERATURE: Field = Field::optional(
    "temperature",
    Kind::Number { min: 0.0, max: 1.0 },
    "Temperature of the final model call, 0 to 1.",
);
pub(crate) const THINKING_MODE: Field = Field::optional(
    "thinking_mode",
    Kind::Enum(&ThinkingMode::NAMES),
    "Reasoning depth of the final model call, where the model has a reasoning setting.",
);
pub(crate) const IMAGES: Field = Field::optional(
    "images",
    Kind::Images,
    "Image paths or data URLs, sent to the model on the final step.",
);
pub(crate) const RELEVANT_FILES: Field = Field::optional(
    "relevant_files",
    Kind::Paths,
    "Absolute paths of the files that matter (embedded on the final step).",
);
pub(crate) const RELEVANT_CONTEXT: Field = Field::optional(
    "relevant_context",
    Kind::TextList,
    "Functions or symbols central to the work.",
);
pub(crate) const FILES_CHECKED: Field = Field::optional(
    "files_checked",
    Kind::TextList,
    "Every file examined (recorded, not embedded).",
);
pub(crate) const ISSUES_FOUND: Field = Field::optional(
    "issues_found",
    Kind::Objects,
    "Issues so far, each {severity: critical|high|medium|low, description}.",
);
pub(crate) const HYPOTHESIS: Field = Field::optional(
    "hypothesis",
    Kind::Text,
    "Your current theory or best answer.",
);
pub(crate) const CONFIDENCE_FIELD: Field = Field::optional(
    "confidence",
    Kind::Enum(&CONFIDENCE),
    "How sure you are; certain asks the model now.",
);
pub(crate) const SEVERITY: Field = Field::optional(
    "severity_filter",
    Kind::Enum(&SEVERITY_FILTER),
    "Lowest severity to report (default all).",
);
pub(crate) const FOCUS_AREAS: Field = Field::optional(
    "focus_areas",
    Kind::TextList,
    "Aspects to weigh especially.",
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
