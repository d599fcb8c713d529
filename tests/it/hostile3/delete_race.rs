//! LOW item: a tools/call racing a DELETE of its session got HTTP 500 on the rmcp path. Here
//! 100 sessions each get a call and their DELETE at once: every call is answered, or refused
//! with 404 as a closed session is, never 500.
use std::time::Duration;

use super::within;
use crate::raw_http::{Raw, version_call};
use crate::util::http_zen;

#[tokio::test]
async fn a_call_racing_the_delete_of_its_session_is_never_a_500() {
    // SSE replies: every request goes through rmcp's session layer.
    let zen = http_zen(&[], &[("ZEN_SSE_REPLIES", "true")]).await;
    let both = "application/json, text/event-stream";
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for round in 0..100 {
        let (mut raw, _) = Raw::open(&zen.url, both).await;
        let session = raw.session.clone().unwrap();
        let delete = raw
            .http
            .delete(&raw.url)
            .header("mcp-session-id", &session)
            .send();
        let ((status, _, body), deleted) =
            within("a call and a DELETE", Duration::from_secs(30), async {
                tokio::join!(raw.post(both, version_call(round + 2)), delete)
            })
            .await;
        assert_ne!(status, 500, "round {round}: {body}");
        assert_ne!(deleted.unwrap().status().as_u16(), 500);
        *statuses.entry(status).or_default() += 1;
    }
    eprintln!("call statuses racing a DELETE: {statuses:?}");
}
