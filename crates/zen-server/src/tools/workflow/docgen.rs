//! `docgen`: document code file by file (purpose, parameters, complexity, call flow), step by
//! step, with a model drafting the documentation at the end.
use super::Spec;
use super::common::{ISSUES_FOUND, RELEVANT_CONTEXT, RELEVANT_FILES, STEPS};
use super::fields::{Field, Kind};

/// The docgen tool.
pub(crate) const SPEC: Spec = Spec {
    name: "docgen",
    title: "Generate documentation, step by step",
    description: "Document code in steps: step 1 lists the files to document, each further step \
                  documents one file (functions, parameters, Big-O complexity, call flow) and \
                  records bugs noticed on the way, without a model call; the final step has a \
                  model draft or check the documentation of the files gathered.",
    prompt: include_str!("../prompts/docgen.txt"),
    between_steps: "document the next file: every function and class, its parameters and \
                    return value, its complexity and what calls it; count it in \
                    num_files_documented.",
    status_word: "documentation_analysis",
    fields: &[
        STEPS,
        &[RELEVANT_FILES, RELEVANT_CONTEXT, ISSUES_FOUND],
        OWN,
    ],
};

const OWN: &[Field] = &[
    Field::optional(
        "document_complexity",
        Kind::Bool,
        "Document each function's time and space complexity (default true).",
    ),
    Field::optional(
        "document_flow",
        Kind::Bool,
        "Document call flow: what calls what, side effects (default true).",
    ),
    Field::optional(
        "update_existing",
        Kind::Bool,
        "Improve documentation that exists, not only add missing (default true).",
    ),
    Field::optional(
        "comments_on_complex_logic",
        Kind::Bool,
        "Add inline comments where the logic is not obvious (default true).",
    ),
    Field::optional(
        "num_files_documented",
        Kind::Integer { min: 0 },
        "Files fully documented so far.",
    ),
    Field::optional(
        "total_files_to_document",
        Kind::Integer { min: 0 },
        "Files to document in all (found in step 1).",
    ),
];
