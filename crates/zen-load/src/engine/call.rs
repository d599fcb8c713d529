//! One call: build its arguments (continuing a conversation when the mix says so), send it
//! (on a fresh session with `--churn`), classify the outcome and record it.
use rand::RngExt;
use rand::rngs::StdRng;
use rmcp::model::CallToolRequestParams;
use serde_json::Value;
use tokio::time::Instant;

use crate::engine::Shared;
use crate::engine::recorder::ErrorKind;
use crate::engine::threads::result_text;
use crate::plan::op::Op;
use crate::target::session::CallError;

impl Shared {
    /// Make one call of kind `kind` on session `session` and record it.
    pub(super) async fn call(
        &self,
        session: usize,
        kind: usize,
        rng: &mut StdRng,
        intended: Option<Instant>,
    ) {
        let peer = &self.peers[session];
        let spec = &self.plan.calls[kind];
        let mut args = spec.args.clone();
        let continued = if spec.continue_ratio > 0.0 && rng.random_bool(spec.continue_ratio) {
            self.threads[kind].take(rng)
        } else {
            None
        };
        if let Some((id, follow_ups)) = &continued {
            args.insert("continuation_id".into(), Value::String(id.clone()));
            if let Some(step) = spec.steps.get(*follow_ups as usize) {
                args.extend(step.clone());
            }
        }
        let request = async {
            let fresh = if self.plan.churn {
                let started = Instant::now();
                match peer.fresh().await {
                    Ok(fresh) => {
                        self.recorder.handshake(started.elapsed());
                        Some(fresh)
                    }
                    Err(e) => return (Err(e), None),
                }
            } else {
                None
            };
            let peer = fresh.as_ref().unwrap_or(peer);
            let result = match spec.op {
                Op::ToolsCall => {
                    let params = CallToolRequestParams::new(spec.tool.clone()).with_arguments(args);
                    peer.call_tool(params).await.map(Some)
                }
                op => {
                    let uri = match &spec.uris[..] {
                        [] => spec.uri.as_deref(),
                        uris => Some(uris[rng.random_range(0..uris.len())].as_str()),
                    };
                    let params = op.params(uri, spec.prompt.as_deref(), &spec.args);
                    peer.operate(op, &params).await.map(|()| None)
                }
            };
            (result, fresh)
        };
        self.recorder.call_started();
        let sent = Instant::now();
        let mut churned = None;
        let outcome = tokio::select! {
            outcome = tokio::time::timeout(self.plan.timeout, request) => {
                outcome.map(|(result, fresh)| {
                    churned = fresh;
                    result
                })
            }
            () = self.stop.cancelled() => {
                self.recorder.abort();
                return;
            }
        };
        let done = Instant::now();
        let failure = match outcome {
            Err(_) => Some((
                ErrorKind::Timeout,
                format!("no reply within {:?}", self.plan.timeout),
            )),
            Ok(Err(e @ CallError::JsonRpc { .. })) => Some((ErrorKind::JsonRpc, e.to_string())),
            Ok(Err(e @ CallError::InputRequired(_))) => {
                Some((ErrorKind::InputRequired, e.to_string()))
            }
            // The connection is gone for good (a stdio server exited): every later call would
            // fail at once, so the run stops here instead of counting millions of them.
            Ok(Err(e)) if peer.is_transport_closed() => {
                self.recorder
                    .target_lost(format!("the connection to the target closed ({e})"));
                self.recorder.abort();
                self.stop.cancel();
                return;
            }
            Ok(Err(e)) => Some((ErrorKind::Transport, e.to_string())),
            Ok(Ok(None)) => None,
            Ok(Ok(Some(reply))) if reply.is_error() => {
                Some((ErrorKind::Tool, result_text(&reply.into_result())))
            }
            Ok(Ok(Some(reply))) => {
                if spec.continue_ratio > 0.0 {
                    let id = continued.map(|(id, _)| id);
                    self.threads[kind].returned(&reply.into_result(), id, spec.max_chain);
                }
                None
            }
        };
        let us = (done - sent).as_micros() as u64;
        for spread in [&self.recorder.spread, &self.recorder.by_protocol]
            .into_iter()
            .flatten()
        {
            spread.record(session, failure.is_none(), us);
        }
        self.recorder.record(
            kind,
            failure,
            done - sent,
            intended.map(|i| done.duration_since(i)),
        );
        if let Some(fresh) = churned {
            fresh.close().await;
        }
    }
}
