//! `working_directory_absolute_path` (zen-mcp-server's chat argument): an existing directory
//! inside the allowed roots, against which relative file and image paths are resolved. Without
//! it, relative paths stay relative and are refused where files are read.
use std::path::{Path, PathBuf};

use super::files::FilePolicy;
use super::{ToolContext, ToolError};

/// The working directory, checked: absolute, a directory, readable under the file policy.
pub(crate) async fn base(
    ctx: &ToolContext,
    tool: &str,
    dir: Option<&str>,
) -> Result<Option<PathBuf>, ToolError> {
    let Some(dir) = dir.map(str::trim).filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    let policy = FilePolicy::new(&ctx.config);
    let real = (policy.check_dir(dir).await).map_err(|why| {
        ToolError::bad_field(
            tool,
            "working_directory_absolute_path",
            format!("{dir}: {why}"),
        )
    })?;
    Ok(Some(real))
}

/// `paths` with the relative ones joined to `base` (data URLs and absolute paths as given).
pub(crate) fn resolve(base: Option<&Path>, paths: &[String]) -> Vec<String> {
    (paths.iter())
        .map(|p| match base {
            Some(base) if !p.starts_with("data:") && !Path::new(p).is_absolute() => {
                base.join(p).to_string_lossy().into_owned()
            }
            _ => p.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_join_the_base_and_the_rest_stay() {
        let given = ["a/b.rs", "/abs.rs", "data:image/png;base64,xx"].map(String::from);
        assert_eq!(
            resolve(Some(Path::new("/work")), &given),
            ["/work/a/b.rs", "/abs.rs", "data:image/png;base64,xx"]
        );
        assert_eq!(resolve(None, &given), given);
    }
}
