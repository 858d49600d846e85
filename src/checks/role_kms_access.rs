//! `role.kms-access`: the role may use the key for the S3 data path: `kms:GenerateDataKey`
//! and `kms:Decrypt` on the key ARN, from its identity policies (limited by its boundary), or
//! from a key policy that names the role directly. Whether the key policy delegates to IAM is
//! `kms.key-policy`'s business.
//!
//! An alias ARN in `Resource` grants nothing: KMS authorizes against the key ARN (KMS
//! Developer Guide, "Using aliases to control access to KMS keys",
//! <https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html>).

use super::FixStep;
use super::policy_help::{
    PolicyHome, allowing, conditional_clause, conditional_parts, describe, describe_matched,
    merged, new_inline_policy_fix, open_only_on_encryption_context, policy_document,
    replace_policy_fix, statement, unused_sid,
};
use super::{CheckDef, Finding, Input};
use crate::model::aoc::{self, REQUIRED, S3Target};
use crate::model::values::KmsKeyRef;
use crate::policy::{Decision, Effect, NamedPolicy, PolicySet, ResourceSpec, evaluate};

pub const DEF: CheckDef = CheckDef {
    id: "role.kms-access",
    reasons: &[
        "allowed",
        "missing-action",
        "boundary-omits",
        "alias-resource",
        "denied",
        "conditional",
        "recommended-missing",
        "key-unresolved",
        "no-such-key",
    ],
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
    // KMS said the key does not exist: a grant on it proves nothing (kms.key says what to do).
    if matches!(input.facts.key, crate::model::facts::Fact::Known(None)) {
        return vec![
            Finding::new(super::Status::Skip, "no-such-key")
                .var("kms_key", super::input_values::entered_kms_key(input)),
        ];
    }
    let (identity, boundary) = match super::policy_help::role_policies(input.facts) {
        Ok(policies) => policies,
        Err(findings) => return findings,
    };
    let key_policy = input.facts.key_policy.known();

    let key_arn = aoc::key_arn(input.values, input.facts);
    // Offline with an alias or a bare key ID, the key ARN is not known: evaluate against
    // "any key of the account" and say so.
    let (resource, unresolved) = match &key_arn {
        Some(arn) => (arn.clone(), false),
        None => (
            format!(
                "arn:{}:kms:{}:{}:key/*",
                target.partition,
                target.region,
                key.arn()
                    .map_or(target.role.account.as_str(), |a| a.account.as_str())
            ),
            true,
        ),
    };

    let set = PolicySet {
        identity,
        boundary,
        resource: None,
    };
    let mut findings = Vec::new();
    let mut granted = Vec::new();
    let mut missing = Vec::new();
    let mut outside_boundary: Vec<String> = Vec::new();
    let mut alias_policies: Vec<String> = Vec::new();
    for action in &REQUIRED.kms.required {
        let request = aoc::kms_request(&target, action, &resource, values);
        let ev = evaluate(&set, &request);
        if ev.worst == Decision::Allowed {
            granted.push(format!(
                "{action} on {resource}: allowed by {}",
                allowing(&ev.matched)
            ));
            continue;
        }
        // A key policy naming the role grants use of the key without any identity policy.
        if let Some(kp) = key_policy {
            let direct = evaluate(
                &PolicySet {
                    identity: &[],
                    boundary,
                    resource: Some(kp),
                },
                &request,
            );
            if direct.worst == Decision::Allowed {
                granted.push(format!(
                    "{action} on {resource}: allowed by the key policy, {}",
                    allowing(&direct.matched)
                ));
                continue;
            }
        }
        if ev.best == Decision::Allowed && open_only_on_encryption_context(&ev) {
            granted.push(format!(
                "{action} on {resource}: allowed by {} for the encryption context S3 sends (bucket.encryption checks it against the bucket's Bucket Key setting)",
                allowing(&ev.matched)
            ));
            continue;
        }
        if ev.best == Decision::Allowed {
            findings.push(
                Finding::warn("conditional")
                    .var("action", action)
                    .var("resource", &resource)
                    .var("conditions", conditional_clause(&ev))
                    .evidence_lines(
                        conditional_parts(&ev)
                            .into_iter()
                            .map(|part| format!("{action} on {resource}: {part}")),
                    ),
            );
            continue;
        }
        if ev.best == Decision::ExplicitDeny {
            let denies: Vec<String> = ev
                .matched
                .iter()
                .filter(|m| m.effect == Effect::Deny)
                .map(describe_matched)
                .collect();
            findings.push(
                Finding::fail("denied")
                    .var("action", action)
                    .var("resource", &resource)
                    .var("statement", denies.join("; "))
                    .evidence(format!(
                        "{action} is explicitly denied by {}",
                        denies.join("; ")
                    )),
            );
            continue;
        }
        if let Some(f) = super::policy_help::boundary_omits(identity, boundary, &request) {
            findings.push(f);
            outside_boundary.push(action.clone());
            continue;
        }
        let alias_grants = alias_only_grants(identity, key, action);
        if !alias_grants.is_empty() {
            findings.push(
                Finding::fail("alias-resource")
                    .var("action", action)
                    .var("resource", &resource)
                    .evidence_lines(alias_grants.iter().map(|(_, line)| line.clone())),
            );
            alias_policies.extend(alias_grants.into_iter().map(|(label, _)| label));
        } else if unresolved && names_specific_key(identity) {
            findings.push(
                Finding::warn("key-unresolved")
                    .var("action", action)
                    .var("kms_key", super::input_values::entered_kms_key(input))
                    .evidence(format!(
                        "{action} is granted on specific key ARNs only, and the key behind `{}` is not known",
                        super::input_values::entered_kms_key(input)
                    )),
            );
            continue;
        } else {
            findings.push(
                Finding::fail("missing-action")
                    .var("action", action)
                    .var("resource", &resource)
                    .evidence(format!(
                        "no statement of the role's policies allows {action} on {resource} for AoC's requests"
                    ))
                    .evidence_lines(super::policy_help::unmet_conditions(identity, &request))
                    .evidence_lines(near_key_grants(identity, &resource)),
            );
        }
        missing.push(action.clone());
    }

    // Against an unknown key every specific grant looks missing: say nothing rather than noise.
    let recommended: &[String] = if unresolved {
        &[]
    } else {
        &REQUIRED.kms.recommended
    };
    let mut recommended_missing = Vec::new();
    for action in recommended {
        let request = aoc::kms_request(&target, action, &resource, values);
        let identity_ok = evaluate(&set, &request).best == Decision::Allowed;
        let key_policy_ok = key_policy.is_some_and(|kp| {
            evaluate(
                &PolicySet {
                    identity: &[],
                    boundary,
                    resource: Some(kp),
                },
                &request,
            )
            .best
                == Decision::Allowed
        });
        if !identity_ok && !key_policy_ok {
            recommended_missing.push(action.clone());
            findings.push(
                Finding::warn("recommended-missing")
                    .var("action", action)
                    .evidence(format!(
                        "{action} on {resource} is not allowed (the IBM procedure's KMS policy lists it)"
                    )),
            );
        }
    }

    let role_name = target.role.resource_name();
    if !missing.is_empty() {
        // Only what AoC's data path needs: the procedure's other actions are advice, and one of
        // them (kms:EnableKey) manages the key rather than uses it.
        let actions: Vec<String> = missing.clone();
        let fix = match &key_arn {
            Some(key_arn) => {
                let requests: Vec<crate::policy::Request> = actions
                    .iter()
                    .map(|a| aoc::kms_request(&target, a, key_arn, values))
                    .collect();
                kms_grant_fix(
                    role_name,
                    identity,
                    &alias_policies,
                    &actions,
                    key_arn,
                    &requests,
                )
            }
            // Offline with an alias, the key ARN is unknown: show the shape, apply nothing.
            None => {
                let placeholder = format!(
                    "arn:{}:kms:{}:ACCOUNT:key/KEY_ID",
                    target.partition, target.region
                );
                vec![FixStep::Example {
                    caption: format!(
                        "The key behind `{}` is not known offline: replace ACCOUNT and KEY_ID with the key's (aws kms describe-key --key-id {}), then add this to one of the role's policies",
                        super::input_values::entered_kms_key(input),
                        super::input_values::entered_kms_key(input)
                    ),
                    document: policy_document(vec![statement(
                        "AocKmsDataPath",
                        None,
                        &actions,
                        &placeholder,
                    )]),
                }]
            }
        };
        if let Some(first) = findings
            .iter_mut()
            .find(|f| f.reason == "missing-action" || f.reason == "alias-resource")
        {
            first.fix = fix;
        }
    }
    if !outside_boundary.is_empty()
        && let (Some(b), Some(key_arn)) = (boundary, &key_arn)
    {
        let sid = unused_sid("AocKmsDataPath", Some(b), &[]);
        let whole = merged(b, vec![statement(&sid, None, &outside_boundary, key_arn)]);
        if let Some(fix) = replace_policy_fix(role_name, b, whole)
            && let Some(first) = findings.iter_mut().find(|f| f.reason == "boundary-omits")
        {
            first.fix = fix;
        }
    }

    if findings.is_empty() {
        findings.push(
            Finding::pass("allowed")
                .var("resource", &resource)
                .evidence_lines(granted),
        );
    }
    findings
}

/// The fix for a missing data-path grant: where a statement names the key by an alias (which
/// grants nothing), the policy holding it gets a statement on the key ARN and is given whole
/// (so every other statement stays); otherwise a new inline policy under an unused name.
fn kms_grant_fix(
    role_name: &str,
    identity: &[NamedPolicy],
    alias_policies: &[String],
    actions: &[String],
    key_arn: &str,
    requests: &[crate::policy::Request],
) -> Vec<FixStep> {
    // A grant scoped by a condition AoC's requests do not meet: that statement, with AoC's
    // value added, rather than a second grant without the condition.
    for p in identity
        .iter()
        .filter(|p| !matches!(PolicyHome::of(&p.label), PolicyHome::AwsManaged(_)))
    {
        if let Some(fixed) = super::policy_help::with_conditions_met(p, requests)
            && let Some(fix) =
                replace_policy_fix(role_name, p, crate::policy::to_json(&fixed.document))
        {
            return fix;
        }
    }
    let holder = alias_policies
        .iter()
        .find_map(|label| identity.iter().find(|p| &p.label == label))
        .filter(|p| !matches!(PolicyHome::of(&p.label), PolicyHome::AwsManaged(_)))
        .or_else(|| {
            identity
                .iter()
                .find(|p| PolicyHome::of(&p.label) == PolicyHome::Inline(NEW_POLICY_NAME))
        });
    // The alias statement is left as it is: it grants nothing, and rewriting it would also
    // grant whatever else it lists on AoC's key.
    // Every action here is missing after the holder's statements were evaluated, so the grant
    // is added whole.
    if let Some(p) = holder {
        let sid = unused_sid("AocKmsDataPath", Some(p), &[]);
        let whole = merged(p, vec![statement(&sid, None, actions, key_arn)]);
        if let Some(fix) = replace_policy_fix(role_name, p, whole) {
            return fix;
        }
    }
    new_inline_policy_fix(
        role_name,
        identity,
        NEW_POLICY_NAME,
        "Policy to add, naming the key ARN (an alias ARN in Resource grants nothing)",
        policy_document(vec![statement("AocKmsDataPath", None, actions, key_arn)]),
    )
}

/// Statements that name a key ARN one or two characters from the key's: a typo in the
/// policy, or in the key entered in AoC.
fn near_key_grants(identity: &[NamedPolicy], key_arn: &str) -> Vec<String> {
    let mut out = Vec::new();
    for p in identity {
        for st in &p.document.statements {
            let Some(ResourceSpec::Resource(list)) = &st.resource else {
                continue;
            };
            for r in list.iter().filter(|r| r.contains(":key/")) {
                if (1..=2).contains(&strsim::levenshtein(r, key_arn)) {
                    out.push(format!(
                        "{} names the key {r}, one or two characters from {key_arn}: a typo in the policy or in the key entered in AoC",
                        describe(&p.label, st.index, st.sid.as_deref())
                    ));
                }
            }
        }
    }
    out
}

/// The name the tool gives a new inline policy with the role's KMS grants.
const NEW_POLICY_NAME: &str = "aoc-kms-access";

/// Statements that allow `action` on an alias ARN (which grants nothing).
fn alias_only_grants(
    identity: &[NamedPolicy],
    key: &KmsKeyRef,
    action: &str,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (p, st) in super::policy_help::allows_of_action(identity, action) {
        if let Some(ResourceSpec::Resource(list)) = &st.resource {
            for r in list.iter().filter(|r| r.contains(":alias/")) {
                let hint = match key {
                    KmsKeyRef::Alias(a) if a.to_string() == *r => " (the alias entered in AoC)",
                    _ => "",
                };
                out.push((
                    p.label.clone(),
                    format!(
                        "{} allows {action} on the alias ARN {r}{hint}; KMS authorizes against the key ARN, so it grants nothing",
                        describe(&p.label, st.index, st.sid.as_deref())
                    ),
                ));
            }
        }
    }
    out
}

/// True when some statement names a specific key ARN (so a grant may exist for the key behind
/// an alias that is not resolved offline).
fn names_specific_key(identity: &[NamedPolicy]) -> bool {
    identity.iter().any(|p| {
        p.document.statements.iter().any(|st| {
            matches!(&st.resource, Some(ResourceSpec::Resource(list))
                if list.iter().any(|r| r.contains(":key/") && !r.ends_with(":key/*")))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::facts::{Fact, Facts};
    use crate::model::verdict::Status;

    fn kms_policy(resource: &str) -> String {
        format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Sid": "Kms", "Effect": "Allow",
              "Action": ["kms:EnableKey","kms:Encrypt","kms:Decrypt","kms:GenerateDataKey",
                         "kms:GenerateDataKeyWithoutPlaintext","kms:ReEncryptTo","kms:ReEncryptFrom"],
              "Resource": ["{resource}"]}}]}}"#
        )
    }

    fn facts(identity: &str) -> Facts {
        Facts {
            identity_policies: Fact::Known(vec![policy("kms.json", identity)]),
            permissions_boundary: Fact::Known(None),
            ..Facts::default()
        }
    }

    #[test]
    fn seed_kms_policy_on_key_arn_passes() {
        let f = run_check(&DEF, &attachment(), &facts(&kms_policy(KEY_ARN)));
        assert_eq!(status(&f), Status::Pass, "{}", text(&f));
    }

    #[test]
    fn decrypt_on_alias_arn_only_fails() {
        let f = run_check(
            &DEF,
            &attachment(),
            &facts(&kms_policy("arn:aws:kms:us-east-1:111122223333:alias/aoc")),
        );
        assert_eq!(status(&f), Status::Fail);
        assert!(f.iter().any(|f| f.reason == "alias-resource"));
        let t = text(&f);
        assert!(
            t.contains("alias ARN arn:aws:kms:us-east-1:111122223333:alias/aoc"),
            "{t}"
        );
        assert!(t.contains(KEY_ARN), "the fix names the key ARN: {t}");
    }

    #[test]
    fn missing_generate_data_key_fails_and_recommended_warn() {
        let p = format!(
            r#"{{"Statement": {{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "{KEY_ARN}"}}}}"#
        );
        let f = run_check(&DEF, &attachment(), &facts(&p));
        assert_eq!(status(&f), Status::Fail);
        assert!(f.iter().any(|f| f.reason == "missing-action"
            && text(std::slice::from_ref(f)).contains("kms:GenerateDataKey")));
        assert!(f.iter().any(|f| f.reason == "recommended-missing"));
    }

    #[test]
    fn key_policy_naming_the_role_is_enough() {
        let mut facts = facts(r#"{"Statement": []}"#);
        facts.key_policy = Fact::Known(policy(
            "key policy",
            &format!(
                r#"{{"Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "{ROLE_ARN}"}},
                  "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*"}}]}}"#
            ),
        ));
        let f = run_check(&DEF, &attachment(), &facts);
        assert!(!f.iter().any(|f| f.status == Status::Fail), "{}", text(&f));
    }

    #[test]
    fn issue11_d5_a_boundary_without_the_kms_action_is_named_and_changed() {
        let boundary_arn = "arn:aws:iam::111122223333:policy/aoc-boundary";
        let mut facts = facts(&kms_policy(KEY_ARN));
        facts.permissions_boundary = Fact::Known(Some(policy(
            &format!("permissions boundary {boundary_arn}"),
            r#"{"Statement": [{"Effect": "Allow", "Action": ["s3:*", "kms:Decrypt"], "Resource": "*"}]}"#,
        )));
        let f = run_check(&DEF, &attachment(), &facts);
        assert_eq!(status(&f), Status::Fail);
        let boundary = f
            .iter()
            .find(|f| f.reason == "boundary-omits")
            .unwrap_or_else(|| panic!("the boundary is named: {}", text(&f)));
        assert!(text(std::slice::from_ref(boundary)).contains("kms:GenerateDataKey"));
        assert!(
            !f.iter().any(|f| f.reason == "missing-action"),
            "the role's policies already allow it: {}",
            text(&f)
        );
        // The fix changes the boundary, whole, and proposes no Allow the policies already have.
        let fix = boundary
            .fix_document()
            .cloned()
            .expect("a fix for the boundary");
        assert_eq!(fix.applies_to, "managed-policy-version");
        assert_eq!(fix.policy_arn.as_deref(), Some(boundary_arn));
        let doc = fix.document.to_string();
        assert!(doc.contains("\"s3:*\"") && doc.contains(KEY_ARN), "{doc}");
        let t = text(&f);
        assert!(t.contains("create-policy-version"), "{t}");
        assert!(!t.contains("put-role-policy"), "{t}");
    }

    #[test]
    fn issue11_d10_recommended_actions_are_advised_once_and_never_granted_by_the_fix() {
        let p = format!(
            r#"{{"Statement": {{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "{KEY_ARN}"}}}}"#
        );
        let f = run_check(&DEF, &attachment(), &facts(&p));
        let catalog = crate::catalog::get().unwrap();
        let result = crate::checks::results::check_result(catalog, &DEF, &f);
        let remediation = result.remediation.unwrap();
        assert_eq!(
            remediation.matches("if AoC reports KMS errors").count(),
            1,
            "{remediation}"
        );
        // The fix grants what the data path needs, nothing that manages the key.
        let fix = result.fixes[0].document.to_string();
        assert!(fix.contains("kms:GenerateDataKey"), "{fix}");
        assert!(
            !fix.contains("kms:EnableKey") && !fix.contains("kms:Encrypt\""),
            "{fix}"
        );
        assert!(!result.summary.contains("more)"), "{}", result.summary);
    }

    #[test]
    fn issue11_d9_a_key_that_does_not_exist_is_not_judged() {
        let mut facts = facts(&kms_policy(KEY_ARN));
        facts.key = Fact::Known(None);
        let f = run_check(&DEF, &attachment(), &facts);
        assert_eq!(status(&f), Status::Skip, "{}", text(&f));
        assert_eq!(f[0].reason, "no-such-key");
    }

    #[test]
    fn issue11_a_grant_whose_condition_aoc_does_not_meet_is_named() {
        // Scoped to S3 in another region: the grant is there, its condition is the cause.
        let p = format!(
            r#"{{"Statement": {{"Sid": "ViaS3", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
              "Resource": "{KEY_ARN}",
              "Condition": {{"StringEquals": {{"kms:ViaService": "s3.us-west-2.amazonaws.com"}}}}}}}}"#
        );
        let f = run_check(&DEF, &attachment(), &facts(&p));
        assert_eq!(status(&f), Status::Fail);
        let t = text(&f);
        assert!(
            t.contains("statement 0 (Sid `ViaS3`) of kms.json allows kms:GenerateDataKey on")
                && t.contains("only when StringEquals kms:ViaService")
                && t.contains("carry kms:ViaService = s3.us-east-1.amazonaws.com"),
            "{t}"
        );
        // The fix keeps the admin's scoping: the same grant for AoC's region, beside the
        // statement as it was, and no grant without the condition.
        let fix = fix_document(&f);
        let doc = fix.document.to_string();
        let statements = fix.document["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 2, "{doc}");
        assert!(doc.contains("s3.us-west-2.amazonaws.com"), "{doc}");
        assert_eq!(
            statements[1]["Condition"]["StringEquals"]["kms:ViaService"],
            "s3.us-east-1.amazonaws.com",
            "{doc}"
        );
    }

    #[test]
    fn a_grant_on_a_key_one_character_off_is_pointed_out() {
        let near = format!("{}c", &KEY_ARN[..KEY_ARN.len() - 1]);
        let f = run_check(&DEF, &attachment(), &facts(&kms_policy(&near)));
        assert_eq!(status(&f), Status::Fail);
        assert!(
            text(&f).contains("one or two characters from"),
            "{}",
            text(&f)
        );
    }

    #[test]
    fn a_conditional_grant_on_another_key_is_not_copied_onto_aocs_key() {
        // The statement is scoped by a condition AoC does not meet, but it is about another
        // key: copying its scoping onto AoC's key would invent a grant nobody wrote.
        let other = "arn:aws:kms:us-east-1:111122223333:key/99999999-0000-0000-0000-000000000000";
        let p = format!(
            r#"{{"Statement": {{"Sid": "Other", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
              "Resource": "{other}",
              "Condition": {{"StringEquals": {{"kms:ViaService": "s3.us-west-2.amazonaws.com"}}}}}}}}"#
        );
        let f = run_check(&DEF, &attachment(), &facts(&p));
        assert_eq!(status(&f), Status::Fail);
        let doc = fix_document(&f).document.to_string();
        assert!(!doc.contains("AocScoped"), "{doc}");
        assert!(
            !text(&f).contains("only when StringEquals kms:ViaService"),
            "{}",
            text(&f)
        );
    }
}
