//! A POST's reply, read the way the spec asks of a client: a `200` carries the response as one
//! `application/json` message or in a `text/event-stream` (skipping notifications, server
//! requests and empty priming events); a `4xx` carrying a JSON-RPC error (MCP 2026-07-28 answers
//! its protocol errors with 400 and 404) is that error; any other status is a transport error
//! with the start of its body. Every read is capped.
use rmcp::model::ErrorData;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::Value;

use super::pool::Reply as HttpReply;
use crate::target::outcome::CallError;
use zen_model::sse::SseEvents;

/// The largest reply read: a server streaming without end cannot grow our memory.
const MAX_REPLY_BYTES: usize = 64 << 20;
/// The most of an error reply's body read (servers say why there).
const MAX_ERROR_BYTES: usize = 64 << 10;

/// An incoming message that may be our response (a notification or a server request is not).
#[derive(Deserialize)]
struct Message<R> {
    /// The id it answers; none on notifications.
    id: Option<Value>,
    /// Present on notifications and server requests.
    method: Option<IgnoredAny>,
    /// A response's result.
    result: Option<R>,
    /// An error response's error.
    error: Option<ErrorData>,
}

/// Just enough of a message to tell whether it answers our request.
#[derive(Deserialize)]
struct Probe {
    /// The id it answers.
    id: Option<Value>,
    /// Present on notifications and server requests.
    method: Option<IgnoredAny>,
}

/// The response to request `id`: its result and the JSON-RPC message it came in.
pub(super) struct Answered<R> {
    /// The result.
    pub result: R,
    /// The whole JSON-RPC message.
    pub message: Vec<u8>,
}

/// Read `resp` as the reply to request `id` (of `method`, for messages).
pub(super) async fn answered<R: DeserializeOwned>(
    mut resp: HttpReply,
    id: u64,
    method: &str,
) -> Result<Answered<R>, CallError> {
    let status = resp.status;
    if !status.is_success() {
        return Err(status_error(resp, id).await);
    }
    let kind = resp.headers.get(hyper::header::CONTENT_TYPE).cloned();
    let kind = kind.as_ref().and_then(|v| v.to_str().ok()).unwrap_or("");
    let message = if kind.starts_with("text/event-stream") {
        read_sse(&mut resp, id).await?
    } else if kind.starts_with("application/json") {
        read_capped(&mut resp, MAX_REPLY_BYTES).await?
    } else {
        return Err(CallError::Transport(format!(
            "{method}: the server replied with content type '{kind}', not JSON or SSE"
        )));
    };
    Ok(Answered {
        result: answer(&message, id, None)?,
        message,
    })
}

/// A non-2xx reply: the JSON-RPC error it carries, else the status with its body's start.
async fn status_error(mut resp: HttpReply, id: u64) -> CallError {
    let status = resp.status;
    let body = match read_capped(&mut resp, MAX_ERROR_BYTES).await {
        Ok(body) => body,
        Err(err) => return CallError::Transport(format!("HTTP {status}: {err}")),
    };
    if let Err(err @ CallError::JsonRpc { .. }) =
        answer::<IgnoredAny>(&body, id, Some(status.as_u16()))
    {
        return err;
    }
    let mut text: String = String::from_utf8_lossy(&body).chars().take(300).collect();
    // A refusal of the credentials: the challenge says what the server wants.
    if matches!(status.as_u16(), 401 | 403)
        && let Some(challenge) = resp.headers.get(hyper::header::WWW_AUTHENTICATE)
    {
        let challenge = String::from_utf8_lossy(challenge.as_bytes());
        text = if text.trim().is_empty() {
            format!("WWW-Authenticate: {challenge}")
        } else {
            format!("WWW-Authenticate: {challenge}; body: {text}")
        };
    }
    CallError::Http {
        status: status.as_u16(),
        body: text,
    }
}

/// A body, read up to `cap` bytes.
async fn read_capped(resp: &mut HttpReply, cap: usize) -> Result<Vec<u8>, CallError> {
    let hint = resp.content_length().unwrap_or(0) as usize;
    let mut body = Vec::with_capacity(hint.min(cap));
    while let Some(chunk) = resp.chunk().await.map_err(CallError::Transport)? {
        if body.len() + chunk.len() > cap {
            return Err(too_large(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An SSE reply: events until the one that answers request `id`; that event's data.
async fn read_sse(resp: &mut HttpReply, id: u64) -> Result<Vec<u8>, CallError> {
    let mut events = SseEvents::default();
    loop {
        while let Some(data) = events.next_event() {
            if is_answer(&data, id) {
                return Ok(data);
            }
        }
        match resp.chunk().await.map_err(CallError::Transport)? {
            Some(chunk) if events.buffered() + chunk.len() > MAX_REPLY_BYTES => {
                return Err(too_large(MAX_REPLY_BYTES));
            }
            Some(chunk) => events.push(&chunk),
            None => {
                if let Some(data) = events.finish()
                    && is_answer(&data, id)
                {
                    return Ok(data);
                }
                return Err(CallError::Transport(format!(
                    "the SSE stream ended without a response to request {id}"
                )));
            }
        }
    }
}

fn is_answer(data: &[u8], id: u64) -> bool {
    serde_json::from_slice::<Probe>(data)
        .is_ok_and(|p| p.method.is_none() && p.id.and_then(|v| v.as_u64()) == Some(id))
}

/// The result of the response to request `id` in `data`, or its JSON-RPC error (`status`: the
/// HTTP status it came with, when not 200).
fn answer<R: DeserializeOwned>(data: &[u8], id: u64, status: Option<u16>) -> Result<R, CallError> {
    let reply: Message<R> = serde_json::from_slice(data)
        .map_err(|e| CallError::Transport(format!("unreadable JSON-RPC reply: {e}")))?;
    // An error about a request whose id the server could not read comes without one.
    let id_ok = match reply.id.as_ref() {
        Some(v) => v.as_u64() == Some(id),
        None => reply.error.is_some(),
    };
    if reply.method.is_some() || !id_ok {
        return Err(CallError::Transport(format!(
            "the reply does not answer request {id}"
        )));
    }
    match (reply.result, reply.error) {
        (_, Some(e)) => Err(CallError::json_rpc(
            e.code.0,
            e.message.into_owned(),
            e.data,
            status,
        )),
        (Some(result), None) => Ok(result),
        (None, None) => Err(CallError::Transport(format!(
            "the response to request {id} has neither result nor error"
        ))),
    }
}

fn too_large(cap: usize) -> CallError {
    CallError::Transport(format!("a reply exceeded {} KiB", cap >> 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_and_results_are_told_apart_and_matched_to_their_request() {
        let ok: Value = answer(br#"{"jsonrpc":"2.0","id":3,"result":{"a":1}}"#, 3, None).unwrap();
        assert_eq!(ok["a"], 1);
        let err = answer::<Value>(
            br#"{"jsonrpc":"2.0","id":3,"error":{"code":-32022,"message":"Unsupported protocol version","data":{"supported":["2026-07-28"]}}}"#,
            3,
            Some(400),
        )
        .unwrap_err();
        let CallError::JsonRpc {
            code, data, status, ..
        } = err
        else {
            panic!("{err}")
        };
        assert_eq!((code, status), (-32022, Some(400)));
        assert_eq!(data.unwrap()["supported"][0], "2026-07-28");
        // No id: the server could not read ours, still our error.
        let err = answer::<Value>(
            br#"{"jsonrpc":"2.0","error":{"code":-32700,"message":"x"}}"#,
            1,
            None,
        );
        assert!(matches!(err, Err(CallError::JsonRpc { code: -32700, .. })));
        let other = answer::<Value>(br#"{"jsonrpc":"2.0","id":4,"result":{}}"#, 3, None);
        assert!(matches!(other, Err(CallError::Transport(_))));
    }
}
