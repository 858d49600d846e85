//! The read-only IAM policy the tool itself needs in live mode, for a security team to grant:
//! scoped to one attachment's bucket, key and role when they are given, else to any.
//! It lists exactly the operations `gather::live` calls (a test keeps the two in step).

use serde_json::{Value, json};

use crate::checks::Values;
use crate::checks::input_values::KmsKeyRef;

/// The IAM actions behind every AWS operation live mode calls, by operation.
pub const OPERATIONS: &[(&str, &str)] = &[
    ("sts:GetCallerIdentity", "sts:GetCallerIdentity"),
    ("s3:HeadBucket", "s3:ListBucket"),
    ("s3:GetBucketLocation", "s3:GetBucketLocation"),
    ("s3:GetBucketEncryption", "s3:GetEncryptionConfiguration"),
    ("s3:GetBucketPolicy", "s3:GetBucketPolicy"),
    ("s3:GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
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

/// The policy document. `values` scopes resources to one attachment where they are known.
pub fn policy(values: Option<&Values>) -> Value {
    let partition = values
        .and_then(|v| v.partition.clone())
        .unwrap_or_else(|| "aws".to_string());
    let bucket = values
        .and_then(|v| v.bucket.clone())
        .map_or(format!("arn:{partition}:s3:::*"), |b| {
            format!("arn:{partition}:s3:::{b}")
        });
    let key = match values.and_then(|v| v.key.as_ref()) {
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
    json!({
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
                "Resource": bucket
            },
            {
                "Sid": "AocPreflightKey",
                "Effect": "Allow",
                "Action": ["kms:DescribeKey", "kms:GetKeyPolicy"],
                "Resource": key
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::attachment;

    #[test]
    fn every_operation_called_is_granted_and_nothing_else() {
        let doc = policy(None);
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
        let live = include_str!("gather/live.rs");
        for (operation, _) in OPERATIONS {
            assert!(
                live.contains(&format!("\"{operation}\"")),
                "{operation} not called"
            );
        }
    }

    #[test]
    fn scoped_to_the_attachment() {
        let values = Values::from_attachment(&attachment());
        let text = policy(Some(&values)).to_string();
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
