//! Parsing policy JSON as AWS writes and returns it. (Stub: to be written.)

use super::PolicyDocument;

/// A document that is not a valid policy. `line`/`column` are 1-based and point into the
/// (decoded) JSON text when the JSON itself is invalid; structural errors (e.g. an `Effect`
/// that is neither `Allow` nor `Deny`) carry the JSON path in the message and the position
/// of the statement when known.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct PolicyParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parses a policy document. Accepts URL-encoded documents (as IAM's GetRole, GetRolePolicy
/// and GetPolicyVersion return them): text starting with `%7B` (any case) is percent-decoded
/// first; text starting with `{` is used as is.
pub fn parse_policy(text: &str) -> Result<PolicyDocument, PolicyParseError> {
    let _ = text;
    todo!()
}
