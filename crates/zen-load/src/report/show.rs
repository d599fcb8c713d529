//! `zen report show`: the text report again, by the same renderer `zen stress` prints with.
use zen_model::report::Report;

/// The text report of a JSON report, exactly as the run printed it.
pub fn text(report: &Report) -> String {
    super::render::render(report)
}
