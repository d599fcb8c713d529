//! Reading a running `zen serve`'s `GET /snapshot` from its telemetry listener (found through
//! [`crate::discovery`]): the one bounded read `zen top` and the load generator share. A real
//! snapshot is tens of kB; anything bigger is refused as it arrives, never buffered (a 100 MB
//! one once took zen top to 273 MB resident). The deadline is the client's (`timeout`).

/// The largest `/snapshot` body read.
pub const MAX_SNAPSHOT_BYTES: usize = 8 * 1024 * 1024;

/// The body of `{base}/snapshot`, or a short reason it could not be read.
pub async fn snapshot_body(client: &reqwest::Client, base: &str) -> Result<Vec<u8>, String> {
    let mut response = client
        .get(format!("{base}/snapshot"))
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "timed out".to_string()
            } else if e.is_connect() {
                "cannot connect".to_string()
            } else {
                format!("request failed: {e}")
            }
        })?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    let too_big = || format!("snapshot over {} MiB", MAX_SNAPSHOT_BYTES >> 20);
    if response
        .content_length()
        .is_some_and(|n| n > MAX_SNAPSHOT_BYTES as u64)
    {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("read failed: {e}"))?
    {
        if body.len() + chunk.len() > MAX_SNAPSHOT_BYTES {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
