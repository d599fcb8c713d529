//! `debug`: root-cause investigation, gathered step by step.
use super::Spec;
use super::common::{ASK, INVESTIGATION, STEPS};

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
    status_word: "investigation",
    fields: &[STEPS, ASK, INVESTIGATION],
};
