//! `kms.key`: the key exists, is enabled, is a symmetric `ENCRYPT_DECRYPT` key (the only kind
//! S3 SSE-KMS accepts), is not pending deletion, and is customer managed (the AWS managed
//! `aws/s3` key cannot be shared). Whether it is in the bucket's region is `bucket.region`'s
//! business. Live mode only.

use super::{CheckDef, Finding, Input, Status};
use crate::model::facts::Fact;
use crate::model::values::KmsKeyRef;

pub const DEF: CheckDef = CheckDef {
    id: "kms.key",
    reasons: &[
        "ok",
        "not-found",
        "disabled",
        "pending-deletion",
        "unusable-state",
        "not-symmetric",
        "aws-managed",
    ],
    run,
};

fn run(input: &Input<'_>) -> Vec<Finding> {
    let Some(key) = input.values.key.as_ref() else {
        return vec![Finding::skip_needs("a well-formed KMS key")];
    };
    let kms_key = &super::input_values::entered_kms_key(input);
    let meta = match &input.facts.key {
        Fact::Known(Some(m)) => m,
        Fact::Known(None) if matches!(key, KmsKeyRef::Alias(_)) => {
            return vec![Finding::new(Status::Skip, "fact-unavailable").var(
                "why",
                format!("the alias {kms_key} does not resolve to a key (kms.alias)"),
            )];
        }
        Fact::Known(None) => {
            return vec![
                Finding::fail("not-found")
                    .var("kms_key", kms_key)
                    .evidence(format!("DescribeKey {kms_key}: NotFoundException")),
            ];
        }
        other => return Finding::from_missing_fact(other).into_iter().collect(),
    };
    let evidence = format!(
        "DescribeKey {}: state {}, enabled {}, usage {}, spec {}, manager {}",
        meta.arn,
        or_unknown(&meta.key_state),
        meta.enabled,
        or_unknown(&meta.key_usage),
        or_unknown(&meta.key_spec),
        or_unknown(&meta.key_manager)
    );
    let mut findings = Vec::new();
    // The aws CLI sends a key ARN to its default region's endpoint, which does not know a key
    // of another region: every command names the key's own region.
    let key_region = meta
        .arn
        .parse::<crate::arn::Arn>()
        .map(|a| a.region)
        .unwrap_or_default();
    let fail = |reason| {
        Finding::fail(reason)
            .var("key_arn", &meta.arn)
            .var("key_region", &key_region)
            .var("key_state", &meta.key_state)
            .evidence(evidence.clone())
    };
    match meta.key_state.as_str() {
        "PendingDeletion" | "PendingReplicaDeletion" => findings.push(
            fail("pending-deletion").var(
                "deletion_date",
                meta.deletion_date
                    .clone()
                    .unwrap_or_else(|| "a date KMS did not give".into()),
            ),
        ),
        "Disabled" => findings.push(fail("disabled")),
        "Enabled" | "" if !meta.enabled => findings.push(fail("disabled")),
        "Enabled" | "" => {}
        _ => findings.push(fail("unusable-state")),
    }
    // KMS omits usage and spec in some answers; only a value it gave can fail the check.
    let usage_wrong = !meta.key_usage.is_empty() && meta.key_usage != "ENCRYPT_DECRYPT";
    let spec_wrong = !meta.key_spec.is_empty() && meta.key_spec != "SYMMETRIC_DEFAULT";
    if usage_wrong || spec_wrong {
        findings.push(
            fail("not-symmetric")
                .var("key_usage", or_unknown(&meta.key_usage))
                .var("key_spec", or_unknown(&meta.key_spec)),
        );
    }
    if meta.key_manager == "AWS" {
        findings.push(
            Finding::warn("aws-managed")
                .var("key_arn", &meta.arn)
                .evidence(evidence.clone()),
        );
    }
    if findings.is_empty() {
        findings.push(
            Finding::pass("ok")
                .var("key_arn", &meta.arn)
                .evidence(evidence),
        );
    }
    findings
}

fn or_unknown(s: &str) -> String {
    if s.is_empty() {
        "(not reported)".into()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::facts::{Facts, KeyMetadata};

    fn meta() -> KeyMetadata {
        KeyMetadata {
            arn: KEY_ARN.into(),
            key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
            enabled: true,
            key_state: "Enabled".into(),
            key_usage: "ENCRYPT_DECRYPT".into(),
            key_spec: "SYMMETRIC_DEFAULT".into(),
            key_manager: "CUSTOMER".into(),
            deletion_date: None,
        }
    }

    fn with(m: Option<KeyMetadata>) -> Vec<Finding> {
        let facts = Facts {
            key: Fact::Known(m),
            ..Facts::default()
        };
        run_check(&DEF, &attachment(), &facts)
    }

    #[test]
    fn states() {
        assert_eq!(status(&with(Some(meta()))), Status::Pass);
        assert_eq!(status(&with(None)), Status::Fail);
        let disabled = KeyMetadata {
            enabled: false,
            key_state: "Disabled".into(),
            ..meta()
        };
        assert_eq!(with(Some(disabled.clone()))[0].reason, "disabled");
        // issue 11, defect 10: the command works from any default region.
        let catalog = crate::catalog::get().unwrap();
        let result = crate::checks::results::check_result(catalog, &DEF, &with(Some(disabled)));
        assert!(
            result
                .remediation
                .unwrap_or_default()
                .contains("aws kms enable-key --region us-east-1 --key-id arn:aws:kms:us-east-1:"),
        );
        let pending = KeyMetadata {
            enabled: false,
            key_state: "PendingDeletion".into(),
            deletion_date: Some("2026-12-04T00:00:00Z".into()),
            ..meta()
        };
        let f = with(Some(pending));
        assert_eq!(f[0].reason, "pending-deletion");
        assert!(text(&f).contains("2026-12-04"));
        let rsa = KeyMetadata {
            key_spec: "RSA_2048".into(),
            ..meta()
        };
        assert_eq!(with(Some(rsa))[0].reason, "not-symmetric");
        let managed = KeyMetadata {
            key_manager: "AWS".into(),
            ..meta()
        };
        assert_eq!(status(&with(Some(managed))), Status::Warn);
        let unreported = KeyMetadata {
            key_usage: String::new(),
            key_spec: String::new(),
            ..meta()
        };
        assert_eq!(status(&with(Some(unreported))), Status::Pass);
    }

    #[test]
    fn missing_alias_is_left_to_kms_alias() {
        let mut a = attachment();
        a.kms_key = "arn:aws:kms:us-east-1:111122223333:alias/gone".into();
        let facts = Facts {
            key: Fact::Known(None),
            ..Facts::default()
        };
        assert_eq!(status(&run_check(&DEF, &a, &facts)), Status::Skip);
    }
}
