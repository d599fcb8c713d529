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

/// The server's identity encoded as the `"_meta"` member a modern result ends with (see
/// [`encode_call_result`]).
pub(crate) fn meta_member(info: &MetaObject) -> Vec<u8> {
    let mut member = b",\"_meta\":".to_vec();
    serde_json::to_writer(&mut member, info).expect("a meta object serialises");
    member
}

/// A tools/call result encoded for `modern` or legacy requests, appended to `out` (the
/// reply's envelope is written around it, into one buffer): the bytes of [`call_result`]'s
/// value. A modern result whose tool set no `_meta` (nearly every one) gets the server's
/// identity spliced in as `member` ([`meta_member`]) rather than cloned into each result as a
/// map: `_meta` is the last member rmcp writes (the test below holds it to that).
pub(crate) fn encode_call_result(
    modern: bool,
    mut result: CallToolResult,
    info: &MetaObject,
    member: &[u8],
    out: &mut Vec<u8>,
) -> serde_json::Result<()> {
    if !(modern && result.meta.is_none()) {
        return serde_json::to_writer(out, &call_result(modern, result, info));
    }
    result.result_type = Some(ResultType::COMPLETE);
    serde_json::to_writer(&mut *out, &ServerResult::CallToolResult(result))?;
    out.pop(); // the closing brace
    out.extend_from_slice(member);
    out.push(b'}');
    Ok(())
}

/// About how many bytes `result` takes encoded, to size the reply's buffer once: its text
/// twice (zen's structured replies repeat it as `content`) and room for the rest.
pub(crate) fn encoded_size_hint(result: &CallToolResult) -> usize {
    let text: usize = (result.content.iter())
        .filter_map(|block| block.as_text())
        .map(|t| t.text.len())
        .sum();
    512 + 2 * text
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
    fn the_spliced_identity_gives_the_same_bytes_as_the_value() {
        let info = server_info_meta(&Implementation::new("zen", "1.0.0"));
        let member = meta_member(&info);
        let mut with_meta = CallToolResult::success(vec![ContentBlock::text("m")]);
        with_meta.meta = Some(MetaObject::default());
        let results = [
            CallToolResult::success(vec![ContentBlock::text("hi")]),
            CallToolResult::error(vec![ContentBlock::text("no")]),
            CallToolResult::structured(serde_json::json!({"a": [1, "two"], "b": null})),
            CallToolResult::structured(serde_json::json!([1, 2])),
            with_meta,
        ];
        for result in results {
            for modern in [true, false] {
                let value = serde_json::to_vec(&call_result(modern, result.clone(), &info));
                let mut spliced = b"[".to_vec();
                encode_call_result(modern, result.clone(), &info, &member, &mut spliced).unwrap();
                assert_eq!(
                    spliced.remove(0),
                    b'[',
                    "written after what the buffer held"
                );
                assert_eq!(
                    String::from_utf8(spliced).unwrap(),
                    String::from_utf8(value.unwrap()).unwrap()
                );
            }
        }
    }

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
