//! `role.trust`: the role's trust policy lets AoC's principal assume the role with AoC's
//! external ID, and nobody else. Compared against what AoC shows (the pasted trust policy,
//! or its external ID and principal), never against an assumed shape: AoC generates a new
//! external ID on each page load (the IBM procedure, step 5).

use super::policy_help::{describe, describe_matched, statement_covers_action};
use super::{CheckDef, Finding, Input, Status};
use crate::facts::Fact;
use crate::policy::{
    Context, Decision, Effect, NamedPolicy, PrincipalSpec, Principals, Request, evaluate_policy,
};

pub const DEF: CheckDef = CheckDef {
    id: "role.trust",
    reasons: &[
        "ok",
        "no-aoc-trust",
        "principal-missing",
        "external-id-mismatch",
        "action-missing",
        "not-allowed",
        "conditional",
        "wildcard-principal",
        "deleted-principal",
        "no-external-id",
        "extra-principals",
    ],
    run,
};

const ASSUME: &str = "sts:AssumeRole";

fn run(input: &Input<'_>) -> Vec<Finding> {
    let values = input.values;
    let Some(role) = values.role.as_ref() else {
        return vec![Finding::skip_needs("a well-formed role ARN")];
    };
    let Some(principal) = values.aoc_principal.as_deref() else {
        return vec![Finding::new(Status::Skip, "no-aoc-trust")];
    };
    let trust: &NamedPolicy = match &input.facts.role_trust_policy {
        Fact::Known(p) => p,
        other => return Finding::from_missing_fact(other).into_iter().collect(),
    };
    let external_id = values.external_id.as_deref();
    let role_name = role.resource_name().to_string();

    let request = |external_id: Option<&str>| {
        let mut c = Context::partial();
        c.set("aws:PrincipalArn", vec![principal.to_string()]);
        if let Some(account) = crate::arn::account_of(principal) {
            c.set("aws:PrincipalAccount", vec![account]);
        }
        c.set("aws:PrincipalType", vec!["AssumedRole".into()]);
        c.set("aws:SecureTransport", vec!["true".into()]);
        match external_id {
            Some(id) => c.set("sts:ExternalId", vec![id.to_string()]),
            None => c.set_absent("sts:ExternalId"),
        };
        Request {
            principal: principal.to_string(),
            action: ASSUME.to_string(),
            resource: role.to_string(),
            resource_account: Some(role.account.clone()),
            context: c,
        }
    };

    let mut findings = Vec::new();

    // Structural problems first: they are wrong whatever AoC sends.
    let mut others = Vec::new();
    for st in &trust.document.statements {
        if st.effect != Effect::Allow || !statement_covers_action(st, ASSUME) {
            continue;
        }
        let here = describe(&trust.label, st.index, st.sid.as_deref());
        match &st.principal {
            Some(PrincipalSpec::Principal(Principals::Any))
            | Some(PrincipalSpec::NotPrincipal(_)) => {
                findings.push(
                    Finding::fail("wildcard-principal")
                        .var("statement", &here)
                        .evidence(format!("{here} lets any principal assume the role")),
                );
            }
            Some(PrincipalSpec::Principal(Principals::Map(map))) => {
                for (kind, list) in map {
                    for p in list {
                        if kind == "AWS" && p == "*" {
                            findings.push(
                                Finding::fail("wildcard-principal")
                                    .var("statement", &here)
                                    .evidence(format!(
                                        "{here} lets any AWS principal (`\"AWS\": \"*\"`) assume the role"
                                    )),
                            );
                        } else if kind == "AWS" && is_unique_id(p) {
                            findings.push(
                                Finding::fail("deleted-principal")
                                    .var("unique_id", p)
                                    .evidence(format!(
                                        "{here} names `{p}`, a unique ID: the principal it stood for was deleted"
                                    )),
                            );
                        } else if p != principal {
                            others.push(format!("{kind} {p} in {here}"));
                        }
                    }
                }
            }
            None => {}
        }
    }

    let with_id = evaluate_policy(trust, &request(external_id));
    match (with_id.best, with_id.worst) {
        (_, Decision::Allowed) => {
            // AoC gets in. Would anyone without the external ID?
            if external_id.is_some() {
                let without = evaluate_policy(trust, &request(None));
                if without.best == Decision::Allowed {
                    findings.push(
                        Finding::warn("no-external-id")
                            .var("principal", principal)
                            .evidence(format!(
                                "{principal} may assume the role without an external ID: {}",
                                matched(&without)
                            )),
                    );
                }
            }
        }
        (Decision::Allowed, _) => {
            let conditions = with_id.unresolved_conditions().join(" and ");
            findings.push(
                Finding::warn("conditional")
                    .var("conditions", &conditions)
                    .evidence(format!(
                        "{principal} may assume the role only if {conditions}: {}",
                        matched(&with_id)
                    )),
            );
        }
        _ => findings.push(diagnose_denial(trust, principal, external_id, &with_id)),
    }

    if !others.is_empty() && !findings.iter().any(|f| f.status == Status::Fail) {
        findings.push(
            Finding::warn("extra-principals")
                .var("count", others.len().to_string())
                .evidence_lines(others),
        );
    }

    // The fix is the policy AoC shows, as pasted when we have it, and a readable diff from
    // what the role has, so the admin sees exactly which line is stale.
    let (aoc_policy, from) = match &input.attachment.aoc_trust.policy {
        Some(p) => (
            serde_json::to_string_pretty(&crate::policy::to_json(&p.document)).unwrap_or_default(),
            "as AoC shows it now",
        ),
        // Through the same model as the role's document, so only real differences show.
        None => (
            crate::policy::parse_policy(&aoc_trust_json(principal, external_id))
                .map(|d| {
                    serde_json::to_string_pretty(&crate::policy::to_json(&d)).unwrap_or_default()
                })
                .unwrap_or_default(),
            "from the external ID and principal given",
        ),
    };
    let current =
        serde_json::to_string_pretty(&crate::policy::to_json(&trust.document)).unwrap_or_default();
    if let Some(f) = findings.iter_mut().find(|f| f.status == Status::Fail) {
        if let Ok(document) = serde_json::from_str(&aoc_policy) {
            f.fix_document = Some(super::FixDocument::whole("trust-policy", document));
        }
        f.fix = Some(format!(
            "Differences (- the role's trust policy now, + the one AoC expects):\n{}\nTrust policy for the role (aoc-trust.json), {from}:\n{aoc_policy}\n\n  aws iam update-assume-role-policy --role-name {role_name} --policy-document file://aoc-trust.json",
            line_diff(&current, &aoc_policy)
        ));
    }
    for f in findings.iter_mut().filter(|f| f.status == Status::Fail) {
        f.vars.push(("role_name", role_name.clone()));
    }

    if findings.is_empty() {
        findings.push(
            Finding::pass("ok")
                .var("principal", principal)
                .evidence(format!(
                    "{principal} may assume {role} with external ID {}: {}",
                    external_id.map_or("(none given)".to_string(), |_| "as AoC shows it".into()),
                    matched(&with_id)
                )),
        );
    }
    findings
}

/// Why AoC's request is refused: the principal is not named, the external ID differs, or
/// `sts:AssumeRole` is missing.
fn diagnose_denial(
    trust: &NamedPolicy,
    principal: &str,
    external_id: Option<&str>,
    ev: &crate::policy::Evaluation,
) -> Finding {
    if ev.best == Decision::ExplicitDeny {
        return Finding::fail("not-allowed")
            .var("principal", principal)
            .evidence(format!("denied by {}", matched(ev)));
    }
    let naming: Vec<_> = trust
        .document
        .statements
        .iter()
        .filter(|st| st.effect == Effect::Allow && names_principal(st, principal))
        .collect();
    if naming.is_empty() {
        let named: Vec<String> = trust
            .document
            .statements
            .iter()
            .filter_map(|st| match &st.principal {
                Some(PrincipalSpec::Principal(Principals::Map(m))) => Some(
                    m.iter()
                        .flat_map(|(k, v)| v.iter().map(move |p| format!("{k} {p}")))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                _ => None,
            })
            .collect();
        return Finding::fail("principal-missing")
            .var("principal", principal)
            .evidence(format!(
                "AoC's principal {principal} is not named by the role's trust policy"
            ))
            .evidence(format!(
                "the role trusts: {}",
                if named.is_empty() {
                    "nobody".to_string()
                } else {
                    named.join("; ")
                }
            ));
    }
    if !naming.iter().any(|st| statement_covers_action(st, ASSUME)) {
        return Finding::fail("action-missing")
            .var("principal", principal)
            .evidence(format!(
                "{} names {principal} but does not allow sts:AssumeRole",
                describe(&trust.label, naming[0].index, naming[0].sid.as_deref())
            ));
    }
    let role_ids: Vec<String> = naming
        .iter()
        .flat_map(|st| st.conditions.iter())
        .filter(|c| c.key.eq_ignore_ascii_case("sts:ExternalId"))
        .flat_map(|c| c.values.iter().cloned())
        .collect();
    if let (Some(expected), false) = (external_id, role_ids.is_empty()) {
        return Finding::fail("external-id-mismatch")
            .var("role_external_id", role_ids.join(", "))
            .var("aoc_external_id", expected)
            .evidence(format!(
                "the role's trust policy requires sts:ExternalId {}",
                role_ids
                    .iter()
                    .map(|i| format!("`{i}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))
            .evidence(format!("AoC presents sts:ExternalId `{expected}`"));
    }
    Finding::fail("not-allowed")
        .var("principal", principal)
        .evidence(format!(
            "{principal} may not assume the role: {}",
            ev.explanation
        ))
}

fn names_principal(st: &crate::policy::Statement, principal: &str) -> bool {
    match &st.principal {
        Some(PrincipalSpec::Principal(Principals::Map(m))) => m
            .get("AWS")
            .is_some_and(|l| l.iter().any(|p| p == principal)),
        _ => false,
    }
}

/// IAM shows a principal's unique ID (`AROA...` for roles, `AIDA...` for users) instead of its
/// ARN once the principal has been deleted.
fn is_unique_id(p: &str) -> bool {
    (p.starts_with("AROA") || p.starts_with("AIDA"))
        && p.len() >= 16
        && p.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn matched(ev: &crate::policy::Evaluation) -> String {
    let v: Vec<String> = ev.matched.iter().map(describe_matched).collect();
    if v.is_empty() {
        "no statement".into()
    } else {
        v.join("; ")
    }
}

/// The changed lines between two pretty-printed documents, `-`/`+` prefixed, with one line of
/// context; unchanged stretches are elided.
fn line_diff(old: &str, new: &str) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut out = String::new();
    for group in diff.grouped_ops(1) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let sign = match change.tag() {
                    similar::ChangeTag::Delete => "- ",
                    similar::ChangeTag::Insert => "+ ",
                    similar::ChangeTag::Equal => "  ",
                };
                out.push_str(sign);
                out.push_str(change.value().trim_end_matches('\n'));
                out.push('\n');
            }
        }
        out.push_str("  ...\n");
    }
    out
}

/// The trust policy AoC expects, rebuilt from its principal and external ID.
fn aoc_trust_json(principal: &str, external_id: Option<&str>) -> String {
    let mut st = serde_json::json!({
        "Effect": "Allow",
        "Principal": { "AWS": principal },
        "Action": ASSUME,
    });
    if let Some(id) = external_id {
        st["Condition"] = serde_json::json!({ "StringEquals": { "sts:ExternalId": id } });
    }
    serde_json::to_string_pretty(&serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [st],
    }))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::facts::Facts;

    fn trust(external_id: &str, principal: &str) -> String {
        format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow",
              "Principal": {{"AWS": "{principal}"}}, "Action": "sts:AssumeRole",
              "Condition": {{"StringEquals": {{"sts:ExternalId": "{external_id}"}}}}}}]}}"#
        )
    }

    fn facts(role_trust: &str) -> Facts {
        Facts {
            role_trust_policy: Fact::Known(policy("role trust policy", role_trust)),
            ..Facts::default()
        }
    }

    #[test]
    fn matching_trust_passes() {
        let f = run_check(
            &DEF,
            &attachment(),
            &facts(&trust("aoc-external-id-1", AOC_PRINCIPAL)),
        );
        assert_eq!(status(&f), Status::Pass, "{}", text(&f));
    }

    #[test]
    fn stale_external_id_fails_naming_both() {
        let f = run_check(
            &DEF,
            &attachment(),
            &facts(&trust("aoc-external-id-0", AOC_PRINCIPAL)),
        );
        assert_eq!(status(&f), Status::Fail);
        assert_eq!(f[0].reason, "external-id-mismatch");
        let t = text(&f);
        assert!(
            t.contains("aoc-external-id-0") && t.contains("aoc-external-id-1"),
            "{t}"
        );
        assert!(
            t.contains("update-assume-role-policy --role-name aoc-access"),
            "{t}"
        );
        // The diff shows only the stale value and its replacement.
        let diff: Vec<&str> = t
            .lines()
            .filter(|l| l.starts_with("- ") || l.starts_with("+ "))
            .collect();
        assert_eq!(diff.len(), 2, "{t}");
        assert!(
            diff[0].contains("\"sts:ExternalId\": \"aoc-external-id-0\""),
            "{t}"
        );
        assert!(
            diff[1].contains("\"sts:ExternalId\": \"aoc-external-id-1\""),
            "{t}"
        );
    }

    #[test]
    fn wildcard_principal_fails() {
        let p =
            r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]}"#;
        let f = run_check(&DEF, &attachment(), &facts(p));
        assert_eq!(status(&f), Status::Fail);
        assert!(f.iter().any(|f| f.reason == "wildcard-principal"));
    }

    #[test]
    fn other_principal_fails_as_missing() {
        let f = run_check(
            &DEF,
            &attachment(),
            &facts(&trust(
                "aoc-external-id-1",
                "arn:aws:iam::999988887777:role/other",
            )),
        );
        assert_eq!(f[0].reason, "principal-missing");
        assert!(text(&f).contains("999988887777"));
    }

    #[test]
    fn no_external_id_condition_warns() {
        let p = format!(
            r#"{{"Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "{AOC_PRINCIPAL}"}}, "Action": "sts:AssumeRole"}}]}}"#
        );
        let f = run_check(&DEF, &attachment(), &facts(&p));
        assert_eq!(status(&f), Status::Warn, "{}", text(&f));
        assert_eq!(f[0].reason, "no-external-id");
    }

    #[test]
    fn deleted_principal_fails() {
        let p = r#"{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "AROA1234567890EXAMPLE"}, "Action": "sts:AssumeRole"}]}"#;
        let f = run_check(&DEF, &attachment(), &facts(p));
        assert!(
            f.iter().any(|f| f.reason == "deleted-principal"),
            "{}",
            text(&f)
        );
    }

    #[test]
    fn no_aoc_values_is_skip() {
        let mut a = attachment();
        a.aoc_trust = Default::default();
        let f = run_check(&DEF, &a, &facts(&trust("x1", AOC_PRINCIPAL)));
        assert_eq!(status(&f), Status::Skip);
    }
}
