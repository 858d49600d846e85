//! The read-only IAM policy the tool itself needs in live mode, for a security team to grant:
//! scoped to one attachment's bucket, key and role when they are given, else to any.
//! It lists exactly the operations `gather::live` declares it calls, and `--probe` adds those
//! `gather::probe` declares (tests keep the lists in step; the gather code can only call an
//! operation it declared).

use serde_json::{Value, json};

use crate::cli::{AttachmentArgs, PermissionsArgs};
use crate::error::UsageError;
use crate::model::Values;
use crate::model::attachment::Attachment;
use crate::model::values::KmsKeyRef;

/// The IAM actions behind every AWS operation live mode calls, by operation.
pub const OPERATIONS: &[(&str, &str)] = &[
    ("sts:GetCallerIdentity", "sts:GetCallerIdentity"),
    ("s3:HeadBucket", "s3:ListBucket"),
    ("s3:GetBucketLocation", "s3:GetBucketLocation"),
    ("s3:GetBucketEncryption", "s3:GetEncryptionConfiguration"),
    ("s3:GetBucketPolicy", "s3:GetBucketPolicy"),
    ("s3:GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
    ("s3:ListBuckets", "s3:ListAllMyBuckets"),
    ("kms:DescribeKey", "kms:DescribeKey"),
    ("kms:ListAliases", "kms:ListAliases"),
    ("kms:GetKeyPolicy", "kms:GetKeyPolicy"),
    ("iam:GetRole", "iam:GetRole"),
    ("iam:ListRolePolicies", "iam:ListRolePolicies"),
    ("iam:GetRolePolicy", "iam:GetRolePolicy"),
    (
        "iam:ListAttachedRolePolicies",
        "iam:ListAttachedRolePolicies",
    ),
    ("iam:GetPolicy", "iam:GetPolicy"),
    ("iam:GetPolicyVersion", "iam:GetPolicyVersion"),
    (
        "organizations:DescribeOrganization",
        "organizations:DescribeOrganization",
    ),
    ("organizations:ListRoots", "organizations:ListRoots"),
    ("organizations:ListParents", "organizations:ListParents"),
    (
        "organizations:DescribeOrganizationalUnit",
        "organizations:DescribeOrganizationalUnit",
    ),
    (
        "organizations:ListPoliciesForTarget",
        "organizations:ListPoliciesForTarget",
    ),
    (
        "organizations:DescribePolicy",
        "organizations:DescribePolicy",
    ),
];

/// The Organizations reads, for the organization's SCPs and RCPs (`org.policies`). AWS
/// answers them only in the management account or a delegated administrator
/// (`DescribeOrganization` in any member): they are needed there, by the credentials that
/// `org_profile` / `org_assume_role_arn` name, or by the tool's own when it runs there.
pub const ORGANIZATION_ACTIONS: &[&str] = &[
    "organizations:DescribeOrganization",
    "organizations:ListRoots",
    "organizations:ListParents",
    "organizations:DescribeOrganizationalUnit",
    "organizations:ListPoliciesForTarget",
    "organizations:DescribePolicy",
];

/// The IAM actions behind the write probe's operations (`--probe`), by operation.
pub const PROBE_OPERATIONS: &[(&str, &str)] = &[
    ("s3:PutObject", "s3:PutObject"),
    ("s3:GetObject", "s3:GetObject"),
    ("s3:CreateMultipartUpload", "s3:PutObject"),
    ("s3:UploadPart", "s3:PutObject"),
    ("s3:ListMultipartUploads", "s3:ListBucketMultipartUploads"),
    ("s3:AbortMultipartUpload", "s3:AbortMultipartUpload"),
    ("s3:DeleteObject", "s3:DeleteObject"),
];

/// What S3 asks KMS for on the caller's behalf when the probe writes and reads SSE-KMS objects:
/// the caller needs these on the key although the tool never calls KMS for them.
const PROBE_KEY_ACTIONS: &[&str] = &["kms:GenerateDataKey", "kms:Decrypt"];

/// The attachment `permissions` scopes the policy to: the config file's (one attachment, or
/// the one `--attachment` names) with the flags over it, else whichever flags were given;
/// `None` for a policy on any bucket, key and role.
pub fn scope(args: &PermissionsArgs) -> Result<Option<Values>, UsageError> {
    let Some(config) = &args.config else {
        return Ok(flag_values(&args.attachment_args));
    };
    let inputs = crate::spec::resolve(crate::spec::Sources {
        config: Some(config),
        attachment: args.attachment.as_deref(),
        flags: &args.attachment_args,
        documents: None,
        org: None,
    })?;
    match inputs.as_slice() {
        [one] => Ok(Some(Values::from_attachment(&one.attachment))),
        several => {
            let names: Vec<String> = several
                .iter()
                .enumerate()
                .map(|(i, input)| {
                    input
                        .attachment
                        .name
                        .clone()
                        .unwrap_or_else(|| format!("#{}", i + 1))
                })
                .collect();
            Err(UsageError(format!(
                "{}: {} attachments; the policy is scoped to one: give --attachment NAME ({})",
                config.display(),
                several.len(),
                names.join(", ")
            )))
        }
    }
}

/// The attachment's values for scoping `permissions`, from whichever flags were given.
fn flag_values(a: &AttachmentArgs) -> Option<Values> {
    if a.bucket.is_none() && a.kms_key.is_none() && a.role_arn.is_none() {
        return None;
    }
    let attachment = Attachment {
        region: a.region.clone().unwrap_or_default(),
        bucket: a.bucket.clone().unwrap_or_default(),
        kms_key: a.kms_key.clone().unwrap_or_default(),
        role_arn: a.role_arn.clone().unwrap_or_default(),
        path: a.path.clone().unwrap_or_else(|| "/".to_string()),
        ..Default::default()
    };
    Some(Values::from_attachment(&attachment))
}

/// The policy document. `values` scopes resources to one attachment where they are known;
/// `probe` adds what `--probe` needs to write, read and delete its own objects (and nothing
/// else) under the path.
pub fn policy(values: Option<&Values>, probe: bool) -> Value {
    let partition = values
        .and_then(|v| v.partition.clone())
        .unwrap_or_else(|| "aws".to_string());
    let bucket_arn = values
        .and_then(|v| v.bucket.clone())
        .map_or(format!("arn:{partition}:s3:::*"), |b| {
            format!("arn:{partition}:s3:::{b}")
        });
    let key_arn = match values.and_then(|v| v.key.as_ref()) {
        Some(KmsKeyRef::Key(arn)) => arn.to_string(),
        // An alias is resolved by the tool: any key of that account and region.
        Some(KmsKeyRef::Alias(arn)) => format!(
            "arn:{}:kms:{}:{}:key/*",
            arn.partition, arn.region, arn.account
        ),
        _ => format!("arn:{partition}:kms:*:*:key/*"),
    };
    let role = values
        .and_then(|v| v.role.as_ref())
        .map_or(format!("arn:{partition}:iam::*:role/*"), |r| r.to_string());
    let probe_objects = values
        .and_then(|v| Some((v.bucket.clone()?, v.prefix.clone()?)))
        .map_or(
            format!("arn:{partition}:s3:::*/*.aoc-preflight-probe-*"),
            |(b, p)| format!("arn:{partition}:s3:::{b}/{p}.aoc-preflight-probe-*"),
        );
    let mut doc = json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AocPreflightIdentity",
                "Effect": "Allow",
                "Action": "sts:GetCallerIdentity",
                "Resource": "*"
            },
            {
                "Sid": "AocPreflightBucket",
                "Effect": "Allow",
                "Action": [
                    "s3:ListBucket",
                    "s3:GetBucketLocation",
                    "s3:GetEncryptionConfiguration",
                    "s3:GetBucketPolicy",
                    "s3:GetBucketPublicAccessBlock"
                ],
                "Resource": bucket_arn.clone()
            },
            {
                // Only to suggest the name meant when the bucket does not exist; optional.
                // ListAllMyBuckets has no resource-level permissions.
                "Sid": "AocPreflightBucketList",
                "Effect": "Allow",
                "Action": "s3:ListAllMyBuckets",
                "Resource": "*"
            },
            {
                "Sid": "AocPreflightKey",
                "Effect": "Allow",
                "Action": ["kms:DescribeKey", "kms:GetKeyPolicy"],
                "Resource": key_arn.clone()
            },
            {
                // ListAliases has no resource-level permissions.
                "Sid": "AocPreflightAliases",
                "Effect": "Allow",
                "Action": "kms:ListAliases",
                "Resource": "*"
            },
            {
                "Sid": "AocPreflightRole",
                "Effect": "Allow",
                "Action": [
                    "iam:GetRole",
                    "iam:ListRolePolicies",
                    "iam:GetRolePolicy",
                    "iam:ListAttachedRolePolicies"
                ],
                "Resource": role
            },
            {
                // Attached policies may be AWS managed (arn:aws:iam::aws:policy/...).
                "Sid": "AocPreflightManagedPolicies",
                "Effect": "Allow",
                "Action": ["iam:GetPolicy", "iam:GetPolicyVersion"],
                "Resource": format!("arn:{partition}:iam::*:policy/*")
            },
            {
                // Only to read the SCPs and RCPs that apply (org.policies), and only of use
                // in the management account or a delegated administrator: grant it there to
                // the org_profile / org_assume_role_arn credentials. Elsewhere it is optional;
                // without it org.policies is skip. The organization, its roots, OUs and
                // policies have ARNs of the management account's, unknown here.
                "Sid": "AocPreflightOrgPoliciesInManagementAccount",
                "Effect": "Allow",
                "Action": ORGANIZATION_ACTIONS,
                "Resource": "*"
            }
        ]
    });
    if probe && let Some(list) = doc["Statement"].as_array_mut() {
        list.push(json!({
            "Sid": "AocPreflightProbeObjects",
            "Effect": "Allow",
            "Action": [
                "s3:PutObject",
                "s3:GetObject",
                "s3:DeleteObject",
                "s3:AbortMultipartUpload"
            ],
            "Resource": probe_objects
        }));
        list.push(json!({
            "Sid": "AocPreflightProbeUploads",
            "Effect": "Allow",
            "Action": "s3:ListBucketMultipartUploads",
            "Resource": bucket_arn
        }));
        list.push(json!({
            "Sid": "AocPreflightProbeKey",
            "Effect": "Allow",
            "Action": PROBE_KEY_ACTIONS,
            "Resource": key_arn
        }));
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::attachment;

    use std::collections::BTreeSet;

    /// Every action the policy grants, sorted, as often as it is granted.
    fn granted(doc: &Value) -> Vec<String> {
        let mut granted: Vec<String> = Vec::new();
        for st in doc["Statement"].as_array().unwrap() {
            match &st["Action"] {
                Value::String(a) => granted.push(a.clone()),
                Value::Array(list) => {
                    granted.extend(list.iter().filter_map(|a| a.as_str().map(str::to_string)))
                }
                _ => panic!("bad action in {st}"),
            }
        }
        granted.sort();
        granted
    }

    fn names(list: &[(&str, &str)]) -> BTreeSet<String> {
        list.iter().map(|(o, _)| o.to_string()).collect()
    }

    fn actions(list: &[(&str, &str)]) -> BTreeSet<String> {
        list.iter().map(|(_, a)| a.to_string()).collect()
    }

    /// The actions of a list, sorted, as often as they appear.
    fn all_actions(list: &[(&str, &str)]) -> Vec<String> {
        let mut actions: Vec<String> = list.iter().map(|(_, a)| a.to_string()).collect();
        actions.sort();
        actions
    }

    /// A list of operation names as a set, failing on a name listed twice.
    fn declared(list: Vec<&str>) -> BTreeSet<String> {
        let set: BTreeSet<String> = list.iter().map(|o| o.to_string()).collect();
        assert_eq!(
            set.len(),
            list.len(),
            "an operation is declared twice: {list:?}"
        );
        set
    }

    #[test]
    fn every_operation_called_is_granted_and_nothing_else() {
        let granted = granted(&policy(None, false));
        assert_eq!(granted, all_actions(OPERATIONS));
        // No write action ever.
        for a in &granted {
            let name = a.split(':').nth(1).unwrap();
            assert!(
                ["Get", "List", "Describe"]
                    .iter()
                    .any(|p| name.starts_with(p)),
                "{a} is not a read"
            );
        }
        // The live gather layer can call exactly these operations: each of its calls names an
        // operation its service module declared.
        assert_eq!(
            declared(crate::gather::live::operations()),
            names(OPERATIONS),
            "the operations live mode declares (left) are not the ones listed here (right)"
        );
        assert_eq!(names(OPERATIONS).len(), OPERATIONS.len());
    }

    #[test]
    fn the_organization_reads_are_one_statement_of_their_own() {
        let doc = policy(None, false);
        let statements = doc["Statement"].as_array().unwrap();
        let org: Vec<&Value> = statements
            .iter()
            .filter(|st| st.to_string().contains("organizations:"))
            .collect();
        assert_eq!(org.len(), 1, "{doc}");
        assert_eq!(
            org[0]["Sid"], "AocPreflightOrgPoliciesInManagementAccount",
            "{doc}"
        );
        let mut listed: Vec<String> = ORGANIZATION_ACTIONS.iter().map(|a| a.to_string()).collect();
        listed.sort();
        let mut declared: Vec<String> = OPERATIONS
            .iter()
            .filter(|(o, _)| o.starts_with("organizations:"))
            .map(|(_, a)| a.to_string())
            .collect();
        declared.sort();
        assert_eq!(listed, declared);
    }

    #[test]
    fn every_probe_operation_is_granted_with_probe_and_nothing_more() {
        assert_eq!(
            declared(crate::gather::probe::operations()),
            names(PROBE_OPERATIONS),
            "the operations the probe declares (left) are not the ones listed here (right)"
        );
        assert_eq!(names(PROBE_OPERATIONS).len(), PROBE_OPERATIONS.len());
        let mut needed = actions(OPERATIONS);
        needed.extend(actions(PROBE_OPERATIONS));
        needed.extend(PROBE_KEY_ACTIONS.iter().map(|a| a.to_string()));
        // Each once: several probe operations need the same action.
        assert_eq!(
            granted(&policy(None, true)),
            needed.into_iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn probe_adds_writes_on_its_own_objects_only() {
        let values = Values::from_attachment(&attachment());
        let doc = policy(Some(&values), true);
        let text = doc.to_string();
        assert!(
            text.contains("arn:aws:s3:::aspera-kms/.aoc-preflight-probe-*"),
            "{text}"
        );
        assert!(text.contains("s3:PutObject"));
        assert!(
            !policy(Some(&values), false)
                .to_string()
                .contains("s3:PutObject")
        );
    }

    #[test]
    fn scoped_to_the_attachment() {
        let values = Values::from_attachment(&attachment());
        let text = policy(Some(&values), false).to_string();
        assert!(text.contains("arn:aws:s3:::aspera-kms\""), "{text}");
        assert!(
            text.contains(crate::checks::test_support::KEY_ARN),
            "{text}"
        );
        assert!(text.contains("role/aoc-access"), "{text}");
        // The result is a policy our own engine parses.
        crate::policy::parse_policy(&text).unwrap();
    }
}
