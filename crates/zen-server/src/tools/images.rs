//! `images`: paths or data URLs, sent to the model as image parts. Paths are read through the
//! same file policy and reader as embedded files (`FilePolicy::read_checked`), so /proc and the allowed roots
//! apply alike; each image must really be a PNG, JPEG, GIF or WebP (its first bytes say so), and
//! all of one request at most the model's `max_image_size_mb` and [`MAX_REQUEST_IMAGE_BYTES`].
//! What a model takes is its record's [`Capabilities`](crate::providers::Capabilities), read from
//! the route: a model that takes no images refuses them before anything is read.
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::files::{FileError, FilePolicy};
use super::{ToolContext, ToolError};
use crate::providers::Route;

/// Most images one request sends.
pub(crate) const MAX_IMAGES: usize = 16;
/// Most image bytes (decoded) one request sends: a bound on one call's memory.
pub(crate) const MAX_REQUEST_IMAGE_BYTES: u64 = 32 * 1024 * 1024;

/// The image types models take, by their first bytes.
const SIGNATURES: [(&[u8], &str); 4] = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"RIFF", "image/webp"),
];

/// The extensions of the image files a step may record.
const EXTENSIONS: [&str; 5] = [".png", ".jpg", ".jpeg", ".gif", ".webp"];

/// True for a path named like an image (how a thread's recorded images are told from files).
pub(crate) fn is_image_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    EXTENSIONS.iter().any(|e| lower.ends_with(e))
}

/// The type of an image by its first bytes (WebP: `RIFF....WEBP`).
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let (_, mime) = SIGNATURES
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))?;
    if *mime == "image/webp" && bytes.get(8..12) != Some(b"WEBP".as_slice()) {
        return None;
    }
    Some(mime)
}

/// `images` as data URLs for `route`'s model, or an error naming the image at fault.
pub(crate) async fn load(
    ctx: &ToolContext,
    tool: &str,
    images: &[String],
    route: &Route,
) -> Result<Vec<String>, ToolError> {
    if images.is_empty() {
        return Ok(Vec::new());
    }
    let model = format!("{}/{}", route.provider.name(), route.model);
    let limit = route.capabilities.max_image_bytes();
    if limit == 0 {
        return Err(ToolError::bad_field(
            tool,
            "images",
            format!(
                "{model} takes no images (its model record says so); leave images out or ask \
                 a model that reads them — listmodels marks them, and a custom model's record \
                 says \"supports_images\": true"
            ),
        ));
    }
    if images.len() > MAX_IMAGES {
        return Err(ToolError::bad_field(
            tool,
            "images",
            format!(
                "{} images; a request sends at most {MAX_IMAGES}",
                images.len()
            ),
        ));
    }
    let policy = FilePolicy::new(&ctx.config);
    // The model's record bounds the image data of one request (max_image_size_mb), as zen's own
    // bound does.
    let mut room = MAX_REQUEST_IMAGE_BYTES.min(limit);
    let mut urls = Vec::with_capacity(images.len());
    for (i, image) in images.iter().enumerate() {
        let (url, bytes) = one(&policy, image, room)
            .await
            .map_err(|why| ToolError::bad_field(tool, &format!("images[{i}]"), why))?;
        room = room.saturating_sub(bytes);
        urls.push(url);
    }
    Ok(urls)
}

/// One image as a data URL and its decoded size, at most `most` bytes.
async fn one(policy: &FilePolicy, image: &str, most: u64) -> Result<(String, u64), String> {
    let too_big = |len: u64| {
        format!(
            "{len} bytes is over the {most} bytes left for images in this request (the model's \
             max_image_size_mb, and at most {MAX_REQUEST_IMAGE_BYTES} bytes for all images of a \
             request)"
        )
    };
    if let Some(rest) = image.strip_prefix("data:") {
        let (header, data) = (rest.split_once(','))
            .ok_or("a data URL needs a comma before its data (data:image/png;base64,...)")?;
        if !header.ends_with(";base64") {
            return Err("a data URL image must be base64 (data:image/png;base64,...)".into());
        }
        if (data.len() as u64) / 4 * 3 > most {
            return Err(too_big((data.len() as u64) / 4 * 3));
        }
        let bytes = (STANDARD.decode(data.trim())).map_err(|e| format!("bad base64 ({e})"))?;
        sniff(&bytes).ok_or("its data is not a PNG, JPEG, GIF or WebP image")?;
        return Ok((image.to_string(), bytes.len() as u64));
    }
    let bytes = (policy.read_checked(image, most).await).map_err(|e| match e {
        FileError::TooLarge { len, .. } => format!("{image}: {}", too_big(len)),
        other => format!("{image}: {other}"),
    })?;
    let mime =
        sniff(&bytes).ok_or_else(|| format!("{image} is not a PNG, JPEG, GIF or WebP image"))?;
    let url = format!("data:{mime};base64,{}", STANDARD.encode(&bytes));
    Ok((url, bytes.len() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest PNG: a 1x1 transparent pixel.
    pub(crate) const PIXEL: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

    #[tokio::test]
    async fn paths_and_data_urls_become_data_urls_and_non_images_are_refused() {
        let policy = FilePolicy::default();
        let url = format!("data:image/png;base64,{PIXEL}");
        let (same, bytes) = one(&policy, &url, 1024).await.unwrap();
        assert_eq!((same.as_str(), bytes), (url.as_str(), 70));
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("pixel.png");
        std::fs::write(&png, STANDARD.decode(PIXEL).unwrap()).unwrap();
        let (read, _) = one(&policy, png.to_str().unwrap(), 1024).await.unwrap();
        assert_eq!(read, url);
        let err = one(&policy, png.to_str().unwrap(), 10).await.unwrap_err();
        assert!(err.contains("70 bytes is over the 10 bytes left"), "{err}");
        let text = dir.path().join("notes.png");
        std::fs::write(&text, "not an image").unwrap();
        let err = one(&policy, text.to_str().unwrap(), 1024)
            .await
            .unwrap_err();
        assert!(err.contains("is not a PNG"), "{err}");
        for bad in [
            "data:image/png,xyz",
            "data:image/png;base64",
            "data:image/png;base64,@@",
        ] {
            assert!(one(&policy, bad, 1024).await.is_err(), "{bad}");
        }
        assert!(is_image_path("/a/B.PNG") && !is_image_path("/a/b.rs"));
    }
}
