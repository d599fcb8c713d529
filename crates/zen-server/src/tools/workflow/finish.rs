//! The final step of a workflow: ask the model with everything gathered (history, files,
//! images, temperature, thinking mode), or, when the caller wants no model call, sum up the
//! steps recorded.
use serde_json::json;

use super::input::StepInput;
use super::{Spec, step_fields};
use crate::conversations::Turn;
use crate::providers::Route;
use crate::tools::conversation::{
    Conversation, Question, model_metadata, thinking_note, turn, with_files,
};
use crate::tools::images::{self, is_image_path};
use crate::tools::{ToolContext, ToolError, ToolReply};

/// The final step of one workflow call.
pub(super) struct Final<'a> {
    /// The tool.
    pub spec: &'a Spec,
    /// Its arguments.
    pub input: &'a StepInput,
    /// This step's user turn (record, files and image paths).
    pub asked: Turn,
    /// This step as recorded.
    pub record: String,
}

impl Final<'_> {
    /// Ask the model with everything gathered, and reply with its analysis.
    pub(super) async fn with_model(
        self,
        ctx: &ToolContext,
        mut conversation: Conversation,
        route: Route,
        mut image_urls: Vec<String>,
    ) -> Result<ToolReply, ToolError> {
        let Final {
            spec,
            input,
            asked,
            record,
        } = self;
        let mut notes = Vec::new();
        let earlier = earlier_images(spec, conversation.turns(), &asked.files, image_urls.len());
        if !earlier.is_empty() {
            match images::load(ctx, spec.name, &earlier, &route).await {
                Ok(urls) => image_urls.extend(urls),
                Err(e) => notes.push(format!(
                    "images of earlier steps were not sent: {}",
                    e.message
                )),
            }
        }
        let (files_text, file_notes) = conversation
            .embed(ctx, &input.all_of(spec, super::Kind::Paths))
            .await;
        notes.extend(file_notes);
        notes.extend(thinking_note(&route, input.thinking_mode));
        let closing = format!(
            "{record}\nThis is the final step. Give your expert analysis of everything gathered \
             in this {} so far.",
            spec.name
        );
        let question = Question {
            system: spec.prompt,
            text: with_files(&closing, &files_text),
            images: image_urls,
            temperature: input.temperature,
            thinking_mode: input.thinking_mode,
        };
        let answer = conversation.ask(ctx, &route, spec.name, question).await?;
        let recorded = (conversation)
            .record(ctx, vec![asked, answer.turn], &answer.text)
            .await?;
        let (model, analysis) = (answer.model, answer.text);
        let body = format!(
            "{} analysis by {model} (step {} of {}):\n\n{}",
            spec.name, input.step_number, input.total_steps, analysis
        );
        let mut extra = recorded.fields(&notes);
        step_fields(input, &mut extra);
        extra["expert_analysis"] = json!({"status": "analysis_complete", "raw_analysis": analysis});
        extra["model"] = json!(model);
        extra["metadata"] = model_metadata(spec.name, &route);
        extra["next_steps"] = json!(format!(
            "The {} is complete. Weigh the model's analysis against your own findings, then \
             present the result to the user.",
            spec.name
        ));
        let text = format!("{body}{}", recorded.footer(&notes));
        // zen-mcp-server's status once its expert analysis has answered.
        Ok(ToolReply::shaped(
            "calling_expert_analysis",
            &body,
            text,
            extra,
        ))
    }

    /// Finish without a model call: the reply sums up every step of this tool in the thread.
    pub(super) async fn without_model(
        self,
        ctx: &ToolContext,
        conversation: Conversation,
        reason: &str,
    ) -> Result<ToolReply, ToolError> {
        let (spec, input) = (self.spec, self.input);
        let mut steps: Vec<&str> = (conversation.turns().iter())
            .filter(|t| t.role == "user" && t.tool == spec.name)
            .map(|t| t.content.as_str())
            .collect();
        steps.push(&self.record);
        let body = format!(
            "{} complete without a model call ({reason}): {} steps recorded.\n\n{}",
            spec.name,
            steps.len(),
            steps.join("\n")
        );
        let ack = format!("{} completed without a model call ({reason}).", spec.name);
        let answered = turn("assistant", spec.name, ack, None);
        let recorded = conversation
            .record(ctx, vec![self.asked, answered], &body)
            .await?;
        let mut extra = recorded.fields(&[]);
        step_fields(input, &mut extra);
        extra["next_steps"] = json!(format!(
            "The {} is complete without an expert model ({reason}). Present your findings and \
             recommendations to the user from the steps above.",
            spec.name
        ));
        let text = format!("{body}{}", recorded.footer(&[]));
        Ok(ToolReply::shaped("local_work_complete", &body, text, extra))
    }
}

/// Image paths recorded by earlier steps of this tool, each once, not among the `now` files;
/// as many as fit beside the `sending` images of this step.
fn earlier_images(spec: &Spec, turns: &[Turn], now: &[String], sending: usize) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    let files = (turns.iter())
        .filter(|t| t.role == "user" && t.tool == spec.name)
        .flat_map(|t| &t.files);
    for path in files.filter(|f| is_image_path(f)) {
        if !now.contains(path) && !paths.contains(path) {
            paths.push(path.clone());
        }
    }
    paths.truncate(images::MAX_IMAGES.saturating_sub(sending));
    paths
}
