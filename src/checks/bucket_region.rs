//! `bucket.region`: the region chosen in AoC, the bucket's real region, the key's region and
//! the region of AoC's principal (IBM's transfer-node role carries it in its name, e.g.
//! `atp-aws-us-east-1-ts-atc-node`) are one region. S3 SSE-KMS can only use a key in the
//! bucket's region, and AoC's transfer cluster serves the region selected in AoC.

use super::{CheckDef, Finding, Input};
use crate::arn::Arn;
use crate::model::facts::Fact;
use crate::model::values::partition_of;

pub const DEF: CheckDef = CheckDef {
    id: "bucket.region",
    reasons: &["agree", "mismatch"],
    run,
};

fn run(input: &Input<'_>) -> Vec<Finding> {
    let Some(aoc_region) = input.values.region.as_deref() else {
        return vec![Finding::skip_needs("a known AoC region")];
    };
    if let Some(skip) = super::bucket_reachable::skip_if_missing(input) {
        return vec![skip];
    }
    let mut sources: Vec<(&str, Option<String>)> = vec![("AoC", Some(aoc_region.to_string()))];
    let bucket_region = match &input.facts.bucket_region {
        Fact::Known(r) => Some(r.clone()),
        failed @ Fact::Failed(_) => {
            return Finding::from_missing_fact(failed).into_iter().collect();
        }
        Fact::Unavailable(_) => None,
    };
    sources.push(("bucket", bucket_region));
    sources.push((
        "KMS key",
        input
            .values
            .key
            .as_ref()
            .and_then(|k| k.arn())
            .map(|a| a.region.clone()),
    ));
    sources.push((
        "AoC principal",
        input
            .values
            .aoc_principal
            .as_deref()
            .and_then(principal_region),
    ));

    let differing: Vec<(&str, String)> = sources
        .iter()
        .filter_map(|(what, r)| r.as_ref().map(|r| (*what, r.clone())))
        .filter(|(_, r)| r != aoc_region)
        .collect();
    let evidence: Vec<String> = sources
        .iter()
        .map(|(what, r)| match r {
            Some(r) => format!("{what} region: {r}"),
            None if *what == "bucket" => {
                "bucket region: not known (read from AWS in live mode)".to_string()
            }
            None => format!("{what} region: not known"),
        })
        .collect();
    if differing.is_empty() {
        return vec![
            Finding::pass("agree")
                .var("region", aoc_region)
                .evidence_lines(evidence),
        ];
    }
    let names: Vec<String> = differing
        .iter()
        .map(|(what, r)| format!("{what} ({r})"))
        .collect();
    // The bucket cannot move; when its region is known, everything else should follow it.
    let target = sources
        .iter()
        .find(|(w, _)| *w == "bucket")
        .and_then(|(_, r)| r.clone())
        .unwrap_or_else(|| aoc_region.to_string());
    vec![
        Finding::fail("mismatch")
            .var("region", aoc_region)
            .var("differing", names.join(", "))
            .var("target_region", &target)
            .evidence_lines(evidence),
    ]
}

/// The region in an AoC principal's role name (`atp-aws-us-east-1-ts-atc-node`), if any.
pub fn principal_region(principal: &str) -> Option<String> {
    let arn: Arn = principal.parse().ok()?;
    let name = arn.resource_name();
    // Regions contain hyphens, so try every hyphen-separated window against the known list,
    // longest first (`us-gov-west-1` before `west-1`).
    let parts: Vec<&str> = name.split('-').collect();
    for len in (3..=4).rev() {
        for window in parts.windows(len) {
            let candidate = window.join("-");
            if partition_of(&candidate).is_some() {
                return Some(candidate);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::facts::Facts;
    use crate::model::verdict::Status;

    #[test]
    fn principal_region_from_name() {
        assert_eq!(
            principal_region(AOC_PRINCIPAL).as_deref(),
            Some("us-east-1")
        );
        assert_eq!(
            principal_region("arn:aws:iam::860559707280:role/atp-aws-us-gov-west-1-ts-atc-node")
                .as_deref(),
            Some("us-gov-west-1")
        );
        assert_eq!(
            principal_region("arn:aws:iam::860559707280:role/other"),
            None
        );
    }

    #[test]
    fn all_known_regions_agree_offline() {
        let f = run_check(&DEF, &attachment(), &Facts::default());
        assert_eq!(status(&f), Status::Pass);
        assert!(text(&f).contains("bucket region: not known"));
    }

    #[test]
    fn bucket_in_another_region_fails_and_names_it() {
        let facts = Facts {
            bucket_region: Fact::Known("eu-west-1".into()),
            ..Facts::default()
        };
        let f = run_check(&DEF, &attachment(), &facts);
        assert_eq!(status(&f), Status::Fail);
        assert!(text(&f).contains("bucket (eu-west-1)"), "{}", text(&f));
    }

    #[test]
    fn issue11_d2_missing_bucket_is_not_judged_for_its_region() {
        let facts = Facts {
            bucket_head: Fact::Known(crate::model::facts::BucketHead {
                status: 404,
                region: None,
            }),
            bucket_region: Fact::Unavailable(
                "the bucket aspera-kms does not exist (bucket.reachable)".into(),
            ),
            ..Facts::default()
        };
        let f = run_check(&DEF, &attachment(), &facts);
        assert_eq!(status(&f), Status::Skip, "{}", text(&f));
        assert!(text(&f).contains("does not exist (bucket.reachable)"));
    }

    #[test]
    fn principal_of_another_region_fails() {
        let mut a = attachment();
        a.aoc_trust.aoc_principal =
            Some("arn:aws:iam::860559707280:role/atp-aws-eu-west-1-ts-atc-node".into());
        let f = run_check(&DEF, &a, &Facts::default());
        assert_eq!(status(&f), Status::Fail);
        assert!(
            text(&f).contains("AoC principal (eu-west-1)"),
            "{}",
            text(&f)
        );
    }
}
