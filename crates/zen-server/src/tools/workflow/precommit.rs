//! `precommit`: check pending changes before they are committed.
use super::Spec;
use super::common::{
    ASK, CONTINUATION_ID, FINDINGS, INVESTIGATION, NEXT_STEP_REQUIRED, SEVERITY, STEP, STEP_NUMBER,
    USE_ASSISTANT_MODEL, VALIDATION,
};
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
    status_word: "validation",
    fields: &[STEPS, ASK, INVESTIGATION, OWN],
};

/// zen-mcp-server's schema asks for at least three steps here (diff, impact, final); zen takes
/// fewer too, as that server did.
const STEPS: &[Field] = &[
    STEP,
    STEP_NUMBER,
    Field::required(
        "total_steps",
        Kind::Advised { min: 1, advised: 3 },
        "How many steps you expect (at least 3: the diff, its impact, the final check).",
    ),
    NEXT_STEP_REQUIRED,
    FINDINGS,
    CONTINUATION_ID,
    USE_ASSISTANT_MODEL,
];

const OWN: &[Field] = &[
    Field::optional(
        "path",
        Kind::Text,
        "Absolute path of the repository being checked.",
    ),
    Field::optional(
        "compare_to",
        Kind::Text,
        "Branch, tag or commit to compare against (default: staged and unstaged changes).",
    ),
    Field::optional(
        "include_staged",
        Kind::Bool,
        "Check staged changes (default true).",
    ),
    Field::optional(
        "include_unstaged",
        Kind::Bool,
        "Check unstaged changes (default true).",
    ),
    Field::optional("focus_on", Kind::Text, "Anything to look at especially."),
    Field::optional(
        "precommit_type",
        Kind::Enum(&VALIDATION),
        "external (default) has a model check the change at the end; internal finishes \
         without one.",
    ),
    SEVERITY,
];
