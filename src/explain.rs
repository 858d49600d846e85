//! The `explain` command. (Stub: to be written.)

use std::io::Write;

use crate::error::{CommandError, UsageError};

#[derive(Debug, Clone, clap::Args)]
pub struct ExplainArgs {
    /// The error message (standard input when absent or `-`).
    pub message: Option<String>,
}

pub fn run(args: &ExplainArgs, out: &mut dyn Write) -> Result<u8, CommandError> {
    let _ = (args, out);
    Err(UsageError::new("explain is not available yet").into())
}
