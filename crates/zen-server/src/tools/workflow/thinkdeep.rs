//! `thinkdeep`: extended reasoning on a hard problem, gathered step by step.
use super::Spec;
use super::common::{ASK, FOCUS_AREAS, INVESTIGATION, STEPS};
use super::fields::{Field, Kind};

/// The thinkdeep tool.
pub(crate) const SPEC: Spec = Spec {
    name: "thinkdeep",
    title: "Think deeper, step by step",
    description: "Work through a hard problem in steps (architecture choices, tricky bugs, \
                  performance, trade-offs): record what you examine and conclude in each step \
                  without a model call; the final step (next_step_required false, or \
                  confidence certain) asks a model to challenge and extend your reasoning \
                  with everything gathered and the relevant files.",
    prompt: include_str!("../prompts/thinkdeep.txt"),
    between_steps: "examine the code or facts the problem turns on, test your current \
                    hypothesis against them, and note what would prove it wrong.",
    status_word: "thinkdeep",
    fields: &[STEPS, ASK, INVESTIGATION, OWN],
};

const OWN: &[Field] = &[
    FOCUS_AREAS,
    Field::optional(
        "problem_context",
        Kind::Text,
        "Background the model needs: constraints, what was tried.",
    ),
];
