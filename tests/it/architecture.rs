//! The layers, checked: Cargo already refuses a cycle between crates; this guards their order.
//! Each crate may depend only on the crates below it, and inside zen-load the report verbs read
//! the report model, never the engine. (`.ci/run` also checks that no source file imports one
//! that imports it back.)
use std::path::{Path, PathBuf};

/// Every zen crate and the zen crates it may depend on. The floor (zen-model, zen-os) depends on
/// nothing of zen's; the server, the dashboard and the load engine are siblings that never see
/// each other; only the binary sees them all.
const ALLOWED: [(&str, &[&str]); 6] = [
    ("zen-model", &[]),
    ("zen-os", &[]),
    ("zen-server", &["zen-model", "zen-os"]),
    ("zen-top", &["zen-model", "zen-os"]),
    ("zen-load", &["zen-model", "zen-os"]),
    (
        "zen",
        &["zen-model", "zen-os", "zen-server", "zen-top", "zen-load"],
    ),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The manifest of a crate of the workspace (the binary's is the root one).
fn manifest(name: &str) -> toml::Table {
    let path = match name {
        "zen" => root().join("Cargo.toml"),
        crate_name => root().join("crates").join(crate_name).join("Cargo.toml"),
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.parse().unwrap()
}

/// The zen crates a manifest names in one of its dependency tables.
fn zen_deps(manifest: &toml::Table, table: &str) -> Vec<String> {
    manifest
        .get(table)
        .and_then(|t| t.as_table())
        .map(|t| {
            t.keys()
                .filter(|k| k.as_str() == "zen" || k.starts_with("zen-"))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_crate_of_the_workspace_has_a_place_in_the_layers() {
    let mut crates: Vec<String> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    crates.sort();
    for name in &crates {
        assert!(
            ALLOWED.iter().any(|(c, _)| c == name),
            "crates/{name} is not in the layer table of tests/it/architecture.rs: give it a place \
             (and a line in ARCHITECTURE.md)"
        );
    }
}

#[test]
fn crates_depend_only_on_the_layers_below_them() {
    let mut wrong = Vec::new();
    for (name, allowed) in ALLOWED {
        let m = manifest(name);
        for dep in zen_deps(&m, "dependencies") {
            if !allowed.contains(&dep.as_str()) {
                wrong.push(format!("{name} depends on {dep}"));
            }
        }
        // A library's tests may use only what its code may: its dev-dependencies follow the
        // same order (the binary's end-to-end tests may use every crate).
        for dep in zen_deps(&m, "dev-dependencies") {
            if !allowed.contains(&dep.as_str()) {
                wrong.push(format!("{name}'s tests depend on {dep}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "against the layer order:\n{}",
        wrong.join("\n")
    );
}

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

#[test]
fn the_report_verbs_read_the_model_not_the_engine() {
    let dir = root().join("crates/zen-load/src/report");
    let mut hits = Vec::new();
    for file in rust_files(&dir) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains("crate::") && !code.contains("crate::report") {
                hits.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "zen report must read only zen_model and its own files:\n{}",
        hits.join("\n")
    );
}

#[test]
fn unsafe_code_lives_in_one_module() {
    let mut hits = Vec::new();
    for dir in ["src", "crates"] {
        for file in rust_files(&root().join(dir)) {
            if file.ends_with("crates/zen-os/src/ffi.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if code.contains("unsafe ") || code.contains("unsafe{") {
                    hits.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "unsafe outside zen-os's ffi module (put the call there behind a safe function):\n{}",
        hits.join("\n")
    );
}
