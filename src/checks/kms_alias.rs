//! `kms.alias`: when AoC was given an alias ARN, the alias exists and resolves to a key.
//! Aliases resolve in the caller's account and region only. Live mode only.

use super::{CheckDef, Finding, Input, Status};
use crate::model::facts::Fact;
use crate::model::values::KmsKeyRef;

pub const DEF: CheckDef = CheckDef {
    id: "kms.alias",
    reasons: &["resolves", "missing", "not-applicable"],
    run,
};

fn run(input: &Input<'_>) -> Vec<Finding> {
    let Some(key) = input.values.key.as_ref() else {
        return vec![Finding::skip_needs("a well-formed KMS key")];
    };
    let KmsKeyRef::Alias(alias) = key else {
        let mut f = Finding::new(Status::Skip, "not-applicable");
        if let Some(names) = input.facts.key_aliases.known() {
            f = f.evidence(format!(
                "aliases of the key: {}",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ));
        }
        return vec![f];
    };
    match &input.facts.key {
        Fact::Known(Some(meta)) => vec![
            Finding::pass("resolves")
                .var("alias", alias.resource.clone())
                .var("key_arn", &meta.arn)
                .evidence(format!("DescribeKey {alias}: {}", meta.arn)),
        ],
        Fact::Known(None) => vec![
            Finding::fail("missing")
                .var("alias", alias.resource.clone())
                .var("alias_arn", alias.to_string())
                .var("region", alias.region.clone())
                .evidence(format!("DescribeKey {alias}: NotFoundException")),
        ],
        other => Finding::from_missing_fact(other).into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::facts::{Facts, KeyMetadata};

    #[test]
    fn alias_resolves_or_is_missing_and_key_arn_is_not_applicable() {
        let mut a = attachment();
        a.kms_key = "arn:aws:kms:us-east-1:111122223333:alias/aoc".into();
        let found = Facts {
            key: Fact::Known(Some(KeyMetadata {
                arn: KEY_ARN.into(),
                ..Default::default()
            })),
            ..Facts::default()
        };
        let f = run_check(&DEF, &a, &found);
        assert_eq!(status(&f), Status::Pass);
        assert!(text(&f).contains(KEY_ARN));
        let gone = Facts {
            key: Fact::Known(None),
            ..Facts::default()
        };
        let f = run_check(&DEF, &a, &gone);
        assert_eq!(status(&f), Status::Fail);
        assert!(text(&f).contains("alias/aoc"));
        assert_eq!(
            status(&run_check(&DEF, &attachment(), &found)),
            Status::Skip
        );
    }
}
