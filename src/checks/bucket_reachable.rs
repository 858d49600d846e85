//! `bucket.reachable`: the bucket exists and answers `HeadBucket`. A 403 means it exists but
//! the tool may not read it (S3 answers 403, not 404, to callers without s3:ListBucket, so a
//! 403 can also hide a missing bucket). Live mode only.

use super::{CheckDef, Finding, Input};
use crate::facts::Fact;

pub const DEF: CheckDef = CheckDef {
    id: "bucket.reachable",
    reasons: &["ok", "no-such-bucket", "forbidden", "unexpected"],
    run,
};

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
        404 => Finding::fail("no-such-bucket"),
        403 => Finding::warn("forbidden"),
        other => Finding::fail("unexpected").var("status", other.to_string()),
    };
    vec![finding.var("bucket", bucket).evidence(evidence)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;
    use crate::checks::test_support::*;
    use crate::facts::{BucketHead, Facts};

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
}
