//! `analyze`: understand a codebase (architecture, performance, security, quality), gathered
//! step by step and deepened by a model at the end.
use super::Spec;
use super::common::{
    ASK, CONFIDENCE_FIELD, FILES_CHECKED, ISSUES_FOUND, RELEVANT_CONTEXT, RELEVANT_FILES, STEPS,
};
use super::fields::{Field, Kind};

/// The analyze tool.
pub(crate) const SPEC: Spec = Spec {
    name: "analyze",
    title: "Analyze code, step by step",
    description: "Analyze code in steps (architecture, performance, security, quality, \
                  patterns and tech debt): record what you read and conclude in each step \
                  without a model call; the final step has a model deepen the analysis with \
                  everything gathered and the relevant files.",
    prompt: include_str!("../prompts/analyze.txt"),
    between_steps: "read the next part of the code (structure, dependencies, hot paths, \
                    patterns), and record what it tells you and any concern with its severity.",
    status_word: "analysis",
    fields: &[
        STEPS,
        ASK,
        &[
            RELEVANT_FILES,
            RELEVANT_CONTEXT,
            FILES_CHECKED,
            ISSUES_FOUND,
            CONFIDENCE_FIELD,
        ],
        OWN,
    ],
};

const OWN: &[Field] = &[
    Field::optional(
        "analysis_type",
        Kind::Enum(&[
            "architecture",
            "performance",
            "security",
            "quality",
            "general",
        ]),
        "What the analysis is about (default general).",
    ),
    Field::optional(
        "output_format",
        Kind::Enum(&["summary", "detailed", "actionable"]),
        "How the result should read (default detailed).",
    ),
];
