//! The `generate` command. (Stub: to be written.)

use std::io::Write;

use crate::error::{CommandError, UsageError};

#[derive(Debug, Clone, clap::Args)]
pub struct GenerateArgs {}

pub fn run(args: &GenerateArgs, out: &mut dyn Write) -> Result<u8, CommandError> {
    let _ = (args, out);
    Err(UsageError::new("generate is not available yet").into())
}
