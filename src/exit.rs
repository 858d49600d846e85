//! The process's exit codes, in one place (docs/contract.md, "Statuses and exit codes"): CI
//! pipelines branch on them, so each has one meaning and one name.

/// How a run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// No check failed (warnings allowed, unless `--fail-on warn`); or a command that judges
    /// nothing did its job.
    Success,
    /// At least one check failed (or warned, with `--fail-on warn`).
    Failed,
    /// Bad usage or unusable input: a missing value, an unreadable file, JSON or TOML that does
    /// not parse, an unknown check ID or config key; also an output that cannot be written.
    Usage,
    /// Nothing failed, but some check could not be determined.
    Undetermined,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::Undetermined => 3,
        }
    }

    /// The code's name in the reports (`outcome`, next to `exit_code`), as in the contract's
    /// table: `pass`, `broken`, `usage`, `undetermined`.
    pub fn outcome(self) -> &'static str {
        match self {
            Exit::Success => "pass",
            Exit::Failed => "broken",
            Exit::Usage => "usage",
            Exit::Undetermined => "undetermined",
        }
    }
}

/// In JSON (explain's `run.exit_code`), the number.
impl serde::Serialize for Exit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codes_are_the_contract() {
        assert_eq!(
            [Exit::Success, Exit::Failed, Exit::Usage, Exit::Undetermined].map(Exit::code),
            [0, 1, 2, 3]
        );
        assert_eq!(
            [Exit::Success, Exit::Failed, Exit::Usage, Exit::Undetermined].map(Exit::outcome),
            ["pass", "broken", "usage", "undetermined"]
        );
    }
}
