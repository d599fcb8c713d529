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
