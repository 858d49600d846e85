//! `input.values`: the values entered in AoC are well formed and consistent. The parsing into
//! typed [`crate::model::Values`] lives in the model, which records each problem as a finding
//! this check reports; a check that needs a value that is malformed is `skip` rather than
//! guessing.

use super::{CheckDef, Finding, Input};
use crate::model::values::KmsKeyRef;

pub const DEF: CheckDef = CheckDef {
    id: "input.values",
    reasons: &[
        "ok",
        "unknown-region",
        "bad-bucket-name",
        "bad-path",
        "bad-kms-key",
        "key-region-mismatch",
        "alias-arn",
        "bare-key-id",
        "bad-role-arn",
        "partition-mismatch",
        "bad-aoc-principal",
        "bad-external-id",
        "aoc-trust-incomplete",
        "trimmed",
        "bucket-looks-like-endpoint",
    ],
    run,
};

fn run(input: &Input<'_>) -> Vec<Finding> {
    if input.values.problems.is_empty() {
        let a = input.attachment;
        return vec![
            Finding::pass("ok")
                .var("region", &a.region)
                .var("bucket", &a.bucket)
                .var("path", &a.path)
                .evidence(format!("region `{}`", a.region))
                .evidence(format!("bucket `{}`, path `{}`", a.bucket, a.path))
                .evidence(format!("KMS key `{}`", a.kms_key))
                .evidence(format!("role `{}`", a.role_arn)),
        ];
    }
    input.values.problems.clone()
}

/// The KMS key as entered, trimmed (see `model::values::trimmed`): for text that names it.
pub fn entered_kms_key(input: &Input<'_>) -> String {
    input
        .values
        .key
        .as_ref()
        .map(KmsKeyRef::entered)
        .unwrap_or_else(|| input.attachment.kms_key.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::attachment::Attachment;
    use crate::model::facts::Facts;
    use crate::model::values::*;
    use crate::model::verdict::Status;

    fn findings(a: &Attachment) -> Vec<Finding> {
        run_check(&DEF, a, &Facts::default())
    }

    #[test]
    fn well_formed_values_pass() {
        let f = findings(&attachment());
        assert_eq!(status(&f), Status::Pass);
    }

    #[test]
    fn malformed_bucket_name_fails_with_the_rule() {
        let mut a = attachment();
        a.bucket = "My_Bucket".into();
        let f = findings(&a);
        assert_eq!(status(&f), Status::Fail);
        assert!(text(&f).contains("My_Bucket"), "{}", text(&f));
        assert!(text(&f).contains("lower-case"), "{}", text(&f));
    }

    #[test]
    fn malformed_role_and_key_fail() {
        let mut a = attachment();
        a.role_arn = "arn:aws:iam::1234:user/bob".into();
        a.kms_key = "arn:aws:kms:us-east-1:111122223333:key/not-a-uuid".into();
        let f = findings(&a);
        let reasons: Vec<&str> = f.iter().map(|f| f.reason).collect();
        assert!(reasons.contains(&"bad-role-arn"), "{reasons:?}");
        assert!(reasons.contains(&"bad-kms-key"), "{reasons:?}");
    }

    #[test]
    fn key_in_another_region_fails() {
        let mut a = attachment();
        a.region = "eu-west-1".into();
        let f = findings(&a);
        assert_eq!(status(&f), Status::Fail);
        assert!(f.iter().any(|f| f.reason == "key-region-mismatch"));
        assert!(text(&f).contains("us-east-1"));
    }

    #[test]
    fn unknown_region_fails() {
        let mut a = attachment();
        a.region = "us-east-9".into();
        let f = findings(&a);
        assert!(f.iter().any(|f| f.reason == "unknown-region"));
    }

    #[test]
    fn alias_arn_and_bare_id_warn() {
        let mut a = attachment();
        a.kms_key = "arn:aws:kms:us-east-1:111122223333:alias/aoc".into();
        let f = findings(&a);
        assert_eq!(status(&f), Status::Warn);
        assert_eq!(f[0].reason, "alias-arn");
        a.kms_key = "1234abcd-12ab-34cd-56ef-1234567890ab".into();
        let f = findings(&a);
        assert_eq!(f[0].reason, "bare-key-id");
    }

    #[test]
    fn partition_mismatch_fails() {
        let mut a = attachment();
        a.role_arn = "arn:aws-us-gov:iam::111122223333:role/aoc".into();
        let f = findings(&a);
        assert!(f.iter().any(|f| f.reason == "partition-mismatch"));
    }

    #[test]
    fn aoc_principal_of_another_partition_fails() {
        let mut a = attachment();
        a.aoc_trust.aoc_principal =
            Some("arn:aws-cn:iam::860559707280:role/atp-aws-cn-north-1-ts-atc-node".into());
        let f = findings(&a);
        assert!(
            f.iter().any(|f| f.reason == "partition-mismatch"
                && text(std::slice::from_ref(f)).contains("AoC principal")),
            "{}",
            text(&f)
        );
    }

    #[test]
    fn bucket_rules() {
        assert!(bucket_name_problem("aspera-kms").is_none());
        assert!(bucket_name_problem("ab").is_some());
        assert!(bucket_name_problem("-abc").is_some());
        assert!(bucket_name_problem("a..b").is_some());
        assert!(bucket_name_problem("192.168.1.1").is_some());
        assert!(bucket_name_problem("xn--abc").is_some());
        assert!(bucket_name_problem("abc-s3alias").is_some());
    }

    #[test]
    fn path_prefixes() {
        assert_eq!(path_prefix("/").unwrap(), "");
        assert_eq!(path_prefix("").unwrap(), "");
        assert_eq!(path_prefix("/data").unwrap(), "data/");
        assert_eq!(path_prefix("/data/in/").unwrap(), "data/in/");
        assert!(path_prefix("/da*ta").is_err());
        assert!(path_prefix("/a//b").is_err());
    }

    #[test]
    fn issue11_d9_surrounding_whitespace_is_trimmed_and_said() {
        let mut a = attachment();
        a.kms_key = format!("{KEY_ARN} ");
        a.bucket = "aspera-kms\n".into();
        let values = Values::from_attachment(&a);
        assert_eq!(values.bucket.as_deref(), Some("aspera-kms"));
        assert_eq!(
            values.key.as_ref().and_then(KmsKeyRef::key_arn).as_deref(),
            Some(KEY_ARN)
        );
        let f = findings(&a);
        assert_eq!(status(&f), Status::Warn, "{}", text(&f));
        assert!(f.iter().all(|f| f.reason == "trimmed"), "{}", text(&f));
        assert_eq!(f.len(), 2, "{}", text(&f));
        let t = text(&f);
        assert!(t.contains("what=KMS key"), "{t}");
        assert!(t.contains(&format!("`{KEY_ARN} `")), "{t}");
        assert!(t.contains("aspera-kms\\n"), "{t}");
    }

    #[test]
    fn key_ids() {
        assert!(is_key_id("1234abcd-12ab-34cd-56ef-1234567890ab"));
        assert!(is_key_id("mrk-1234abcd12ab34cd56ef1234567890ab"));
        assert!(!is_key_id("1234abcd"));
    }

    #[test]
    fn an_endpoint_host_name_as_bucket_is_pointed_out() {
        assert_eq!(
            endpoint_bucket("aspera-kms.s3.amazonaws.com"),
            Some("aspera-kms")
        );
        assert_eq!(
            endpoint_bucket("aspera-kms.s3.us-west-2.amazonaws.com"),
            Some("aspera-kms")
        );
        assert_eq!(
            endpoint_bucket("my.bucket.s3-eu-west-1.amazonaws.com"),
            Some("my.bucket")
        );
        assert_eq!(endpoint_bucket("aspera-kms"), None);
        assert_eq!(endpoint_bucket("logs.example.com"), None);
    }
}
