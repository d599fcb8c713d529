//! `codereview`: a systematic review, gathered step by step, checked by a model at the end.
use super::Spec;
use super::common::{ASK, INVESTIGATION, SEVERITY, STEPS, VALIDATION};
use super::fields::{Field, Kind};

/// The codereview tool.
pub(crate) const SPEC: Spec = Spec {
    name: "codereview",
    title: "Code review, step by step",
    description: "Review code in steps: in each, read part of the code and record what you \
                  found (issues with severity, files, confidence) without a model call; the \
                  final step (next_step_required false, or confidence certain) sends \
                  everything gathered and the files to a model for an expert second review.",
    prompt: include_str!("../prompts/codereview.txt"),
    between_steps: "read the next part of the code: check correctness, error handling, \
                    security, performance and readability, and record each issue with its \
                    severity.",
    status_word: "code_review",
    fields: &[STEPS, ASK, INVESTIGATION, OWN],
};

const OWN: &[Field] = &[
    Field::optional(
        "review_type",
        Kind::Enum(&["full", "security", "performance", "quick"]),
        "What kind of review (default full).",
    ),
    Field::optional(
        "review_validation_type",
        Kind::Enum(&VALIDATION),
        "external (default) has a model review at the end; internal finishes without one.",
    ),
    Field::optional("focus_on", Kind::Text, "Anything to look at especially."),
    Field::optional(
        "standards",
        Kind::Text,
        "Coding standards the code must follow.",
    ),
    SEVERITY,
];
