//! How a result looks in each era. Legacy results are rmcp's shape, by rmcp's own functions, so
//! zen's paths and rmcp's give the same bytes; modern results add what 2026-07-28 asks of every
//! result.
use rmcp::model::{
    CacheScope, CallToolResult, DiscoverResult, Implementation, ListToolsResult, MetaObject,
    ResultType, ServerConfig, ServerResult, Tool,
};
use zen_model::mcp::meta;

use super::versions;

/// How long a client may treat zen's tool list and discovery as fresh
/// (`2026-07-28/server/utilities/caching`, `ttlMs`). Both are fixed for the life of the process
/// (DISABLED_TOOLS and the version are read at start); a restart may change them, so five
/// minutes rather than forever.
pub(crate) const CACHE_TTL_MS: u64 = 300_000;

/// `_meta` of every modern result: who the server is (`2026-07-28/basic#meta`,
/// `io.modelcontextprotocol/serverInfo`: "in every result's `_meta`").
pub(crate) fn server_info_meta(info: &Implementation) -> MetaObject {
    let mut object = MetaObject::default();
    let value = serde_json::to_value(info).expect("an Implementation serialises");
    object.insert(meta::SERVER_INFO.to_string(), value);
    object
}

/// A tools/call result for `modern` or legacy requests:
/// - modern (`2026-07-28/basic#resulttype`): `resultType: "complete"` and the server's
///   identity in `_meta` (beside whatever `_meta` the tool set);
/// - legacy: no `resultType`, and a `structuredContent` that is not an object moved into the
///   text content (2025 revisions require an object), as rmcp does for legacy peers.
pub(crate) fn call_result(modern: bool, result: CallToolResult, info: &MetaObject) -> ServerResult {
    if modern {
        return ServerResult::CallToolResult(modern_call(result, info));
    }
    let mut result = ServerResult::CallToolResult(result);
    result.strip_result_type_for_legacy_peer();
    result.strip_non_object_output_for_legacy_peer();
    result
}

/// A modern tools/call result: `resultType: "complete"`, the server's identity in `_meta`.
pub(crate) fn modern_call(mut result: CallToolResult, info: &MetaObject) -> CallToolResult {
    result.result_type = Some(ResultType::COMPLETE);
    let meta = result.meta.get_or_insert_with(MetaObject::default);
    for (key, value) in info.iter() {
        meta.entry(key.clone()).or_insert_with(|| value.clone());
    }
    result
}

/// The tools/list result (one page: zen's list is short): modern ones carry `resultType`, the
/// cache hints (`2026-07-28/server/utilities/caching#cacheable-results`: the list is the same
/// for every client, so `public`) and the server's identity; legacy ones the tools alone.
pub(crate) fn tool_list(modern: bool, tools: Vec<Tool>, info: &MetaObject) -> ListToolsResult {
    let mut result = ListToolsResult {
        tools,
        ..Default::default()
    };
    if modern {
        result.result_type = Some(ResultType::COMPLETE);
        result.meta = Some(info.clone());
        result.ttl_ms = Some(CACHE_TTL_MS);
        result.cache_scope = Some(CacheScope::Public);
    } else {
        result.result_type = None;
    }
    result
}

/// `server/discover`'s result (`2026-07-28/server/discover#discoverresult`): the revisions zen
/// serves, its capabilities and instructions, the cache hints, its identity in `_meta`.
pub(crate) fn discover(config: ServerConfig) -> DiscoverResult {
    DiscoverResult::from_server_info(versions::rmcp_served(), config)
        .with_ttl_ms(CACHE_TTL_MS)
        .with_cache_scope(CacheScope::Public)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::ContentBlock;

    #[test]
    fn results_are_shaped_per_era() {
        let info = server_info_meta(&Implementation::new("zen", "1.0.0"));
        let result = CallToolResult::success(vec![ContentBlock::text("hi")]);
        let modern = serde_json::to_string(&call_result(true, result.clone(), &info)).unwrap();
        assert_eq!(
            modern,
            r#"{"resultType":"complete","content":[{"type":"text","text":"hi"}],"isError":false,"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"zen","version":"1.0.0"}}}"#
        );
        let legacy = serde_json::to_string(&call_result(false, result, &info)).unwrap();
        assert_eq!(
            legacy,
            r#"{"content":[{"type":"text","text":"hi"}],"isError":false}"#
        );
        let list = serde_json::to_value(tool_list(true, Vec::new(), &info)).unwrap();
        assert_eq!(list["cacheScope"], "public");
        assert_eq!(list["ttlMs"], CACHE_TTL_MS);
        let legacy = serde_json::to_string(&tool_list(false, Vec::new(), &info)).unwrap();
        assert_eq!(legacy, r#"{"tools":[]}"#);
    }
}
