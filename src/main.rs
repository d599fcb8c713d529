//! The `zen` binary: parse the command line, run the command, map the outcome to an exit code.
//! Exit codes: 0 ok, 1 a verdict failed, 2 usage or setup error (or an inconclusive verdict).
use std::process::ExitCode;

fn main() -> ExitCode {
    zen_os::tls::use_ring();
    let cli = match zen::cli::parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    match zen::commands::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("zen: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// True when the error is a closed stdout/pipe (e.g. `zen stress --json | head`): not a failure.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
