//! The per-tool and per-operation rows of the text report: each part's calls and latency, and
//! whether the limits set on it held (the check lines below the report say which and by how
//! much).
use std::fmt::Write;

use zen_model::report::verdict::limits::tool_scope;
use zen_model::report::{Report, ToolReport};

/// One row per tool when there are several or one has limits, and one per operation when the
/// run made others than tools/call or one has limits.
pub(super) fn rows(w: &mut String, r: &Report) {
    let limits = &r.thresholds;
    if r.tools.len() > 1 || !limits.tools.is_empty() {
        for (name, part) in &r.tools {
            let head = format!("tool {name:<10}");
            row(w, &head, part, &tool_scope(name), r);
        }
    }
    let other_ops = r.operations.keys().any(|op| op != "tools/call");
    if other_ops || !limits.operations.is_empty() {
        for (op, part) in &r.operations {
            let head = format!("op   {op:<19}");
            row(w, &head, part, op, r);
        }
    }
}

fn row(w: &mut String, head: &str, part: &ToolReport, scope: &str, r: &Report) {
    let mut checks = (r.verdict.checks.iter()).filter(|c| c.scope.as_deref() == Some(scope));
    let held = match checks.next() {
        None => "",
        Some(first) if first.ok && checks.all(|c| c.ok) => "; limits ok",
        Some(_) => "; limits FAIL",
    };
    let _ = writeln!(
        w,
        "  {head} {} ok, {} failed; p50 {:.1} ms  p99 {:.1} ms{held}",
        part.ok, part.failed, part.latency.p50_ms, part.latency.p99_ms
    );
}
