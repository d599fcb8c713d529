//! zen-mcp-server's step shape of consensus. Its server asked one model per step, one after
//! the other; zen asks them all at step 1, at once, keeps the answers in the thread, and hands
//! the n-th back at step n, so a step client gets every answer after one model's wait.
use serde_json::{Map, Value, json};

use super::ask::{self, ModelChoice, Opinion};
use super::{Consult, consult, strings, text};
use crate::conversations::Turn;
use crate::tools::conversation::{Conversation, turn};
use crate::tools::{ToolContext, ToolError, ToolReply};

/// How step 1's question turn begins, so later steps find the answers after it.
const STEP_ONE: &str = "[consensus step 1 of ";

/// The step fields zen-mcp-server requires in this shape.
const REQUIRED: [&str; 5] = [
    "step",
    "step_number",
    "total_steps",
    "next_step_required",
    "findings",
];

/// One step of the step shape.
pub(super) async fn run(
    ctx: &ToolContext,
    args: &Map<String, Value>,
    models: Vec<ModelChoice>,
) -> Result<ToolReply, ToolError> {
    if let Some(missing) = REQUIRED.iter().find(|f| !args.contains_key(**f)) {
        return Err(ToolError::bad_field(
            "consensus",
            missing,
            "missing field: the step shape takes step, step_number, total_steps, \
             next_step_required and findings",
        ));
    }
    let number = args.get("step_number").and_then(Value::as_u64).unwrap_or(1);
    if number == 1 {
        return first(ctx, args, &models).await;
    }
    let Some(thread) = text(args, "continuation_id").filter(|c| !c.trim().is_empty()) else {
        return Err(ToolError::bad_field(
            "consensus",
            "continuation_id",
            format!(
                "required from step 2 on: pass the continuation_id of step 1's reply to read answer {number}"
            ),
        ));
    };
    later(ctx, args, number, thread).await
}

/// Step 1: every model asked at once; the first answer now, the rest at the next steps (or all
/// of them now when the caller says no step follows).
async fn first(
    ctx: &ToolContext,
    args: &Map<String, Value>,
    models: &[ModelChoice],
) -> Result<ToolReply, ToolError> {
    let step = text(args, "step").unwrap_or_default();
    let findings = text(args, "findings").unwrap_or_default();
    let done = consult(
        ctx,
        Consult {
            question: step,
            record: format!(
                "{STEP_ONE}{}: the proposal every model was asked]\n{step}\n\nfindings (the \
                 caller's own analysis, not sent to the models): {findings}",
                models.len()
            ),
            models,
            files: strings(args, "relevant_files"),
            images: strings(args, "images"),
            continuation_id: text(args, "continuation_id"),
        },
    )
    .await?;
    let all = &done.opinions;
    let wants_more = args.get("next_step_required") == Some(&Value::Bool(true)) && all.len() > 1;
    let slowest = all.iter().map(|o| o.latency_ms).max().unwrap_or(0);
    let (status, body) = if wants_more {
        let body = format!(
            "Consensus step 1 of {n}: all {n} models were asked at once (the slowest took \
             {slowest} ms).\n\n{}\n\nNext: call consensus with step_number 2, your notes on \
             this answer as findings, and the continuation_id below, to read {}'s answer \
             (already in hand: no wait).",
            answer_text(&all[0]),
            all[1].model,
            n = all.len()
        );
        ("analysis_and_first_model_consulted", body)
    } else {
        let body = format!(
            "{}\n\nAll {} answers are above. Synthesize them: where the models agree, where and \
             why they differ, your recommendation, its next steps and risks.",
            ask::render(all),
            all.len()
        );
        ("consensus_workflow_complete", body)
    };
    let mut extra = done.recorded.fields(&done.notes);
    extra["step_number"] = json!(1);
    extra["total_steps"] = json!(all.len());
    extra["next_step_required"] = json!(wants_more);
    extra["current_model_index"] = json!(1);
    extra["agent_analysis"] = json!({"initial_analysis": step, "findings": findings});
    consulted_fields(&mut extra, &all[0]);
    extra["model_responses"] = all.iter().map(Opinion::python_response).collect();
    extra["opinions"] = json!(all);
    extra["summary"] = ask::summary_json(all);
    let text = format!("{body}{}", done.recorded.footer(&done.notes));
    Ok(ToolReply::shaped(status, &body, text, extra))
}

/// Step n: the n-th answer, from the thread; past the last, the call to synthesize.
async fn later(
    ctx: &ToolContext,
    args: &Map<String, Value>,
    number: u64,
    thread: &str,
) -> Result<ToolReply, ToolError> {
    let conversation = Conversation::open(ctx, "consensus", Some(thread), 2).await?;
    let answers = find_answers(conversation.turns()).ok_or_else(|| {
        ToolError::bad_field(
            "consensus",
            "continuation_id",
            format!(
                "thread {thread} holds no consensus step 1 (or its answers were dropped to keep \
                 it under ZEN_THREAD_MAX_BYTES): start at step_number 1 with models"
            ),
        )
    })?;
    let n = answers.len();
    let index = usize::try_from(number).unwrap_or(usize::MAX);
    let (status, body, ack) = handed_back(&answers, index);
    let step = text(args, "step").unwrap_or_default();
    let findings = text(args, "findings").unwrap_or_default();
    let record = format!("[consensus step {index} of {n}]\nstep: {step}\nfindings: {findings}\n");
    let turns = vec![
        turn("user", "consensus", record, None),
        turn("assistant", "consensus", ack, None),
    ];
    let recorded = conversation.record(ctx, turns, &body).await?;
    let mut extra = recorded.fields(&[]);
    extra["step_number"] = json!(index);
    extra["total_steps"] = json!(n);
    extra["next_step_required"] = json!(index < n);
    extra["current_model_index"] = json!(index.min(n));
    if let Some(o) = answers.get(index - 1) {
        consulted_fields(&mut extra, o);
    }
    let text = format!("{body}{}", recorded.footer(&[]));
    Ok(ToolReply::shaped(status, &body, text, extra))
}

/// Step `index`'s status, reply and thread note: the index-th answer, or past the last, the
/// call to synthesize.
fn handed_back(answers: &[Opinion], index: usize) -> (&'static str, String, String) {
    let n = answers.len();
    let Some(o) = answers.get(index - 1) else {
        let body = format!(
            "All {n} answers were returned at steps 1 to {n}; there is nothing more to read. \
             Synthesize them: where the models agree, where and why they differ, your \
             recommendation, its next steps and risks."
        );
        let ack = format!("[consensus step {index}] nothing left to read.");
        return ("consensus_workflow_complete", body, ack);
    };
    let last = index == n;
    let next = if last {
        "That was the last answer. Synthesize them all: where the models agree, where and why \
         they differ, your recommendation, its next steps and risks."
            .to_string()
    } else {
        format!(
            "Next: call consensus with step_number {} and the continuation_id below to read \
             {}'s answer.",
            index + 1,
            answers[index].model
        )
    };
    let status = if last {
        "consensus_workflow_complete"
    } else {
        "model_consulted"
    };
    let body = format!(
        "Consensus step {index} of {n} (asked at step 1, with the others):\n\n{}\n\n{next}",
        answer_text(o)
    );
    let ack = format!(
        "[consensus step {index}] returned the {} answer of {} (given at step 1).",
        o.stance.as_str(),
        o.model
    );
    (status, body, ack)
}

/// zen-mcp-server's fields for the answer a step hands back.
fn consulted_fields(extra: &mut Value, o: &Opinion) {
    extra["model_consulted"] = json!(o.model);
    extra["model_stance"] = json!(o.stance);
    extra["model_response"] = o.python_response();
}

/// One answer under its model and stance.
fn answer_text(o: &Opinion) -> String {
    match (&o.answer, &o.error) {
        (Some(answer), _) => format!("{} ({}) answered:\n\n{answer}", o.model, o.stance.as_str()),
        (None, error) => format!(
            "{} ({}) FAILED: {}",
            o.model,
            o.stance.as_str(),
            error.as_deref().unwrap_or("")
        ),
    }
}

/// The answers of the thread's latest consensus step 1, in the order the models were named.
fn find_answers(turns: &[Turn]) -> Option<Vec<Opinion>> {
    let start = turns.iter().rposition(|t| {
        t.role == "user" && t.tool == "consensus" && t.content.starts_with(STEP_ONE)
    })?;
    let answers: Vec<Opinion> = turns[start + 1..]
        .iter()
        .map_while(ask::read_answer)
        .collect();
    (!answers.is_empty()).then_some(answers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::consensus::ask::Stance;

    #[test]
    fn the_answers_of_the_latest_step_one_are_read_back_in_order() {
        let opinions = [
            ("simulated/a", Stance::For, Some("yes")),
            ("simulated/b", Stance::Against, None),
        ]
        .map(|(model, stance, answer)| Opinion {
            model: model.into(),
            stance,
            latency_ms: 5,
            answer: answer.map(str::to_string),
            error: answer.is_none().then(|| "HTTP 500".to_string()),
        });
        let mut turns = vec![turn("user", "chat", "hi".into(), None)];
        turns.push(turn(
            "user",
            "consensus",
            format!("{STEP_ONE}2: ...]\nold"),
            None,
        ));
        turns.extend(ask::answer_turns(&opinions[..1]));
        turns.push(turn(
            "user",
            "consensus",
            format!("{STEP_ONE}2: ...]\nnew"),
            None,
        ));
        turns.extend(ask::answer_turns(&opinions));
        turns.push(turn(
            "user",
            "consensus",
            "[consensus step 2 of 2]".into(),
            None,
        ));
        let found = find_answers(&turns).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].model.as_str(), found[0].stance),
            ("simulated/a", Stance::For)
        );
        assert_eq!(found[0].answer.as_deref(), Some("yes"));
        assert_eq!(found[1].error.as_deref(), Some("HTTP 500"));
        assert!(find_answers(&turns[..1]).is_none());
    }
}
