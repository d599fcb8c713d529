//! `testgen`: work out which tests code needs (paths, edge cases, failure modes), step by step,
//! with a model writing them at the end.
use super::Spec;
use super::common::{ASK, INVESTIGATION, STEPS};

/// The testgen tool.
pub(crate) const SPEC: Spec = Spec {
    name: "testgen",
    title: "Generate tests, step by step",
    description: "Plan tests in steps: read the code under test, its paths, boundaries and \
                  failure modes, and the project's existing tests and framework, recording \
                  what needs covering without a model call; the final step has a model write \
                  the tests in the project's own style.",
    prompt: include_str!("../prompts/testgen.txt"),
    between_steps: "read the next part of the code under test: its branches, boundaries, error \
                    paths and dependencies, and how the project's existing tests are written.",
    status_word: "test_analysis",
    fields: &[STEPS, ASK, INVESTIGATION],
};
