//! `precommit`: check pending changes before they are committed.
use super::Spec;
use super::fields::{Field, Kind};

/// The precommit tool.
pub(crate) const SPEC: Spec = Spec {
    name: "precommit",
    title: "Pre-commit check, step by step",
    description: "Check pending changes before a commit, in steps: look at the diff, the \
                  files it touches and what depends on them, recording findings without a \
                  model call; the final step (next_step_required false, or confidence \
                  certain) has a model check the change for bugs, regressions and missing tests.",
    prompt: include_str!("../prompts/precommit.txt"),
    between_steps: "inspect the next part of the change (git diff, the changed files and their \
                    callers), and note anything incomplete, risky or untested.",
    fields: &[
        Field {
            name: "path",
            kind: Kind::Text,
            description: "Absolute path of the repository being checked.",
        },
        Field {
            name: "compare_to",
            kind: Kind::Text,
            description: "Branch, tag or commit to compare against (default: staged and \
                          unstaged changes).",
        },
        Field {
            name: "relevant_files",
            kind: Kind::Paths,
            description: "Absolute paths of the changed files; embedded on the final step.",
        },
        Field {
            name: "issues_found",
            kind: Kind::Issues,
            description: "Issues so far, each {severity: critical|high|medium|low, description}.",
        },
        Field {
            name: "confidence",
            kind: Kind::Confidence,
            description: "How sure you are the change is ready; `certain` asks the model now.",
        },
    ],
};
