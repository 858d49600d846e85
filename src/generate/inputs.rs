//! The attachment's values as the documents may name them. A malformed value is a finding for
//! `check`, but nothing correct can be generated from it, so here it is a usage error; and the
//! key the policies name must be a key ARN, not the alias ARN or key ID the admin entered.

use crate::arn::Arn;
use crate::checks::bucket_region::principal_region;
use crate::error::UsageError;
use crate::model::Values;
use crate::model::attachment::Attachment;
use crate::model::values::KmsKeyRef;
use crate::model::verdict::{Finding, Status};

/// A malformed value is a finding for `check`, but nothing correct can be generated from it:
/// here it is a usage error naming what is wrong.
pub(super) fn refuse_failures(problems: &[Finding], prefix: &str) -> Result<(), UsageError> {
    let failures: Vec<String> = problems
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| {
            if f.evidence.is_empty() {
                f.reason.to_string()
            } else {
                f.evidence.join("; ")
            }
        })
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(UsageError(format!("{prefix}{}", failures.join("; "))))
    }
}

/// The key ARN the policies name: the one entered, or `--key-arn` for an alias ARN or a key
/// ID (which must then be the same key).
pub(super) fn key_arn_for_policies(
    a: &Attachment,
    values: &Values,
    key_arn: Option<&str>,
) -> Result<Arn, UsageError> {
    let parse_given = |given: &str| -> Result<Arn, UsageError> {
        match given.parse::<Arn>() {
            Ok(arn)
                if arn.service == "kms"
                    && arn.resource_type() == "key"
                    && crate::model::values::is_key_id(arn.resource_id()) =>
            {
                Ok(arn)
            }
            _ => Err(UsageError(format!(
                "--key-arn `{given}` is not a KMS key ARN (arn:PARTITION:kms:REGION:ACCOUNT:key/KEY_ID)"
            ))),
        }
    };
    match &values.key {
        Some(KmsKeyRef::Key(arn)) => {
            if let Some(given) = key_arn
                && given != arn.to_string()
            {
                return Err(UsageError(format!(
                    "--key-arn `{given}` differs from the key ARN entered as the KMS key, `{arn}`: give one key"
                )));
            }
            Ok(arn.clone())
        }
        Some(KmsKeyRef::Alias(alias)) => {
            let Some(given) = key_arn else {
                return Err(UsageError(format!(
                    "`{}` is an alias ARN: policies must name the key ARN (an alias ARN in Resource grants nothing), which is not known offline; give it with --key-arn (aws kms describe-key --key-id {} --query KeyMetadata.Arn --output text)",
                    a.kms_key, a.kms_key
                )));
            };
            let arn = parse_given(given)?;
            // An alias names a key of its own account and region.
            if arn.account != alias.account || arn.region != alias.region {
                return Err(UsageError(format!(
                    "--key-arn `{given}` is not in the account and region of the alias `{}`",
                    a.kms_key
                )));
            }
            Ok(arn)
        }
        Some(KmsKeyRef::BareId(id)) => {
            let Some(given) = key_arn else {
                return Err(UsageError(format!(
                    "`{id}` is a key ID: policies must name the key ARN; give --kms-key (or --key-arn) arn:PARTITION:kms:REGION:ACCOUNT:key/{id}"
                )));
            };
            let arn = parse_given(given)?;
            if arn.resource_id() != id {
                return Err(UsageError(format!(
                    "--key-arn `{given}` is not the key `{id}` entered as the KMS key"
                )));
            }
            Ok(arn)
        }
        None => Err(UsageError(format!(
            "the KMS key `{}` is not a key ARN",
            a.kms_key
        ))),
    }
}

/// AoC's principal must be usable for this region: a principal of another partition cannot
/// be trusted at all, and IBM's node role serves the region in its name (the trust policy was
/// copied before the region was set in AoC).
pub(super) fn check_aoc_principal(
    principal: &str,
    partition: &str,
    region: &str,
) -> Result<(), UsageError> {
    if let Ok(arn) = principal.parse::<Arn>()
        && arn.partition != partition
    {
        return Err(UsageError(format!(
            "AoC's principal `{principal}` is in partition `{}`, region `{region}` is in `{partition}`",
            arn.partition
        )));
    }
    if let Some(r) = principal_region(principal)
        && r != region
    {
        return Err(UsageError(format!(
            "AoC's principal `{principal}` serves region `{r}`, not `{region}`: select the region in AoC first, then copy the trust policy it shows"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cli::Model;
    use crate::generate::fixtures::{KEY, attachment};
    use crate::generate::{KMS_ACCESS, Options, plan};
    use crate::model::attachment::AocTrust;
    use crate::policy::to_json;
    use crate::text::one_line;

    #[test]
    fn an_alias_needs_the_key_arn() {
        let mut a = attachment();
        a.kms_key = "arn:aws:kms:us-east-1:111122223333:alias/aoc".into();
        let err = plan(&a, &Options::default()).unwrap_err().to_string();
        assert!(err.contains("--key-arn"), "{err}");
        let p = plan(
            &a,
            &Options {
                key_arn: Some(KEY.into()),
                ..Options::default()
            },
        )
        .unwrap();
        assert_eq!(p.key_arn, KEY);
        assert!(
            !to_json(&p.document(KMS_ACCESS).unwrap().policy)
                .to_string()
                .contains("alias/")
        );
        // A key of another account cannot be behind this alias.
        let other = KEY.replace("111122223333", "444455556666");
        let err = plan(
            &a,
            &Options {
                key_arn: Some(other),
                ..Options::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("account and region"), "{err}");
    }

    #[test]
    fn bad_input_is_a_one_line_usage_error() {
        let mut a = attachment();
        a.role_arn = "arn:aws:iam::1234:user/bob".into();
        a.bucket = "Bad_Bucket\nname".into();
        let err = plan(&a, &Options::default()).unwrap_err().to_string();
        assert!(
            err.contains("user/bob") && err.contains("Bad_Bucket"),
            "{err}"
        );
        assert!(!one_line(&err).contains('\n'));

        let mut a = attachment();
        a.aoc_trust.aoc_principal =
            Some("arn:aws:iam::860559707280:role/atp-aws-eu-west-1-ts-atc-node".into());
        let err = plan(&a, &Options::default()).unwrap_err().to_string();
        assert!(err.contains("eu-west-1"), "{err}");

        let mut a = attachment();
        a.aoc_trust = AocTrust::default();
        let err = plan(
            &a,
            &Options {
                model: Model::Direct,
                ..Options::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("--aoc-principal"), "{err}");
    }
}
