//! `org.policies`: no service control policy (SCP) or resource control policy (RCP) of the
//! role's organization refuses a request AoC makes: AoC's `sts:AssumeRole` on the role (RCPs
//! only: AoC's principal is outside the organization, so SCPs do not limit it), and the role
//! session's S3 and KMS requests (SCPs on the role's account, RCPs on the bucket's and key's).
//!
//! The evaluation is the engine's ([`crate::policy::org`]); this module maps the gathered
//! organization onto it, groups the refused requests by the policy that denies them (every
//! denying statement of every SCP and RCP, not the first only), and proposes fixes that never
//! widen a guardrail for anyone but AoC: AoC's principal exempted from the RCP statements that
//! deny its sts:AssumeRole, the role exempted from a region-deny SCP statement, an allow-list
//! SCP extended with AoC's actions on AoC's resources only; each given as the whole policy,
//! judged again until none of its statements refuses AoC.

use super::FixStep;
use super::{CheckDef, Finding, Input, Status};
use crate::model::aoc::{self, REQUIRED, S3Target};
use crate::model::facts::{Fact, OrgLevelKind, OrgPolicies, OrgPolicy};
use crate::model::verdict::FixDocument;
use crate::policy::org::{
    GuardrailCause, GuardrailKind, GuardrailStatement, Level, LevelKind, OrgEvaluation,
    OrgPolicyRef, Organization, evaluate_org,
};
use crate::policy::{ActionSpec, Condition, Context, Decision, Effect, NamedPolicy, Request};

mod fix;
use fix::*;

pub const DEF: CheckDef = CheckDef {
    id: "org.policies",
    reasons: &[
        "ok",
        "management-account",
        "not-in-organization",
        "not-read",
        "scp-denied",
        "rcp-denied",
        "no-scp-allows",
        "conditional",
        "aoc-not-judged",
        "other-account",
    ],
    run,
};

const ASSUME: &str = "sts:AssumeRole";

/// The `aws:PrincipalOrgID` AoC's principal is judged with when IBM's account is in an
/// organization: not the customer's, so some other one. Not a valid ID (it has spaces), so it
/// equals no ID a policy names.
pub const AOC_ORG_ID: &str = "(AoC's organization, not yours)";

/// One request judged, with how the finding names it.
struct Judged {
    text: String,
    request: Request,
    /// AoC's own request (its principal is outside the organization).
    aoc: bool,
    /// AoC's request judged without AoC's principal, which was not given: a refusal can only
    /// be a warning, and no exception can name it.
    aoc_unknown: bool,
}

/// Stands for AoC's principal when it was not given: no ARN, so conditions on its ARN and
/// account stay undecided.
const UNKNOWN_AOC_PRINCIPAL: &str = "AoC's principal (not given)";

fn run(input: &Input<'_>) -> Vec<Finding> {
    let values = input.values;
    let org = match &input.facts.organization {
        Fact::Known(Some(org)) => org,
        Fact::Known(None) => return vec![Finding::new(Status::Skip, "not-in-organization")],
        // Only the management account or a delegated administrator may read them: not being
        // able to is the usual case for a member account, not an error.
        Fact::Unavailable(why) => {
            return vec![Finding::new(Status::Skip, "not-read").var("why", why.clone())];
        }
        // The tool's own way to AWS failed (network, credentials, a timeout) or a policy did not
        // parse: not determined, and reported with the one infrastructure cause. Refusals
        // particular to Organizations (not the management account) are `Unavailable` above.
        Fact::Failed(_) => {
            return Finding::from_missing_fact(&input.facts.organization)
                .into_iter()
                .collect();
        }
    };
    let Some(role) = values.role.as_ref() else {
        return vec![Finding::skip_needs("a well-formed role ARN")];
    };
    if org.management_account.as_deref() == Some(role.account.as_str()) {
        return vec![
            Finding::pass("management-account")
                .var("account", &role.account)
                .evidence(format!(
                    "{} is the organization's management account: SCPs do not limit its principals, nor RCPs its resources",
                    role.account
                )),
        ];
    }

    let (org_id, org_id_evidence) = organization_id(org);
    let managed_key = managed_key(input);
    let engine_org = organization(org, org_id.as_deref(), managed_key.as_deref());
    let judged = requests(input, org);

    let mut notes: Vec<String> = Vec::new();
    if org.management_account.is_none() {
        notes.push(format!(
            "the organization's management account is not known: account {} is taken to be a member (offline: give it with --org-management-account ID)",
            role.account
        ));
    }
    notes.extend(org_id_evidence);
    if values.aoc_principal.is_none() {
        notes.push(
            "AoC's principal was not given: its sts:AssumeRole on the role was judged as a principal outside the organization whose ARN and account are unknown (give --aoc-principal ARN or --trust-policy FILE)".into(),
        );
    }

    let mut findings = Vec::new();
    let mut allowed = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    let mut elsewhere: Vec<(&Judged, String, Vec<String>)> = Vec::new();
    for j in &judged {
        let ev = evaluate_org(&engine_org, &j.request);
        if j.aoc_unknown && ev.worst != Decision::Allowed {
            findings.extend(per_action(
                Finding::warn("aoc-not-judged")
                    .var("request", &j.text)
                    .var("statements", join_words(&statement_texts(&ev, false))),
                std::slice::from_ref(&j.request.action),
                vec![format!("{}: {}", j.text, ev.worst_why)],
                Vec::new(),
            ));
            continue;
        }
        if ev.worst == Decision::Allowed {
            if let Some((account, root_denies)) = other_member_account(j, org, &engine_org) {
                elsewhere.push((j, account, root_denies));
            } else {
                allowed.push(format!("{}: {}", j.text, ev.worst_why));
            }
            continue;
        }
        if !ev.is_certain() {
            findings.push(conditional_finding(j, &ev));
            continue;
        }
        // Every statement that denies it, across SCPs and RCPs: naming (and fixing) only the
        // first would leave the request refused by the next.
        let denying: Vec<&GuardrailStatement> = ev
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Deny && s.certain)
            .collect();
        let mut keys: Vec<(GroupKey, Option<GuardrailStatement>)> = denying
            .iter()
            .map(|s| {
                (
                    GroupKey::Policy {
                        kind: s.kind,
                        level: s.level,
                        policy_id: s.policy_id.clone(),
                    },
                    Some((*s).clone()),
                )
            })
            .collect();
        if keys.is_empty() {
            match &ev.worst_cause {
                Some(GuardrailCause::NoScpAllows { level, level_text }) => keys.push((
                    GroupKey::NoScpAllows {
                        level: *level,
                        level_text: level_text.clone(),
                    },
                    None,
                )),
                _ => {
                    findings.push(conditional_finding(j, &ev));
                    continue;
                }
            }
        }
        for (key, statement) in keys {
            let why = match &statement {
                Some(st) => format!("{}: explicitly denied by {}", j.text, st.describe()),
                None => format!("{}: {}", j.text, ev.worst_why),
            };
            let group = match groups.iter_mut().position(|g| g.key == key) {
                Some(i) => &mut groups[i],
                None => {
                    groups.push(Group {
                        key,
                        members: Vec::new(),
                    });
                    let last = groups.len() - 1;
                    &mut groups[last]
                }
            };
            match group.members.iter_mut().find(|m| std::ptr::eq(m.judged, j)) {
                Some(m) => {
                    m.statements.extend(statement);
                    m.why.push(why);
                }
                None => group.members.push(Member {
                    judged: j,
                    statements: statement.into_iter().collect(),
                    why: vec![why],
                }),
            }
        }
    }

    for g in &groups {
        findings.extend(denial_findings(g, input, org, &engine_org));
    }
    if !elsewhere.is_empty() {
        findings.extend(elsewhere_findings(&elsewhere, org));
    }

    if findings.is_empty() {
        findings.push(
            Finding::pass("ok")
                .var("count", judged.len().to_string())
                .evidence_lines(allowed)
                .evidence_lines(notes),
        );
    } else if let Some(first) = findings.first_mut() {
        first.evidence.extend(notes);
    }
    findings
}

/// One finding per action refused, alike but for `action`: the report shows them as one
/// sentence, and each carries the action it is about so `explain --run` can tell whether the
/// finding is the one an error message names. The first carries the evidence and the fix.
fn per_action(
    template: Finding,
    actions: &[String],
    evidence: Vec<String>,
    fix: Vec<FixStep>,
) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for action in actions {
        let mut f = template.clone().var("action", action);
        if out.is_empty() {
            f = f.evidence_lines(evidence.clone()).fix(fix.clone());
        }
        out.push(f);
    }
    out
}

/// Each action of the requests, once, in order.
fn actions_of<'j>(requests: impl IntoIterator<Item = &'j Judged>) -> Vec<String> {
    let mut actions: Vec<String> = Vec::new();
    for j in requests {
        if !actions.contains(&j.request.action) {
            actions.push(j.request.action.clone());
        }
    }
    actions
}

/// The deny statements that apply (all of them, or only those that certainly do), described.
fn statement_texts(ev: &OrgEvaluation, certain_only: bool) -> Vec<String> {
    ev.statements
        .iter()
        .filter(|s| s.effect == Effect::Deny && (s.certain || !certain_only))
        .map(GuardrailStatement::describe)
        .collect()
}

/// "a", "a and b", "a, b and c".
fn join_words(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn conditional_finding(j: &Judged, ev: &OrgEvaluation) -> Finding {
    let conditions = ev.unresolved_conditions();
    let statements: Vec<String> = ev
        .statements
        .iter()
        .filter(|s| !s.certain)
        .map(GuardrailStatement::describe)
        .collect();
    Finding::warn("conditional")
        .var("request", &j.text)
        .var("conditions", conditions.join("; "))
        .var("action", &j.request.action)
        .evidence(format!(
            "{}: {}",
            j.text,
            crate::policy::eval::explain_cases(ev.best, &ev.best_why, ev.worst, &ev.worst_why)
        ))
        .evidence_lines(
            statements
                .into_iter()
                .map(|s| format!("depends on {s} (if {})", conditions.join(" and "))),
        )
}

/// For a request on a resource of another account than the one whose organization policies
/// were given, when RCPs other than AWS's own are in use: that account, and the statements of
/// the root's RCPs that deny the request. RCPs attached to the root bind every member account,
/// so if the other account is a member they apply to it; whether it is is not known here.
fn other_member_account(
    j: &Judged,
    org: &OrgPolicies,
    engine_org: &Organization<'_>,
) -> Option<(String, Vec<String>)> {
    if !org.rcps_enabled {
        return None;
    }
    let account = crate::policy::eval::resource_account(&j.request)?;
    if account == org.account || org.management_account.as_deref() == Some(account.as_str()) {
        return None;
    }
    let customer_rcps = org
        .levels
        .iter()
        .flat_map(|l| &l.rcps)
        .any(|p| !p.aws_managed);
    if !customer_rcps {
        return None;
    }
    let root_only = Organization {
        account: account.as_str(),
        levels: engine_org
            .levels
            .iter()
            .filter(|l| l.kind == LevelKind::Root)
            .cloned()
            .collect(),
        ..engine_org.clone()
    };
    let ev = evaluate_org(&root_only, &j.request);
    let denies: Vec<String> = ev
        .statements
        .iter()
        .filter(|s| s.kind == GuardrailKind::Rcp && s.effect == Effect::Deny)
        .map(|s| {
            let certainty = if s.certain { "denies" } else { "may deny" };
            format!("{} {certainty} it", s.describe())
        })
        .collect();
    Some((account, denies))
}

fn elsewhere_findings(
    elsewhere: &[(&Judged, String, Vec<String>)],
    org: &OrgPolicies,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut accounts: Vec<&str> = Vec::new();
    for (_, account, _) in elsewhere {
        if !accounts.contains(&account.as_str()) {
            accounts.push(account);
        }
    }
    for account in accounts {
        let members: Vec<&(&Judged, String, Vec<String>)> =
            elsewhere.iter().filter(|(_, a, _)| a == account).collect();
        let requests: Vec<String> = members.iter().map(|(j, ..)| j.text.clone()).collect();
        let root_denies: Vec<String> = members
            .iter()
            .flat_map(|(j, _, d)| d.iter().map(move |d| format!("{}: {d}", j.text)))
            .collect();
        let root = if root_denies.is_empty() {
            "the root's RCPs do not deny them, but the RCPs attached to its OUs and to the account itself were not given".to_string()
        } else {
            "the root's RCPs deny them (evidence)".to_string()
        };
        out.extend(per_action(
            Finding::warn("other-account")
                .var("account", account)
                .var("org_account", &org.account)
                .var("root", root)
                .var("requests", requests.join("; ")),
            &actions_of(members.iter().map(|(j, ..)| *j)),
            root_denies,
            Vec::new(),
        ));
    }
    out
}

/// What groups refused requests: a policy (all its statements that deny them), or a level
/// where no SCP allows them.
#[derive(Debug, PartialEq)]
enum GroupKey {
    Policy {
        kind: GuardrailKind,
        level: usize,
        policy_id: String,
    },
    NoScpAllows {
        level: usize,
        level_text: String,
    },
}

/// The requests refused for one cause.
struct Group<'j> {
    key: GroupKey,
    members: Vec<Member<'j>>,
}

/// A request of a group, with the statements of the group's policy that deny it.
struct Member<'j> {
    judged: &'j Judged,
    statements: Vec<GuardrailStatement>,
    why: Vec<String>,
}

fn denial_findings(
    group: &Group<'_>,
    input: &Input<'_>,
    org: &OrgPolicies,
    engine_org: &Organization<'_>,
) -> Vec<Finding> {
    let requests: Vec<String> = group
        .members
        .iter()
        .map(|m| m.judged.text.clone())
        .collect();
    let actions = actions_of(group.members.iter().map(|m| m.judged));
    let evidence: Vec<String> = group.members.iter().flat_map(|m| m.why.clone()).collect();
    match &group.key {
        GroupKey::Policy { kind, .. } => {
            let mut statements: Vec<&GuardrailStatement> =
                group.members.iter().flat_map(|m| &m.statements).collect();
            statements.sort_by_key(|s| s.index);
            statements.dedup_by_key(|s| s.index);
            let Some(first) = statements.first() else {
                return Vec::new();
            };
            let texts: Vec<String> = statements
                .iter()
                .map(|s| s.statement_text.clone())
                .collect();
            let fix = policy_fix(group, input, org, engine_org);
            let reason = match kind {
                GuardrailKind::Scp => "scp-denied",
                GuardrailKind::Rcp => "rcp-denied",
            };
            per_action(
                Finding::fail(reason)
                    .var("kind", kind.noun())
                    .var("policy", &first.policy_name)
                    .var("policy_id", &first.policy_id)
                    .var("level", &first.level_text)
                    .var("statement", join_words(&texts))
                    .var("requests", requests.join("; ")),
                &actions,
                evidence,
                fix,
            )
        }
        GroupKey::NoScpAllows { level, level_text } => {
            let fix = allow_list_fix(group, *level, org, engine_org);
            per_action(
                Finding::fail("no-scp-allows")
                    .var("level", level_text)
                    .var("requests", requests.join("; ")),
                &actions,
                evidence,
                fix,
            )
        }
    }
}

/// The requests judged: AoC's `sts:AssumeRole` (with an unknown principal when AoC's is not
/// given), every S3
/// request of the role's session, and the KMS requests S3 makes with it.
fn requests(input: &Input<'_>, org: &OrgPolicies) -> Vec<Judged> {
    let values = input.values;
    let mut out = Vec::new();
    if let Some(role) = values.role.as_ref() {
        let given = values.aoc_principal.as_deref();
        let principal = given.unwrap_or(UNKNOWN_AOC_PRINCIPAL);
        let mut c = Context::partial();
        aoc::apply_facts(&mut c, &["sts"], None);
        if given.is_some() {
            c.set("aws:PrincipalArn", vec![principal.to_string()]);
        }
        if let Some(account) = given.and_then(crate::arn::account_of) {
            c.set("aws:PrincipalAccount", vec![account]);
        }
        c.set("aws:PrincipalType", vec!["AssumedRole".into()]);
        // IBM's account is in no organization or in another one than the customer's: either
        // way not theirs, but whether the key is present at all is not known (a `Null`
        // condition on it stays open).
        c.set_one_of(
            "aws:PrincipalOrgID",
            vec![Vec::new(), vec![AOC_ORG_ID.into()]],
        );
        c.set_one_of(
            "aws:PrincipalOrgPaths",
            vec![Vec::new(), vec![format!("{AOC_ORG_ID}/")]],
        );
        if let Some(id) = values.external_id.as_deref() {
            c.set("sts:ExternalId", vec![id.to_string()]);
        }
        out.push(Judged {
            text: format!("AoC's {ASSUME} on {role}"),
            request: Request {
                principal: principal.to_string(),
                action: ASSUME.into(),
                resource: role.to_string(),
                resource_account: Some(role.account.clone()),
                context: c,
            },
            aoc: true,
            aoc_unknown: given.is_none(),
        });
    }
    let Some(target) = S3Target::from_gathered(values, input.facts) else {
        return out;
    };
    let bucket_region = input.facts.bucket_region.known().cloned();
    let bucket_account = input.facts.bucket_owner_account.known().cloned();
    for (action, resource) in target.required() {
        let mut request = target.request(&action, &resource, values);
        if let Some(region) = &bucket_region {
            request
                .context
                .set("aws:RequestedRegion", vec![region.clone()]);
        }
        request.resource_account = bucket_account.clone().or(Some(org.account.clone()));
        out.push(Judged {
            text: format!("the role's {action} on {resource}"),
            request,
            aoc: false,
            aoc_unknown: false,
        });
    }
    if let Some(key_arn) = aoc::key_arn(values, input.facts) {
        let key_region = crate::arn::ArnRef::parse(&key_arn).map(|a| a.region.to_string());
        for action in &REQUIRED.kms.required {
            let mut request = aoc::kms_request(&target, action, &key_arn, values);
            // S3 calls KMS in the key's region.
            if let Some(region) = key_region.as_ref().filter(|r| !r.is_empty()) {
                request
                    .context
                    .set("aws:RequestedRegion", vec![region.clone()]);
            }
            out.push(Judged {
                text: format!("the role's {action} on {key_arn} (through S3)"),
                request,
                aoc: false,
                aoc_unknown: false,
            });
        }
    }
    out
}

/// The key's ARN when KMS says AWS manages it: RCPs do not limit AWS managed keys.
fn managed_key(input: &Input<'_>) -> Option<String> {
    match input.facts.key.known() {
        Some(Some(meta)) if meta.key_manager.eq_ignore_ascii_case("AWS") => Some(meta.arn.clone()),
        _ => None,
    }
}

/// The organization's ID: as gathered, else the one `o-...` ID the policies compare
/// `aws:PrincipalOrgID` / `aws:ResourceOrgID` with (a perimeter names its own organization),
/// with a line of evidence saying it was inferred.
fn organization_id(org: &OrgPolicies) -> (Option<String>, Option<String>) {
    if let Some(id) = &org.id {
        return (Some(id.clone()), None);
    }
    let mut seen: Vec<String> = Vec::new();
    for p in org.levels.iter().flat_map(|l| l.scps.iter().chain(&l.rcps)) {
        for c in p
            .policy
            .document
            .statements
            .iter()
            .flat_map(|s| &s.conditions)
        {
            let key = c.key.to_ascii_lowercase();
            if key != "aws:principalorgid" && key != "aws:resourceorgid" {
                continue;
            }
            for v in &c.values {
                if v.starts_with("o-") && !v.contains(['*', '?', '$']) && !seen.contains(v) {
                    seen.push(v.clone());
                }
            }
        }
    }
    match seen.as_slice() {
        [one] => (
            Some(one.clone()),
            Some(format!(
                "the organization's ID was taken to be {one}, the one organization the policies' aws:PrincipalOrgID/aws:ResourceOrgID conditions name"
            )),
        ),
        _ => (None, None),
    }
}

/// The engine's view of the gathered organization.
pub fn organization<'a>(
    org: &'a OrgPolicies,
    id: Option<&'a str>,
    managed_key: Option<&'a str>,
) -> Organization<'a> {
    let refs = |list: &'a [OrgPolicy]| -> Vec<OrgPolicyRef<'a>> {
        list.iter()
            .map(|p| OrgPolicyRef {
                id: &p.id,
                name: &p.name,
                policy: &p.policy,
            })
            .collect()
    };
    Organization {
        id,
        account: &org.account,
        management_account: org.management_account.as_deref(),
        scps_enabled: org.scps_enabled,
        rcps_enabled: org.rcps_enabled,
        levels: org
            .levels
            .iter()
            .map(|l| Level {
                kind: match l.kind {
                    OrgLevelKind::Root => LevelKind::Root,
                    OrgLevelKind::OrganizationalUnit => LevelKind::OrganizationalUnit,
                    OrgLevelKind::Account => LevelKind::Account,
                },
                id: &l.id,
                name: &l.name,
                scps: refs(&l.scps),
                rcps: refs(&l.rcps),
            })
            .collect(),
        aws_managed_resources: managed_key.into_iter().collect(),
    }
}

/// The policy of a group, found by kind, level and ID.
fn policy_of<'a>(
    org: &'a OrgPolicies,
    kind: GuardrailKind,
    level: usize,
    policy_id: &str,
) -> Option<&'a OrgPolicy> {
    let level = org.levels.get(level)?;
    let list = match kind {
        GuardrailKind::Scp => &level.scps,
        GuardrailKind::Rcp => &level.rcps,
    };
    list.iter().find(|p| p.id == policy_id)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{attachment, fix_document, policy, run_check, status, text};
    use super::*;
    use crate::model::facts::{Facts, OrgLevel};

    const FULL: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    const RCP_FULL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;

    fn managed(id: &str, json: &str) -> OrgPolicy {
        OrgPolicy {
            id: format!("p-{id}"),
            name: id.into(),
            aws_managed: true,
            policy: policy(id, json),
        }
    }

    fn custom(id: &str, name: &str, json: &str) -> OrgPolicy {
        OrgPolicy {
            id: id.into(),
            name: name.into(),
            aws_managed: false,
            policy: policy(name, json),
        }
    }

    fn level(kind: OrgLevelKind, id: &str, name: &str) -> OrgLevel {
        OrgLevel {
            kind,
            id: id.into(),
            name: name.into(),
            scps: vec![managed("FullAWSAccess", FULL)],
            rcps: vec![managed("RCPFullAWSAccess", RCP_FULL)],
        }
    }

    fn org() -> OrgPolicies {
        OrgPolicies {
            id: None,
            management_account: Some("999988887777".into()),
            account: "111122223333".into(),
            scps_enabled: true,
            rcps_enabled: true,
            levels: vec![
                level(OrgLevelKind::Root, "r-ab12", "Root"),
                level(
                    OrgLevelKind::OrganizationalUnit,
                    "ou-ab12-11111111",
                    "Sales",
                ),
                level(OrgLevelKind::Account, "111122223333", "data"),
            ],
        }
    }

    fn facts(org: Fact<Option<OrgPolicies>>) -> Facts {
        Facts {
            organization: org,
            ..Facts::default()
        }
    }

    fn run(o: OrgPolicies) -> Vec<Finding> {
        run_check(&DEF, &attachment(), &facts(Fact::Known(Some(o))))
    }

    #[test]
    fn full_access_alone_passes() {
        let f = run(org());
        assert_eq!(status(&f), Status::Pass, "{}", text(&f));
        assert_eq!(f[0].reason, "ok");
    }

    #[test]
    fn skip_when_not_read_or_not_in_an_organization() {
        let f = run_check(
            &DEF,
            &attachment(),
            &facts(Fact::Unavailable("offline: give --scp/--rcp".into())),
        );
        assert_eq!((status(&f), f[0].reason), (Status::Skip, "not-read"));
        let f = run_check(
            &DEF,
            &attachment(),
            &facts(Fact::Failed(crate::model::facts::Failure::new(
                crate::model::facts::FailureKind::Network,
                "connection refused",
            ))),
        );
        // The tool could not reach AWS: not determined (one infrastructure cause), never a
        // skip that would let a gate pass.
        assert_eq!((status(&f), f[0].reason), (Status::Error, "fact-failed"));
        let f = run_check(&DEF, &attachment(), &facts(Fact::Known(None)));
        assert_eq!(
            (status(&f), f[0].reason),
            (Status::Skip, "not-in-organization")
        );
    }

    #[test]
    fn region_deny_without_the_buckets_region_fails_and_exempts_the_role() {
        let mut o = org();
        o.levels[0].scps.push(custom(
            "p-regions1",
            "DenyOtherRegions",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Regions","Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}]}"#,
        ));
        let f = run(o);
        assert_eq!(status(&f), Status::Fail, "{}", text(&f));
        let denied = f.iter().find(|f| f.reason == "scp-denied").unwrap();
        let all = text(&f);
        assert!(all.contains("policy_id=p-regions1"), "{all}");
        assert!(all.contains("level=root Root (r-ab12)"), "{all}");
        assert!(all.contains("s3:PutObject"), "{all}");
        assert!(all.contains("kms:GenerateDataKey"), "{all}");
        assert!(
            all.contains("aws organizations update-policy --policy-id p-regions1 --content file://p-regions1.json"),
            "{all}"
        );
        let doc = fix_document(std::slice::from_ref(denied));
        assert_eq!(doc.applies_to, "org-policy");
        // The region list stays as it is for everyone; only the role is exempted.
        let condition = &doc.document["Statement"][0]["Condition"];
        assert_eq!(
            condition["StringNotEquals"]["aws:RequestedRegion"],
            "eu-west-1"
        );
        assert_eq!(
            condition["ArnNotLike"]["aws:PrincipalArn"],
            "arn:aws:iam::111122223333:role/aoc-access"
        );
        assert_eq!(doc.document["Statement"][0]["Effect"], "Deny");
        // Adding the region is mentioned as the wider alternative, in a note only.
        assert!(all.contains("Alternative, wider: add us-east-1"), "{all}");
        // One sentence for the one statement, naming every request it refuses: the findings
        // differ only in the action each is about.
        let denied: Vec<&Finding> = f.iter().filter(|f| f.reason == "scp-denied").collect();
        assert!(
            denied
                .iter()
                .all(|d| d.vars.iter().any(|(k, _)| *k == "action"))
        );
        let catalog = crate::catalog::get().unwrap();
        let result = crate::checks::results::check_result(catalog, &DEF, &f);
        assert_eq!(
            result.summary.matches("p-regions1").count(),
            1,
            "{}",
            result.summary
        );
        assert!(
            result
                .findings
                .iter()
                .any(|r| r.action.as_deref() == Some("kms:GenerateDataKey"))
        );
    }

    #[test]
    fn kms_deny_at_an_ou_fails_naming_the_ou() {
        let mut o = org();
        o.levels[1].scps.push(custom(
            "p-nokms111",
            "NoKms",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:*","Resource":"*"}]}"#,
        ));
        let f = run(o);
        assert_eq!(status(&f), Status::Fail);
        let all = text(&f);
        assert!(all.contains("level=OU Sales (ou-ab12-11111111)"), "{all}");
        assert!(all.contains("policy=NoKms"), "{all}");
        assert!(!all.contains("s3:PutObject on"), "{all}");
        // No computed change for a blanket deny: ask, never remove.
        assert!(all.contains("Do not remove the statement"), "{all}");
    }

    #[test]
    fn ou_without_an_allowing_scp_fails() {
        let mut o = org();
        o.levels[1].scps = vec![custom(
            "p-allowlst",
            "AllowList",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:*","s3:*"],"Resource":"*"}]}"#,
        )];
        let f = run(o);
        assert_eq!(status(&f), Status::Fail, "{}", text(&f));
        let missing = f.iter().find(|f| f.reason == "no-scp-allows").unwrap();
        let all = text(std::slice::from_ref(missing));
        assert!(all.contains("kms:Decrypt"), "{all}");
        let doc = fix_document(std::slice::from_ref(missing));
        assert_eq!(
            doc.document["Statement"][1]["Action"],
            serde_json::json!(["kms:GenerateDataKey", "kms:Decrypt"])
        );
    }

    #[test]
    fn management_account_is_exempt() {
        let mut o = org();
        o.management_account = Some("111122223333".into());
        o.levels[0].scps.push(custom(
            "p-nokms111",
            "NoKms",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:*","Resource":"*"}]}"#,
        ));
        let f = run(o);
        assert_eq!(
            (status(&f), f[0].reason),
            (Status::Pass, "management-account")
        );
    }

    const PERIMETER: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"EnforceIdentityPerimeter","Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-abc123def4"},"Bool":{"aws:PrincipalIsAWSService":"false"}}}]}"#;

    #[test]
    fn rcp_perimeter_without_aocs_exception_fails_with_the_exception_as_fix() {
        let mut o = org();
        o.levels[0]
            .rcps
            .push(custom("p-perim111", "IdentityPerimeter", PERIMETER));
        let f = run(o.clone());
        assert_eq!(status(&f), Status::Fail, "{}", text(&f));
        let denied = f.iter().find(|f| f.reason == "rcp-denied").unwrap();
        let all = text(std::slice::from_ref(denied));
        assert!(all.contains("kind=resource control policy"), "{all}");
        assert!(all.contains("action=sts:AssumeRole"), "{all}");
        assert!(
            all.contains("AoC's sts:AssumeRole on arn:aws:iam::111122223333:role/aoc-access"),
            "{all}"
        );
        // The role's own S3 and KMS requests are inside the perimeter.
        assert_eq!(
            f.iter().filter(|f| f.status != Status::Pass).count(),
            1,
            "{}",
            text(&f)
        );
        let doc = fix_document(std::slice::from_ref(denied));
        let st = &doc.document["Statement"][0];
        assert_eq!(st["Effect"], "Deny");
        assert_eq!(st["Principal"], "*");
        // Only AoC's principal is exempted, not all of IBM's shared account.
        assert_eq!(
            st["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
            "arn:aws:iam::860559707280:role/atp-aws-us-east-1-ts-atc-node"
        );
        assert!(!doc.document.to_string().contains("aws:PrincipalAccount"));
        assert_eq!(
            st["Condition"]["StringNotEqualsIfExists"]["aws:PrincipalOrgID"],
            "o-abc123def4"
        );

        // With the exception in place, it passes.
        let fixed = custom(
            "p-perim111",
            "IdentityPerimeter",
            &serde_json::to_string(&doc.document).unwrap(),
        );
        o.levels[0].rcps[1] = fixed;
        let f = run(o);
        assert_eq!(status(&f), Status::Pass, "{}", text(&f));
    }

    #[test]
    fn undecidable_condition_warns() {
        let mut o = org();
        o.levels[2].scps.push(custom(
            "p-officeip",
            "OnlyFromOffice",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}"#,
        ));
        let f = run(o);
        assert_eq!(status(&f), Status::Warn, "{}", text(&f));
        assert!(f.iter().all(|f| f.reason == "conditional"));
        assert!(text(&f).contains("aws:SourceIp"));
    }
    /// Applies a fix document as the policy it replaces, and judges again.
    fn apply(mut o: OrgPolicies, level: usize, id: &str, f: &[Finding]) -> Vec<Finding> {
        let doc = fix_document(f);
        let json = serde_json::to_string(&doc.document).unwrap();
        let l = &mut o.levels[level];
        for p in l
            .scps
            .iter_mut()
            .chain(l.rcps.iter_mut())
            .filter(|p| p.id == id)
        {
            *p = custom(id, &p.name.clone(), &json);
        }
        run(o)
    }

    #[test]
    fn every_region_deny_statement_is_named_and_patched() {
        let mut o = org();
        o.levels[0].scps.push(custom(
            "p-regdeny3",
            "EuOnly",
            r#"{"Version":"2012-10-17","Statement":[
             {"Sid":"DenyOutsideEU","Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*","Condition":{"StringNotLike":{"aws:RequestedRegion":"eu-*"}}},
             {"Sid":"DenyS3OutsideFrankfurt","Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-central-1"]}}}]}"#,
        ));
        let f = run(o.clone());
        assert_eq!(status(&f), Status::Fail, "{}", text(&f));
        let all = text(&f);
        assert!(
            all.contains(r#"statement=statement 0 (Sid "DenyOutsideEU") and statement 1 (Sid "DenyS3OutsideFrankfurt")"#),
            "{all}"
        );
        let doc = fix_document(&f);
        for i in 0..2 {
            assert_eq!(
                doc.document["Statement"][i]["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
                "arn:aws:iam::111122223333:role/aoc-access",
                "{}",
                doc.document
            );
        }
        let after = apply(o, 0, "p-regdeny3", &f);
        assert_eq!(status(&after), Status::Pass, "{}", text(&after));
    }

    #[test]
    fn the_role_exception_merges_into_an_existing_principal_condition() {
        let mut o = org();
        o.levels[0].scps.push(custom(
            "p-regdeny2",
            "Regions",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-central-1","eu-west-1"]},"ArnNotLike":{"aws:PrincipalARN":"arn:aws:iam::*:role/OrgAdmin"}}}]}"#,
        ));
        let f = run(o.clone());
        let doc = fix_document(&f);
        assert_eq!(
            doc.document["Statement"][0]["Condition"]["ArnNotLike"]["aws:PrincipalARN"],
            serde_json::json!([
                "arn:aws:iam::*:role/OrgAdmin",
                "arn:aws:iam::111122223333:role/aoc-access"
            ]),
            "{}",
            doc.document
        );
        assert_eq!(status(&apply(o, 0, "p-regdeny2", &f)), Status::Pass);
    }

    #[test]
    fn every_policy_that_denies_a_request_is_reported() {
        let mut o = org();
        o.levels[0].rcps.push(custom(
            "p-rcpkms01",
            "RcpNoKms",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*"}]}"#,
        ));
        o.levels[1].scps.push(custom(
            "p-denykms1",
            "DenyKms",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyKMS","Effect":"Deny","Action":"kms:*","Resource":"*"}]}"#,
        ));
        let f = run(o);
        let reasons: Vec<&str> = f.iter().map(|f| f.reason).collect();
        assert!(reasons.contains(&"rcp-denied"), "{reasons:?}");
        assert!(reasons.contains(&"scp-denied"), "{reasons:?}");
        assert!(text(&f).contains("policy=DenyKms"), "{}", text(&f));
    }

    #[test]
    fn allow_list_fix_names_aocs_resources_and_keeps_met_conditions() {
        let mut o = org();
        o.levels[1].scps = vec![custom(
            "p-allowlst",
            "AllowList",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:*","iam:*"],"Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}}]}"#,
        )];
        let f = run(o.clone());
        let missing = f.iter().find(|f| f.reason == "no-scp-allows").unwrap();
        let doc = fix_document(std::slice::from_ref(missing));
        let added: Vec<&serde_json::Value> = doc.document["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .skip(1)
            .collect();
        assert!(!added.is_empty());
        for st in &added {
            assert_ne!(st["Resource"], "*", "{}", doc.document);
            assert_eq!(
                st["Condition"]["StringEquals"]["aws:RequestedRegion"],
                serde_json::json!(["us-east-1", "eu-west-1"]),
                "{}",
                doc.document
            );
        }
        let resources: Vec<&str> = added
            .iter()
            .filter_map(|s| s["Resource"].as_str())
            .collect();
        assert!(
            resources.contains(&"arn:aws:s3:::aspera-kms"),
            "{resources:?}"
        );
        assert!(
            resources.contains(&"arn:aws:s3:::aspera-kms/*"),
            "{resources:?}"
        );
        assert!(
            resources.contains(&super::super::test_support::KEY_ARN),
            "{resources:?}"
        );
        assert_eq!(status(&apply(o, 1, "p-allowlst", &f)), Status::Pass);
    }

    /// Whether IBM's account is in an organization at all is not known: a perimeter written
    /// with `Null aws:PrincipalOrgID` may or may not deny AoC (warn, never pass); one on the
    /// organization paths denies AoC either way (fail).
    #[test]
    fn perimeters_on_the_principals_organization_judge_aoc_as_outside_it() {
        let null_style = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Resource":"*","Condition":{"Null":{"aws:PrincipalOrgID":"true"},"Bool":{"aws:PrincipalIsAWSService":"false"}}}]}"#;
        let paths = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Resource":"*","Condition":{"ForAllValues:StringNotLike":{"aws:PrincipalOrgPaths":["o-abc123def4/*"]},"Bool":{"aws:PrincipalIsAWSService":"false"}}}]}"#;
        for (policy, want) in [(null_style, Status::Warn), (paths, Status::Fail)] {
            let mut o = org();
            o.levels[0]
                .rcps
                .push(custom("p-perim222", "Perimeter", policy));
            let f = run_check(&DEF, &attachment(), &facts(Fact::Known(Some(o))));
            assert_eq!(status(&f), want, "{policy}\n{}", text(&f));
        }
    }

    #[test]
    fn rcp_perimeter_without_aocs_principal_warns() {
        let mut o = org();
        o.levels[0]
            .rcps
            .push(custom("p-perim111", "IdentityPerimeter", PERIMETER));
        let mut a = attachment();
        a.aoc_trust.aoc_principal = None;
        let f = run_check(&DEF, &a, &facts(Fact::Known(Some(o))));
        assert_eq!(status(&f), Status::Warn, "{}", text(&f));
        assert!(
            f.iter().any(|f| f.reason == "aoc-not-judged"),
            "{}",
            text(&f)
        );
    }

    #[test]
    fn bucket_of_another_account_under_root_rcps_warns() {
        let mut o = org();
        o.levels[0].rcps.push(custom(
            "p-rcps3den",
            "NoS3",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*"}]}"#,
        ));
        let facts = Facts {
            organization: Fact::Known(Some(o)),
            bucket_owner_account: Fact::Known("444455556666".into()),
            ..Facts::default()
        };
        let f = run_check(&DEF, &attachment(), &facts);
        assert_eq!(status(&f), Status::Warn, "{}", text(&f));
        let all = text(&f);
        assert!(all.contains("account=444455556666"), "{all}");
        assert!(all.contains("NoS3 (p-rcps3den)"), "{all}");
    }
}
