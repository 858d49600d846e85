//! One attachment as the admin entered it (what AoC asked for, and what AoC showed), the
//! documents that stand for AWS offline, and whose credentials read its account live. Plain
//! data, unvalidated: [`super::values`] types and checks the values.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::policy::NamedPolicy;

/// One attachment as the admin entered it. Values are kept as written, unvalidated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// A name for the attachment (from the config file), used in fleet reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub region: String,
    pub bucket: String,
    /// The bucket path entered in AoC; `/` when none was given.
    pub path: String,
    pub kms_key: String,
    pub role_arn: String,
    /// What AoC expects the role's trust policy to allow.
    #[serde(default, skip_serializing_if = "AocTrust::is_empty")]
    pub aoc_trust: AocTrust,
}

/// AoC's side of the trust relationship: the JSON copied from the AoC page, and/or the
/// external ID and principal. Explicit values win over those read from the JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AocTrust {
    /// The trust policy JSON pasted from AoC, if given.
    #[serde(skip)]
    pub policy: Option<NamedPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aoc_principal: Option<String>,
}

impl AocTrust {
    pub fn is_empty(&self) -> bool {
        self.policy.is_none() && self.external_id.is_none() && self.aoc_principal.is_none()
    }
}

/// Policy documents given as files for offline mode (per attachment in a config file, or
/// from flags).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OfflineDocuments {
    pub identity_policies: Vec<PathBuf>,
    pub permissions_boundary: Option<PathBuf>,
    pub bucket_policy: Option<PathBuf>,
    pub key_policy: Option<PathBuf>,
    pub role_trust_policy: Option<PathBuf>,
    /// A Terraform plan as JSON (`terraform show -json PLANFILE`): the documents above that are
    /// not given as files are taken from it, and the bucket's encryption and the key's aliases.
    pub terraform_plan: Option<PathBuf>,
    /// The account that owns the bucket, when the user gave it (`--bucket-account`,
    /// `bucket_account`); offline, S3 cannot be asked.
    pub bucket_account: Option<String>,
    /// The organization's SCPs and RCPs, each at its level (`--scp`/`--rcp [LEVEL=]FILE`,
    /// `scps`/`rcps`; see [`super::org_input`]).
    pub scps: Vec<super::org_input::OrgPolicyFile>,
    pub rcps: Vec<super::org_input::OrgPolicyFile>,
    /// The organization's management account (`--org-management-account`,
    /// `org_management_account`): SCPs and RCPs do not apply to it.
    pub org_management_account: Option<String>,
}

/// An attachment together with the offline documents that belong to it and the credentials
/// that read its account in live mode.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttachmentInput {
    pub attachment: Attachment,
    pub documents: OfflineDocuments,
    pub access: Access,
    /// The attachment's `[[attachment]]` table in the config file (its `[defaults]`, or line
    /// 1, for a file without one), when it came from one: where a finding no statement holds
    /// points.
    pub config_entry: Option<super::verdict::Location>,
    /// Check IDs the config file requires for this attachment (`require`, its own and
    /// `[defaults]`'s).
    pub required: Vec<String>,
    /// The credentials that read the organization's SCPs and RCPs (`org_profile`,
    /// `org_assume_role_arn`): the management account's or a delegated administrator's.
    /// `None`: the attachment's own, which can read them only from such an account.
    pub org_access: Option<Access>,
    /// What reading the input did that the admin should know (text set aside around the
    /// trust policy JSON); the report shows them.
    pub notes: Vec<String>,
}

/// Whose credentials read an attachment's account: the default chain or a named profile,
/// optionally through an audit role assumed with `sts:AssumeRole`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Access {
    pub profile: Option<String>,
    pub assume_role_arn: Option<String>,
    pub assume_role_external_id: Option<String>,
}
