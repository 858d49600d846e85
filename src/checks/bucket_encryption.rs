//! `bucket.encryption`: the bucket's default encryption is SSE-KMS with the key entered in
//! AoC, so that objects written by other tools are encrypted alike; and, with S3 Bucket Keys
//! on, no policy conditions on the object ARN as encryption context (with a bucket key, KMS
//! sees the bucket ARN instead: S3 User Guide, "Reducing the cost of SSE-KMS with Amazon S3
//! Bucket Keys"). Live mode only.

use super::{CheckDef, Finding, Input, Status};
use crate::model::aoc::{self, REQUIRED, S3Target};
use crate::model::facts::Fact;
use crate::policy::build::allow_everything;
use crate::policy::matching::{action_spec_matches, wildcard_match};
use crate::policy::{Decision, Effect, NamedPolicy, PolicySet, evaluate};

pub const DEF: CheckDef = CheckDef {
    id: "bucket.encryption",
    reasons: &[
        "ok",
        "no-default",
        "not-kms",
        "aws-managed-key",
        "other-key",
        "bucket-key-context",
        "object-context",
        "bucket-key-unknown",
        "key-in-other-region",
        "key-unresolved",
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
    let kms_key = super::input_values::entered_kms_key(input);
    // S3 encrypts with a key of the bucket's own region only: a fix naming the AoC key would
    // fail while the regions differ, which bucket.region (or input.values) reports first.
    if let (Some(bucket_region), Some(key_region)) = (
        input.facts.bucket_region.known(),
        input
            .values
            .key
            .as_ref()
            .and_then(|k| k.arn())
            .map(|a| a.region.as_str()),
    ) && bucket_region != key_region
    {
        return vec![
            Finding::new(Status::Skip, "key-in-other-region")
                .var("bucket", bucket)
                .var("bucket_region", bucket_region)
                .var("kms_key", &kms_key)
                .var("key_region", key_region),
        ];
    }
    let enc = match &input.facts.bucket_encryption {
        Fact::Known(Some(e)) => e,
        Fact::Known(None) => {
            return vec![
                Finding::warn("no-default")
                    .var("bucket", bucket)
                    .var("kms_key", &kms_key),
            ];
        }
        other => {
            // Whether Bucket Keys are on is not known (offline, or not read): a condition that
            // holds for one of the two encryption contexts only is a warning naming both.
            let mut out: Vec<Finding> = Finding::from_missing_fact(other).into_iter().collect();
            let decides =
                context_decides(input, bucket, true) || context_decides(input, bucket, false);
            for c in context_conditions(input, bucket)
                .into_iter()
                .filter(|_| decides)
            {
                out.push(
                    Finding::warn("bucket-key-unknown")
                        .var("policy", &c.statement)
                        .var("matches", c.matches())
                        .var("bucket", bucket)
                        .evidence(c.evidence()),
                );
            }
            return out;
        }
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
            .var("kms_key", &kms_key)
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
    // A key that does not resolve (malformed, or KMS says there is none: a typo, an alias
    // that does not exist) is not "the AoC key", whatever the configuration names: no
    // comparison and no pass (kms.key and kms.alias say why).
    let resolved = input.values.key.is_some() && !matches!(input.facts.key, Fact::Known(None));
    if !resolved {
        findings.push(base(
            Finding::new(Status::Skip, "key-unresolved").var("configured", configured),
        ));
    }
    // A configured alias can only be compared with the key's aliases: without them the
    // answer is unknown, not "another key".
    if resolved
        && !names_the_key(configured, input)
        && configured.contains("alias/")
        && let Some(missing) = Finding::from_missing_fact(&input.facts.key_aliases)
    {
        return vec![missing];
    }
    if resolved && !names_the_key(configured, input) {
        findings.push(base(
            Finding::warn("other-key").var("configured", configured),
        ));
    }
    // With an S3 Bucket Key, KMS sees the bucket ARN as kms:EncryptionContext:aws:s3:arn;
    // without one, the object's ARN (S3 User Guide, "Reducing the cost of SSE-KMS with Amazon
    // S3 Bucket Keys": "When you enable an S3 Bucket Key, the Amazon S3 bucket ARN is used as
    // the encryption context ... update your key policies/IAM policies to use the bucket
    // ARN"). A condition that does not hold for the one S3 will send fails every upload.
    let sends_bucket_arn = enc.bucket_key_enabled;
    let decides = context_decides(input, bucket, sends_bucket_arn);
    for c in context_conditions(input, bucket)
        .into_iter()
        .filter(|_| decides)
    {
        let (holds, reason) = if enc.bucket_key_enabled {
            (c.bucket, "bucket-key-context")
        } else {
            (c.objects, "object-context")
        };
        if !holds {
            findings.push(base(
                Finding::fail(reason)
                    .var("policy", &c.statement)
                    .evidence(c.evidence()),
            ));
        }
    }
    if findings.is_empty() {
        findings.push(base(Finding::pass("ok")));
    }
    findings
}

/// Whether the configured key ID (key ARN, key ID, alias name or alias ARN) is the AoC key.
fn names_the_key(configured: &str, input: &Input<'_>) -> bool {
    let mut names: Vec<String> = vec![super::input_values::entered_kms_key(input)];
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

/// A condition on `kms:EncryptionContext:aws:s3:arn` in a statement about AoC's KMS requests,
/// and which of the two contexts S3 may send it holds for.
struct ContextCondition {
    /// Which statement of which policy.
    statement: String,
    condition: String,
    /// Holds when S3 sends the bucket ARN (Bucket Keys on).
    bucket: bool,
    /// Holds when S3 sends the object's ARN (Bucket Keys off).
    objects: bool,
}

impl ContextCondition {
    fn matches(&self) -> &'static str {
        match (self.bucket, self.objects) {
            (false, true) => {
                "only object ARNs: it fails every upload when S3 Bucket Keys are on (S3 then sends the bucket ARN)"
            }
            _ => {
                "only the bucket ARN: it fails every upload when S3 Bucket Keys are off (S3 then sends the object's ARN)"
            }
        }
    }

    fn evidence(&self) -> String {
        format!(
            "{}: condition {} (holds for the bucket ARN: {}; for object ARNs: {})",
            self.statement,
            self.condition,
            if self.bucket { "yes" } else { "no" },
            if self.objects { "yes" } else { "no" }
        )
    }
}

/// Whether the encryption context S3 sends decides AoC's KMS requests: with the context S3
/// sends (the bucket ARN with a Bucket Key, else an object's ARN) some request S3 makes for
/// the role is surely not allowed, while with the other it may be. Judged by the policy
/// engine on the key policy and the role's policies (a document not known allows all, so
/// that only what is known decides); the conditions' own text only names the statements.
fn context_decides(input: &Input<'_>, bucket: &str, sends_bucket_arn: bool) -> bool {
    let Some(target) = S3Target::from_gathered(input.values, input.facts) else {
        return false;
    };
    let Some(key_arn) = aoc::key_arn(input.values, input.facts) else {
        return false;
    };
    let any_identity = allow_everything("(any identity policy)", false);
    let any_key_policy = allow_everything("(any key policy)", true);
    let identity: &[NamedPolicy] = match input.facts.identity_policies.known() {
        Some(p) => p,
        None => std::slice::from_ref(&any_identity),
    };
    let set = PolicySet {
        identity,
        boundary: input
            .facts
            .permissions_boundary
            .known()
            .and_then(Option::as_ref),
        resource: Some(input.facts.key_policy.known().unwrap_or(&any_key_policy)),
    };
    let partition = input.values.partition.as_deref().unwrap_or("aws");
    let bucket_arn = format!("arn:{partition}:s3:::{bucket}");
    let object_arn = format!(
        "{bucket_arn}/{}aoc-object",
        input.values.prefix.as_deref().unwrap_or("")
    );
    let (sent, other) = if sends_bucket_arn {
        (bucket_arn, object_arn)
    } else {
        (object_arn, bucket_arn)
    };
    REQUIRED.kms.required.iter().any(|action| {
        let decision = |context: &str| {
            let mut request = aoc::kms_request(&target, action, &key_arn, input.values);
            request.context.set(
                "kms:EncryptionContext:aws:s3:arn",
                vec![context.to_string()],
            );
            evaluate(&set, &request)
        };
        decision(&sent).best != Decision::Allowed && decision(&other).best == Decision::Allowed
    })
}

/// The conditions on the S3 encryption context, in the key policy and the role's policies,
/// that hold for only one of the two contexts S3 may send: the bucket ARN (with a Bucket Key)
/// or an object's ARN under the AoC path. Only statements about the KMS actions S3 calls for
/// AoC, whose condition restricts them: an Allow with a positive operator, a Deny with a
/// negated one (`StringNotLike`).
fn context_conditions(input: &Input<'_>, bucket: &str) -> Vec<ContextCondition> {
    let partition = input.values.partition.as_deref().unwrap_or("aws");
    let bucket_arn = format!("arn:{partition}:s3:::{bucket}");
    let object_arn = format!(
        "{bucket_arn}/{}aoc-object",
        input.values.prefix.as_deref().unwrap_or("")
    );
    let policies: Vec<&NamedPolicy> = input
        .facts
        .key_policy
        .known()
        .into_iter()
        .chain(input.facts.identity_policies.known().into_iter().flatten())
        .collect();
    let mut out = Vec::new();
    for p in policies {
        for st in &p.document.statements {
            let about_aoc = ["kms:GenerateDataKey", "kms:Decrypt"]
                .iter()
                .any(|a| action_spec_matches(&st.action, a));
            if !about_aoc {
                continue;
            }
            for c in &st.conditions {
                let key = c.key.to_ascii_lowercase();
                if key != "kms:encryptioncontext:aws:s3:arn" {
                    continue;
                }
                let op = c.operator.to_ascii_lowercase();
                let negated = op.contains("not");
                let restricts = match st.effect {
                    Effect::Allow => !negated,
                    Effect::Deny => negated,
                };
                if !restricts || op.contains("null") {
                    continue;
                }
                let like = op.contains("like") || op.starts_with("arn") || op.contains(":arn");
                let holds = |arn: &str| {
                    c.values.iter().any(|v| {
                        if like {
                            wildcard_match(v, arn)
                        } else if op.contains("ignorecase") {
                            v.eq_ignore_ascii_case(arn)
                        } else {
                            v == arn
                        }
                    })
                };
                let (bucket_ok, objects_ok) = (holds(&bucket_arn), holds(&object_arn));
                // Holding for neither is another problem (another bucket named), judged by
                // the key-policy and role checks; holding for both is what S3 needs.
                if bucket_ok != objects_ok {
                    out.push(ContextCondition {
                        statement: super::policy_help::describe(
                            &p.label,
                            st.index,
                            st.sid.as_deref(),
                        ),
                        condition: c.to_string(),
                        bucket: bucket_ok,
                        objects: objects_ok,
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::facts::{BucketEncryption, Facts};
    use crate::model::verdict::Status;

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

    /// A bucket in another region than the key: no fix naming the key (S3 would refuse it).
    #[test]
    fn a_key_of_another_region_is_not_proposed_as_the_default() {
        let facts = Facts {
            bucket_region: Fact::Known("eu-west-1".into()),
            bucket_encryption: Fact::Known(None),
            ..Facts::default()
        };
        let f = run_check(&DEF, &attachment(), &facts);
        assert_eq!(f.len(), 1, "{}", text(&f));
        assert_eq!(f[0].reason, "key-in-other-region");
        assert_eq!(status(&f), Status::Skip);
        assert!(!text(&f).contains("put-bucket-encryption"), "{}", text(&f));
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

    const OBJECTS_ONLY: &str = r#"{"Statement": [{"Sid": "ObjectsOnly", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
      "Action": "kms:*", "Resource": "*",
      "Condition": {"StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::aspera-kms/*"}}}]}"#;

    #[test]
    fn issue11_d6_bucket_key_with_object_only_context_fails_live() {
        let f = with(kms(Some(KEY_ARN), true), Some(OBJECTS_ONLY));
        assert_eq!(status(&f), Status::Fail, "{}", text(&f));
        assert!(f.iter().any(|f| f.reason == "bucket-key-context"));
        assert!(text(&f).contains("ObjectsOnly"));
        // Without a bucket key S3 sends the object's ARN: the condition holds.
        assert_eq!(
            status(&with(kms(Some(KEY_ARN), false), Some(OBJECTS_ONLY))),
            Status::Pass
        );
        // A condition naming both contexts holds either way.
        let both = OBJECTS_ONLY.replace(
            r#""arn:aws:s3:::aspera-kms/*""#,
            r#"["arn:aws:s3:::aspera-kms/*", "arn:aws:s3:::aspera-kms"]"#,
        );
        assert_eq!(
            status(&with(kms(Some(KEY_ARN), true), Some(&both))),
            Status::Pass
        );
    }

    #[test]
    fn issue11_d6_bucket_only_context_without_bucket_key_fails() {
        // In a role's identity policy, and a Deny with a negated operator.
        let deny = r#"{"Statement": [{"Sid": "BucketOnly", "Effect": "Deny",
          "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*",
          "Condition": {"StringNotEquals": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::aspera-kms"}}}]}"#;
        let mut facts = Facts {
            bucket_encryption: Fact::Known(kms(Some(KEY_ARN), false)),
            identity_policies: Fact::Known(vec![policy("inline policy aoc-kms", deny)]),
            ..Facts::default()
        };
        let f = run_check(&DEF, &attachment(), &facts);
        assert_eq!(status(&f), Status::Fail, "{}", text(&f));
        assert!(f.iter().any(|f| f.reason == "object-context"));
        facts.bucket_encryption = Fact::Known(kms(Some(KEY_ARN), true));
        let f = run_check(&DEF, &attachment(), &facts);
        assert_eq!(status(&f), Status::Pass, "{}", text(&f));
    }

    #[test]
    fn issue11_d6_offline_warns_naming_both_cases() {
        let facts = Facts {
            bucket_encryption: Fact::Unavailable("read from AWS in live mode only".into()),
            key_policy: Fact::Known(policy("key policy", OBJECTS_ONLY)),
            ..Facts::default()
        };
        let f = run_check(&DEF, &attachment(), &facts);
        assert_eq!(status(&f), Status::Warn, "{}", text(&f));
        let catalog = crate::catalog::get().unwrap();
        let result = crate::checks::results::check_result(catalog, &DEF, &f);
        let all = format!(
            "{}\n{}",
            result.summary,
            result.remediation.unwrap_or_default()
        );
        assert!(all.contains("Bucket Keys are on"), "{all}");
        assert!(all.contains("off, the object's ARN"), "{all}");
        assert!(all.contains("ObjectsOnly"), "{all}");
        // Nothing to say offline without such a condition: skip, as before.
        let f = run_check(&DEF, &attachment(), &Facts::default());
        assert_eq!(status(&f), Status::Skip);
    }

    #[test]
    fn issue11_d6_an_unconditional_grant_elsewhere_is_not_blamed_on_the_context() {
        // The role's own policy (in the key policy) grants without a condition: the
        // object-only statement beside it does not decide anything.
        let p = r#"{"Statement": [
          {"Sid": "ObjectsOnly", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/aoc-access"},
           "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*",
           "Condition": {"StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::aspera-kms/*"}}},
          {"Sid": "AocRole", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/aoc-access"},
           "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*"}]}"#;
        let f = with(kms(Some(KEY_ARN), true), Some(p));
        assert_eq!(status(&f), Status::Pass, "{}", text(&f));
    }

    fn resolved_key() -> crate::model::facts::KeyMetadata {
        crate::model::facts::KeyMetadata {
            arn: KEY_ARN.into(),
            key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
            enabled: true,
            key_state: "Enabled".into(),
            ..Default::default()
        }
    }

    #[test]
    fn issue11_d9_key_entered_with_a_trailing_space_is_the_aoc_key() {
        use crate::model::facts::FailureKind::AccessDenied;
        let mut a = attachment();
        a.kms_key = format!("{KEY_ARN} ");
        let facts = Facts {
            bucket_encryption: Fact::Known(kms(Some(KEY_ARN), true)),
            // Not read (DescribeKey refused): the entered ARN alone must match.
            key: Fact::failed(AccessDenied, "the tool needs kms:DescribeKey"),
            key_aliases: Fact::failed(AccessDenied, "the tool needs kms:DescribeKey"),
            ..Facts::default()
        };
        let f = run_check(&DEF, &a, &facts);
        assert_eq!(status(&f), Status::Pass, "{}", text(&f));
        // Read: the same.
        let facts = Facts {
            key: Fact::Known(Some(resolved_key())),
            key_aliases: Fact::Known(Vec::new()),
            ..facts
        };
        assert_eq!(status(&run_check(&DEF, &a, &facts)), Status::Pass);
    }

    #[test]
    fn issue11_d9_a_key_that_does_not_resolve_never_passes() {
        // An alias that does not exist, and a key ARN KMS does not know.
        let mut alias = attachment();
        alias.kms_key = "arn:aws:kms:us-east-1:111122223333:alias/does-not-exist".into();
        for a in [alias, attachment()] {
            let facts = Facts {
                bucket_encryption: Fact::Known(kms(Some(KEY_ARN), true)),
                key: Fact::Known(None),
                key_aliases: Fact::Unavailable("KMS has no key".into()),
                ..Facts::default()
            };
            let f = run_check(&DEF, &a, &facts);
            assert_ne!(status(&f), Status::Pass, "{}: {}", a.kms_key, text(&f));
            assert!(
                f.iter().any(|f| f.reason == "key-unresolved"),
                "{}",
                text(&f)
            );
        }
    }
}
