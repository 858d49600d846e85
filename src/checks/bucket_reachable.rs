//! `bucket.reachable`: the bucket exists and answers `HeadBucket`. A 403 means it exists but
//! the tool may not read it (S3 answers 403, not 404, to callers without s3:ListBucket, so a
//! 403 can also hide a missing bucket). Live mode only.
//!
//! For a bucket that does not exist, the nearest name the role's policies, the bucket policy
//! or the caller's bucket list name is suggested: a typo is the usual cause.

use super::{CheckDef, Finding, Input, Status};
use crate::model::facts::Fact;
use crate::policy::ResourceSpec;

pub const DEF: CheckDef = CheckDef {
    id: "bucket.reachable",
    reasons: &[
        "ok",
        "no-such-bucket",
        "no-such-bucket-did-you-mean",
        "forbidden",
        "unexpected",
    ],
    run,
};

/// `skip` for checks that judge the bucket, when HeadBucket said it does not exist: there is
/// nothing to judge, and `bucket.reachable` already says why.
pub fn skip_if_missing(input: &Input<'_>) -> Option<Finding> {
    let head = input.facts.bucket_head.known()?;
    (head.status == 404).then(|| {
        Finding::new(Status::Skip, "fact-unavailable").var(
            "why",
            format!(
                "the bucket {} does not exist (bucket.reachable)",
                input.values.bucket.as_deref().unwrap_or("entered")
            ),
        )
    })
}

/// The bucket names the attachment's documents and the caller's list know, with where each
/// was found, in order of trust: the role's policies, the bucket policy, the caller's list.
fn known_bucket_names(input: &Input<'_>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut from_policy = |p: &crate::policy::NamedPolicy, source: String| {
        for st in &p.document.statements {
            let Some(ResourceSpec::Resource(resources)) = &st.resource else {
                continue;
            };
            for r in resources {
                if let Some(name) = bucket_of_arn(r) {
                    out.push((name, source.clone()));
                }
            }
        }
    };
    if let Some(policies) = input.facts.identity_policies.known() {
        for p in policies {
            from_policy(p, format!("named in the role's {}", p.label));
        }
    }
    if let Some(Some(p)) = input.facts.bucket_policy.known() {
        from_policy(p, format!("named in the {}", p.label));
    }
    if let Some(names) = input.facts.caller_buckets.known() {
        for n in names {
            out.push((n.clone(), "in the caller's bucket list".to_string()));
        }
    }
    out
}

/// The bucket an S3 ARN names (`arn:aws:s3:::NAME` or `arn:aws:s3:::NAME/key`), when the name
/// has no wildcard: a pattern is not a name to suggest.
fn bucket_of_arn(arn: &str) -> Option<String> {
    let (_, rest) = arn.strip_prefix("arn:")?.split_once(":s3:::")?;
    let name = rest.split('/').next()?;
    (!name.is_empty() && !name.contains(['*', '?', '$'])).then(|| name.to_string())
}

/// The known name nearest to `bucket`, if one is near enough to be a typo of it: at most a
/// third of its characters differ (and at most 3), counting a swap of two as one.
fn nearest_name(bucket: &str, known: &[(String, String)]) -> Option<(String, String)> {
    let limit = (bucket.chars().count() / 3).clamp(1, 3);
    known
        .iter()
        .filter(|(name, _)| name != bucket)
        .map(|(name, source)| (strsim::damerau_levenshtein(bucket, name), name, source))
        .filter(|(d, _, _)| *d <= limit)
        // The first of equally near names wins: the sources are in order of trust.
        .min_by_key(|(d, _, _)| *d)
        .map(|(_, name, source)| (name.clone(), source.clone()))
}

fn run(input: &Input<'_>) -> Vec<Finding> {
    let Some(bucket) = input.values.bucket.as_deref() else {
        return vec![Finding::skip_needs("a well-formed bucket name")];
    };
    let head = match &input.facts.bucket_head {
        Fact::Known(h) => h,
        other => return Finding::from_missing_fact(other).into_iter().collect(),
    };
    let evidence = format!(
        "HeadBucket {bucket}: HTTP {}{}",
        head.status,
        head.region
            .as_ref()
            .map(|r| format!(", x-amz-bucket-region {r}"))
            .unwrap_or_default()
    );
    let finding = match head.status {
        200 | 301 => Finding::pass("ok"),
        404 => match nearest_name(bucket, &known_bucket_names(input)) {
            Some((name, source)) => Finding::fail("no-such-bucket-did-you-mean")
                .var("suggestion", name)
                .var("source", source),
            None => Finding::fail("no-such-bucket"),
        },
        403 => Finding::warn("forbidden"),
        other => Finding::fail("unexpected").var("status", other.to_string()),
    };
    vec![finding.var("bucket", bucket).evidence(evidence)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::facts::{BucketHead, Facts};
    use crate::model::verdict::Status;

    fn with(status: u16) -> Vec<Finding> {
        let facts = Facts {
            bucket_head: Fact::Known(BucketHead {
                status,
                region: Some("us-east-1".into()),
            }),
            ..Facts::default()
        };
        run_check(&DEF, &attachment(), &facts)
    }

    #[test]
    fn statuses() {
        assert_eq!(status(&with(200)), Status::Pass);
        assert_eq!(status(&with(404)), Status::Fail);
        assert_eq!(status(&with(403)), Status::Warn);
        assert!(text(&with(404)).contains("HTTP 404"));
    }

    fn missing_bucket_facts() -> Facts {
        Facts {
            bucket_head: Fact::Known(BucketHead {
                status: 404,
                region: None,
            }),
            ..Facts::default()
        }
    }

    #[test]
    fn issue11_d2_typo_suggests_the_bucket_the_role_names() {
        let mut a = attachment();
        a.bucket = "aspera-kms-dmeo".into();
        let mut facts = missing_bucket_facts();
        facts.identity_policies = Fact::Known(vec![
            policy(
                "inline policy other",
                r#"{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                  "Resource": "arn:aws:s3:::logs-archive/*"}]}"#,
            ),
            policy(
                "inline policy aoc-s3",
                r#"{"Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
                  "Resource": ["arn:aws:s3:::aspera-kms-demo/*", "arn:aws:s3:::aspera-*"]}]}"#,
            ),
        ]);
        facts.caller_buckets = Fact::Known(vec!["aspera-kms-dem".into(), "unrelated".into()]);
        let f = run_check(&DEF, &a, &facts);
        assert_eq!(status(&f), Status::Fail);
        assert_eq!(f[0].reason, "no-such-bucket-did-you-mean");
        let catalog = crate::catalog::get().unwrap();
        let summary = crate::checks::results::check_result(catalog, &DEF, &f).summary;
        assert!(
            summary.contains(
                "did you mean aspera-kms-demo (named in the role's inline policy aoc-s3)"
            ),
            "{summary}"
        );
    }

    #[test]
    fn issue11_d2_typo_suggests_from_the_callers_list_and_not_far_names() {
        let mut a = attachment();
        a.bucket = "aspera-kms-demo".into();
        let mut facts = missing_bucket_facts();
        facts.caller_buckets = Fact::Known(vec!["aspera-ksm-demo".into()]);
        let f = run_check(&DEF, &a, &facts);
        assert!(
            text(&f).contains("suggestion=aspera-ksm-demo"),
            "{}",
            text(&f)
        );
        assert!(text(&f).contains("caller's bucket list"), "{}", text(&f));
        // Nothing near: no guess.
        facts.caller_buckets = Fact::Known(vec!["payroll-exports".into()]);
        let f = run_check(&DEF, &a, &facts);
        assert_eq!(f[0].reason, "no-such-bucket");
    }
}
