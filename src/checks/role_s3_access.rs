//! `role.s3-access`: the role's effective identity permissions (inline and managed policies,
//! limited by its permissions boundary) allow every S3 action AoC needs, on the bucket ARN or
//! on the objects under the path. A same-account bucket policy that grants the role directly
//! also counts; a bucket policy's denies are `bucket.policy`'s business.

use std::collections::BTreeMap;

use super::aoc_model::S3Target;
use super::policy_help::{
    allows_of_action, describe, describe_matched, misspellings, policy_document, pretty,
    resources_text, statement,
};
use super::{CheckDef, Finding, Input};
use crate::policy::{Decision, NamedPolicy, PolicySet, evaluate};

pub const DEF: CheckDef = CheckDef {
    id: "role.s3-access",
    reasons: &[
        "all-allowed",
        "missing-action",
        "denied",
        "boundary-omits",
        "conditional",
        "misspelled-action",
    ],
    run,
};

fn run(input: &Input<'_>) -> Vec<Finding> {
    let Some(target) = S3Target::from_values(input.values) else {
        return vec![Finding::skip_needs(
            "a well-formed region, bucket, path and role ARN",
        )];
    };
    let (identity, boundary) = match super::policy_help::role_policies(input.facts) {
        Ok(policies) => policies,
        Err(findings) => return findings,
    };
    // A bucket policy naming the role grants by itself within one account.
    let bucket_policy: Option<&NamedPolicy> =
        input.facts.bucket_policy.known().and_then(|p| p.as_ref());

    let set = PolicySet {
        identity,
        boundary,
        resource: None,
    };
    let wanted: Vec<String> = target.required().into_iter().map(|(a, _)| a).collect();
    let wanted_refs: Vec<&str> = wanted.iter().map(String::as_str).collect();
    let typos = misspellings(identity.iter().chain(boundary), &wanted_refs);

    let mut findings = Vec::new();
    let mut granted_by = Vec::new();
    let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();

    for (action, resource) in target.required() {
        let request = target.request(&action, &resource, input.values);
        let ev = evaluate(&set, &request);
        if ev.worst == Decision::Allowed {
            granted_by.push(format!(
                "{action} on {resource}: allowed by {}",
                grants(&ev.matched)
            ));
            continue;
        }
        if let Some(bp) = bucket_policy {
            let direct = evaluate(
                &PolicySet {
                    identity: &[],
                    boundary,
                    resource: Some(bp),
                },
                &request,
            );
            if direct.worst == Decision::Allowed {
                granted_by.push(format!(
                    "{action} on {resource}: allowed by the bucket policy, {}",
                    grants(&direct.matched)
                ));
                continue;
            }
        }
        if ev.best == Decision::Allowed {
            findings.push(
                Finding::warn("conditional")
                    .var("action", &action)
                    .var("resource", &resource)
                    .var("conditions", ev.unresolved_conditions().join(" and "))
                    .evidence(format!(
                        "{action} on {resource} is allowed only if {}: {}",
                        ev.unresolved_conditions().join(" and "),
                        grants(&ev.matched)
                    )),
            );
            continue;
        }
        if ev.best == Decision::ExplicitDeny {
            let denies: Vec<String> = ev
                .matched
                .iter()
                .filter(|m| m.effect == crate::policy::Effect::Deny)
                .map(describe_matched)
                .collect();
            findings.push(
                Finding::fail("denied")
                    .var("action", &action)
                    .var("resource", &resource)
                    .var("statement", denies.join("; "))
                    .evidence(format!(
                        "{action} on {resource} is explicitly denied by {}",
                        denies.join("; ")
                    )),
            );
            continue;
        }
        // Not allowed: say why, as precisely as the documents allow.
        let without_boundary = evaluate(
            &PolicySet {
                identity,
                boundary: None,
                resource: None,
            },
            &request,
        );
        if let (Some(b), Decision::Allowed) = (boundary, without_boundary.worst) {
            findings.push(
                Finding::fail("boundary-omits")
                    .var("action", &action)
                    .var("resource", &resource)
                    .var("boundary", &b.label)
                    .evidence(format!(
                        "{action} on {resource} is allowed by {} but not by the permissions boundary {}",
                        grants(&without_boundary.matched),
                        b.label
                    )),
            );
            continue;
        }
        let mut f = Finding::fail("missing-action")
            .var("action", &action)
            .var("resource", &resource)
            .evidence(format!(
                "no statement of the role's policies allows {action} on {resource}"
            ));
        for (p, st) in allows_of_action(identity.iter(), &action) {
            f = f.evidence(format!(
                "{} allows {action} only on {}",
                describe(&p.label, st.index, st.sid.as_deref()),
                resources_text(st)
            ));
        }
        for t in typos
            .iter()
            .filter(|t| t.meant.eq_ignore_ascii_case(&action))
        {
            f = f.evidence(format!(
                "{} lists `{}`, which is not an S3 action and grants nothing (did you mean `{}`?)",
                t.statement, t.written, t.meant
            ));
        }
        findings.push(f);
        missing.entry(resource).or_default().push(action);
    }

    for t in &typos {
        let mut f = Finding::warn("misspelled-action")
            .var("written", &t.written)
            .var("meant", &t.meant);
        // Where the missing action's evidence already shows the typo, once is enough.
        if !missing
            .values()
            .flatten()
            .any(|a| a.eq_ignore_ascii_case(&t.meant))
        {
            f = f.evidence(format!(
                "{} lists `{}`; the action is `{}`",
                t.statement, t.written, t.meant
            ));
        }
        findings.push(f);
    }

    if !missing.is_empty() {
        let statements: Vec<serde_json::Value> = missing
            .iter()
            .enumerate()
            .map(|(i, (resource, actions))| {
                statement(&format!("AocS3Access{}", i + 1), None, actions, resource)
            })
            .collect();
        let role_name = target.role.resource_name();
        let document = policy_document(statements);
        let fix = format!(
            "Policy to add (aoc-s3-access.json):\n{}\n\nAdd it to the role:\n  aws iam put-role-policy --role-name {role_name} --policy-name aoc-s3-access --policy-document file://aoc-s3-access.json",
            pretty(&document)
        );
        if let Some(first) = findings.iter_mut().find(|f| f.reason == "missing-action") {
            first.fix = Some(fix);
            first.fix_document = Some(super::FixDocument {
                applies_to: "identity-policy",
                document,
            });
        }
    }

    if findings.is_empty() {
        findings.push(
            Finding::pass("all-allowed")
                .var("bucket_arn", target.bucket_arn())
                .var("object_arn", target.object_arn())
                .evidence_lines(granted_by),
        );
    }
    findings
}

/// "statement 0 (Sid `S3`) of policy.json": the allow statements that decided.
fn grants(matched: &[crate::policy::MatchedStatement]) -> String {
    let allows: Vec<String> = matched
        .iter()
        .filter(|m| m.effect == crate::policy::Effect::Allow)
        .map(describe_matched)
        .collect();
    if allows.is_empty() {
        "no statement".to_string()
    } else {
        allows.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;
    use crate::checks::test_support::*;
    use crate::facts::{Fact, Facts};

    const SEED_S3_POLICY: &str = r#"{
      "Version": "2012-10-17",
      "Statement": [
        {"Sid": "Objects", "Effect": "Allow",
         "Action": ["s3:AbortMultipartUpload","s3:DeleteObject","s3:ListMultipartUploadParts","s3:PutObject","s3:GetObject"],
         "Resource": ["arn:aws:s3:::aspera-kms/*"]},
        {"Sid": "Bucket", "Effect": "Allow",
         "Action": ["s3:GetBucketLocation","s3:ListBucket","s3:ListBucketMultipartUploads"],
         "Resource": ["arn:aws:s3:::aspera-kms"]}
      ]}"#;

    fn facts(identity: &[&str]) -> Facts {
        Facts {
            identity_policies: Fact::Known(
                identity
                    .iter()
                    .enumerate()
                    .map(|(i, j)| policy(&format!("policy{i}.json"), j))
                    .collect(),
            ),
            permissions_boundary: Fact::Known(None),
            ..Facts::default()
        }
    }

    #[test]
    fn seed_policy_passes() {
        let f = run_check(&DEF, &attachment(), &facts(&[SEED_S3_POLICY]));
        assert_eq!(status(&f), Status::Pass, "{}", text(&f));
    }

    #[test]
    fn misspelled_multipart_action_fails_and_names_it() {
        let p = SEED_S3_POLICY.replace(
            "s3:ListBucketMultipartUploads",
            "s3:ListBucketMultipartUpload",
        );
        let f = run_check(&DEF, &attachment(), &facts(&[&p]));
        assert_eq!(status(&f), Status::Fail);
        let t = text(&f);
        assert!(t.contains("s3:ListBucketMultipartUpload`"), "{t}");
        assert!(
            t.contains("did you mean `s3:ListBucketMultipartUploads`"),
            "{t}"
        );
        assert!(f.iter().any(|f| f.reason == "misspelled-action"));
    }

    #[test]
    fn object_actions_on_bucket_arn_only_fail() {
        let p = SEED_S3_POLICY.replace("arn:aws:s3:::aspera-kms/*", "arn:aws:s3:::aspera-kms");
        let f = run_check(&DEF, &attachment(), &facts(&[&p]));
        assert_eq!(status(&f), Status::Fail);
        let t = text(&f);
        assert!(t.contains("s3:PutObject"), "{t}");
        assert!(
            t.contains("allows s3:PutObject only on arn:aws:s3:::aspera-kms"),
            "{t}"
        );
        // The fix grants on the objects, with the real bucket.
        assert!(t.contains("\"arn:aws:s3:::aspera-kms/*\""), "{t}");
        assert!(t.contains("put-role-policy --role-name aoc-access"), "{t}");
    }

    #[test]
    fn policy_scoped_to_another_path_fails() {
        let mut a = attachment();
        a.path = "/data".into();
        let p = SEED_S3_POLICY.replace("aspera-kms/*", "aspera-kms/other/*");
        let f = run_check(&DEF, &a, &facts(&[&p]));
        assert_eq!(status(&f), Status::Fail);
        let t = text(&f);
        assert!(t.contains("arn:aws:s3:::aspera-kms/data/*"), "{t}");
        assert!(t.contains("only on arn:aws:s3:::aspera-kms/other/*"), "{t}");
    }

    #[test]
    fn inline_deny_fails_naming_the_statement() {
        let deny = r#"{"Statement": {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}}"#;
        let f = run_check(&DEF, &attachment(), &facts(&[SEED_S3_POLICY, deny]));
        assert_eq!(status(&f), Status::Fail);
        assert!(f.iter().any(|f| f.reason == "denied"));
        assert!(text(&f).contains("NoDelete"), "{}", text(&f));
    }

    #[test]
    fn boundary_that_omits_an_action_fails() {
        let mut facts = facts(&[SEED_S3_POLICY]);
        facts.permissions_boundary = Fact::Known(Some(policy(
            "boundary.json",
            r#"{"Statement": {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "s3:PutObject", "s3:AbortMultipartUpload"], "Resource": "*"}}"#,
        )));
        let f = run_check(&DEF, &attachment(), &facts);
        assert_eq!(status(&f), Status::Fail);
        let b: Vec<_> = f.iter().filter(|f| f.reason == "boundary-omits").collect();
        assert_eq!(b.len(), 1, "{}", text(&f));
        assert!(text(&f).contains("s3:DeleteObject"));
    }

    #[test]
    fn source_ip_condition_warns_with_the_condition() {
        let p = r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}}"#;
        let f = run_check(&DEF, &attachment(), &facts(&[p]));
        assert_eq!(status(&f), Status::Warn, "{}", text(&f));
        assert!(text(&f).contains("aws:SourceIp"), "{}", text(&f));
    }

    #[test]
    fn no_identity_policies_is_skip_offline() {
        let facts = Facts::default();
        let f = run_check(&DEF, &attachment(), &facts);
        assert_eq!(status(&f), Status::Skip);
    }
}
