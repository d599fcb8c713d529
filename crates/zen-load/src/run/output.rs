//! Printing a finished run's report: the whole of it (text or JSON), or only its verdict.
use anyhow::Result;
use zen_model::report::Report;

/// Print the report (JSON or text) to stdout.
pub(crate) fn print(report: &Report, json: bool) -> Result<()> {
    use std::io::Write;
    let text = if json {
        let mut s = serde_json::to_string_pretty(report)?;
        s.push('\n');
        s
    } else {
        // Coloured for a terminal; anstream strips the colour for pipes, files and NO_COLOR.
        let text = crate::report::render::render(report);
        crate::report::render::paint(&crate::report::terminal::safe(&text))
    };
    let mut out = anstream::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// `--quiet`: only the verdict line (JSON output is unaffected: it goes to programs).
pub(crate) fn print_verdict(report: &Report) -> Result<()> {
    use std::io::Write;
    let line = crate::report::render::verdict_line(report);
    let line = crate::report::render::paint(&crate::report::terminal::safe(&line));
    let mut out = anstream::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}
