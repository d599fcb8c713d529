//! Issue 30, the docs test: every shell command of the README's Install and Set-up sections (all
//! their ```sh blocks) works as written on a fresh machine. The offline ones run in a fresh
//! temporary HOME, with the zen this suite built first on PATH standing in for
//! ~/.cargo/bin/zen. The ones a test cannot run (`cargo install` and `cargo run --release`
//! rebuild the workspace, `cargo test` is this suite, `sudo apt-get` needs root and the
//! network) are checked for their exact text against what the build and CI (`.ci/run`) do
//! instead, and `cargo run --release -- ARGS` runs its `zen ARGS` part with the built binary. A
//! command no rule here knows fails the test: a new line in those sections comes with its check.
use std::path::Path;

use crate::util::{zen_bin, zen_command};

/// The repository file `path`, read.
fn repo_file(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The text of the README's `## {section}`, up to the next `## ` heading.
fn readme_section(section: &str) -> String {
    let readme = repo_file("README.md");
    let body = readme
        .split(&format!("\n## {section}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("README has a {section} section"));
    body.split("\n## ").next().unwrap().to_string()
}

/// The shell commands of every ```sh block of a README section, comments removed, in order.
fn section_commands(section: &str) -> Vec<String> {
    let text = readme_section(section);
    let commands: Vec<String> = (text.split("```sh\n").skip(1))
        .flat_map(|block| block.split("```").next().unwrap().lines())
        .map(|line| line.split(" #").next().unwrap().trim().to_string())
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    assert!(!commands.is_empty(), "{section} shows its commands");
    commands
}

/// The Debian packages `.ci/run` installs (`need+=(NAME)`).
fn ci_packages() -> Vec<String> {
    (repo_file(".ci/run").lines())
        .filter_map(|line| line.split("need+=(").nth(1))
        .filter_map(|rest| rest.split(')').next())
        .map(str::to_string)
        .collect()
}

/// A fresh HOME with the built zen first on PATH.
struct FreshHome {
    /// The temporary HOME, removed on drop.
    home: tempfile::TempDir,
    /// The built zen's folder, then the inherited PATH.
    path: String,
}

impl FreshHome {
    fn new() -> FreshHome {
        let bin = Path::new(zen_bin()).parent().unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        FreshHome {
            home: tempfile::tempdir().unwrap(),
            path,
        }
    }

    /// Run one command line with bash, as a user would type it; fails the test when it fails.
    async fn run_shell(&self, command: &str) {
        let out = tokio::process::Command::new("bash")
            .args(["-euo", "pipefail", "-c", command])
            .current_dir(self.home.path())
            .env("HOME", self.home.path())
            .env("PATH", &self.path)
            .env("MANPAGER", "cat")
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "`{command}` failed in a fresh HOME: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// What `cargo run --release -- ARGS` runs once built: `zen ARGS`, offline.
    async fn run_zen(&self, command: &str, args: &str) {
        let args: Vec<&str> = args.split_whitespace().collect();
        let home = self.home.path().to_str().unwrap();
        let mut cmd = zen_command(&args, &[("HOME", home)], self.home.path());
        let out = tokio::time::timeout(std::time::Duration::from_secs(120), cmd.output())
            .await
            .expect("it finished within 2 minutes")
            .unwrap();
        assert!(
            out.status.success(),
            "`{command}` (zen {}) failed: {}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Check or run one command line by its rule.
    async fn check(&self, command: &str, has_man: bool) {
        let words: Vec<&str> = command.split_whitespace().collect();
        match words.as_slice() {
            // Builds and installs the workspace's `zen` binary into ~/.cargo/bin: the build this
            // suite already made; the rest of the section runs that binary.
            ["cargo", "install", "--locked", "--path", "."] => {
                assert!(zen_bin().ends_with("/zen"), "the binary is named zen");
            }
            ["cargo", "run", "--release", "--", ..] => {
                let args = command.split(" -- ").nth(1).unwrap();
                self.run_zen(command, args).await;
            }
            ["cargo", "test", ..] => assert!(
                repo_file(".ci/run")
                    .lines()
                    .any(|line| line.trim() == command),
                "`{command}` is what CI runs (.ci/run)"
            ),
            ["sudo", "apt-get", "install", "-y", packages @ ..] => {
                let installed = ci_packages();
                for package in packages {
                    assert!(
                        installed.iter().any(|p| p.as_str() == *package),
                        "`{command}`: .ci/run installs {package} too (it installs {installed:?})"
                    );
                }
            }
            ["man", ..] if !has_man => eprintln!("skipped (no man here): {command}"),
            ["zen" | "mkdir" | "man", ..] => self.run_shell(command).await,
            _ => panic!("no rule checks the README command `{command}`: add one to this test"),
        }
    }
}

#[tokio::test]
async fn the_readme_install_and_set_up_commands_work_verbatim_in_a_fresh_home() {
    let fresh = FreshHome::new();
    let has_man = std::process::Command::new("man")
        .args(["-w", "man"])
        .output()
        .is_ok();
    let commands = [section_commands("Install"), section_commands("Set-up")].concat();
    for command in &commands {
        fresh.check(command, has_man).await;
    }
    let share = fresh.home.path().join(".local/share");
    let completion =
        std::fs::read_to_string(share.join("bash-completion/completions/zen")).unwrap();
    assert!(completion.contains("_zen()"), "a bash completion script");
    let page = std::fs::read_to_string(share.join("man/man1/zen.1")).unwrap();
    assert!(
        page.contains(".SH \"ZEN SERVE\""),
        "the page documents serve"
    );
    // No references to pages that do not exist: each subcommand is a section of this page.
    assert!(
        !page.contains("zen-serve(1)") && !page.contains("zen-stress(1)"),
        "the man page names separate pages that do not exist"
    );
}

#[test]
fn the_readme_names_one_binary_path_and_what_the_tests_need() {
    let readme = repo_file("README.md");
    assert!(
        !readme.contains("target/release/zen"),
        "one binary path: the installed ~/.cargo/bin/zen"
    );
    let setup = readme_section("Set-up");
    let setup = setup.split_whitespace().collect::<Vec<_>>().join(" ");
    for needed in [
        "redis-server",
        "tmux",
        "prometheus",
        "chromium",
        "GB of disk",
        "GB of memory",
    ] {
        assert!(setup.contains(needed), "Set-up names {needed}");
    }
    // Every skip variable the tests read is in Set-up, and CI sets none of them.
    let ci = repo_file(".ci/run");
    for variable in skip_variables() {
        assert!(setup.contains(&variable), "Set-up names {variable}");
        assert!(!ci.contains(&variable), ".ci/run sets {variable}");
    }
}

/// The `ZEN_SKIP_*_TESTS` variables the tests of this suite read.
fn skip_variables() -> Vec<String> {
    let mut found = Vec::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    files.sort_by_key(std::fs::DirEntry::path);
    for file in files {
        let Ok(text) = std::fs::read_to_string(file.path()) else {
            continue;
        };
        for piece in text.split("ZEN_SKIP_").skip(1) {
            let name: String = (piece.chars())
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            let variable = format!("ZEN_SKIP_{name}");
            if name.ends_with("_TESTS") && !found.contains(&variable) {
                found.push(variable);
            }
        }
    }
    assert!(found.len() >= 5, "the skip variables: {found:?}");
    found
}
