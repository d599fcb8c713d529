//! `planner`: build a plan one step at a time, then have a model critique it.
use super::Spec;
use super::fields::{Field, Kind};

/// The planner tool.
pub(crate) const SPEC: Spec = Spec {
    name: "planner",
    title: "Plan step by step",
    description: "Build a plan incrementally: each call adds one planning step (revise an \
                  earlier one or branch off to explore an alternative) and is recorded without \
                  a model call; the final step (next_step_required false) asks a model to \
                  review the whole plan for gaps, order and risk.",
    prompt: include_str!("../prompts/planner.txt"),
    between_steps: "write the next planning step: what happens, in what order, and what it \
                    depends on; revise or branch where an earlier step no longer holds.",
    fields: &[
        Field {
            name: "is_step_revision",
            kind: Kind::Bool,
            description: "true if this step replaces an earlier one (say which in `step`).",
        },
        Field {
            name: "branch_id",
            kind: Kind::Text,
            description: "Name of an alternative line of the plan this step belongs to.",
        },
    ],
};
