//! Which files `chat` may embed, and what is taken out of them first. `/proc/self/environ`
//! holds zen's environment, API keys included, so
//! - only regular files are read, never anything under /proc, /sys or /dev, checked on the
//!   canonical path so a symlink cannot dodge it;
//! - ZEN_ALLOWED_PATHS, when set, limits reading to those roots;
//! - a file is opened once and everything is checked on the open descriptor ([`FilePolicy::
//!   read_checked`]): whoever can rename files in a directory zen reads can swap an allowed file
//!   for a symlink (to `/proc/self/environ`, `/dev/zero`) or a FIFO between a check by name and
//!   a read by name, so nothing is read by name after the check;
//! - every configured secret (provider API keys, the HTTP bearer token) is replaced in the
//!   content before it reaches a model.
//!
//! Each refusal says why, and the chat reply names the file.
use std::io::Read;
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

    /// The bytes of the file at `path` (absolute) if the policy lets it be read and it holds at
    /// most `limit` bytes, or why not. The path is resolved once (symlinks the caller named are
    /// followed there), the result opened without following a symlink at its end and without
    /// blocking on a FIFO, and then everything is checked on the descriptor: a regular file,
    /// whose real path (`/proc/self/fd/N`) is the one resolved and inside the allowed roots,
    /// read with `take(limit + 1)` so a file growing meanwhile cannot push it past the limit.
    /// The one way for tools to read a user's file.
    pub(crate) async fn read_checked(&self, path: &str, limit: u64) -> Result<Vec<u8>, FileError> {
        let policy = self.clone();
        let path = path.to_string();
        tokio::task::spawn_blocking(move || policy.read_blocking(Path::new(&path), limit))
            .await
            .unwrap_or_else(|e| Err(FileError::Unreadable(format!("the read failed ({e})"))))
    }

    /// Whether the file at `path` could be read now (a step that only records a path hears at
    /// once, not later; clink names the file to its CLI): its canonical path and size. Nothing
    /// is read, and [`read_checked`](Self::read_checked) checks again.
    pub(crate) async fn check(&self, path: &str) -> Result<(PathBuf, u64), FileError> {
        let policy = self.clone();
        let path = path.to_string();
        tokio::task::spawn_blocking(move || {
            let (_, meta, real) = policy.open_checked(Path::new(&path))?;
            Ok((real, meta.len()))
        })
        .await
        .unwrap_or_else(|e| Err(FileError::Unreadable(format!("the check failed ({e})"))))
    }

    /// The canonical path of directory `path` if the policy lets files under it be read
    /// (`working_directory_absolute_path`), or why not. Files under it are still read one by
    /// one through [`read_checked`](Self::read_checked).
    pub(crate) async fn check_dir(&self, path: &str) -> Result<PathBuf, String> {
        if !Path::new(path).is_absolute() {
            return Err(FileError::NotAbsolute.to_string());
        }
        let real = tokio::fs::canonicalize(path)
            .await
            .map_err(|e| FileError::unreadable(&e).to_string())?;
        self.check_canonical(&real)?;
        let meta = tokio::fs::metadata(&real)
            .await
            .map_err(|e| FileError::unreadable(&e).to_string())?;
        if !meta.is_dir() {
            return Err("not a directory".to_string());
        }
        Ok(real)
    }

    fn read_blocking(&self, path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
        let (file, meta, _) = self.open_checked(path)?;
        if meta.len() > limit {
            return Err(FileError::TooLarge {
                len: meta.len(),
                limit,
            });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        (&file)
            .take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| FileError::unreadable(&e))?;
        if bytes.len() as u64 > limit {
            return Err(FileError::TooLarge {
                len: bytes.len() as u64,
                limit,
            });
        }
        Ok(bytes)
    }

    /// The file at `path`, opened once and checked on its descriptor, with its metadata and
    /// canonical path.
    fn open_checked(
        &self,
        path: &Path,
    ) -> Result<(std::fs::File, std::fs::Metadata, PathBuf), FileError> {
        if !path.is_absolute() {
            return Err(FileError::NotAbsolute);
        }
        let real = std::fs::canonicalize(path).map_err(|e| FileError::unreadable(&e))?;
        self.check_canonical(&real).map_err(FileError::Refused)?;
        let file = zen_os::ffi::open_no_follow(&real).map_err(|e| {
            if zen_os::ffi::is_symlink_refusal(&e) {
                FileError::Changed
            } else {
                FileError::unreadable(&e)
            }
        })?;
        let meta = file.metadata().map_err(|e| FileError::unreadable(&e))?;
        if !meta.is_file() {
            return Err(FileError::NotRegular);
        }
        // Where the descriptor really points, whatever happened to the names meanwhile.
        if let Some(opened) = opened_path(&file) {
            self.check_canonical(&opened).map_err(FileError::Refused)?;
            if opened != real {
                return Err(FileError::Changed);
            }
        } else if !same_file(&meta, &real) {
            return Err(FileError::Changed);
        }
        Ok((file, meta, real))
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

/// Why a file was not read; its text follows "skipped file PATH: " in a reply.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FileError {
    /// A relative path (it would be resolved against zen's own working directory).
    NotAbsolute,
    /// The policy refuses it: a denied tree, or outside ZEN_ALLOWED_PATHS (the text says which).
    Refused(String),
    /// A directory, FIFO, socket or device.
    NotRegular,
    /// More bytes than the limit asked for.
    TooLarge {
        /// Its size (at least this much when it grew while being read).
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// It was swapped (for a symlink or another file) between resolving and opening it.
    Changed,
    /// The system refused: not found, no permission, an I/O error.
    Unreadable(String),
}

impl FileError {
    fn unreadable(err: &std::io::Error) -> Self {
        FileError::Unreadable(err.to_string())
    }
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileError::NotAbsolute => f.write_str("not an absolute path"),
            FileError::Refused(why) => f.write_str(why),
            FileError::NotRegular => f.write_str("not a regular file"),
            FileError::TooLarge { len, limit } => {
                write!(f, "{len} bytes is over the {limit} byte limit")
            }
            FileError::Changed => f.write_str(
                "it changed while zen opened it (replaced by a symlink or another file); zen \
                 reads a file only if it is still the one it checked",
            ),
            FileError::Unreadable(why) => write!(f, "cannot read it ({why})"),
        }
    }
}

/// The path an open descriptor refers to, from `/proc/self/fd` (None where there is none).
fn opened_path(file: &std::fs::File) -> Option<PathBuf> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file;
        None
    }
}

/// Without `/proc`: is the open file (`meta`) still the one at `real` (same device and inode)?
fn same_file(meta: &std::fs::Metadata, real: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::symlink_metadata(real)
            .is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = (meta, real);
        false
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

    /// The refusal's text, for a path that must be refused.
    async fn refusal(p: &FilePolicy, path: &Path) -> String {
        p.read_checked(path.to_str().unwrap(), 1024)
            .await
            .unwrap_err()
            .to_string()
    }

    #[tokio::test]
    async fn proc_self_environ_and_symlinks_to_it_are_refused() {
        let p = policy(&[], "sk-test-secret-123");
        let err = refusal(&p, Path::new("/proc/self/environ")).await;
        assert!(err.contains("under /proc"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("innocent.txt");
        std::os::unix::fs::symlink("/proc/self/environ", &link).unwrap();
        let err = refusal(&p, &link).await;
        assert!(err.contains("under /proc"), "{err}");
        assert!(refusal(&p, Path::new("/dev/null")).await.contains("/dev"));
        assert_eq!(refusal(&p, dir.path()).await, "not a regular file");
    }

    #[tokio::test]
    async fn a_fifo_is_refused_at_once_and_a_file_over_the_limit_is_not_read() {
        let p = policy(&[], "sk-test-secret-123");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            // Without O_NONBLOCK the open would wait for a writer for ever.
            assert_eq!(refusal(&p, &fifo).await, "not a regular file");
        }
        let big = dir.path().join("big.txt");
        std::fs::write(&big, "x".repeat(2048)).unwrap();
        assert_eq!(
            p.read_checked(big.to_str().unwrap(), 1024).await,
            Err(FileError::TooLarge {
                len: 2048,
                limit: 1024
            })
        );
        // A symlink the caller names to an ordinary file is followed, once.
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink(&big, &link).unwrap();
        let read = p.read_checked(link.to_str().unwrap(), 4096).await.unwrap();
        assert_eq!(read.len(), 2048);
        assert_eq!(
            p.read_checked("relative.txt", 10).await,
            Err(FileError::NotAbsolute)
        );
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
        assert_eq!(
            p.read_checked(ok.to_str().unwrap(), 100).await.unwrap(),
            b"text"
        );
        let err = refusal(&p, &outside.path().join("a.txt")).await;
        assert!(err.contains("ZEN_ALLOWED_PATHS"), "{err}");
    }

    #[test]
    fn configured_secrets_are_scrubbed_from_content() {
        let p = policy(&[], "sk-test-secret-123");
        let out = p.scrub("key=sk-test-secret-123\nother".to_string());
        assert_eq!(out, "key=[redacted OPENAI_API_KEY]\nother");
    }
}
