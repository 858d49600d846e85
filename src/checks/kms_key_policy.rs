//! `kms.key-policy`: the key policy gives the role a path to the key: it names the role (or
//! its account's root with the role's own permissions) for the data-path actions, and no
//! Deny applies. Unlike other resources, a KMS key is usable only if its key policy allows
//! it: IAM policies count only when the key policy delegates to the account root (KMS
//! Developer Guide, "Default key policy",
//! <https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html>).

use super::FixStep;
use super::policy_help::{
    conditional_clause, conditional_parts, describe_matched, merged,
    open_only_on_encryption_context, statement,
};
use super::{CheckDef, Finding, Input};
use crate::model::aoc::{self, REQUIRED, S3Target};
use crate::model::facts::Fact;
use crate::policy::{Decision, Effect, NamedPolicy, PolicySet, evaluate};

pub const DEF: CheckDef = CheckDef {
    id: "kms.key-policy",
    reasons: &["direct", "delegated", "no-grant", "denied", "conditional"],
    run,
};

fn run(input: &Input<'_>) -> Vec<Finding> {
    let values = input.values;
    let (Some(target), Some(key)) = (
        S3Target::from_gathered(input.values, input.facts),
        values.key.as_ref(),
    ) else {
        return vec![Finding::skip_needs(
            "a well-formed region, bucket, path, role ARN and KMS key",
        )];
    };
    let key_policy: &NamedPolicy = match &input.facts.key_policy {
        Fact::Known(p) => p,
        other => return Finding::from_missing_fact(other).into_iter().collect(),
    };
    let key_arn = aoc::key_arn(input.values, input.facts).unwrap_or_else(|| {
        format!(
            "arn:{}:kms:{}:{}:key/*",
            target.partition,
            target.region,
            key.arn()
                .map_or(target.role.account.as_str(), |a| a.account.as_str())
        )
    });
    let key_account = key_arn
        .parse::<crate::arn::Arn>()
        .map(|a| a.account)
        .unwrap_or_default();

    // An identity policy that allows everything: with it, the key policy alone decides
    // whether the role has a path to the key. Without it, whether the grant is direct.
    let allow_all = crate::policy::build::allow_everything("(any identity policy)", false);
    let with_iam = PolicySet {
        identity: std::slice::from_ref(&allow_all),
        boundary: None,
        resource: Some(key_policy),
    };
    let alone = PolicySet {
        identity: &[],
        boundary: None,
        resource: Some(key_policy),
    };

    let mut findings = Vec::new();
    let mut direct = Vec::new();
    let mut delegated = Vec::new();
    let mut blocked = Vec::new();
    for action in &REQUIRED.kms.required {
        let request = aoc::kms_request(&target, action, &key_arn, values);
        let ev = evaluate(&with_iam, &request);
        let key_policy_statements = |ev: &crate::policy::Evaluation, effect: Effect| {
            ev.matched
                .iter()
                .filter(|m| m.effect == effect && m.policy == key_policy.label)
                .map(describe_matched)
                .collect::<Vec<_>>()
                .join("; ")
        };
        match (ev.best, ev.worst) {
            (_, Decision::Allowed) => {
                let own = evaluate(&alone, &request);
                if own.worst == Decision::Allowed {
                    direct.push(format!(
                        "{action}: granted to the role by {}",
                        key_policy_statements(&own, Effect::Allow)
                    ));
                } else {
                    delegated.push(format!(
                        "{action}: delegated to IAM policies by {}",
                        key_policy_statements(&ev, Effect::Allow)
                    ));
                }
            }
            (Decision::ExplicitDeny, _) => {
                let denies = key_policy_statements(&ev, Effect::Deny);
                findings.push(
                    Finding::fail("denied")
                        .var("action", action)
                        .var("statement", &denies)
                        .evidence(format!(
                            "{action} by {} is explicitly denied by {denies}",
                            target.role
                        )),
                );
            }
            (Decision::Allowed, _) if open_only_on_encryption_context(&ev) => {
                let line = |how: &str, ev: &crate::policy::Evaluation| {
                    format!(
                        "{action}: {how} {} for the encryption context S3 sends (bucket.encryption checks it against the bucket's Bucket Key setting)",
                        key_policy_statements(ev, Effect::Allow)
                    )
                };
                let own = evaluate(&alone, &request);
                if own.best == Decision::Allowed {
                    direct.push(line("granted to the role by", &own));
                } else {
                    delegated.push(line("delegated to IAM policies by", &ev));
                }
            }
            (Decision::Allowed, _) => {
                findings.push(
                    Finding::warn("conditional")
                        .var("action", action)
                        .var("conditions", conditional_clause(&ev))
                        .evidence_lines(
                            conditional_parts(&ev)
                                .into_iter()
                                .map(|part| format!("{action}: {part}")),
                        ),
                );
            }
            _ => {
                blocked.push(action.clone());
                findings.push(
                    Finding::fail("no-grant")
                        .var("action", action)
                        .var("role_arn", target.role.to_string())
                        .var("role_account", &target.role.account)
                        .var("key_account", &key_account)
                        .evidence(format!(
                            "{action}: the key policy neither names {} nor delegates to arn:{}:iam::{}:root ({})",
                            target.role, target.partition, target.role.account, ev.explanation
                        ))
                        .evidence_lines(super::policy_help::unmet_conditions(
                            [key_policy],
                            &request,
                        )),
                );
            }
        }
    }

    if !blocked.is_empty() {
        let statement = statement(
            "AllowAocRoleUseOfTheKey",
            Some(&target.role.to_string()),
            &blocked,
            "*",
        );
        let whole = merged(key_policy, vec![statement.clone()]);
        let key_region = key_arn
            .parse::<crate::arn::Arn>()
            .map(|a| a.region)
            .unwrap_or_default();
        let steps = vec![
            FixStep::Example {
                caption: "Statement to add to the key policy".into(),
                document: statement,
            },
            FixStep::document(
                "`aws kms put-key-policy` replaces the whole policy, so put the merged policy, not the statement alone",
                "key-policy.json",
                super::FixDocument::whole("key-policy", whole)
                    .replacing(crate::policy::to_json(&key_policy.document)),
            ),
            FixStep::command(
                "Put it on the key",
                format!(
                    "aws kms put-key-policy --region {key_region} --key-id {key_arn} --policy-name default --policy file://key-policy.json"
                ),
            ),
        ];
        if let Some(first) = findings.iter_mut().find(|f| f.reason == "no-grant") {
            first.fix = steps;
        }
    }

    if findings.is_empty() {
        if delegated.is_empty() {
            findings.push(Finding::pass("direct").evidence_lines(direct));
        } else {
            findings.push(
                Finding::pass("delegated")
                    .var("account", &target.role.account)
                    .evidence_lines(direct.into_iter().chain(delegated)),
            );
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::facts::Facts;
    use crate::model::verdict::Status;

    fn facts(key_policy: &str) -> Facts {
        Facts {
            key_policy: Fact::Known(policy("key policy", key_policy)),
            ..Facts::default()
        }
    }

    const DEFAULT_KEY_POLICY: &str = r#"{"Version": "2012-10-17", "Id": "key-default-1",
      "Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}"#;

    #[test]
    fn default_key_policy_delegates() {
        let f = run_check(&DEF, &attachment(), &facts(DEFAULT_KEY_POLICY));
        assert_eq!(status(&f), Status::Pass, "{}", text(&f));
        assert_eq!(f[0].reason, "delegated");
        assert!(text(&f).contains("Enable IAM User Permissions"));
    }

    #[test]
    fn key_policy_without_root_or_role_fails_with_merged_fix() {
        let p = r#"{"Statement": [{"Sid": "Admins", "Effect": "Allow",
          "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyAdmin"}, "Action": "kms:*", "Resource": "*"}]}"#;
        let f = run_check(&DEF, &attachment(), &facts(p));
        assert_eq!(status(&f), Status::Fail);
        let t = text(&f);
        assert!(t.contains("arn:aws:iam::111122223333:root"), "{t}");
        assert!(
            t.contains("KeyAdmin"),
            "merged policy keeps the old statements: {t}"
        );
        assert!(t.contains(ROLE_ARN), "{t}");
        assert!(t.contains("put-key-policy"), "{t}");
    }

    #[test]
    fn deny_in_key_policy_fails() {
        let p = r#"{"Statement": [
          {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
          {"Sid": "NoDecrypt", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}]}"#;
        let f = run_check(&DEF, &attachment(), &facts(p));
        assert_eq!(status(&f), Status::Fail);
        assert!(f.iter().any(|f| f.reason == "denied"));
        assert!(text(&f).contains("NoDecrypt"));
    }

    #[test]
    fn via_service_condition_for_another_region_is_no_grant() {
        let p = r#"{"Statement": [{"Sid": "ViaS3", "Effect": "Allow",
          "Principal": {"AWS": "arn:aws:iam::111122223333:role/aoc-access"},
          "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*",
          "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}}]}"#;
        let f = run_check(&DEF, &attachment(), &facts(p));
        assert_eq!(status(&f), Status::Fail, "{}", text(&f));
    }

    #[test]
    fn encryption_context_condition_is_left_to_bucket_encryption() {
        // Whether S3 sends the object or the bucket ARN as context depends on Bucket Keys:
        // bucket.encryption judges that (issue 11, defect 6), so this check does not report
        // the same cause again.
        let p = r#"{"Statement": [{"Sid": "ObjectsOnly", "Effect": "Allow",
          "Principal": {"AWS": "arn:aws:iam::111122223333:role/aoc-access"},
          "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*",
          "Condition": {"StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::aspera-kms/*"}}}]}"#;
        let f = run_check(&DEF, &attachment(), &facts(p));
        assert_eq!(status(&f), Status::Pass, "{}", text(&f));
        assert_eq!(f[0].reason, "direct", "{}", text(&f));
        assert!(text(&f).contains("bucket.encryption"), "{}", text(&f));
        assert!(text(&f).contains("ObjectsOnly"), "{}", text(&f));
    }

    #[test]
    fn role_named_directly_passes() {
        let p = r#"{"Statement": [{"Sid": "AocRole", "Effect": "Allow",
          "Principal": {"AWS": "arn:aws:iam::111122223333:role/aoc-access"},
          "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*",
          "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}]}"#;
        let f = run_check(&DEF, &attachment(), &facts(p));
        assert_eq!(status(&f), Status::Pass, "{}", text(&f));
        assert_eq!(f[0].reason, "direct");
    }

    #[test]
    fn a_grant_to_one_named_session_is_not_known_to_be_aocs() {
        // AoC's session name is not documented: a grant to one exact session of the role may
        // or may not be AoC's.
        let p = r#"{"Statement": [{"Sid": "OneSession", "Effect": "Allow",
          "Principal": {"AWS": "arn:aws:sts::111122223333:assumed-role/aoc-access/aoc-session"},
          "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*"}]}"#;
        let f = run_check(&DEF, &attachment(), &facts(p));
        assert_eq!(status(&f), Status::Warn, "{}", text(&f));
        assert!(text(&f).contains("its name is not known"), "{}", text(&f));
    }
}
