//! What is known about the attachment's real state: plain data that the checks read. Filled
//! from files in offline mode and from AWS in live mode (see [`crate::gather`]).
//!
//! Each fact says how it was obtained, or why it is missing: not asked for in this mode
//! (the check is `skip`) or asked and refused (the check is `error`, naming what to do).

use serde::{Deserialize, Serialize};

use crate::policy::NamedPolicy;

/// A fact, or why it is not known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", content = "value", rename_all = "snake_case")]
pub enum Fact<T> {
    Known(T),
    /// Not available in this mode or not given; the text says what would provide it.
    Unavailable(String),
    /// Asked for and not obtained (AWS refused, timed out, ...): what kind of failure, and
    /// what to do.
    Failed(Failure),
}

impl<T> Fact<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Fact::Known(v) => Some(v),
            _ => None,
        }
    }

    pub fn failed(kind: FailureKind, message: impl Into<String>) -> Self {
        Fact::Failed(Failure::new(kind, message))
    }
}

/// Why a fact that was asked for is not known. The kind lets a check or the report tell a
/// setup problem (credentials) from a refusal or the network without reading the message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "FailureForm")]
pub struct Failure {
    pub kind: FailureKind,
    /// What happened and what to do, for the report.
    pub message: String,
}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
        }
    }
}

/// How the start of a credentials failure's message reads. Bundles saved before failures had
/// a kind held only the message: one starting with this is read back as `Credentials`.
pub const CREDENTIALS_PROBLEM: &str = "credentials rejected or missing";

/// What kind of failure kept a fact from being known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The tool's credentials: none found, or AWS rejected them (unknown key, bad signature).
    Credentials,
    /// The tool's credentials have expired (a session token, an SSO login).
    ExpiredCredentials,
    /// AWS refused the call to the tool (HTTP 403, `AccessDenied`).
    AccessDenied,
    /// No answer in time, or not sent because the overall time limit had passed.
    Timeout,
    /// The request could not be sent: DNS, connection refused, TLS, a wrong endpoint.
    Network,
    /// Something answered, but not as AWS does (an error status without an AWS error: a
    /// wrong path or port in the endpoint URL, a web server or proxy in its place).
    Endpoint,
    /// AWS answered, but the answer could not be read (malformed or truncated).
    Unreadable,
    /// AWS answered with another error (throttling, an internal error, ...).
    Service,
    /// AWS's answer was read but cannot be used (a policy that does not parse, a field
    /// missing); also a kind this version does not know, read from a newer bundle.
    #[serde(other)]
    Other,
}

impl FailureKind {
    /// The tool's own credentials are the problem, not a permission or the network.
    pub fn is_credentials(self) -> bool {
        matches!(
            self,
            FailureKind::Credentials | FailureKind::ExpiredCredentials
        )
    }
}

/// The forms a failure is read in: with its kind, or the bare message of older bundles.
#[derive(Deserialize)]
#[serde(untagged)]
enum FailureForm {
    Typed { kind: FailureKind, message: String },
    Message(String),
}

impl From<FailureForm> for Failure {
    fn from(form: FailureForm) -> Self {
        match form {
            FailureForm::Typed { kind, message } => Failure { kind, message },
            FailureForm::Message(message) => Failure {
                kind: if message.starts_with(CREDENTIALS_PROBLEM) {
                    FailureKind::Credentials
                } else {
                    FailureKind::Other
                },
                message,
            },
        }
    }
}

impl<T> Default for Fact<T> {
    fn default() -> Self {
        Fact::Unavailable("not gathered".to_string())
    }
}

/// How the facts were obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub mode: Mode,
    /// Who the tool runs as (`sts:GetCallerIdentity`).
    pub caller: Fact<CallerIdentity>,
    /// What `s3:HeadBucket` answered.
    pub bucket_head: Fact<BucketHead>,
    /// The bucket's real region (`x-amz-bucket-region`, or `GetBucketLocation` normalized:
    /// empty is `us-east-1`, `EU` is `eu-west-1`).
    pub bucket_region: Fact<String>,
    /// The account that owns the bucket, when known (live: established with
    /// `ExpectedBucketOwner`; offline: given with `--bucket-account`).
    pub bucket_owner_account: Fact<String>,
    /// Accounts known not to own the bucket (live: `ExpectedBucketOwner` answered 403).
    #[serde(default)]
    pub bucket_not_owned_by: Vec<String>,
    /// The buckets the tool's caller may list (`s3:ListBuckets`), read only when the bucket
    /// does not exist, to suggest the name meant.
    #[serde(default)]
    pub caller_buckets: Fact<Vec<String>>,
    /// Default encryption; `Known(None)` when the bucket has no configuration.
    pub bucket_encryption: Fact<Option<BucketEncryption>>,
    /// Bucket-level Block Public Access; `Known(None)` when none is set.
    pub public_access_block: Fact<Option<PublicAccessBlock>>,
    /// The bucket policy; `Known(None)` when the bucket has none.
    pub bucket_policy: Fact<Option<NamedPolicy>>,
    /// `kms:DescribeKey` of the key as entered (a key ARN or an alias ARN); `Known(None)` when
    /// KMS says it does not exist.
    pub key: Fact<Option<KeyMetadata>>,
    /// The aliases that point at the key (`kms:ListAliases` with the key ID).
    pub key_aliases: Fact<Vec<String>>,
    pub key_policy: Fact<NamedPolicy>,
    /// `iam:GetRole`; `Known(None)` when the role does not exist.
    pub role: Fact<Option<RoleInfo>>,
    /// The role's identity policies: inline and attached managed policies.
    pub identity_policies: Fact<Vec<NamedPolicy>>,
    /// The role's permissions boundary; `Known(None)` when the role has none.
    pub permissions_boundary: Fact<Option<NamedPolicy>>,
    /// The trust policy the role has in AWS now.
    pub role_trust_policy: Fact<NamedPolicy>,
    /// The AWS Organizations policies (SCPs and RCPs) that apply to the role's account;
    /// `Known(None)` when the account is in no organization.
    #[serde(default)]
    pub organization: Fact<Option<OrgPolicies>>,
    /// The write probe's outcome (`--probe` only).
    pub probe: Fact<ProbeOutcome>,
    /// The AWS calls made, in order, with what they answered (evidence; empty offline).
    pub calls: Vec<CallRecord>,
}

/// The organization policies that apply to one account: service control policies (SCPs),
/// which limit what principals of the account may do, and resource control policies (RCPs),
/// which limit what anyone may do to its resources; at each level from the root down to the
/// account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrgPolicies {
    /// The organization's ID (`o-...`), when known: it decides `aws:PrincipalOrgID` and
    /// `aws:ResourceOrgID` conditions for the account's principals and resources.
    #[serde(default)]
    pub id: Option<String>,
    /// The organization's management account (`o-...`'s master): SCPs do not apply to its
    /// principals, nor RCPs to its resources. `None` when it could not be learned.
    pub management_account: Option<String>,
    /// The account the levels lead to.
    pub account: String,
    /// Whether the policy types are enabled in the organization (on the root): a type that is
    /// not enabled applies to nobody.
    pub scps_enabled: bool,
    pub rcps_enabled: bool,
    /// The root first, then each organizational unit down, then the account itself.
    pub levels: Vec<OrgLevel>,
}

/// One level of the organization and the policies attached to it directly.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrgLevel {
    pub kind: OrgLevelKind,
    /// `r-...`, `ou-...` or the account ID.
    pub id: String,
    /// The root's, OU's or account's name; the ID when the name is not known.
    pub name: String,
    pub scps: Vec<OrgPolicy>,
    pub rcps: Vec<OrgPolicy>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgLevelKind {
    #[default]
    Root,
    OrganizationalUnit,
    Account,
}

/// An SCP or RCP: its Organizations ID and name, and its document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgPolicy {
    /// `p-...` (`p-FullAWSAccess`, `p-RCPFullAWSAccess` for AWS's own).
    pub id: String,
    pub name: String,
    /// Whether AWS manages it (FullAWSAccess, RCPFullAWSAccess).
    #[serde(default)]
    pub aws_managed: bool,
    pub policy: NamedPolicy,
}

/// What the end-to-end write probe did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeOutcome {
    /// The probe object's key (`<path>.aoc-preflight-probe-<random>`).
    pub object_key: String,
    /// Each step in order, up to the first that failed.
    pub steps: Vec<ProbeStep>,
    /// What the probe could not clean up (normally empty): object keys or upload IDs.
    pub left_behind: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeStep {
    /// `PutObject (SSE-KMS)`, `GetObject`, ...
    pub step: String,
    pub ok: bool,
    /// What AWS answered.
    pub detail: String,
}

/// The identity the tool runs as.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    /// Where the credentials came from (`environment`, `profile NAME`, ...).
    pub credential_source: String,
}

/// What HeadBucket said.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BucketHead {
    /// HTTP status: 200 exists and readable, 403 exists but refused, 404 no such bucket, 301
    /// exists in another region than the request's.
    pub status: u16,
    /// `x-amz-bucket-region`, which S3 sends even with a 403.
    pub region: Option<String>,
}

/// A bucket's default encryption rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BucketEncryption {
    /// `aws:kms`, `aws:kms:dsse` or `AES256`.
    pub algorithm: String,
    /// As configured: a key ARN, key ID, alias name or alias ARN; `None` for the AWS managed
    /// key `aws/s3`.
    pub kms_key_id: Option<String>,
    pub bucket_key_enabled: bool,
}

/// Bucket-level Block Public Access settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

/// What `kms:DescribeKey` says about the key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyMetadata {
    /// The key ARN (also when the key was looked up by alias).
    pub arn: String,
    pub key_id: String,
    pub enabled: bool,
    /// `Enabled`, `Disabled`, `PendingDeletion`, `PendingImport`, `Unavailable`, ...
    pub key_state: String,
    /// `ENCRYPT_DECRYPT`, `SIGN_VERIFY`, ... (empty when KMS did not say).
    pub key_usage: String,
    /// `SYMMETRIC_DEFAULT`, `RSA_2048`, ...
    pub key_spec: String,
    /// `CUSTOMER` or `AWS`.
    pub key_manager: String,
    /// RFC 3339, when the key is pending deletion.
    pub deletion_date: Option<String>,
}

/// What `iam:GetRole` says about the role.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoleInfo {
    pub arn: String,
    pub role_id: String,
    /// The permissions boundary policy's ARN, if any.
    pub permissions_boundary_arn: Option<String>,
}

/// One AWS call and its outcome, for evidence and for counting calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// `s3:HeadBucket`, `kms:DescribeKey`, ...
    pub operation: String,
    /// What it was asked about (bucket name, key ARN, role name, ...).
    pub target: String,
    /// `ok`, or the error code / message.
    pub outcome: String,
    /// The call's place in its chain of calls that wait on each other (1: waits on none).
    pub depth: u32,
    pub millis: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_keeps_its_kind_through_json_and_old_bare_messages_are_read() {
        let fact: Fact<String> = Fact::failed(FailureKind::AccessDenied, "the tool needs x");
        let json = serde_json::to_value(&fact).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "state": "failed",
                "value": {"kind": "access_denied", "message": "the tool needs x"}
            })
        );
        assert_eq!(serde_json::from_value::<Fact<String>>(json).unwrap(), fact);
        // Bundles saved before failures had a kind.
        let old = |text: &str| {
            serde_json::from_value::<Fact<String>>(
                serde_json::json!({"state": "failed", "value": text}),
            )
            .unwrap()
        };
        assert_eq!(
            old("timed out"),
            Fact::failed(FailureKind::Other, "timed out")
        );
        let creds = format!("{CREDENTIALS_PROBLEM}: no credentials in chain");
        assert_eq!(old(&creds), Fact::failed(FailureKind::Credentials, creds));
        // A kind from a newer version.
        let newer: Fact<String> = serde_json::from_value(serde_json::json!(
            {"state": "failed", "value": {"kind": "quota", "message": "m"}}
        ))
        .unwrap();
        assert_eq!(newer, Fact::failed(FailureKind::Other, "m"));
    }
}
