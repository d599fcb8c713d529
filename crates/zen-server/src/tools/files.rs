//! Which files `chat` may embed, and what is taken out of them first. `/proc/self/environ`
//! holds zen's environment, API keys included, so
//! - only regular files are read, never anything under /proc, /sys or /dev, checked on the
//!   canonical path so a symlink cannot dodge it;
//! - ZEN_ALLOWED_PATHS, when set, limits reading to those roots;
//! - every configured secret (provider API keys, the HTTP bearer token) is replaced in the
//!   content before it reaches a model.
//!
//! Each refusal says why, and the chat reply names the file.
use std::path::{Path, PathBuf};

use crate::config::ServeConfig;

/// Trees that are never read: kernel and device views, not files a user means to share.
const DENIED_ROOTS: [&str; 3] = ["/proc", "/sys", "/dev"];

/// Secrets shorter than this are not scrubbed: replacing a 3-letter "key" everywhere would
/// mangle files, and a key that short protects nothing.
const MIN_SECRET_LEN: usize = 8;

/// The file policy of one server.
#[derive(Debug, Clone, Default)]
pub(crate) struct FilePolicy {
    /// Canonical roots files must be under; empty means anywhere not denied.
    allowed: Vec<PathBuf>,
    /// (setting name, value) of each secret to scrub.
    secrets: Vec<(&'static str, String)>,
}

impl FilePolicy {
    /// The policy from the configuration: allowed roots and the secrets to scrub.
    pub(crate) fn new(config: &ServeConfig) -> Self {
        let p = &config.providers;
        let secrets = [
            ("OPENAI_API_KEY", &p.openai_api_key),
            ("GEMINI_API_KEY", &p.gemini_api_key),
            ("OPENROUTER_API_KEY", &p.openrouter_api_key),
            ("CUSTOM_API_KEY", &p.custom_api_key),
            ("AZURE_OPENAI_API_KEY", &p.hosted.azure_openai_api_key),
            ("XAI_API_KEY", &p.hosted.xai_api_key),
            ("DIAL_API_KEY", &p.hosted.dial_api_key),
            ("ZEN_AUTH_TOKEN", &config.transport.auth_token),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.clone()?)))
        .filter(|(_, value)| value.len() >= MIN_SECRET_LEN)
        .collect();
        let allowed = config
            .bounds
            .allowed_paths
            .iter()
            .filter(|p| !p.as_os_str().is_empty())
            .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
            .collect();
        FilePolicy { allowed, secrets }
    }

    /// The canonical path of `path` if the policy lets it be read, or why not.
    pub(crate) async fn check(&self, path: &str) -> Result<PathBuf, String> {
        let (real, meta) = self.resolve(path).await?;
        if !meta.is_file() {
            return Err("not a regular file".to_string());
        }
        Ok(real)
    }

    /// The canonical path of an absolute `path` the deny- and allow-lists let through, and
    /// what it is.
    async fn resolve(&self, path: &str) -> Result<(PathBuf, std::fs::Metadata), String> {
        if !Path::new(path).is_absolute() {
            return Err("not an absolute path".to_string());
        }
        let real = tokio::fs::canonicalize(path)
            .await
            .map_err(|e| format!("cannot read it ({e})"))?;
        self.check_canonical(&real)?;
        let meta = tokio::fs::metadata(&real)
            .await
            .map_err(|e| format!("cannot read it ({e})"))?;
        Ok((real, meta))
    }

    /// Read a caller's file, if the policy allows it and `fits` accepts its size: the one way
    /// the tools read a file a caller names (text to embed, images to send).
    pub(crate) async fn read(
        &self,
        path: &str,
        fits: impl FnOnce(u64) -> Result<(), String>,
    ) -> Result<Vec<u8>, String> {
        let path = self.check(path).await?;
        let meta = tokio::fs::metadata(&path)
            .await
            .map_err(|e| format!("cannot read it ({e})"))?;
        fits(meta.len())?;
        tokio::fs::read(&path)
            .await
            .map_err(|e| format!("cannot read it ({e})"))
    }

    /// The canonical path of directory `path` if the policy lets files under it be read
    /// (`working_directory_absolute_path`), or why not.
    pub(crate) async fn check_dir(&self, path: &str) -> Result<PathBuf, String> {
        let (real, meta) = self.resolve(path).await?;
        if !meta.is_dir() {
            return Err("not a directory".to_string());
        }
        Ok(real)
    }

    /// The deny-list and the allow-list, on a canonical path.
    fn check_canonical(&self, real: &Path) -> Result<(), String> {
        if let Some(root) = DENIED_ROOTS.iter().find(|r| real.starts_with(r)) {
            return Err(format!(
                "{} is under {root}, which zen never reads (it can hold secrets such as \
                 zen's own environment)",
                real.display()
            ));
        }
        if !self.allowed.is_empty() && !self.allowed.iter().any(|root| real.starts_with(root)) {
            return Err(format!(
                "{} is outside ZEN_ALLOWED_PATHS ({}); add its directory there to share it",
                real.display(),
                self.allowed
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(":")
            ));
        }
        Ok(())
    }

    /// `content` with every configured secret replaced by a marker naming its setting.
    pub(crate) fn scrub(&self, mut content: String) -> String {
        for (name, value) in &self.secrets {
            if content.contains(value.as_str()) {
                content = content.replace(value.as_str(), &format!("[redacted {name}]"));
            }
        }
        content
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allowed: &[&str], secret: &str) -> FilePolicy {
        let mut config = ServeConfig::defaults();
        config.bounds.allowed_paths = allowed.iter().map(PathBuf::from).collect();
        config.providers.openai_api_key = Some(secret.to_string());
        FilePolicy::new(&config)
    }

    #[tokio::test]
    async fn proc_self_environ_and_symlinks_to_it_are_refused() {
        let p = policy(&[], "sk-test-secret-123");
        let err = p.check("/proc/self/environ").await.unwrap_err();
        assert!(err.contains("under /proc"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("innocent.txt");
        std::os::unix::fs::symlink("/proc/self/environ", &link).unwrap();
        let err = p.check(link.to_str().unwrap()).await.unwrap_err();
        assert!(err.contains("under /proc"), "{err}");
        assert!(p.check("/dev/null").await.is_err());
        assert!(p.check(dir.path().to_str().unwrap()).await.is_err());
    }

    #[tokio::test]
    async fn the_allow_list_limits_reads_to_its_roots() {
        let inside = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        for dir in [&inside, &outside] {
            std::fs::write(dir.path().join("a.txt"), "text").unwrap();
        }
        let p = policy(&[inside.path().to_str().unwrap()], "sk-test-secret-123");
        let ok = inside.path().join("a.txt");
        assert!(p.check(ok.to_str().unwrap()).await.is_ok());
        let no = outside.path().join("a.txt");
        let err = p.check(no.to_str().unwrap()).await.unwrap_err();
        assert!(err.contains("ZEN_ALLOWED_PATHS"), "{err}");
    }

    #[test]
    fn configured_secrets_are_scrubbed_from_content() {
        let p = policy(&[], "sk-test-secret-123");
        let out = p.scrub("key=sk-test-secret-123\nother".to_string());
        assert_eq!(out, "key=[redacted OPENAI_API_KEY]\nother");
    }
}
