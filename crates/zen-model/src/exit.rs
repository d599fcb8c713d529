//! How a command ended, and so the process exit code. A leaf: imports nothing of zen's.

/// How a command ended when it did not fail outright (errors are exit code 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitOutcome {
    /// The command did its job and any verdict passed.
    Success,
    /// A stress threshold or soak verdict failed (exit 1).
    VerdictFailed,
    /// A soak could not reach a verdict (too few samples, too short): exit 2, never a pass.
    Inconclusive,
    /// A run that did not run its course (stopped early, or its target died): exit 2.
    Incomplete,
}

impl ExitOutcome {
    /// The process exit code for this outcome.
    pub fn exit_code(self) -> u8 {
        match self {
            ExitOutcome::Success => 0,
            ExitOutcome::VerdictFailed => 1,
            ExitOutcome::Inconclusive | ExitOutcome::Incomplete => 2,
        }
    }
}
