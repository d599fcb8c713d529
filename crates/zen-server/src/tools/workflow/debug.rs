//! `debug`: root-cause investigation, gathered step by step.
use super::Spec;
use super::fields::{Field, Kind};

/// The debug tool.
pub(crate) const SPEC: Spec = Spec {
    name: "debug",
    title: "Debug, step by step",
    description: "Find the root cause of a bug in steps: record each step's evidence and your \
                  current hypothesis without a model call; the final step (next_step_required \
                  false, or confidence certain) has a model check the hypothesis against \
                  everything gathered and the relevant files, and propose a minimal fix.",
    prompt: include_str!("../prompts/debug.txt"),
    between_steps: "gather evidence for or against your hypothesis: read the code path, logs \
                    or a reproduction, and rule out alternatives.",
    fields: &[
        Field {
            name: "relevant_files",
            kind: Kind::Paths,
            description: "Absolute paths of the files on the failing path; embedded on the \
                          final step.",
        },
        Field {
            name: "files_checked",
            kind: Kind::TextList,
            description: "Files you examined, relevant or not (not embedded).",
        },
        Field {
            name: "hypothesis",
            kind: Kind::Text,
            description: "Your current theory of the root cause.",
        },
        Field {
            name: "confidence",
            kind: Kind::Confidence,
            description: "How sure you are of the hypothesis; `certain` asks the model now.",
        },
    ],
};
