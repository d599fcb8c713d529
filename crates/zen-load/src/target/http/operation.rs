//! The lean HTTP client's requests besides tools/call (`--op`): each is one POST whose reply is
//! checked to answer it and is then dropped unread, like a tools/call's content.
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

use super::session::HttpSession;
use crate::target::outcome::CallError;
use crate::target::pages::every_page;

/// One resources/list page: the URIs only.
#[derive(Deserialize)]
struct ResourcesPage {
    resources: Vec<Uri>,
    #[serde(rename = "nextCursor")]
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct Uri {
    uri: String,
}

impl HttpSession {
    /// One request of `method` with `params`; `name` is its `Mcp-Name` (2026-07-28).
    pub(crate) async fn operate(
        &self,
        method: &str,
        params: &Value,
        name: Option<&str>,
    ) -> Result<(), CallError> {
        self.request::<_, IgnoredAny>(method, params, name, None)
            .await
            .map(|_| ())
    }

    /// Every resource URI the server lists, following pagination.
    pub(crate) async fn resource_uris(&self) -> Result<Vec<String>, CallError> {
        every_page(|cursor| async move {
            let params = cursor.map_or_else(|| json!({}), |c| json!({ "cursor": c }));
            let page: ResourcesPage = self
                .request("resources/list", &params, None, None)
                .await?
                .result;
            let uris: Vec<String> = page.resources.into_iter().map(|r| r.uri).collect();
            Ok::<_, CallError>((uris, page.next_cursor))
        })
        .await
    }
}
