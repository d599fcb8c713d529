//! `codereview`: a systematic review, gathered step by step, checked by a model at the end.
use super::Spec;
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
    fields: &[
        Field {
            name: "relevant_files",
            kind: Kind::Paths,
            description: "Absolute paths of the files under review; embedded on the final step.",
        },
        Field {
            name: "issues_found",
            kind: Kind::Issues,
            description: "Issues so far, each {severity: critical|high|medium|low, description}.",
        },
        Field {
            name: "confidence",
            kind: Kind::Confidence,
            description: "How sure you are of the review; `certain` asks the model now.",
        },
        Field {
            name: "review_type",
            kind: Kind::Text,
            description: "full, security, performance or quick.",
        },
        Field {
            name: "focus_on",
            kind: Kind::Text,
            description: "Anything to look at especially.",
        },
    ],
};
