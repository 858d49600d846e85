//! `bucket.policy`: the bucket policy does not deny the requests AoC's session makes, and,
//! when the bucket belongs to another account than the role, grants them (across accounts
//! both the identity policy and the bucket policy must allow; IAM User Guide, "Cross-account
//! policy evaluation logic",
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html>).

use super::FixStep;
use super::policy_help::{
    conditional_clause, conditional_parts, describe_matched, merged, statement,
};
use super::{CheckDef, Finding, FixDocument, Input};
use crate::model::aoc::S3Target;
use crate::model::facts::{Fact, Mode};
use crate::policy::{Decision, Effect, NamedPolicy, evaluate_policy};

pub const DEF: CheckDef = CheckDef {
    id: "bucket.policy",
    reasons: &[
        "no-policy",
        "no-deny",
        "denied",
        "conditional-deny",
        "no-grant-cross-account",
    ],
    run,
};

fn run(input: &Input<'_>) -> Vec<Finding> {
    let Some(target) = S3Target::from_gathered(input.values, input.facts) else {
        return vec![Finding::skip_needs(
            "a well-formed region, bucket, path and role ARN",
        )];
    };
    if let Some(skip) = super::bucket_reachable::skip_if_missing(input) {
        return vec![skip];
    }
    let policy: &NamedPolicy = match &input.facts.bucket_policy {
        Fact::Known(Some(p)) => p,
        Fact::Known(None) => return vec![Finding::pass("no-policy").var("bucket", target.bucket)],
        other => return Finding::from_missing_fact(other).into_iter().collect(),
    };

    // Who owns the bucket: established live (ExpectedBucketOwner) or given offline
    // (--bucket-account); else the role's account, saying so. Never the key's account: a key
    // in another account than the bucket is a documented setup (KMS Developer Guide,
    // "Allowing users in other accounts to use a KMS key").
    let role_account = target.role.account.clone();
    let (bucket_account, owner_source, cross_account) =
        match input.facts.bucket_owner_account.known() {
            Some(a) => (
                a.clone(),
                match input.facts.mode {
                    Mode::Live => "established with HeadBucket ExpectedBucketOwner".to_string(),
                    Mode::Offline => "given with --bucket-account".to_string(),
                },
                *a != role_account,
            ),
            None if input.facts.bucket_not_owned_by.contains(&role_account) => (
                format!("other than {role_account}"),
                "the role's account does not own it (HeadBucket ExpectedBucketOwner answered 403)"
                    .to_string(),
                true,
            ),
            None => (
                role_account.clone(),
                format!(
                    "assumed to be the role's account: {}",
                    match &input.facts.bucket_owner_account {
                        Fact::Unavailable(why) => why.as_str(),
                        Fact::Failed(failure) => failure.message.as_str(),
                        Fact::Known(_) => "",
                    }
                ),
                false,
            ),
        };
    // The evaluator compares accounts; an owner known only as "not the role's" has none.
    let owner_for_request = input
        .facts
        .bucket_owner_account
        .known()
        .cloned()
        .or_else(|| (!cross_account).then(|| role_account.clone()));
    let owner_evidence = format!("bucket owner: {bucket_account} ({owner_source})");

    let mut findings = Vec::new();
    let mut checked = Vec::new();
    let mut ungranted = Vec::new();
    for (action, resource) in target.required() {
        let mut request = target.request(&action, &resource, input.values);
        request.resource_account = owner_for_request.clone();
        let ev = evaluate_policy(policy, &request);
        let denies: Vec<String> = ev
            .matched
            .iter()
            .filter(|m| m.effect == Effect::Deny)
            .map(describe_matched)
            .collect();
        match (ev.best, ev.worst) {
            (Decision::ExplicitDeny, _) => findings.push(
                Finding::fail("denied")
                    .var("action", &action)
                    .var("resource", &resource)
                    .var("statement", denies.join("; "))
                    .var("role_arn", target.role.to_string())
                    .evidence(format!(
                        "{action} on {resource} by {} is denied by {}",
                        target.role,
                        denies.join("; ")
                    )),
            ),
            (_, Decision::ExplicitDeny) => findings.push(
                Finding::warn("conditional-deny")
                    .var("action", &action)
                    .var("resource", &resource)
                    .var("conditions", conditional_clause(&ev))
                    .var("role_arn", target.role.to_string())
                    .evidence_lines(
                        conditional_parts(&ev)
                            .into_iter()
                            .map(|part| format!("{action} on {resource}: {part}")),
                    ),
            ),
            _ => {
                if cross_account && ev.worst != Decision::Allowed {
                    ungranted.push((action.clone(), resource.clone()));
                } else {
                    checked.push(format!("{action} on {resource}: not denied"));
                }
            }
        }
    }

    if !ungranted.is_empty() {
        let mut f = Finding::fail("no-grant-cross-account")
            .var("bucket_account", &bucket_account)
            .var("role_account", &target.role.account)
            .evidence(owner_evidence.clone());
        let mut object_actions = Vec::new();
        let mut bucket_actions = Vec::new();
        for (action, resource) in &ungranted {
            f = f.evidence(format!(
                "{action} on {resource} is not granted to {} (bucket account {bucket_account}, {owner_source})",
                target.role
            ));
            if *resource == target.bucket_arn() {
                bucket_actions.push(action.clone());
            } else {
                object_actions.push(action.clone());
            }
        }
        let role = target.role.to_string();
        let mut statements = Vec::new();
        if !object_actions.is_empty() {
            statements.push(statement(
                "AocRoleObjects",
                Some(&role),
                &object_actions,
                &target.object_arn(),
            ));
        }
        if !bucket_actions.is_empty() {
            statements.push(statement(
                "AocRoleBucket",
                Some(&role),
                &bucket_actions,
                &target.bucket_arn(),
            ));
        }
        let whole = merged(policy, statements.clone());
        findings.push(
            f.fix(vec![
                FixStep::Example {
                    caption: format!("Statements to add to the bucket policy of {}", target.bucket),
                    document: serde_json::Value::Array(statements),
                },
                FixStep::document(
                    "`aws s3api put-bucket-policy` replaces the whole policy: the merged policy",
                    "bucket-policy.json",
                    FixDocument::whole("bucket-policy", whole.clone())
                        .replacing(crate::policy::to_json(&policy.document)),
                ),
                FixStep::command(
                    "Put it on the bucket",
                    format!(
                        "aws s3api put-bucket-policy --bucket {} --policy file://bucket-policy.json",
                        target.bucket
                    ),
                ),
            ]),
        );
    }

    if findings.is_empty() {
        findings.push(
            Finding::pass("no-deny")
                .var("bucket", target.bucket)
                .evidence(format!(
                    "judged {} requests of {} against {}",
                    checked.len(),
                    target.role,
                    policy.label
                ))
                .evidence(owner_evidence)
                .evidence_lines(checked),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::facts::Facts;
    use crate::model::verdict::Status;

    fn facts(bucket_policy: &str) -> Facts {
        Facts {
            bucket_policy: Fact::Known(Some(policy("bucket policy", bucket_policy))),
            ..Facts::default()
        }
    }

    #[test]
    fn no_bucket_policy_passes() {
        let facts = Facts {
            bucket_policy: Fact::Known(None),
            ..Facts::default()
        };
        let f = run_check(&DEF, &attachment(), &facts);
        assert_eq!(status(&f), Status::Pass);
    }

    #[test]
    fn deny_insecure_transport_does_not_block_aoc() {
        let p = r#"{"Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
          "Action": "s3:*", "Resource": ["arn:aws:s3:::aspera-kms", "arn:aws:s3:::aspera-kms/*"],
          "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}"#;
        let f = run_check(&DEF, &attachment(), &facts(p));
        assert_eq!(status(&f), Status::Pass, "{}", text(&f));
    }

    #[test]
    fn deny_uploads_with_another_key_fails() {
        let p = r#"{"Statement": [{"Sid": "RequireOtherKey", "Effect": "Deny", "Principal": "*",
          "Action": "s3:PutObject", "Resource": "arn:aws:s3:::aspera-kms/*",
          "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id":
            "arn:aws:kms:us-east-1:111122223333:key/ffffffff-ffff-ffff-ffff-ffffffffffff"}}}]}"#;
        let f = run_check(&DEF, &attachment(), &facts(p));
        assert_eq!(status(&f), Status::Fail, "{}", text(&f));
        let t = text(&f);
        assert!(t.contains("RequireOtherKey"), "{t}");
        assert!(t.contains("s3:PutObject"), "{t}");
    }

    #[test]
    fn source_ip_deny_is_conditional() {
        let p = r#"{"Statement": [{"Sid": "OfficeOnly", "Effect": "Deny", "Principal": "*",
          "Action": "s3:*", "Resource": "arn:aws:s3:::aspera-kms/*",
          "Condition": {"NotIpAddress": {"aws:SourceIp": "198.51.100.0/24"}}}]}"#;
        let f = run_check(&DEF, &attachment(), &facts(p));
        assert_eq!(status(&f), Status::Warn, "{}", text(&f));
        assert!(text(&f).contains("aws:SourceIp"));
    }

    #[test]
    fn issue11_d4_d10_a_conditional_deny_reads_as_a_deny_and_its_fix_names_the_role() {
        let p = r#"{"Statement": [
          {"Sid": "Objects", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
           "Action": "s3:*", "Resource": "arn:aws:s3:::aspera-kms/*"},
          {"Sid": "OfficeOnly", "Effect": "Deny", "Principal": "*",
           "Action": "s3:*", "Resource": "arn:aws:s3:::aspera-kms/*",
           "Condition": {"NotIpAddress": {"aws:SourceIp": "198.51.100.0/24"}}}]}"#;
        let f = run_check(&DEF, &attachment(), &facts(p));
        let t = text(&f);
        assert!(
            t.contains("denied by statement 1 (Sid `OfficeOnly`) of bucket policy when NotIpAddress aws:SourceIp"),
            "{t}"
        );
        assert!(!t.contains("Objects"), "the Allow is not the cause: {t}");
        let catalog = crate::catalog::get().unwrap();
        let result = crate::checks::results::check_result(catalog, &DEF, &f);
        let remediation = result.remediation.unwrap_or_default();
        assert!(remediation.contains(ROLE_ARN), "{remediation}");
        assert!(!remediation.contains("ROLE_ARN"), "{remediation}");
    }

    #[test]
    fn a_not_principal_deny_naming_the_role_still_denies_its_sessions() {
        // AoC calls S3 as a session of the role: naming the role and its account in a Deny's
        // NotPrincipal does not exempt the session (IAM User Guide, "NotPrincipal").
        let p = format!(
            r#"{{"Statement": [{{"Sid": "OnlyTheRole", "Effect": "Deny",
              "NotPrincipal": {{"AWS": ["{ROLE_ARN}", "arn:aws:iam::111122223333:root"]}},
              "Action": "s3:*", "Resource": ["arn:aws:s3:::aspera-kms", "arn:aws:s3:::aspera-kms/*"]}}]}}"#
        );
        let f = run_check(&DEF, &attachment(), &facts(&p));
        assert_eq!(status(&f), Status::Fail, "{}", text(&f));
        assert!(text(&f).contains("OnlyTheRole"), "{}", text(&f));
    }

    #[test]
    fn vpce_only_policy_denies_aoc() {
        let p = r#"{"Statement": [{"Sid": "VpceOnly", "Effect": "Deny", "Principal": "*",
          "Action": "s3:*", "Resource": "arn:aws:s3:::aspera-kms/*",
          "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}]}"#;
        let f = run_check(&DEF, &attachment(), &facts(p));
        assert_eq!(status(&f), Status::Fail, "{}", text(&f));
    }

    #[test]
    fn cross_account_bucket_needs_a_grant() {
        let mut facts = facts(r#"{"Statement": []}"#);
        facts.bucket_owner_account = Fact::Known("444455556666".into());
        let f = run_check(&DEF, &attachment(), &facts);
        assert_eq!(status(&f), Status::Fail, "{}", text(&f));
        assert!(f.iter().any(|f| f.reason == "no-grant-cross-account"));
        assert!(text(&f).contains(ROLE_ARN));
    }

    const TLS_ONLY: &str = r#"{"Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
      "Action": "s3:*", "Resource": ["arn:aws:s3:::aspera-kms", "arn:aws:s3:::aspera-kms/*"],
      "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}"#;

    #[test]
    fn issue11_d3_key_in_another_account_does_not_make_the_bucket_cross_account() {
        let mut a = attachment();
        a.kms_key =
            "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab".into();
        let mut facts = facts(TLS_ONLY);
        facts.bucket_owner_account = Fact::Unavailable("not given (offline: ...)".into());
        let f = run_check(&DEF, &a, &facts);
        assert_eq!(status(&f), Status::Pass, "{}", text(&f));
        assert!(
            text(&f).contains("bucket owner: 111122223333 (assumed to be the role's account"),
            "{}",
            text(&f)
        );
        assert!(!text(&f).contains("444455556666"), "{}", text(&f));
    }

    #[test]
    fn issue11_d3_owner_given_or_established_decides() {
        let mut a = attachment();
        a.kms_key =
            "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab".into();
        // Live: the role's account owns it.
        let mut f = facts(TLS_ONLY);
        f.mode = crate::model::facts::Mode::Live;
        f.bucket_owner_account = Fact::Known("111122223333".into());
        let got = run_check(&DEF, &a, &f);
        assert_eq!(status(&got), Status::Pass, "{}", text(&got));
        assert!(text(&got).contains("ExpectedBucketOwner"), "{}", text(&got));
        // Live: the role's account does not own it, which one does is unknown.
        let mut f = facts(TLS_ONLY);
        f.mode = crate::model::facts::Mode::Live;
        f.bucket_not_owned_by = vec!["111122223333".into()];
        let got = run_check(&DEF, &a, &f);
        assert_eq!(status(&got), Status::Fail, "{}", text(&got));
        assert!(got.iter().any(|f| f.reason == "no-grant-cross-account"));
        assert!(!text(&got).contains("444455556666"), "{}", text(&got));
    }
}
