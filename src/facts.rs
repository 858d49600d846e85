//! What is known about the attachment's real state: plain data that the checks read. Filled
//! from files in offline mode (see [`crate::gather`]) and, later, from AWS in live mode.
//!
//! Each fact says how it was obtained, or why it is missing: not asked for in this mode
//! (the check is `skip`) or asked and refused (the check is `error`, naming what to do).

use serde::Serialize;

use crate::policy::NamedPolicy;

/// A fact, or why it is not known.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", content = "value", rename_all = "snake_case")]
pub enum Fact<T> {
    Known(T),
    /// Not available in this mode or not given; the text says what would provide it.
    Unavailable(String),
    /// Asked for and not obtained (AWS refused, timed out, ...); the text says what to do.
    Failed(String),
}

impl<T> Fact<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Fact::Known(v) => Some(v),
            _ => None,
        }
    }
}

impl<T> Default for Fact<T> {
    fn default() -> Self {
        Fact::Unavailable("not gathered".to_string())
    }
}

/// How the facts were obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Offline,
    Live,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Offline => "offline",
            Mode::Live => "live",
        }
    }
}

/// Everything the checks can be judged on.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facts {
    pub mode: Mode,
    /// The role's identity policies: inline and attached managed policies.
    pub identity_policies: Fact<Vec<NamedPolicy>>,
    /// The role's permissions boundary; `Known(None)` when the role has none.
    pub permissions_boundary: Fact<Option<NamedPolicy>>,
    /// The bucket policy; `Known(None)` when the bucket has none.
    pub bucket_policy: Fact<Option<NamedPolicy>>,
    pub key_policy: Fact<NamedPolicy>,
    /// The trust policy the role has in AWS now.
    pub role_trust_policy: Fact<NamedPolicy>,
    /// The bucket's real region (live mode).
    pub bucket_region: Fact<String>,
    /// The account that owns the bucket, when known.
    pub bucket_owner_account: Fact<String>,
    /// The key's metadata (live mode).
    pub key: Fact<KeyMetadata>,
}

/// What `kms:DescribeKey` says about the key.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KeyMetadata {
    pub arn: String,
    pub enabled: bool,
    pub key_state: String,
    pub key_usage: String,
    pub key_spec: String,
    pub key_manager: String,
}
