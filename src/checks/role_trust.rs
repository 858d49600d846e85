//! `role.trust`: the role's trust policy lets AoC's principal assume the role with AoC's
//! external ID, and nobody else. Compared against what AoC shows (the pasted trust policy,
//! or its external ID and principal), never against an assumed shape: AoC generates a new
//! external ID on each page load (the IBM procedure, step 5).

use super::FixStep;
use super::policy_help::{describe, statement_covers_action};
use super::{CheckDef, Finding, Input, Status};
use crate::model::facts::Fact;
use crate::policy::{
    Context, Decision, Effect, NamedPolicy, PrincipalSpec, Principals, Request, Unresolved,
    evaluate_policy,
};

pub const DEF: CheckDef = CheckDef {
    id: "role.trust",
    reasons: &[
        "ok",
        "no-aoc-trust",
        "no-aoc-principal",
        "external-id-whitespace",
        "external-id-typo",
        "principal-missing",
        "external-id-mismatch",
        "action-missing",
        "not-allowed",
        "conditional",
        "wildcard-principal",
        "deleted-principal",
        "no-external-id",
        "any-external-id",
        "extra-principals",
        "external-id-not-compared",
    ],
    run,
};

const ASSUME: &str = "sts:AssumeRole";

/// Stands for AoC's external ID in a trust policy shown when the ID was not given. `<` and
/// `>` are outside what STS accepts as an external ID (`[\w+=,.@:/-]`), so a template pasted
/// unchanged trusts nobody rather than everybody.
const EXTERNAL_ID_PLACEHOLDER: &str = "<AOC-EXTERNAL-ID-FROM-THE-AOC-PAGE>";

/// Evidence for every finding judged without AoC's external ID.
const NOT_COMPARED: &str = "AoC's external ID was not given, so it was not compared with the role's sts:ExternalId condition: give it with --external-id ID, or --trust-policy FILE with the JSON the AoC page shows";

/// What the modelled AssumeRole request says about `sts:ExternalId`.
#[derive(Clone, Copy)]
enum IdInRequest<'a> {
    /// The request carries this ID (`Some`) or none at all (`None`).
    Given(Option<&'a str>),
    /// AoC sends an ID the tool was not told.
    Unknown,
}

fn run(input: &Input<'_>) -> Vec<Finding> {
    let values = input.values;
    let Some(role) = values.role.as_ref() else {
        return vec![Finding::skip_needs("a well-formed role ARN")];
    };
    // What was entered, well formed or not: a malformed value was given, and the skip must
    // not say it was not.
    let (given_principal, given_external_id) =
        crate::model::values::aoc_expectations(&input.attachment.aoc_trust);
    let Some(principal) = values.aoc_principal.as_deref() else {
        if given_principal.is_some() {
            return vec![Finding::skip_needs("a well-formed AoC principal ARN")];
        }
        // An external ID alone cannot be compared: whose ID it is depends on the principal.
        if given_external_id.is_some() {
            return vec![Finding::new(Status::Skip, "no-aoc-principal")];
        }
        return vec![Finding::new(Status::Skip, "no-aoc-trust")];
    };
    if values.external_id.is_none() && given_external_id.is_some() {
        return vec![Finding::skip_needs("a well-formed AoC external ID")];
    }
    let trust: &NamedPolicy = match &input.facts.role_trust_policy {
        Fact::Known(p) => p,
        other => return Finding::from_missing_fact(other).into_iter().collect(),
    };
    let external_id = values.external_id.as_deref();
    let role_name = role.resource_name().to_string();

    let request = |external_id: IdInRequest<'_>| {
        let mut c = Context::partial();
        crate::model::aoc::apply_facts(&mut c, &["sts"], None);
        c.set("aws:PrincipalArn", vec![principal.to_string()]);
        if let Some(account) = crate::arn::account_of(principal) {
            c.set("aws:PrincipalAccount", vec![account]);
        }
        c.set("aws:PrincipalType", vec!["AssumedRole".into()]);
        // `Given(None)` is a request without the key; `Unknown` leaves the key to the partial
        // context, so a condition on it stays open instead of failing.
        match external_id {
            IdInRequest::Given(Some(id)) => {
                c.set("sts:ExternalId", vec![id.to_string()]);
            }
            IdInRequest::Given(None) => {
                c.set_absent("sts:ExternalId");
            }
            IdInRequest::Unknown => {}
        }
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
        // `"*"` narrowed by a condition on who the caller is (aws:PrincipalArn = AoC's
        // principal) is not "anyone": ask whether another principal would get in.
        let stranger_gets_in = || {
            let mut r = request(IdInRequest::Given(external_id));
            let stranger = "arn:aws:iam::999999999999:role/not-aoc";
            r.principal = stranger.to_string();
            r.context
                .set("aws:PrincipalArn", vec![stranger.to_string()]);
            r.context
                .set("aws:PrincipalAccount", vec!["999999999999".to_string()]);
            let alone = super::policy_help::single_statement(trust, st.clone());
            evaluate_policy(&alone, &r).best == Decision::Allowed
        };
        match &st.principal {
            Some(PrincipalSpec::Principal(Principals::Any))
            | Some(PrincipalSpec::NotPrincipal(_))
                if !stranger_gets_in() => {}
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

    // Without AoC's external ID the ID is unknown, not absent: AoC presents whatever ID its
    // page generated, which the tool cannot see (issue 11, defect 1).
    let aoc_request = match external_id {
        Some(id) => IdInRequest::Given(Some(id)),
        None => IdInRequest::Unknown,
    };
    let with_id = evaluate_policy(trust, &request(aoc_request));
    match (with_id.best, with_id.worst) {
        (_, Decision::Allowed) => {
            // AoC gets in. Would anyone without the external ID?
            let without = evaluate_policy(trust, &request(IdInRequest::Given(None)));
            if without.best == Decision::Allowed {
                findings.push(
                    Finding::warn("no-external-id")
                        .var("principal", principal)
                        .evidence(format!(
                            "{principal} may assume the role without an external ID: {}",
                            matched(&without)
                        )),
                );
            } else if let Some(id) = external_id {
                // An ID that only looks like AoC's, or any ID at all (`StringLike "*"`,
                // `Null: false`): another AoC tenant's attachment would get in too.
                // AoC's ID with one more character, with its last one changed (for `?`), and
                // every other ID the conditions list.
                let mut others = vec![
                    format!("{id}0"),
                    "another-aoc-tenants-external-id".to_string(),
                ];
                let mut changed_last: String = id.chars().collect();
                if let Some(last) = changed_last.pop() {
                    changed_last.push(if last == '0' { '1' } else { '0' });
                    others.push(changed_last);
                }
                others.extend(
                    trust
                        .document
                        .statements
                        .iter()
                        .flat_map(|st| &st.conditions)
                        .filter(|c| c.key.eq_ignore_ascii_case("sts:ExternalId"))
                        .flat_map(|c| c.values.iter())
                        .filter(|v| v.as_str() != id && !v.contains(['*', '?']))
                        .cloned(),
                );
                if let Some((other, ev)) = others.iter().find_map(|other| {
                    let ev = evaluate_policy(trust, &request(IdInRequest::Given(Some(other))));
                    (ev.best == Decision::Allowed).then_some((other, ev))
                }) {
                    findings.push(
                        Finding::warn("any-external-id")
                            .var("principal", principal)
                            .evidence(format!(
                                "{principal} may also assume the role with external ID `{other}`: {}",
                                matched(&ev)
                            )),
                    );
                }
            }
        }
        (Decision::Allowed, _) => {
            findings.extend(conditional(principal, external_id, &with_id));
        }
        _ => {
            let mut f = diagnose_denial(trust, principal, external_id, &with_id);
            if external_id.is_none() {
                f = f.evidence(NOT_COMPARED);
            }
            findings.push(f);
        }
    }

    if !others.is_empty() && !findings.iter().any(|f| f.status == Status::Fail) {
        findings.push(
            Finding::warn("extra-principals")
                .var("count", others.len().to_string())
                .evidence_lines(others),
        );
    }

    let current =
        serde_json::to_string_pretty(&crate::policy::to_json(&trust.document)).unwrap_or_default();
    if let Some(f) = findings.iter_mut().find(|f| f.status == Status::Fail) {
        match external_id {
            Some(id) => {
                // The fix is the policy AoC shows, as pasted when we have it, and a readable
                // diff from what the role has, so the admin sees exactly which line is stale.
                // The pasted document only when it requires this very ID: an explicit
                // --external-id overrides the pasted JSON, which may lack the condition.
                let pasted = input
                    .attachment
                    .aoc_trust
                    .policy
                    .as_ref()
                    .filter(|p| requires_external_id(p, id));
                let (aoc_policy, from) = match pasted {
                    Some(p) => (
                        serde_json::to_string_pretty(&crate::policy::to_json(&p.document))
                            .unwrap_or_default(),
                        "as AoC shows it now",
                    ),
                    // Through the same model as the role's document, so only real differences
                    // show.
                    None => (
                        crate::policy::parse_policy(&aoc_trust_json(principal, id))
                            .map(|d| {
                                serde_json::to_string_pretty(&crate::policy::to_json(&d))
                                    .unwrap_or_default()
                            })
                            .unwrap_or_default(),
                        "from the external ID and principal given",
                    ),
                };
                // update-assume-role-policy replaces the whole document: keep every statement
                // that has nothing to do with AoC's access, replace the ones that do.
                let merged = crate::policy::parse_policy(&aoc_policy)
                    .ok()
                    .map(|aoc| merged_trust(&trust.document, &aoc, principal));
                let merged_works = merged.as_ref().is_some_and(|m| {
                    crate::policy::parse_policy(&m.to_string()).is_ok_and(|doc| {
                        let named = NamedPolicy {
                            label: trust.label.clone(),
                            document: doc,
                        };
                        evaluate_policy(&named, &request(IdInRequest::Given(Some(id)))).worst
                            == Decision::Allowed
                    })
                });
                match merged.filter(|_| merged_works) {
                    Some(document) => {
                        let whole = serde_json::to_string_pretty(&document).unwrap_or_default();
                        f.fix = vec![
                            FixStep::Diff {
                                caption: format!(
                                    "Differences (- the role's trust policy now, + with AoC's statement {from})"
                                ),
                                diff: line_diff(&current, &whole),
                            },
                            FixStep::document(
                                "The role's whole trust policy: its statements for other principals are kept, AoC's replaced",
                                "aoc-trust.json",
                                super::FixDocument::whole("trust-policy", document)
                                    .replacing(crate::policy::to_json(&trust.document)),
                            ),
                            FixStep::command(
                                "Put it on the role",
                                format!(
                                    "aws iam update-assume-role-policy --role-name {role_name} --policy-document file://aoc-trust.json"
                                ),
                            ),
                        ];
                    }
                    // A Deny of the role's own still blocks AoC: narrowing it is the admin's
                    // call, so no document that would seem to fix it.
                    None => {
                        f.fix = vec![
                            FixStep::note(format!(
                                "A Deny statement of the role's trust policy blocks AoC even with AoC's statement in place: narrow it so that it does not match {principal}."
                            )),
                            FixStep::Example {
                                caption: format!("AoC's statement, {from}"),
                                document: serde_json::from_str(&aoc_policy)
                                    .unwrap_or(serde_json::Value::Null),
                            },
                        ];
                    }
                }
            }
            // A trust policy without AoC's external ID would let any AoC tenant's attachment
            // assume the role (the confused deputy), so no document to apply and no command:
            // only the shape, with the ID left as a marked placeholder.
            None => {
                let template = aoc_trust_json(principal, EXTERNAL_ID_PLACEHOLDER);
                f.fix = vec![
                    FixStep::note(
                        "Not a complete document: AoC's external ID was not given, so no ready-to-apply trust policy or command is proposed.",
                    ),
                    FixStep::Example {
                        caption: format!(
                            "The trust policy AoC generates has this shape; {EXTERNAL_ID_PLACEHOLDER} stands for the external ID the AoC page shows (never remove the sts:ExternalId condition)"
                        ),
                        document: serde_json::from_str(&template)
                            .unwrap_or(serde_json::Value::Null),
                    },
                    FixStep::note(
                        "Run the check again with --external-id ID (or --trust-policy FILE with the JSON the AoC page shows) to get the complete document and the command that applies it.",
                    ),
                ];
            }
        }
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
                    external_id.map_or("(not given: not compared)".to_string(), |_| {
                        "as AoC shows it".into()
                    }),
                    matched(&with_id)
                )),
        );
    }
    findings
}

/// The findings for a decision that depends on conditions the tool cannot evaluate: each
/// statement on its own, an Allow as "allowed only if", a Deny as "denied when", so a Deny is
/// never shown as a requirement of the Allow (issue 11, defect 4). Statements that depend only
/// on an external ID that was not given are "not compared", not "conditional".
fn conditional(
    principal: &str,
    external_id: Option<&str>,
    ev: &crate::policy::Evaluation,
) -> Vec<Finding> {
    let on_external_id = |c: &Unresolved| c.is_condition_on("sts:ExternalId");
    let mut id_only = Vec::new();
    let mut other = Vec::new();
    for m in ev.matched.iter().filter(|m| !m.unresolved.is_empty()) {
        let only_id = external_id.is_none() && m.unresolved.iter().all(on_external_id);
        if only_id {
            let here = describe(&m.policy, m.index, m.sid.as_deref());
            id_only.push((
                format!("{} in {here}", Unresolved::join(&m.unresolved)),
                statement_effect(m),
            ));
        } else {
            other.push(statement_effect(m));
        }
    }
    let mut out = Vec::new();
    if !id_only.is_empty() {
        out.push(
            Finding::warn("external-id-not-compared")
                .var("principal", principal)
                .var(
                    "conditions",
                    id_only
                        .iter()
                        .map(|(c, _)| c.as_str())
                        .collect::<Vec<_>>()
                        .join("; "),
                )
                .evidence_lines(id_only.iter().map(|(_, l)| format!("{principal}: {l}")))
                .evidence(NOT_COMPARED),
        );
    }
    if !other.is_empty() {
        out.push(
            Finding::warn("conditional")
                .var("conditions", other.join("; "))
                .evidence_lines(other.iter().map(|l| format!("{principal}: {l}"))),
        );
    }
    out
}

/// One matched statement as it bears on AoC's request: "allowed only if C (statement …)" or
/// "denied when C by statement … (Deny)", naming the policy that holds it.
fn statement_effect(m: &crate::policy::MatchedStatement) -> String {
    let here = describe(&m.policy, m.index, m.sid.as_deref());
    let conditions = Unresolved::join(&m.unresolved);
    match (m.effect, conditions.is_empty()) {
        (Effect::Allow, true) => format!("allowed by {here}"),
        (Effect::Allow, false) => format!("allowed only if {conditions} ({here})"),
        (Effect::Deny, true) => format!("denied by {here} (a Deny statement)"),
        (Effect::Deny, false) => {
            format!("denied when {conditions} ({here}, a Deny statement)")
        }
    }
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
            .evidence_lines(
                ev.matched
                    .iter()
                    .filter(|m| m.effect == Effect::Deny)
                    .map(|m| format!("{principal}: {}", statement_effect(m))),
            );
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
    if let Some(expected) = external_id
        && let Some(padded) = role_ids
            .iter()
            .find(|id| id.as_str() != expected && id.trim() == expected)
    {
        // Not a reload: the same ID, pasted with a space or a line break around it.
        return Finding::fail("external-id-whitespace")
            .var("aoc_external_id", expected)
            .evidence(format!(
                "the role's trust policy requires sts:ExternalId `{padded}` ({} characters), AoC presents `{expected}` ({} characters)",
                padded.chars().count(),
                expected.chars().count()
            ));
    }
    // A reload gives a wholly new ID (AoC's are UUIDs); one or two characters off a long ID
    // is a copy slip.
    if let Some(expected) = external_id
        && expected.chars().count() >= 20
        && let Some(near) = role_ids
            .iter()
            .find(|id| (1..=2).contains(&strsim::levenshtein(id, expected)))
    {
        return Finding::fail("external-id-typo")
            .var("role_external_id", near)
            .var("aoc_external_id", expected)
            .evidence(format!(
                "the role's trust policy requires sts:ExternalId `{near}`, one or two characters from the `{expected}` AoC presents"
            ));
    }
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

/// True when an Allow statement of the policy requires `sts:ExternalId` to be `id`.
fn requires_external_id(policy: &NamedPolicy, id: &str) -> bool {
    policy.document.statements.iter().any(|st| {
        st.effect == Effect::Allow
            && st.conditions.iter().any(|c| {
                c.key.eq_ignore_ascii_case("sts:ExternalId") && c.values.iter().any(|v| v == id)
            })
    })
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
    let v: Vec<String> = ev.matched.iter().map(statement_effect).collect();
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

/// The role's trust policy with AoC's statements in place of the ones that let AoC's principal
/// (or another principal of AoC's account: a copy made for another region, or anyone, or a
/// deleted principal) assume the role; every other statement is kept as it is, so the services
/// and principals that use the role today keep working.
fn merged_trust(
    current: &crate::policy::PolicyDocument,
    aoc: &crate::policy::PolicyDocument,
    principal: &str,
) -> serde_json::Value {
    let replaced = |st: &crate::policy::Statement| {
        st.effect == Effect::Allow
            && statement_covers_action(st, ASSUME)
            && match &st.principal {
                Some(PrincipalSpec::Principal(Principals::Any))
                | Some(PrincipalSpec::NotPrincipal(_)) => true,
                Some(PrincipalSpec::Principal(Principals::Map(map))) => {
                    let all: Vec<(&String, &String)> = map
                        .iter()
                        .flat_map(|(k, list)| list.iter().map(move |p| (k, p)))
                        .collect();
                    // AoC's statement, one for another of AoC's regions (a stale copy: the
                    // principals are in AoC's account), a wildcard, or deleted principals.
                    let aoc_account = crate::arn::account_of(principal);
                    let in_aoc_account =
                        |p: &str| aoc_account.is_some() && crate::arn::account_of(p) == aoc_account;
                    all.iter()
                        .any(|(k, p)| *k == "AWS" && (*p == principal || *p == "*"))
                        || (!all.is_empty()
                            && all.iter().all(|(k, p)| {
                                *k == "AWS" && (is_unique_id(p) || in_aoc_account(p))
                            }))
                }
                None => false,
            }
    };
    let mut kept = current.clone();
    kept.statements.retain(|st| !replaced(st));
    // A statement shared with other principals keeps them, without AoC's stale principal.
    let aoc_account = crate::arn::account_of(principal);
    for st in &mut kept.statements {
        if st.effect == Effect::Allow
            && statement_covers_action(st, ASSUME)
            && let Some(PrincipalSpec::Principal(Principals::Map(map))) = &mut st.principal
            && let Some(list) = map.get_mut("AWS")
        {
            list.retain(|p| aoc_account.is_none() || crate::arn::account_of(p) != aoc_account);
            if list.is_empty() {
                map.remove("AWS");
            }
        }
    }
    let mut doc = crate::policy::to_json(&kept);
    let aoc_json = crate::policy::to_json(aoc);
    if let (Some(list), Some(add)) = (
        doc.get_mut("Statement").and_then(|s| s.as_array_mut()),
        aoc_json.get("Statement").and_then(|s| s.as_array()),
    ) {
        list.extend(add.iter().cloned());
    }
    if doc.get("Version").is_none() {
        doc["Version"] = serde_json::json!("2012-10-17");
    }
    doc
}

/// The trust policy AoC expects, rebuilt from its principal and external ID. Always with the
/// `sts:ExternalId` condition: the tool never proposes trusting AoC's principal without it.
fn aoc_trust_json(principal: &str, external_id: &str) -> String {
    let st = serde_json::json!({
        "Effect": "Allow",
        "Principal": { "AWS": principal },
        "Action": ASSUME,
        "Condition": { "StringEquals": { "sts:ExternalId": external_id } },
    });
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
    use crate::model::facts::Facts;

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

    #[test]
    fn issue14_a_malformed_aoc_value_is_not_called_not_given() {
        let role_trust = facts(&trust("x1", AOC_PRINCIPAL));
        let mut a = attachment();
        a.aoc_trust.external_id = Some("bad id with spaces".into());
        let f = run_check(&DEF, &a, &role_trust);
        assert_eq!(status(&f), Status::Skip);
        assert!(
            text(&f).contains("well-formed AoC external ID"),
            "{}",
            text(&f)
        );
        assert!(!text(&f).contains("not given"), "{}", text(&f));
        a.aoc_trust.aoc_principal = None;
        let f = run_check(&DEF, &a, &role_trust);
        assert!(text(&f).contains("no-aoc-principal"), "{}", text(&f));
        let mut a = attachment();
        a.aoc_trust.aoc_principal = Some("not-an-arn".into());
        let f = run_check(&DEF, &a, &role_trust);
        assert!(
            text(&f).contains("well-formed AoC principal"),
            "{}",
            text(&f)
        );
        assert!(!text(&f).contains("not given"), "{}", text(&f));
    }

    fn without_external_id() -> crate::model::attachment::Attachment {
        let mut a = attachment();
        a.aoc_trust.external_id = None;
        a
    }

    #[test]
    fn issue11_d1_unknown_external_id_keeps_the_condition() {
        // The role trusts AoC's principal under its own ExternalId condition: with the ID not
        // given, that is "not compared", not "may not assume".
        let f = run_check(
            &DEF,
            &without_external_id(),
            &facts(&trust("aoc-external-id-1", AOC_PRINCIPAL)),
        );
        let t = text(&f);
        assert_eq!(status(&f), Status::Warn, "{t}");
        assert_eq!(f[0].reason, "external-id-not-compared", "{t}");
        assert!(
            t.contains("sts:ExternalId") && t.contains("aoc-external-id-1"),
            "{t}"
        );
        assert!(
            t.contains("--external-id") && t.contains("--trust-policy"),
            "{t}"
        );
        assert!(f.iter().all(|f| f.fix.is_empty()), "{t}");
    }

    #[test]
    fn issue11_d1_untrusted_principal_without_external_id_gets_no_ready_fix() {
        let f = run_check(
            &DEF,
            &without_external_id(),
            &facts(&trust(
                "aoc-external-id-1",
                "arn:aws:iam::999988887777:role/other",
            )),
        );
        let t = text(&f);
        assert_eq!(status(&f), Status::Fail, "{t}");
        assert_eq!(f[0].reason, "principal-missing", "{t}");
        assert!(t.contains("was not compared"), "{t}");
        // No document to apply, no command that would apply one.
        assert!(f.iter().all(|f| f.fix_document().is_none()), "{f:?}");
        assert!(!t.contains("update-assume-role-policy"), "{t}");
        // The shape shown keeps the condition, with the ID a marked placeholder.
        let fix = f[0].fix_text().expect("a fix text");
        assert!(fix.contains("Not a complete document"), "{fix}");
        assert!(
            fix.contains(&format!(
                "\"sts:ExternalId\": \"{EXTERNAL_ID_PLACEHOLDER}\""
            )),
            "{fix}"
        );
    }

    #[test]
    fn issue11_d1_no_condition_without_external_id_still_warns() {
        let p = format!(
            r#"{{"Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "{AOC_PRINCIPAL}"}}, "Action": "sts:AssumeRole"}}]}}"#
        );
        let f = run_check(&DEF, &without_external_id(), &facts(&p));
        assert_eq!(status(&f), Status::Warn, "{}", text(&f));
        assert_eq!(f[0].reason, "no-external-id");
        assert!(f.iter().all(|f| f.fix_document().is_none()));
    }

    #[test]
    fn issue11_d1_wildcard_without_external_id_fix_keeps_the_condition() {
        let p =
            r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]}"#;
        let f = run_check(&DEF, &without_external_id(), &facts(p));
        assert_eq!(status(&f), Status::Fail);
        assert!(f.iter().all(|f| f.fix_document().is_none()), "{f:?}");
        let t = text(&f);
        assert!(t.contains(EXTERNAL_ID_PLACEHOLDER), "{t}");
        assert!(!t.contains("update-assume-role-policy"), "{t}");
    }

    #[test]
    fn issue11_d4_trust_denies_are_reported_as_denies_one_per_statement() {
        let p = format!(
            r#"{{"Version": "2012-10-17", "Statement": [
              {{"Sid": "Aoc", "Effect": "Allow", "Principal": {{"AWS": "{AOC_PRINCIPAL}"}},
                "Action": "sts:AssumeRole",
                "Condition": {{"StringEquals": {{"sts:ExternalId": "aoc-external-id-1"}}}}}},
              {{"Sid": "DenyOutsideNetwork", "Effect": "Deny", "Principal": "*",
                "Action": "sts:AssumeRole",
                "Condition": {{"NotIpAddress": {{"aws:SourceIp": "192.0.2.0/24"}}}}}},
              {{"Sid": "DenyUntagged", "Effect": "Deny", "Principal": "*",
                "Action": "sts:AssumeRole",
                "Condition": {{"StringNotEquals": {{"aws:PrincipalTag/team": "aspera"}}}}}}]}}"#
        );
        let f = run_check(&DEF, &attachment(), &facts(&p));
        let t = text(&f);
        assert_eq!(status(&f), Status::Warn, "{t}");
        let c = f.iter().find(|f| f.reason == "conditional").expect(&t);
        // One line per Deny, each saying "denied when" its own condition, naming the Deny
        // statement and the policy holding it; no merged "only if ... and ..." list.
        assert_eq!(c.evidence.len(), 2, "{t}");
        assert!(
            c.evidence[0].contains("denied when NotIpAddress aws:SourceIp")
                && c.evidence[0].contains("Sid `DenyOutsideNetwork`) of role trust policy"),
            "{t}"
        );
        assert!(
            c.evidence[1].contains("denied when StringNotEquals aws:PrincipalTag/team")
                && c.evidence[1].contains("Sid `DenyUntagged`) of role trust policy"),
            "{t}"
        );
        assert!(!t.contains("only if"), "{t}");
        assert!(!t.contains("Sid `Aoc`"), "{t}");
    }

    #[test]
    fn issue11_d1_pasted_trust_without_the_condition_is_not_the_fix() {
        // AoC's JSON pasted without its condition, the ID given on the command line: the fix
        // is built with the ID, never the pasted document without it.
        let mut a = attachment();
        a.aoc_trust.policy = Some(policy(
            "aoc-trust.json",
            &format!(
                r#"{{"Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "{AOC_PRINCIPAL}"}}, "Action": "sts:AssumeRole"}}]}}"#
            ),
        ));
        let f = run_check(&DEF, &a, &facts(&trust("aoc-external-id-0", AOC_PRINCIPAL)));
        assert_eq!(status(&f), Status::Fail, "{}", text(&f));
        let doc = f[0].fix_document().expect("a fix document");
        assert_eq!(
            doc.document["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"],
            "aoc-external-id-1",
            "{doc:?}"
        );
    }

    #[test]
    fn issue11_d4_trust_explicit_deny_names_the_deny_statement() {
        let p = format!(
            r#"{{"Version": "2012-10-17", "Statement": [
              {{"Sid": "Aoc", "Effect": "Allow", "Principal": {{"AWS": "{AOC_PRINCIPAL}"}},
                "Action": "sts:AssumeRole",
                "Condition": {{"StringEquals": {{"sts:ExternalId": "aoc-external-id-1"}}}}}},
              {{"Sid": "NoIbm", "Effect": "Deny", "Principal": {{"AWS": "arn:aws:iam::860559707280:root"}},
                "Action": "sts:AssumeRole"}}]}}"#
        );
        let f = run_check(&DEF, &attachment(), &facts(&p));
        let t = text(&f);
        assert_eq!(status(&f), Status::Fail, "{t}");
        assert_eq!(f[0].reason, "not-allowed");
        assert!(
            t.contains(
                "denied by statement 1 (Sid `NoIbm`) of role trust policy (a Deny statement)"
            ),
            "{t}"
        );
        assert!(!t.contains("Sid `Aoc`"), "{t}");
    }

    #[test]
    fn issue11_d11_the_trust_fix_keeps_the_statements_of_other_principals() {
        // The role is also assumed by a Lambda function; AoC's statement has a stale ID.
        let p = format!(
            r#"{{"Version": "2012-10-17", "Statement": [
              {{"Sid": "Lambda", "Effect": "Allow", "Principal": {{"Service": "lambda.amazonaws.com"}}, "Action": "sts:AssumeRole"}},
              {{"Effect": "Allow", "Principal": {{"AWS": "{AOC_PRINCIPAL}"}}, "Action": "sts:AssumeRole",
                "Condition": {{"StringEquals": {{"sts:ExternalId": "aoc-external-id-0"}}}}}}]}}"#
        );
        let f = run_check(&DEF, &attachment(), &facts(&p));
        assert_eq!(status(&f), Status::Fail);
        let fix = fix_document(&f);
        let doc = fix.document.to_string();
        assert!(doc.contains("lambda.amazonaws.com"), "{doc}");
        assert!(
            doc.contains("aoc-external-id-1") && !doc.contains("aoc-external-id-0"),
            "{doc}"
        );
        // Applied, AoC gets in with its ID, and the Lambda statement is still there.
        let applied = facts(&fix.document.to_string());
        assert_eq!(
            status(&run_check(&DEF, &attachment(), &applied)),
            Status::Warn
        );
        let after = run_check(&DEF, &attachment(), &applied);
        assert!(
            after.iter().all(|f| f.reason == "extra-principals"),
            "{}",
            text(&after)
        );
    }

    #[test]
    fn an_external_id_condition_that_accepts_any_id_warns() {
        for condition in [
            r#"{"StringLike": {"sts:ExternalId": "*"}}"#,
            r#"{"Null": {"sts:ExternalId": "false"}}"#,
            r#"{"StringLike": {"sts:ExternalId": "aoc-external-id-*"}}"#,
            r#"{"StringLike": {"sts:ExternalId": "aoc-external-id-?"}}"#,
            r#"{"StringEquals": {"sts:ExternalId": ["aoc-external-id-1", "another-id"]}}"#,
        ] {
            let p = format!(
                r#"{{"Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "{AOC_PRINCIPAL}"}},
                  "Action": "sts:AssumeRole", "Condition": {condition}}}]}}"#
            );
            let f = run_check(&DEF, &attachment(), &facts(&p));
            assert_eq!(status(&f), Status::Warn, "{condition}: {}", text(&f));
            assert!(
                f.iter().any(|f| f.reason == "any-external-id"),
                "{}",
                text(&f)
            );
        }
    }

    #[test]
    fn the_trust_fix_replaces_aocs_statement_for_another_region() {
        let west = "arn:aws:iam::860559707280:role/atp-aws-us-west-2-ts-atc-node";
        let f = run_check(
            &DEF,
            &attachment(),
            &facts(&trust("aoc-external-id-1", west)),
        );
        assert_eq!(status(&f), Status::Fail);
        let doc = fix_document(&f).document.to_string();
        assert!(!doc.contains("us-west-2"), "{doc}");
        assert!(doc.contains(AOC_PRINCIPAL), "{doc}");
    }

    #[test]
    fn an_external_id_with_a_stray_space_is_not_called_a_reload() {
        let f = run_check(
            &DEF,
            &attachment(),
            &facts(&trust("aoc-external-id-1 ", AOC_PRINCIPAL)),
        );
        assert_eq!(f[0].reason, "external-id-whitespace", "{}", text(&f));
    }

    #[test]
    fn an_external_id_without_the_principal_asks_for_it() {
        let mut a = attachment();
        a.aoc_trust.aoc_principal = None;
        let f = run_check(&DEF, &a, &facts(&trust("x1", AOC_PRINCIPAL)));
        assert_eq!(f[0].reason, "no-aoc-principal", "{}", text(&f));
    }

    #[test]
    fn a_star_principal_narrowed_to_aoc_by_a_condition_is_not_anyone() {
        let p = format!(
            r#"{{"Statement": [{{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole",
              "Condition": {{"StringEquals": {{"aws:PrincipalArn": "{AOC_PRINCIPAL}",
                                               "sts:ExternalId": "aoc-external-id-1"}}}}}}]}}"#
        );
        let f = run_check(&DEF, &attachment(), &facts(&p));
        assert!(
            !f.iter().any(|f| f.reason == "wildcard-principal"),
            "{}",
            text(&f)
        );
        assert_ne!(status(&f), Status::Fail, "{}", text(&f));
    }

    #[test]
    fn an_external_id_one_character_off_is_a_typo_not_a_reload() {
        let f = run_check(
            &DEF,
            &attachment(),
            &facts(&trust("aoc-external-id-", AOC_PRINCIPAL)),
        );
        // Too short an ID to tell a slip from a new one.
        assert_eq!(f[0].reason, "external-id-mismatch", "{}", text(&f));
        let mut a = attachment();
        a.aoc_trust.external_id = Some("3b6f5a1c-9d2e-4f8a-b7c6-0e1d2c3b4a59".into());
        let f = run_check(
            &DEF,
            &a,
            &facts(&trust(
                "3b6f5a1c-9d2e-4f8a -b7c6-0e1d2c3b4a59",
                AOC_PRINCIPAL,
            )),
        );
        assert_eq!(f[0].reason, "external-id-typo", "{}", text(&f));
    }

    #[test]
    fn a_stale_aoc_principal_shared_with_another_is_removed_the_other_kept() {
        let west = "arn:aws:iam::860559707280:role/atp-aws-us-west-2-ts-atc-node";
        let p = format!(
            r#"{{"Statement": [{{"Effect": "Allow",
              "Principal": {{"AWS": ["arn:aws:iam::111122223333:role/ops-admin", "{west}"]}},
              "Action": "sts:AssumeRole"}}]}}"#
        );
        let f = run_check(&DEF, &attachment(), &facts(&p));
        let doc = fix_document(&f).document.to_string();
        assert!(
            doc.contains("ops-admin") && !doc.contains("us-west-2"),
            "{doc}"
        );
    }
}
