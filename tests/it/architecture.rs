//! The one-way rule, checked on the source: the snapshot is a leaf, and the readers of figures
//! (`zen top`, the load reports, `zen report`) never import the server's internals. (`.ci/run` also checks
//! that no module imports one that imports it back.)
use std::path::{Path, PathBuf};

/// Every .rs file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// (file, line) of every mention of `crate::<module>` for the given modules.
fn imports_of(files: &[PathBuf], modules: &[&str]) -> Vec<String> {
    let mut hits = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if modules.iter().any(|m| {
                line.contains(&format!("crate::{m}::")) || line.contains(&format!("crate::{m};"))
            }) {
                hits.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    hits
}

fn src(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(rel)
}

const SERVER_INTERNALS: [&str; 7] = [
    "serve",
    "tools",
    "memory",
    "concurrency",
    "providers",
    "metrics",
    "config",
];

#[test]
fn the_snapshot_imports_nothing_of_zen() {
    let hits: Vec<String> = rust_files(&src("snapshot"))
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            text.lines()
                .filter(|l| l.contains("crate::"))
                .map(|l| format!("{}: {}", f.display(), l.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        hits.is_empty(),
        "the snapshot must stay a leaf:\n{}",
        hits.join("\n")
    );
}

#[test]
fn top_and_the_reports_read_the_snapshot_not_the_server() {
    let mut files = rust_files(&src("top"));
    files.extend(rust_files(&src("report")));
    for report in ["report.rs", "render.rs", "verdict.rs", "soak_verdict.rs"] {
        files.push(src("load").join(report));
    }
    let hits = imports_of(&files, &SERVER_INTERNALS);
    assert!(
        hits.is_empty(),
        "readers import server internals:\n{}",
        hits.join("\n")
    );
}
