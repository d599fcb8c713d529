//! Discovery files: one JSON file per running zen serve in the user's runtime directory
//! (created 0600 in a 0700 directory, removed on exit), so `zen top` finds servers by itself.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// What a discovery file says about a server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DiscoveryInfo {
    /// The server's process id (the file is named after it).
    pub pid: u32,
    /// Base URL of the telemetry listener.
    pub telemetry_url: String,
    /// `stdio` or `http`.
    pub transport: String,
    /// MCP endpoint when serving HTTP.
    pub endpoint: Option<String>,
    /// The server's zen version.
    pub version: String,
    /// When the server started, Unix ms.
    pub started_at_ms: u64,
}

/// A written discovery file; removed when dropped.
#[derive(Debug)]
pub struct Discovery {
    path: PathBuf,
}

/// `$ZEN_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR/zen`, else `<temp>/zen-<uid>`.
pub fn runtime_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    if let Some(xdg) = std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("zen");
    }
    #[cfg(unix)]
    let user = crate::ffi::user_id().to_string();
    #[cfg(not(unix))]
    let user = std::env::var("USERNAME").unwrap_or_else(|_| "user".into());
    std::env::temp_dir().join(format!("zen-{user}"))
}

/// zen serve's default data directory (its conversation store): `$XDG_DATA_HOME/zen`, else
/// `~/.local/share/zen` (the temp directory when there is no home).
pub fn default_data_dir() -> PathBuf {
    let xdg = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty());
    match xdg {
        Some(base) => PathBuf::from(base).join("zen"),
        None => std::env::var_os("HOME")
            .map_or_else(std::env::temp_dir, PathBuf::from)
            .join(".local/share/zen"),
    }
}

impl Discovery {
    /// Write `<dir>/<pid>.json`.
    pub fn write(dir: &Path, info: &DiscoveryInfo) -> Result<Self> {
        create_private_dir(dir)?;
        let path = dir.join(format!("{}.json", info.pid));
        let tmp = dir.join(format!(".{}.json.tmp", info.pid));
        let body = serde_json::to_vec_pretty(info)?;
        write_private(&tmp, &body).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Discovery { path })
    }

    /// Where the file was written.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Discovery {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Every live server announced in `dir`; files of dead processes are removed.
pub fn list(dir: &Path) -> Vec<DiscoveryInfo> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<DiscoveryInfo> = entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| {
            let info: DiscoveryInfo =
                serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
            if crate::process::sample(info.pid).is_none() && cfg!(target_os = "linux") {
                let _ = std::fs::remove_file(e.path()); // a crashed server's leftover
                return None;
            }
            Some(info)
        })
        .collect();
    found.sort_by_key(|i| i.started_at_ms);
    found
}

fn create_private_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

fn write_private(path: &Path, body: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_private_listed_and_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let info = DiscoveryInfo {
            pid: std::process::id(),
            telemetry_url: "http://127.0.0.1:1".into(),
            transport: "stdio".into(),
            endpoint: None,
            version: "0".into(),
            started_at_ms: 1,
        };
        let d = Discovery::write(dir.path(), &info).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(d.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(list(dir.path()), vec![info]);
        drop(d);
        assert!(list(dir.path()).is_empty());
    }
}
