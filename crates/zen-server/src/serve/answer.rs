//! The one request path. Whatever answers a request zen serves itself (stdio, HTTP at
//! 2026-07-28, a plain tools/call on an HTTP session) reads it here, checks it by the rules of
//! [`crate::protocol`] and encodes the reply here, so the same request gives the same bytes
//! whatever the transport, in either era; tools/call goes through [`Server::call_tool_in`] like
//! rmcp's handler does. The transports keep only what is theirs: framing, headers, statuses,
//! cancellation by notification or by a closed connection.
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use rmcp::ErrorData;
use rmcp::ServerHandler;
use rmcp::model::{
    ErrorCode, JsonObject, JsonRpcMessage, MetaObject, RequestId, ServerJsonRpcMessage,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use zen_model::mcp::header_value::{self, ParamHeader};

use super::handler::{SessionHandler, tools_call_params_error};
use super::server::{Admitted, Server};
use crate::client_log::{self, CallLog, SessionLog};
use crate::protocol::logging::Note;
use crate::protocol::params::{CallParams, MetaOnly, RequestMeta};
use crate::protocol::{errors, shape};

/// A JSON-RPC message as read: its params left raw until its method says what they are.
#[derive(Deserialize)]
pub(crate) struct Incoming<'a> {
    /// Must be "2.0".
    #[serde(borrow)]
    jsonrpc: Cow<'a, str>,
    /// Absent on a notification; a request's must be a string or an integer.
    #[serde(default, borrow)]
    id: Option<&'a RawValue>,
    /// The method.
    #[serde(borrow)]
    pub method: Cow<'a, str>,
    /// The params, read once the method is known.
    #[serde(default, borrow)]
    params: Option<&'a RawValue>,
}

/// A message, read: a request (with its id) or a notification, its params parsed as far as
/// routing needs.
pub(crate) struct Message<'a> {
    /// The request's id; `None` for a notification.
    pub id: Option<RequestId>,
    /// The method.
    pub method: Cow<'a, str>,
    /// A tools/call's params, parsed whole (it is the request a busy client repeats).
    pub call: Option<CallParams>,
    /// Any other request's `params._meta`.
    meta: Option<RequestMeta>,
    /// The raw params, for the requests that read more of them.
    pub params: Option<&'a RawValue>,
}

/// Why a message could not be read: the JSON-RPC error to answer with, and the id when known.
pub(crate) struct Unreadable {
    /// The error.
    pub error: ErrorData,
    /// The request's id, if it could be read.
    pub id: Option<RequestId>,
}

impl<'a> Message<'a> {
    /// Read one JSON-RPC message. A tools/call whose params do not fit is answered with the
    /// same -32602 rmcp's handler gives.
    pub(crate) fn read(bytes: &'a [u8]) -> Result<Message<'a>, Unreadable> {
        // MCP messages are UTF-8 (`basic/transports`); checked whole, as serde skips the
        // strings it does not keep.
        let text = std::str::from_utf8(bytes).map_err(|err| Unreadable {
            error: ErrorData::new(
                ErrorCode::PARSE_ERROR,
                format!("not valid UTF-8 ({err}); send one JSON-RPC message"),
                None,
            ),
            id: None,
        })?;
        let incoming: Incoming<'a> = serde_json::from_str(text).map_err(|err| Unreadable {
            error: unreadable(&err),
            id: None,
        })?;
        let id = match incoming.id {
            None => None,
            Some(raw) => {
                Some(
                    serde_json::from_str::<RequestId>(raw.get()).map_err(|_| Unreadable {
                        error: ErrorData::invalid_request(
                            "the request id must be a string or an integer (MCP: never null)",
                            None,
                        ),
                        id: None,
                    })?,
                )
            }
        };
        if incoming.jsonrpc != "2.0" {
            let error = ErrorData::invalid_request("jsonrpc must be \"2.0\"", None);
            return Err(Unreadable { error, id });
        }
        let params = incoming.params;
        if params.is_some_and(|p| !matches!(p.get().as_bytes().first(), Some(b'{' | b'['))) {
            let error = ErrorData::invalid_request(
                "invalid JSON-RPC request: params must be an object (or an array)",
                None,
            );
            return Err(Unreadable { error, id });
        }
        let mut message = Message {
            id,
            method: incoming.method,
            call: None,
            meta: None,
            params,
        };
        if message.method == "tools/call" && message.id.is_some() {
            let raw = params.map_or("null", RawValue::get);
            let Ok(call) = serde_json::from_str::<CallParams>(raw) else {
                let error = tools_call_params_error(serde_json::from_str(raw).ok());
                return Err(Unreadable {
                    error,
                    id: message.id,
                });
            };
            message.call = Some(call);
        } else if let Some(raw) = params {
            message.meta = serde_json::from_str::<MetaOnly>(raw.get())
                .unwrap_or_default()
                .meta;
        }
        Ok(message)
    }

    /// The request's `params._meta`.
    pub(crate) fn meta(&self) -> Option<&RequestMeta> {
        match &self.call {
            Some(call) => call.meta.as_ref(),
            None => self.meta.as_ref(),
        }
    }

    /// It is an `initialize` whose params name a revision as a 2025 one does
    /// (`params.protocolVersion`): the legacy handshake, not a modern request for a removed
    /// method. Other methods' params are not read again (this runs on every HTTP request).
    pub(crate) fn names_handshake_version(&self) -> bool {
        #[derive(Deserialize)]
        struct Handshake {
            #[serde(rename = "protocolVersion")]
            version: Option<serde::de::IgnoredAny>,
        }
        if self.method != "initialize" {
            return false;
        }
        self.params
            .and_then(|p| serde_json::from_str::<Handshake>(p.get()).ok())
            .is_some_and(|h| h.version.is_some())
    }

    /// The name `Mcp-Name` mirrors, if the method has one.
    pub(crate) fn name(&self) -> Option<Cow<'_, str>> {
        if let Some(call) = &self.call {
            return Some(Cow::Borrowed(&call.name));
        }
        let field = crate::protocol::headers::name_field(&self.method)?;
        let params: serde_json::Value = serde_json::from_str(self.params?.get()).ok()?;
        params
            .get(field)?
            .as_str()
            .map(|s| Cow::Owned(s.to_string()))
    }
}

/// A parse failure as JSON-RPC: not JSON at all (-32700), or JSON that is not a request
/// (-32600).
fn unreadable(err: &serde_json::Error) -> ErrorData {
    if err.classify() == serde_json::error::Category::Data {
        ErrorData::invalid_request(format!("invalid JSON-RPC request: {err}"), None)
    } else {
        let message = format!("not valid JSON ({err}); send one JSON-RPC message");
        ErrorData::new(ErrorCode::PARSE_ERROR, message, None)
    }
}

/// The revision a request is answered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Era(pub &'static str);

impl Era {
    /// 2026-07-28 rules (a `resultType` on every result, and so on).
    pub(crate) fn modern(self) -> bool {
        zen_model::mcp::is_modern(self.0)
    }
}

/// What the request path needs, built once per server: the tool list and discovery already
/// encoded per era, the server's identity for modern results, the tools' `x-mcp-header`s.
pub(crate) struct Answerer {
    /// Where tools/calls go.
    server: Arc<Server>,
    /// rmcp's handler: the server's info and the handshake's negotiation.
    handler: SessionHandler,
    /// `_meta` of modern results (the server's identity).
    info: Arc<MetaObject>,
    /// The same, encoded as the `"_meta"` member a modern tools/call result ends with.
    info_member: Arc<[u8]>,
    /// tools/list's result, legacy then modern, encoded.
    tool_lists: [Bytes; 2],
    /// server/discover's result, encoded.
    discovery: Bytes,
    /// Each tool's `x-mcp-header` arguments (zen's tools have none today).
    annotated: HashMap<String, Vec<ParamHeader>>,
}

impl Answerer {
    pub(crate) fn new(server: Arc<Server>) -> Answerer {
        let handler = SessionHandler::new(server.clone());
        let mut config = handler.get_info();
        let info = shape::server_info_meta(&config.server_info);
        let tools = server.tools.definitions().to_vec();
        let encode = |modern| {
            let list = shape::tool_list(modern, tools.clone(), &info);
            Bytes::from(serde_json::to_vec(&list).expect("a tool list serialises"))
        };
        let annotated = tools
            .iter()
            .filter_map(|t| {
                let params = header_value::param_headers(&t.input_schema).ok()?;
                (!params.is_empty()).then(|| (t.name.to_string(), params))
            })
            .collect();
        // A 2026-07-28 request asks for log messages in its `_meta`, sessions or not.
        (config.capabilities.logging).get_or_insert_with(JsonObject::new);
        Answerer {
            tool_lists: [encode(false), encode(true)],
            discovery: Bytes::from(
                serde_json::to_vec(&shape::discover(config)).expect("discovery serialises"),
            ),
            info_member: shape::meta_member(&info).into(),
            info: Arc::new(info),
            annotated,
            handler,
            server,
        }
    }

    /// The tool's `x-mcp-header` arguments.
    pub(crate) fn annotated(&self, tool: &str) -> &[ParamHeader] {
        self.annotated.get(tool).map_or(&[], Vec::as_slice)
    }

    /// The answer to a request other than tools/call, in `era`: `Ok` the result's JSON, `Err`
    /// the error. `initialize` is the handshake's (legacy only).
    pub(crate) fn answer(&self, era: Era, message: &Message<'_>) -> Result<Bytes, ErrorData> {
        match (message.method.as_ref(), era.modern()) {
            ("server/discover", _) => Ok(self.discovery.clone()),
            ("tools/list", modern) => Ok(self.tool_lists[usize::from(modern)].clone()),
            ("ping", false) => Ok(Bytes::from_static(b"{}")),
            ("initialize", false) => self.initialize(message).map(|(result, _)| result),
            (method, modern) => Err(errors::method_not_found(method, modern)),
        }
    }

    /// The legacy handshake (`2025-11-25/basic/lifecycle#initialization`), negotiated as rmcp
    /// negotiates it for HTTP sessions: the result, and the revision agreed.
    pub(crate) fn initialize(
        &self,
        message: &Message<'_>,
    ) -> Result<(Bytes, &'static str), ErrorData> {
        let raw = message.params.map_or("null", RawValue::get);
        let params = serde_json::from_str(raw).map_err(|e| {
            ErrorData::invalid_params(format!("invalid params for initialize: {e}"), None)
        })?;
        let result = self.handler.negotiate_initialize(&params)?;
        let version = crate::protocol::versions::served(result.protocol_version.as_str())
            .unwrap_or(zen_model::mcp::LATEST_LEGACY);
        let encoded = serde_json::to_vec(&result).expect("an initialize result serialises");
        Ok((Bytes::from(encoded), version))
    }

    /// A legacy session's `logging/setLevel` (`2025-11-25/server/utilities/logging`): the level
    /// kept in `session`; the result, and the start-up warnings the level includes the first
    /// time it includes any.
    pub(crate) fn set_level(
        &self,
        message: &Message<'_>,
        session: &SessionLog,
    ) -> Result<(Bytes, Vec<Note>), ErrorData> {
        let params = message
            .params
            .and_then(|p| serde_json::from_str::<serde_json::Value>(p.get()).ok());
        let level = crate::protocol::logging::set_level_params(params.as_ref())?;
        session.set_level(level);
        let notes = session.startup_notes(&self.server.startup_warnings);
        Ok((Bytes::from_static(b"{}"), notes))
    }

    /// Run a tools/call and encode its reply (a result or the JSON-RPC error of an unknown
    /// tool): a future owning what it needs, so a transport may poll it anywhere. `log`: where
    /// the call's warnings go, when its client asked for log messages.
    pub(crate) fn call(
        &self,
        era: Era,
        id: RequestId,
        params: CallParams,
        (admitted, ct): (Option<Admitted>, CancellationToken),
        log: Option<Arc<CallLog>>,
    ) -> impl Future<Output = Bytes> + Send + 'static {
        let server = self.server.clone();
        let info = self.info.clone();
        let member = self.info_member.clone();
        async move {
            let meta = params.meta.as_ref();
            let log_span = log.map(client_log::call_span);
            // Created inside the log span (when there is one), so the events of the call's
            // spans find the call's log.
            let span = log_span
                .as_ref()
                .map_or_else(tracing::Span::none, Clone::clone)
                .in_scope(|| {
                    crate::telemetry::otel::spans::tool_call(
                        &params.name,
                        meta.and_then(RequestMeta::traceparent),
                        meta.and_then(RequestMeta::tracestate),
                    )
                });
            let call = server.call_tool_in(&params.name, params.arguments, admitted, ct, &span);
            let call = call.instrument(span.clone());
            let result = match log_span {
                Some(log_span) => call.instrument(log_span).await,
                None => call.await,
            };
            match result {
                Ok(result) => call_reply(id, era.modern(), result, (&info, &member)),
                Err(error) => error_reply(Some(id), error),
            }
        }
    }
}

/// `{"jsonrpc":"2.0","id":…,"result":…}` around an encoded result.
pub(crate) fn result_reply(id: &RequestId, result: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(result.len() + 48);
    envelope(&mut out, id);
    out.extend_from_slice(result);
    out.push(b'}');
    Bytes::from(out)
}

/// A tools/call's reply: the envelope and the result encoded into one buffer, sized once
/// (encoding into a small buffer, then copying it into the envelope's, grew and copied it
/// several times per call). `(info, member)`: the server's identity (see
/// [`shape::encode_call_result`]).
fn call_reply(
    id: RequestId,
    modern: bool,
    result: rmcp::model::CallToolResult,
    (info, member): (&MetaObject, &[u8]),
) -> Bytes {
    let mut out = Vec::with_capacity(shape::encoded_size_hint(&result));
    envelope(&mut out, &id);
    match shape::encode_call_result(modern, result, info, member, &mut out) {
        Ok(()) => {
            out.push(b'}');
            Bytes::from(out)
        }
        Err(err) => unencodable(id, &err),
    }
}

/// The start of a result's reply, up to the result: `{"jsonrpc":"2.0","id":…,"result":`.
fn envelope(out: &mut Vec<u8>, id: &RequestId) {
    out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
    serde_json::to_writer(&mut *out, id).expect("an id serialises");
    out.extend_from_slice(b",\"result\":");
}

/// The error reply of a result that could not be encoded.
fn unencodable(id: RequestId, err: &serde_json::Error) -> Bytes {
    let message = format!("zen could not encode the reply ({err})");
    error_reply(Some(id), ErrorData::internal_error(message, None))
}

/// A JSON-RPC error reply (without an id when the request's could not be read).
pub(crate) fn error_reply(id: Option<RequestId>, error: ErrorData) -> Bytes {
    let message: ServerJsonRpcMessage = JsonRpcMessage::error(error, id);
    Bytes::from(serde_json::to_vec(&message).expect("an error serialises"))
}
