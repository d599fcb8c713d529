//! `zen report`: read JSON reports and render or combine them (text, HTML, JUnit, compare,
//! merge). It reads only the report's serde types (`zen_model::report`, the same types the
//! runs write), never the server's internals: a report from another machine is all it needs.
pub mod args;
mod buckets;
pub mod compare;
pub mod html;
pub mod junit;
pub mod load;
pub mod memory_chart;
pub mod merge;
pub(crate) mod render;
mod server_lines;
mod shards;
pub mod show;
mod svg;
pub(crate) mod terminal;

use std::path::Path;

use anyhow::{Context, Result};

use args::{ReportArgs, ReportFiles, ReportVerb};
use zen_model::ExitOutcome;
use zen_model::report::Report;

/// Run one `zen report` verb.
pub fn run(args: ReportArgs) -> Result<ExitOutcome> {
    match args.verb {
        ReportVerb::Show { file } => {
            emit(None, &show::text(&read(&file)?))?;
            Ok(ExitOutcome::Success)
        }
        ReportVerb::Html { file, out } => {
            emit(out.as_deref(), &html::page(&read(&file)?))?;
            Ok(ExitOutcome::Success)
        }
        ReportVerb::Junit { file, out } => {
            emit(out.as_deref(), &junit::xml(&read(&file)?))?;
            Ok(ExitOutcome::Success)
        }
        ReportVerb::Compare {
            base,
            new,
            tolerance,
        } => {
            let (base_report, new_report) = (read(&base)?, read(&new)?);
            let comparison = compare::compare(&base_report, &new_report, tolerance);
            let names = (base.display().to_string(), new.display().to_string());
            emit(None, &comparison.render(&names.0, &names.1))?;
            Ok(if comparison.worse() {
                ExitOutcome::VerdictFailed
            } else {
                ExitOutcome::Success
            })
        }
        ReportVerb::Merge { files, out } => {
            let mut inputs = Vec::with_capacity(files.len());
            for file in &files {
                inputs.push((file.display().to_string(), read(file)?));
            }
            let (merged, notes) = merge::merge(&inputs)?;
            let json = serde_json::to_string_pretty(&merged)? + "\n";
            write_file(&out, &json)?;
            for note in notes {
                eprintln!("zen report merge: {note}");
            }
            emit(None, &show::text(&merged))?;
            Ok(ExitOutcome::Success)
        }
    }
}

/// A JSON report from a file, checked ([`load`]), with an error that says which file and what
/// is wrong with it.
pub fn read(path: &Path) -> Result<Report> {
    load::read(path)
}

/// Write `text` to the file, or to stdout when there is none.
fn emit(out: Option<&Path>, text: &str) -> Result<()> {
    if let Some(path) = out {
        write_file(path, text)
    } else {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(terminal::safe(text).as_bytes())?;
        stdout.flush()?;
        Ok(())
    }
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Before a run: each report file asked for can be created (its directory exists), so a typo
/// is found before the load, not after it.
pub fn check_writable<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Result<()> {
    for path in paths {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        anyhow::ensure!(
            dir.is_dir(),
            "cannot write {}: the directory {} does not exist",
            path.display(),
            dir.display()
        );
        anyhow::ensure!(
            !path.is_dir(),
            "cannot write {}: it is a directory; name a file",
            path.display()
        );
    }
    Ok(())
}

/// After a run: write the JSON report (when `json` names a file) and the files asked for.
pub fn write_files(report: &Report, json: Option<&Path>, files: &ReportFiles) -> Result<()> {
    if let Some(path) = json {
        write_file(path, &(serde_json::to_string_pretty(report)? + "\n"))?;
    }
    if let Some(path) = &files.html {
        write_file(path, &html::page(report))?;
    }
    if let Some(path) = &files.junit {
        write_file(path, &junit::xml(report))?;
    }
    Ok(())
}
