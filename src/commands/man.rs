//! `zen man`: the man page, generated from the same clap definition as `--help`, so it never
//! drifts from the flags.
use std::io::Write;

use anyhow::Result;
use clap::CommandFactory;
use zen_model::ExitOutcome;

use crate::cli::Cli;

/// Write the man page (roff) to stdout: zen(1) with every subcommand's options.
pub(super) fn run() -> Result<ExitOutcome> {
    let cmd = Cli::command();
    let mut page = Vec::new();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    // clap_mangen's own list points at zen-serve(1), zen-stress(1)…, pages that do not exist:
    // this one points at the sections of this page instead.
    writeln!(page, ".SH SUBCOMMANDS")?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
        let name = sub.get_name();
        writeln!(
            page,
            ".TP\n\\fBzen {name}\\fR\n{} (see ZEN {} below)",
            roff_text(&about),
            name.to_uppercase()
        )?;
    }
    // One section per subcommand with its options, so `man zen` documents every flag.
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let sub_man = clap_mangen::Man::new(sub.clone());
        writeln!(page, ".SH \"ZEN {}\"", sub.get_name().to_uppercase())?;
        sub_man.render_description_section(&mut page)?;
        sub_man.render_options_section(&mut page)?;
        if let Some(examples) = sub.get_after_help() {
            writeln!(page, ".PP\n.nf\n{}\n.fi", roff_text(&examples.to_string()))?;
        }
    }
    man.render_version_section(&mut page)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&page)?;
    out.flush()?;
    Ok(ExitOutcome::Success)
}

/// Plain text as roff: backslashes escaped, and no line may start a request with . or '.
fn roff_text(text: &str) -> String {
    text.lines()
        .map(|line| {
            let line = line.replace('\\', "\\e");
            if line.starts_with(['.', '\'']) {
                format!("\\&{line}")
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
