//! Requests besides tools/call on either client (`--op`): rmcp's over stdio, zen's lean one over
//! HTTP. Only whether the request succeeded is kept; the result is not built.
use rmcp::model::{ClientRequest, CustomRequest, PaginatedRequestParams};
use serde::de::IgnoredAny;
use serde_json::{Value, json};
use std::sync::Arc;

use rmcp::ServiceError;

use crate::plan::op::Op;
use crate::target::outcome::CallError;
use crate::target::pages::every_page;
use crate::target::session::{LoadPeer, Session};

impl LoadPeer {
    /// `--churn`: a new session like this one, as a client the server has never seen (HTTP
    /// only; settings refuse churn for stdio).
    pub(crate) async fn fresh(&self) -> Result<LoadPeer, CallError> {
        match self {
            LoadPeer::Http(s) => Ok(LoadPeer::Http(Arc::new(s.fresh().await?))),
            LoadPeer::Sse(s) => {
                let me = crate::target::http::churn::new_client();
                Ok(LoadPeer::Sse(Arc::new(s.fresh(&me).await?)))
            }
            LoadPeer::Rmcp(_) => Err(CallError::Transport(
                "--churn needs an HTTP target".to_string(),
            )),
        }
    }

    /// End a churned session (a legacy HTTP one is DELETEd, an SSE stream closed).
    pub(crate) async fn close(&self) {
        match self {
            LoadPeer::Http(s) => s.close().await,
            LoadPeer::Sse(s) => s.close(),
            LoadPeer::Rmcp(_) => {}
        }
    }

    /// One request of `op` with `params`, its failure classified as the report counts it.
    pub(crate) async fn operate(&self, op: Op, params: &Value) -> Result<(), CallError> {
        match self {
            LoadPeer::Http(session) => session.operate(op.method(), params, Op::name(params)).await,
            LoadPeer::Sse(session) => {
                (session.request::<_, IgnoredAny>(op.method(), params).await).map(|_| ())
            }
            LoadPeer::Rmcp(peer) => {
                let message = json!({ "method": op.method(), "params": params });
                // rmcp's typed request when it reads as one (rmcp adds what the revision needs),
                // else the method as it is.
                let request =
                    serde_json::from_value::<ClientRequest>(message).unwrap_or_else(|_| {
                        ClientRequest::CustomRequest(CustomRequest::new(
                            op.method(),
                            Some(params.clone()),
                        ))
                    });
                peer.send_request(request)
                    .await
                    .map(|_| ())
                    .map_err(CallError::from_service)
            }
        }
    }
}

impl CallError {
    /// A failure of rmcp's client: the server's JSON-RPC error, or the transport's.
    pub(crate) fn from_service(e: ServiceError) -> CallError {
        match e {
            ServiceError::McpError(e) => {
                CallError::json_rpc(e.code.0, e.message.into_owned(), e.data, None)
            }
            e => CallError::Transport(e.to_string()),
        }
    }
}

impl Session {
    /// Every resource URI the target lists (for `resources/read random`).
    pub(crate) async fn resource_uris(&self) -> Result<Vec<String>, String> {
        match self {
            Session::Http(s) => s.resource_uris().await.map_err(|e| e.to_string()),
            Session::Sse(s) => {
                #[derive(serde::Deserialize)]
                struct Page {
                    resources: Vec<rmcp::model::Resource>,
                    #[serde(rename = "nextCursor")]
                    next_cursor: Option<String>,
                }
                every_page(|cursor| async move {
                    let params = cursor.map_or_else(|| json!({}), |c| json!({ "cursor": c }));
                    let page: Page = s.request("resources/list", &params).await?;
                    let uris: Vec<String> =
                        page.resources.into_iter().map(|r| r.uri.clone()).collect();
                    Ok::<_, CallError>((uris, page.next_cursor))
                })
                .await
                .map_err(|e| e.to_string())
            }
            Session::Rmcp(s) => every_page(|cursor| async move {
                let params = cursor.map(|c| PaginatedRequestParams::default().with_cursor(Some(c)));
                let page = s.list_resources(params).await?;
                let uris: Vec<String> = page.resources.into_iter().map(|r| r.uri.clone()).collect();
                Ok::<_, ServiceError>((uris, page.next_cursor))
            })
            .await
            .map_err(|e| e.to_string()),
        }
    }
}
