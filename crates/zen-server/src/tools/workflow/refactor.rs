//! `refactor`: find refactoring opportunities (code smells, decomposition, modernization,
//! organization) step by step, ranked by a model at the end.
use super::Spec;
use super::common::{
    ASK, FILES_CHECKED, FOCUS_AREAS, HYPOTHESIS, ISSUES_FOUND, RELEVANT_CONTEXT, RELEVANT_FILES,
    STEPS,
};
use super::fields::{Field, Kind};

/// The refactor tool.
pub(crate) const SPEC: Spec = Spec {
    name: "refactor",
    title: "Refactoring analysis, step by step",
    description: "Find refactoring opportunities in steps (code smells, decomposition of large \
                  files and functions, modernization, organization): record each with its \
                  place and severity without a model call; the final step (next_step_required \
                  false, or confidence complete) has a model rank them and sketch each change.",
    prompt: include_str!("../prompts/refactor.txt"),
    between_steps: "read the next part of the code for the refactoring kind asked, and record \
                    each opportunity with its file, lines, severity and the change it calls for.",
    status_word: "refactoring_analysis",
    fields: &[
        STEPS,
        ASK,
        &[
            RELEVANT_FILES,
            RELEVANT_CONTEXT,
            FILES_CHECKED,
            ISSUES_FOUND,
            HYPOTHESIS,
        ],
        OWN,
    ],
};

const OWN: &[Field] = &[
    Field::optional(
        "confidence",
        Kind::Enum(&["exploring", "incomplete", "partial", "complete"]),
        "How complete the search is; `complete` asks the model now.",
    ),
    Field::optional(
        "refactor_type",
        Kind::Enum(&["codesmells", "decompose", "modernize", "organization"]),
        "The kind of refactoring to look for (default codesmells).",
    ),
    FOCUS_AREAS,
    Field::optional(
        "style_guide_examples",
        Kind::Paths,
        "Absolute paths of files whose style the changes should follow; embedded on the final \
         step.",
    ),
];
