//! `bucket.public-access`: Block Public Access is on. AoC does not need it off: a bucket
//! policy that names a fixed principal is not "public" (S3 User Guide, "The meaning of
//! public"), so the IBM procedure's advice to open public access is unnecessary, and the tool
//! never advises turning BPA off. Live mode only.

use super::{CheckDef, Finding, Input};
use crate::model::facts::Fact;

pub const DEF: CheckDef = CheckDef {
    id: "bucket.public-access",
    reasons: &["on", "partly-off", "not-set"],
    run,
};

fn run(input: &Input<'_>) -> Vec<Finding> {
    let Some(bucket) = input.values.bucket.as_deref() else {
        return vec![Finding::skip_needs("a well-formed bucket name")];
    };
    match &input.facts.public_access_block {
        Fact::Known(Some(b)) => {
            let settings = [
                ("BlockPublicAcls", b.block_public_acls),
                ("IgnorePublicAcls", b.ignore_public_acls),
                ("BlockPublicPolicy", b.block_public_policy),
                ("RestrictPublicBuckets", b.restrict_public_buckets),
            ];
            let evidence = settings
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join(", ");
            let off: Vec<&str> = settings
                .iter()
                .filter(|(_, v)| !v)
                .map(|(n, _)| *n)
                .collect();
            let f = if off.is_empty() {
                Finding::pass("on")
            } else {
                Finding::warn("partly-off").var("off", off.join(", "))
            };
            vec![
                f.var("bucket", bucket)
                    .evidence(format!("GetPublicAccessBlock {bucket}: {evidence}")),
            ]
        }
        Fact::Known(None) => {
            vec![
                Finding::warn("not-set")
                    .var("bucket", bucket)
                    .evidence(format!(
                        "GetPublicAccessBlock {bucket}: NoSuchPublicAccessBlockConfiguration"
                    )),
            ]
        }
        other => Finding::from_missing_fact(other).into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::facts::{Facts, PublicAccessBlock};
    use crate::model::verdict::Status;

    #[test]
    fn on_partly_off_and_unset() {
        let with = |b| {
            let facts = Facts {
                public_access_block: Fact::Known(b),
                ..Facts::default()
            };
            run_check(&DEF, &attachment(), &facts)
        };
        let all = PublicAccessBlock {
            block_public_acls: true,
            ignore_public_acls: true,
            block_public_policy: true,
            restrict_public_buckets: true,
        };
        assert_eq!(status(&with(Some(all.clone()))), Status::Pass);
        let f = with(Some(PublicAccessBlock {
            block_public_policy: false,
            ..all
        }));
        assert_eq!(status(&f), Status::Warn);
        assert!(text(&f).contains("off=BlockPublicPolicy"));
        assert_eq!(status(&with(None)), Status::Warn);
    }
}
