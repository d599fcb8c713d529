//! `--help` is the documentation of every flag and setting: snapshot it so a change is seen.
use clap::CommandFactory;

fn help(path: &[&str]) -> String {
    let mut cmd = zen::cli::Cli::command()
        .term_width(100)
        // The test's own environment must not leak into the snapshot.
        .mut_subcommands(|sub| sub.mut_args(|arg| arg.hide_env_values(true)));
    cmd.build();
    let mut target = &mut cmd;
    for name in path {
        target = target.find_subcommand_mut(name).expect("subcommand");
    }
    target.render_long_help().to_string()
}

#[test]
fn top_level_help() {
    insta::assert_snapshot!(help(&[]));
}

#[test]
fn serve_help_documents_every_setting_with_its_default() {
    let text = help(&["serve"]);
    for var in [
        "MAX_CONCURRENT_REQUESTS",
        "CONVERSATION_MEMORY_LIMIT_MB",
        "OPENAI_API_KEY",
        "ZEN_SIM_LATENCY_MS",
        "LOG_LEVEL",
    ] {
        assert!(text.contains(var), "{var} missing from serve --help");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn stress_help() {
    insta::assert_snapshot!(help(&["stress"]));
}

#[test]
fn soak_help() {
    insta::assert_snapshot!(help(&["soak"]));
}

#[test]
fn top_help() {
    insta::assert_snapshot!(help(&["top"]));
}

#[test]
fn report_help() {
    insta::assert_snapshot!(help(&["report"]));
}

#[test]
fn report_verbs_help() {
    for verb in ["show", "html", "junit", "compare", "merge"] {
        insta::assert_snapshot!(format!("report_{verb}_help"), help(&["report", verb]));
    }
}

#[test]
fn every_subcommand_help_has_examples() {
    for sub in [
        "serve",
        "stress",
        "soak",
        "top",
        "report",
        "completions",
        "man",
    ] {
        let text = help(&[sub]);
        assert!(text.contains("\nExamples:\n  zen "), "{sub}: {text}");
    }
}

#[test]
fn completions_and_man_page_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = assert_cmd::Command::new(crate::util::zen_bin())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        for sub in ["serve", "stress", "soak", "top"] {
            assert!(script.contains(sub), "{shell} completions lack {sub}");
        }
        assert!(script.contains("find-ceiling"), "{shell}: flags too");
    }
    let out = assert_cmd::Command::new(crate::util::zen_bin())
        .arg("man")
        .output()
        .unwrap();
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH zen 1"),
        "{page}"
    );
    for section in [
        ".SH \"ZEN SERVE\"",
        ".SH \"ZEN STRESS\"",
        ".SH \"ZEN SOAK\"",
    ] {
        assert!(page.contains(section), "man page lacks {section}");
    }
    assert!(
        page.contains("find\\-ceiling"),
        "the man page documents the flags"
    );
    let bad = assert_cmd::Command::new(crate::util::zen_bin())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
