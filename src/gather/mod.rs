//! Gathering facts: all I/O of a check run lives here, so that the checks stay pure. Offline
//! mode reads the documents the user gave as files or in a Terraform plan
//! ([`terraform_plan`]); live mode ([`live`]) reads AWS; with `--probe`, [`probe`] also writes
//! and deletes a probe object of its own.

pub mod live;
pub mod probe;
pub mod terraform_plan;

use crate::error::{UsageError, load_policy, read_input};
use crate::model::attachment::{Attachment, OfflineDocuments};
use crate::model::facts::{Fact, Facts, Mode, OrgPolicies};
use crate::model::org_input;

/// Facts from policy files and a Terraform plan. A document given as a file wins over the
/// plan's: the file is what the user pointed at, to judge a change before it reaches
/// Terraform. Identity policies are a set, so files given add to the plan's (a file named
/// like one of the plan's policies stands in for that one only, see
/// [`terraform_plan::PlannedIdentity::with_files`]). A document given neither way makes the facts it would provide `Unavailable`,
/// naming the flag that provides it; a file or plan that cannot be read or parsed is a usage
/// error.
pub fn offline(docs: &OfflineDocuments, attachment: &Attachment) -> Result<Facts, UsageError> {
    let from_files = offline_files(docs, crate::arn::account_in(&attachment.role_arn))?;
    let Some(plan_path) = &docs.terraform_plan else {
        return Ok(from_files);
    };
    let text = read_input(plan_path)?;
    let plan = terraform_plan::parse(&text, &plan_path.display().to_string())?;
    let planned = terraform_plan::facts(&plan, attachment)?;
    Ok(Facts {
        identity_policies: match (planned.identity_policies, from_files.identity_policies) {
            (Fact::Known(planned), Fact::Known(files)) => planned.with_files(files),
            (Fact::Known(planned), Fact::Unavailable(_) | Fact::Failed(_)) => planned.alone(),
            // The plan has no such role: the files are all there is.
            (Fact::Unavailable(why), Fact::Unavailable(_)) => Fact::Unavailable(why),
            (Fact::Unavailable(_), files) => files,
            // A plan is read whole or refused: nothing of it fails like an AWS call.
            (Fact::Failed(failure), _) => Fact::Failed(failure),
        },
        permissions_boundary: file_or_plan(
            docs.permissions_boundary.is_some(),
            from_files.permissions_boundary,
            planned.permissions_boundary,
        ),
        bucket_policy: file_or_plan(
            docs.bucket_policy.is_some(),
            from_files.bucket_policy,
            planned.bucket_policy,
        ),
        key_policy: file_or_plan(
            docs.key_policy.is_some(),
            from_files.key_policy,
            planned.key_policy,
        ),
        role_trust_policy: file_or_plan(
            docs.role_trust_policy.is_some(),
            from_files.role_trust_policy,
            planned.role_trust_policy,
        ),
        bucket_encryption: planned.bucket_encryption,
        key: planned.key,
        key_aliases: planned.key_aliases,
        ..from_files
    })
}

fn file_or_plan<T>(given_as_file: bool, file: Fact<T>, plan: Fact<T>) -> Fact<T> {
    if given_as_file { file } else { plan }
}

/// Facts from the policy files alone. `role_account` is the account the organization's levels
/// lead to.
fn offline_files(docs: &OfflineDocuments, role_account: Option<&str>) -> Result<Facts, UsageError> {
    let identity_policies = if docs.identity_policies.is_empty() {
        Fact::Unavailable(
            "no identity policy given (offline: pass the role's policies with --identity-policy FILE)"
                .to_string(),
        )
    } else {
        Fact::Known(
            docs.identity_policies
                .iter()
                .map(|p| load_policy(p))
                .collect::<Result<Vec<_>, _>>()?,
        )
    };
    // Offline, a role described by its identity policies and no boundary file is judged as
    // having no boundary: that is what the user told us.
    let permissions_boundary = match &docs.permissions_boundary {
        Some(p) => Fact::Known(Some(load_policy(p)?)),
        None => Fact::Known(None),
    };
    let bucket_policy = match &docs.bucket_policy {
        Some(p) => Fact::Known(Some(load_policy(p)?)),
        None => Fact::Unavailable(
            "no bucket policy given (offline: pass it with --bucket-policy FILE)".to_string(),
        ),
    };
    let key_policy = match &docs.key_policy {
        Some(p) => Fact::Known(load_policy(p)?),
        None => Fact::Unavailable(
            "no key policy given (offline: pass it with --key-policy FILE)".to_string(),
        ),
    };
    let role_trust_policy = match &docs.role_trust_policy {
        Some(p) => Fact::Known(load_policy(p)?),
        None => Fact::Unavailable(
            "the role's current trust policy was not given (offline: pass it with --role-trust-policy FILE)"
                .to_string(),
        ),
    };
    const LIVE_ONLY: &str = "read from AWS in live mode only";
    // Offline, S3 cannot say who owns the bucket: the user's word, else not known (and the
    // checks assume the role's account, saying so). Never the key's account: a key in another
    // account than the bucket is a documented setup.
    let bucket_owner_account = match &docs.bucket_account {
        Some(a) => Fact::Known(a.clone()),
        None => Fact::Unavailable(
            "not given (offline: pass --bucket-account ACCOUNT_ID or set `bucket_account`)".into(),
        ),
    };
    Ok(Facts {
        mode: Mode::Offline,
        identity_policies,
        permissions_boundary,
        bucket_policy,
        key_policy,
        role_trust_policy,
        caller: Fact::Unavailable(LIVE_ONLY.into()),
        bucket_head: Fact::Unavailable(LIVE_ONLY.into()),
        bucket_region: Fact::Unavailable(LIVE_ONLY.into()),
        bucket_owner_account,
        bucket_not_owned_by: Vec::new(),
        caller_buckets: Fact::Unavailable(LIVE_ONLY.into()),
        bucket_encryption: Fact::Unavailable(LIVE_ONLY.into()),
        public_access_block: Fact::Unavailable(LIVE_ONLY.into()),
        key: Fact::Unavailable(LIVE_ONLY.into()),
        key_aliases: Fact::Unavailable(LIVE_ONLY.into()),
        role: Fact::Unavailable(LIVE_ONLY.into()),
        organization: offline_organization(docs, role_account)?,
        probe: Fact::Unavailable("the write probe runs in live mode with --probe only".into()),
        calls: Vec::new(),
    })
}

/// The organization from the SCP and RCP files given, at their levels.
fn offline_organization(
    docs: &OfflineDocuments,
    role_account: Option<&str>,
) -> Result<Fact<Option<OrgPolicies>>, UsageError> {
    if docs.scps.is_empty() && docs.rcps.is_empty() {
        return Ok(Fact::Unavailable(format!(
            "offline, give them with --scp {SYNTAX_SHORT} and --rcp {SYNTAX_SHORT} (LEVEL: root, the default; ou:PATH, e.g. ou:Sales/Prod; or account), and --org-management-account ID"
        )));
    }
    let Some(account) = role_account else {
        return Ok(Fact::Unavailable(
            "the role ARN is malformed, so the account the organization's levels lead to is not known".into(),
        ));
    };
    let org = org_input::organization(
        account,
        docs.org_management_account.as_deref(),
        &docs.scps,
        &docs.rcps,
        load_policy,
        UsageError::new,
    )?;
    Ok(Fact::Known(org))
}

const SYNTAX_SHORT: &str = "[LEVEL=]FILE";
