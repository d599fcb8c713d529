//! The command line of `zen report`, and the report files `zen stress`/`zen soak` write directly.
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

/// `zen report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// What to do with the reports.
    #[command(subcommand)]
    pub verb: ReportVerb,
}

/// What to do with JSON reports (from `zen stress --json`, `--out` or `zen report merge`).
#[derive(Debug, Clone, Subcommand)]
pub enum ReportVerb {
    /// Print a JSON report as the text report zen stress shows
    Show {
        /// The JSON report
        #[arg(value_name = "FILE.json")]
        file: PathBuf,
    },
    /// Write one self-contained HTML page with SVG charts (opens offline, no network)
    Html {
        /// The JSON report
        #[arg(value_name = "FILE.json")]
        file: PathBuf,
        /// Write the page here [default: stdout]
        #[arg(long, short = 'o', value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Write a JUnit XML file: one test case per threshold check, for CI dashboards
    Junit {
        /// The JSON report
        #[arg(value_name = "FILE.json")]
        file: PathBuf,
        /// Write the XML here [default: stdout]
        #[arg(long, short = 'o', value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Compare two runs side by side; exit 1 when NEW is worse than BASE beyond the tolerance
    ///
    /// Worse means: throughput lower, or p50 or p99 higher, by more than the tolerance, or an
    /// error rate higher by more than the tolerance and by more than 0.1 percentage point;
    /// overall and per tool. Exit 0 otherwise, 2 when a file is not a report.
    Compare {
        /// The reference run
        #[arg(value_name = "BASE.json")]
        base: PathBuf,
        /// The run to judge against it
        #[arg(value_name = "NEW.json")]
        new: PathBuf,
        /// How much worse a figure may be before it counts, e.g. 10% or 0.1
        #[arg(long, default_value = "10%", value_parser = parse_tolerance, value_name = "PERCENT")]
        tolerance: f64,
    },
    /// Merge reports of runs made in parallel into one exact report
    ///
    /// Histograms are added (so the merged percentiles are those of all the calls), counts
    /// summed, time series lined up by wall-clock time. Prints the merged text report.
    Merge {
        /// The JSON reports, two or more
        #[arg(value_name = "FILE.json", required = true, num_args = 2..)]
        files: Vec<PathBuf>,
        /// Write the merged JSON report here
        #[arg(long, short = 'o', value_name = "OUT.json")]
        out: PathBuf,
    },
}

/// Report files a run writes besides what it prints.
#[derive(Debug, Clone, Args, Default)]
pub struct ReportFiles {
    /// Also write the HTML report (as zen report html makes it) to FILE
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub html: Option<PathBuf>,
    /// Also write a JUnit XML file (one test case per threshold check) to FILE
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub junit: Option<PathBuf>,
}

impl ReportFiles {
    /// Every file asked for, so each can be checked before the run.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.html
            .iter()
            .chain(self.junit.iter())
            .map(PathBuf::as_path)
    }
}

/// `10%` or `0.1`: a share of the BASE figure.
pub fn parse_tolerance(s: &str) -> Result<f64, String> {
    let text = s.trim();
    let value = match text.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => text.parse::<f64>(),
    }
    .map_err(|_| {
        format!("'{s}' is not a tolerance: give a percentage such as 10% or a share such as 0.1")
    })?;
    if !text.ends_with('%') && value >= 1.0 {
        return Err(format!(
            "'{s}' is ambiguous: write {s}% for a percentage, or a share below 1 such as 0.1"
        ));
    }
    if !(value >= 0.0 && value.is_finite()) {
        return Err(format!("'{s}': expected a tolerance of 0% or more"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerances_read_as_percent_or_share() {
        assert_eq!(parse_tolerance("10%"), Ok(0.1));
        assert_eq!(parse_tolerance("0.25"), Ok(0.25));
        assert_eq!(parse_tolerance("0%"), Ok(0.0));
        assert!(parse_tolerance("10").unwrap_err().contains("10%"));
        assert!(parse_tolerance("-5%").is_err());
        assert!(parse_tolerance("ten").is_err());
    }
}
