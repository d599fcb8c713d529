//! MCP 2026-07-28 over HTTP, served by zen itself, without a session or rmcp's generic path
//! (`2026-07-28/basic/transports/streamable-http`): each POST is checked in the order the spec
//! and the conformance suite's `server-stateless` probes give (the Host and Origin; the `_meta`'s
//! required fields; `MCP-Protocol-Version` against the `_meta`; the revision; `Mcp-Method`,
//! `Mcp-Name`, `Mcp-Param-*`), then answered through the one request path
//! ([`crate::serve::answer`]). Statuses: 400 for a request-metadata error, 404 for an unknown or
//! removed method, 202 for a notification, 200 otherwise; a closed connection cancels its call.
use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rmcp::ErrorData;
use rmcp::model::RequestId;
use tokio_util::sync::CancellationToken;

use super::json::Accepts;
use super::replies::{call_reply, json, logged_reply};
use crate::client_log::{CallLog, SessionLog};
use crate::protocol::headers::{self, Guard};
use crate::protocol::logging::{self, Level};
use crate::protocol::{errors, meta};
use crate::serve::answer::{Answerer, Era, Message, error_reply, result_reply};

/// The 2026-07-28 path's state.
pub(super) struct Modern {
    /// The one request path.
    pub answerer: Arc<Answerer>,
    /// Which Host and Origin a request may come with.
    pub guard: Guard,
}

impl Modern {
    /// Answer one modern POST.
    pub(super) async fn serve(&self, headers: &HeaderMap, message: Message<'_>) -> Response {
        if let Some(why) = self.guard.refusal(headers) {
            tracing::warn!(why, "refused a request (Host or Origin)");
            let error = ErrorData::invalid_request(why, None);
            return json(StatusCode::FORBIDDEN, error_reply(None, error));
        }
        let Some(id) = message.id.clone() else {
            // No client notification means anything over HTTP at 2026-07-28.
            return StatusCode::ACCEPTED.into_response();
        };
        let (era, level) = match self.check(headers, &message) {
            Ok(checked) => checked,
            Err((error, about_meta)) => {
                let status = errors::modern_status(&error, about_meta);
                return refusal(status, id, error);
            }
        };
        match message.call {
            Some(params) => {
                // The request asked for log messages (`_meta` logLevel): they go on its stream.
                let log = level.map(|level| CallLog::new(SessionLog::with_level(level)));
                let (log, notes) = log.unzip();
                let ct = CancellationToken::new();
                let reply = self.answerer.call(era, id, params, (None, ct), log);
                match notes {
                    Some(notes) => logged_reply(reply, Accepts::of(headers), notes).await,
                    None => call_reply(reply, Accepts::of(headers)).await,
                }
            }
            None => match self.answerer.answer(era, &message) {
                Ok(result) => json(StatusCode::OK, result_reply(&id, &result)),
                Err(error) => refusal(errors::modern_status(&error, false), id, error),
            },
        }
    }

    /// The request's checks, in order; the era it is served in and the log level it asks for,
    /// or its error (and whether it is about the `_meta`, which makes a -32602 a 400).
    fn check(
        &self,
        headers: &HeaderMap,
        message: &Message<'_>,
    ) -> Result<(Era, Option<Level>), (ErrorData, bool)> {
        let version = meta::required_fields(message.meta()).map_err(|e| (e, true))?;
        headers::version_matches(headers, version).map_err(|e| (e, false))?;
        let version = meta::supported(version).map_err(|e| (e, false))?;
        let level = logging::meta_level(message.meta()).map_err(|e| (e, true))?;
        let name = message.name();
        headers::standard(headers, &message.method, name.as_deref()).map_err(|e| (e, false))?;
        if let Some(call) = &message.call {
            let annotated = self.answerer.annotated(&call.name);
            headers::params(headers, annotated, call.arguments.as_ref()).map_err(|e| (e, false))?;
        }
        Ok((Era(version), level))
    }
}

/// An error reply with its status.
fn refusal(status: u16, id: RequestId, error: ErrorData) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    json(status, error_reply(Some(id), error))
}
