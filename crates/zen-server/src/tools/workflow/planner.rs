//! `planner`: build a plan one step at a time, then have a model critique it.
use super::Spec;
use super::common::{
    CONTINUATION_ID, MODEL, NEXT_STEP_REQUIRED, STEP, STEP_NUMBER, TOTAL_STEPS, USE_ASSISTANT_MODEL,
};
use super::fields::{Field, Kind};

/// The planner tool.
pub(crate) const SPEC: Spec = Spec {
    name: "planner",
    title: "Plan step by step",
    description: "Build a plan incrementally: each call adds one planning step (revise an \
                  earlier one or branch off to explore an alternative) and is recorded without \
                  a model call; the final step (next_step_required false) asks a model to \
                  review the whole plan for gaps, order and risk (use_assistant_model false \
                  ends without one).",
    prompt: include_str!("../prompts/planner.txt"),
    between_steps: "write the next planning step: what happens, in what order, and what it \
                    depends on; revise or branch where an earlier step no longer holds.",
    status_word: "planning",
    fields: &[STEPS, OWN],
};

/// zen-mcp-server's planner has no findings (each step is the plan itself); zen's earlier
/// planner required them, so they stay welcome, optional.
const STEPS: &[Field] = &[
    STEP,
    STEP_NUMBER,
    TOTAL_STEPS,
    NEXT_STEP_REQUIRED,
    Field::optional(
        "findings",
        Kind::Text,
        "What this step found or assumes (optional).",
    ),
    CONTINUATION_ID,
    USE_ASSISTANT_MODEL,
    MODEL,
];

const OWN: &[Field] = &[
    Field::optional(
        "is_step_revision",
        Kind::Bool,
        "true if this step replaces an earlier one (see revises_step_number).",
    ),
    Field::optional(
        "revises_step_number",
        Kind::Integer { min: 1 },
        "The step this one revises.",
    ),
    Field::optional(
        "is_branch_point",
        Kind::Bool,
        "true if this step starts an alternative line of the plan.",
    ),
    Field::optional(
        "branch_from_step",
        Kind::Integer { min: 1 },
        "The step the alternative branches from.",
    ),
    Field::optional(
        "branch_id",
        Kind::Text,
        "Name of the alternative line of the plan this step belongs to.",
    ),
    Field::optional(
        "more_steps_needed",
        Kind::Bool,
        "true if the plan needs more steps than total_steps said.",
    ),
];
