//! The errors that end a run before any check is judged: bad usage or unusable input
//! (exit 2). Findings about the attachment are never errors; they are check results.

use std::path::Path;

/// Bad usage or unusable input. The message is one line and names the file, and for JSON or
/// TOML the line and column, so the user can fix it without a debugger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl UsageError {
    pub fn new(message: impl Into<String>) -> Self {
        UsageError(message.into())
    }
}

/// Why a command stopped: bad usage or input (exit 2), or the output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Usage(#[from] UsageError),
    #[error("cannot write the output: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads a text file (or standard input for `-`), with an error that names the path.
pub fn read_input(path: &Path) -> Result<String, UsageError> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| UsageError(format!("cannot read standard input: {e}")))?;
        return Ok(text);
    }
    std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("cannot read {}: {}", path.display(), io_reason(&e))))
}

/// A short, lower-case reason for an I/O error ("no such file or directory").
pub fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    // std appends " (os error N)"; users do not need it.
    let text = match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().collect::<String>() + chars.as_str(),
        None => text,
    }
}

/// The largest policy document AWS stores is a 32 KB key policy; anything far beyond is not a
/// policy someone can have, and judging it would only take long.
pub const MAX_POLICY_BYTES: usize = 1024 * 1024;

/// Reads and parses a policy file; errors name the file, line and column.
pub fn load_policy(path: &Path) -> Result<crate::policy::NamedPolicy, UsageError> {
    load_policy_text(path, &read_input(path)?)
}

/// Parses a policy read from `path`; errors name the file, line and column.
pub fn load_policy_text(path: &Path, text: &str) -> Result<crate::policy::NamedPolicy, UsageError> {
    if text.len() > MAX_POLICY_BYTES {
        return Err(UsageError(format!(
            "{}: {} bytes is not a policy document (AWS's largest, a key policy, is 32 KB)",
            path.display(),
            text.len()
        )));
    }
    let document = crate::policy::parse_policy(text).map_err(|e| {
        UsageError(format!(
            "{}:{}:{}: {}",
            path.display(),
            e.line,
            e.column,
            e.message
        ))
    })?;
    Ok(crate::policy::NamedPolicy {
        label: path.display().to_string(),
        document,
    })
}
