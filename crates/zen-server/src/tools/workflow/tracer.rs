//! `tracer`: trace a function's execution flow (precision) or a component's dependencies,
//! step by step, with a model drawing the trace at the end.
use super::Spec;
use super::common::{
    CONFIDENCE_FIELD, FILES_CHECKED, IMAGES, MODEL, RELEVANT_CONTEXT, RELEVANT_FILES, STEPS,
};
use super::fields::{Field, Kind};

/// The tracer tool.
pub(crate) const SPEC: Spec = Spec {
    name: "tracer",
    title: "Trace code, step by step",
    description: "Trace code in steps: precision mode follows one function's execution (calls, \
                  branches, side effects), dependencies mode maps what a class or module uses \
                  and what uses it (ask: choose after step 1); each step is recorded without a \
                  model call, and the final step has a model lay out the whole trace.",
    prompt: include_str!("../prompts/tracer.txt"),
    between_steps: "follow the next link of the trace (a call, a branch, an import or a \
                    caller), recording file and line; in ask mode, choose precision or \
                    dependencies first and pass it as trace_mode.",
    status_word: "tracing",
    fields: &[
        STEPS,
        &[MODEL, IMAGES],
        &[
            RELEVANT_FILES,
            RELEVANT_CONTEXT,
            FILES_CHECKED,
            CONFIDENCE_FIELD,
        ],
        OWN,
    ],
};

const OWN: &[Field] = &[
    Field::required(
        "target_description",
        Kind::Text,
        "What to trace and why: the function, method, class or module, and the question.",
    ),
    Field::required(
        "trace_mode",
        Kind::Enum(&["precision", "dependencies", "ask"]),
        "precision: one function's execution flow; dependencies: what a component uses and \
         what uses it; ask: decide after the first step.",
    ),
];
