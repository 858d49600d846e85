//! `bucket.encryption`: the bucket's default encryption is SSE-KMS with the key entered in
//! AoC, so that objects written by other tools are encrypted alike; and, with S3 Bucket Keys
//! on, no policy conditions on the object ARN as encryption context (with a bucket key, KMS
//! sees the bucket ARN instead: S3 User Guide, "Reducing the cost of SSE-KMS with Amazon S3
//! Bucket Keys"). Live mode only.

use super::{CheckDef, Finding, Input};
use crate::facts::Fact;
use crate::policy::NamedPolicy;

pub const DEF: CheckDef = CheckDef {
    id: "bucket.encryption",
    reasons: &[
        "ok",
        "no-default",
        "not-kms",
        "aws-managed-key",
        "other-key",
        "bucket-key-context",
    ],
    run,
};

fn run(input: &Input<'_>) -> Vec<Finding> {
    let Some(bucket) = input.values.bucket.as_deref() else {
        return vec![Finding::skip_needs("a well-formed bucket name")];
    };
    if let Some(skip) = super::bucket_reachable::skip_if_missing(input) {
        return vec![skip];
    }
    let enc = match &input.facts.bucket_encryption {
        Fact::Known(Some(e)) => e,
        Fact::Known(None) => {
            return vec![
                Finding::warn("no-default")
                    .var("bucket", bucket)
                    .var("kms_key", &input.attachment.kms_key),
            ];
        }
        other => return Finding::from_missing_fact(other).into_iter().collect(),
    };
    let evidence = format!(
        "GetBucketEncryption {bucket}: {}{}, bucket key {}",
        enc.algorithm,
        enc.kms_key_id
            .as_ref()
            .map(|k| format!(" with key {k}"))
            .unwrap_or_default(),
        if enc.bucket_key_enabled {
            "enabled"
        } else {
            "disabled"
        }
    );
    let base = |f: Finding| {
        f.var("bucket", bucket)
            .var("kms_key", &input.attachment.kms_key)
            .evidence(evidence.clone())
    };
    if !enc.algorithm.starts_with("aws:kms") {
        return vec![base(
            Finding::warn("not-kms").var("algorithm", &enc.algorithm),
        )];
    }
    let Some(configured) = enc.kms_key_id.as_deref() else {
        return vec![base(Finding::warn("aws-managed-key"))];
    };
    let mut findings = Vec::new();
    // An alias that did not resolve leaves the AoC key unknown: no comparison to make
    // (kms.alias reports the alias).
    let key_unknown = matches!(input.facts.key, Fact::Known(None))
        && matches!(
            input.values.key,
            Some(super::input_values::KmsKeyRef::Alias(_))
        );
    // A configured alias can only be compared with the key's aliases: without them the
    // answer is unknown, not "another key".
    if !key_unknown
        && !names_the_key(configured, input)
        && configured.contains("alias/")
        && let Some(missing) = Finding::from_missing_fact(&input.facts.key_aliases)
    {
        return vec![missing];
    }
    if !key_unknown && !names_the_key(configured, input) {
        findings.push(base(
            Finding::warn("other-key").var("configured", configured),
        ));
    }
    if enc.bucket_key_enabled {
        let policies: Vec<&NamedPolicy> = input
            .facts
            .key_policy
            .known()
            .into_iter()
            .chain(input.facts.identity_policies.known().into_iter().flatten())
            .collect();
        for (label, condition) in object_context_conditions(&policies) {
            findings.push(
                Finding::warn("bucket-key-context")
                    .var("policy", &label)
                    .evidence(format!("{label}: condition {condition}")),
            );
        }
    }
    if findings.is_empty() {
        findings.push(base(Finding::pass("ok")));
    }
    findings
}

/// Whether the configured key ID (key ARN, key ID, alias name or alias ARN) is the AoC key.
fn names_the_key(configured: &str, input: &Input<'_>) -> bool {
    let mut names: Vec<String> = vec![input.attachment.kms_key.clone()];
    if let Some(Some(meta)) = input.facts.key.known() {
        names.push(meta.arn.clone());
        names.push(meta.key_id.clone());
    }
    if let Some(aliases) = input.facts.key_aliases.known() {
        for a in aliases {
            names.push(a.clone());
            if let Some(arn) = input.values.key.as_ref().and_then(|k| k.arn()) {
                names.push(format!(
                    "arn:{}:kms:{}:{}:{a}",
                    arn.partition, arn.region, arn.account
                ));
            }
        }
    }
    names.iter().any(|n| n == configured)
}

/// Conditions on `kms:EncryptionContext:aws:s3:arn` whose values name objects (`.../...`),
/// which a bucket key makes stop matching.
fn object_context_conditions(policies: &[&NamedPolicy]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in policies {
        for st in &p.document.statements {
            for c in &st.conditions {
                if c.key
                    .eq_ignore_ascii_case("kms:EncryptionContext:aws:s3:arn")
                    && c.values.iter().any(|v| {
                        v.strip_prefix("arn:")
                            .and_then(|rest| rest.split_once(":s3:::"))
                            .is_some_and(|(_, res)| res.contains('/'))
                    })
                {
                    out.push((
                        super::policy_help::describe(&p.label, st.index, st.sid.as_deref()),
                        c.to_string(),
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;
    use crate::checks::test_support::*;
    use crate::facts::{BucketEncryption, Facts};

    fn with(enc: Option<BucketEncryption>, key_policy: Option<&str>) -> Vec<Finding> {
        let mut facts = Facts {
            bucket_encryption: Fact::Known(enc),
            ..Facts::default()
        };
        if let Some(p) = key_policy {
            facts.key_policy = Fact::Known(policy("key policy", p));
        }
        run_check(&DEF, &attachment(), &facts)
    }

    fn kms(key: Option<&str>, bucket_key: bool) -> Option<BucketEncryption> {
        Some(BucketEncryption {
            algorithm: "aws:kms".into(),
            kms_key_id: key.map(str::to_string),
            bucket_key_enabled: bucket_key,
        })
    }

    #[test]
    fn the_aoc_key_passes_others_warn() {
        assert_eq!(status(&with(kms(Some(KEY_ARN), true), None)), Status::Pass);
        let other = "arn:aws:kms:us-east-1:111122223333:key/ffffffff-ffff-ffff-ffff-ffffffffffff";
        let f = with(kms(Some(other), false), None);
        assert_eq!(f[0].reason, "other-key");
        assert!(text(&f).contains(other));
        assert_eq!(with(kms(None, false), None)[0].reason, "aws-managed-key");
        let s3 = Some(BucketEncryption {
            algorithm: "AES256".into(),
            kms_key_id: None,
            bucket_key_enabled: false,
        });
        assert_eq!(with(s3, None)[0].reason, "not-kms");
        assert_eq!(status(&with(None, None)), Status::Warn);
    }

    #[test]
    fn bucket_key_with_object_context_condition_warns() {
        let p = r#"{"Statement": [{"Sid": "ObjectsOnly", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
          "Action": "kms:*", "Resource": "*",
          "Condition": {"StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::aspera-kms/*"}}}]}"#;
        let f = with(kms(Some(KEY_ARN), true), Some(p));
        assert_eq!(status(&f), Status::Warn);
        assert!(text(&f).contains("ObjectsOnly"));
        assert_eq!(
            status(&with(kms(Some(KEY_ARN), false), Some(p))),
            Status::Pass
        );
    }
}
