//! `thinkdeep`: extended reasoning on a hard problem, gathered step by step.
use super::Spec;
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
    fields: &[
        Field {
            name: "relevant_files",
            kind: Kind::Paths,
            description: "Absolute paths of the files that matter; embedded on the final step.",
        },
        Field {
            name: "hypothesis",
            kind: Kind::Text,
            description: "Your current best explanation or answer.",
        },
        Field {
            name: "confidence",
            kind: Kind::Confidence,
            description: "How sure you are; `certain` asks the model now.",
        },
        Field {
            name: "focus_areas",
            kind: Kind::TextList,
            description: "Aspects to weigh, e.g. performance, security, maintainability.",
        },
        Field {
            name: "problem_context",
            kind: Kind::Text,
            description: "Background the model needs: constraints, what was tried.",
        },
    ],
};
