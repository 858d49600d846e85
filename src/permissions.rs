//! The read-only IAM policy the tool itself needs in live mode, for a security team to grant:
//! scoped to one attachment's bucket, key and role when they are given, else to any.
//! It lists exactly the operations `gather::live` calls (a test keeps the two in step).

use serde_json::{Value, json};

use crate::model::Values;
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
];

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
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": key_arn
        }));
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::attachment;

    #[test]
    fn every_operation_called_is_granted_and_nothing_else() {
        let doc = policy(None, false);
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
        let mut needed: Vec<String> = OPERATIONS.iter().map(|(_, a)| a.to_string()).collect();
        granted.sort();
        needed.sort();
        assert_eq!(granted, needed);
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
        // The live gather layer calls exactly these operations.
        let live = [
            include_str!("gather/live/session.rs"),
            include_str!("gather/live/s3.rs"),
            include_str!("gather/live/kms.rs"),
            include_str!("gather/live/iam.rs"),
        ]
        .concat();
        for (operation, _) in OPERATIONS {
            assert!(
                live.contains(&format!("\"{operation}\"")),
                "{operation} not called"
            );
        }
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
