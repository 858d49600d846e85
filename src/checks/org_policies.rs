//! `org.policies`: no service control policy (SCP) or resource control policy (RCP) of the
//! role's organization refuses a request AoC makes: AoC's `sts:AssumeRole` on the role (RCPs
//! only: AoC's principal is outside the organization, so SCPs do not limit it), and the role
//! session's S3 and KMS requests (SCPs on the role's account, RCPs on the bucket's and key's).
//!
//! The evaluation is the engine's ([`crate::policy::org`]); this module maps the gathered
//! organization onto it, groups the refused requests by cause, and proposes fixes that never
//! widen a perimeter: an exception for AoC's account on the denying RCP statement, or the
//! bucket's region added to a region-deny SCP, each given as the whole policy.

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

pub const DEF: CheckDef = CheckDef {
    id: "org.policies",
    reasons: &[
        "ok",
        "management-account",
        "not-in-organization",
        "not-read",
        "denied",
        "no-scp-allows",
        "conditional",
    ],
    run,
};

const ASSUME: &str = "sts:AssumeRole";

/// The `aws:PrincipalOrgID` AoC's principal is judged with: AoC's account is IBM's, not in the
/// customer's organization, so its organization ID is some other one. Not a valid ID (it has
/// spaces), so it equals no ID a policy names.
pub const AOC_ORG_ID: &str = "(AoC's organization, not yours)";

/// Condition keys that draw an identity perimeter: who the caller is, by organization or
/// account.
const PERIMETER_KEYS: &[&str] = &[
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalAccount",
];

/// One request judged, with how the finding names it.
struct Judged {
    text: String,
    request: Request,
    /// AoC's own request (its principal is outside the organization).
    aoc: bool,
}

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
        Fact::Failed(failure) => {
            return vec![
                Finding::new(Status::Skip, "not-read").var("why", failure.message.clone()),
            ];
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
            "AoC's principal was not given, so its sts:AssumeRole on the role was not judged (give --aoc-principal ARN or --trust-policy FILE)".into(),
        );
    }

    let mut findings = Vec::new();
    let mut allowed = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    for j in &judged {
        let ev = evaluate_org(&engine_org, &j.request);
        if ev.worst == Decision::Allowed {
            allowed.push(format!("{}: {}", j.text, ev.worst_why));
            continue;
        }
        if !ev.is_certain() {
            let conditions = ev.unresolved_conditions();
            let statements: Vec<String> = ev
                .statements
                .iter()
                .filter(|s| !s.certain)
                .map(GuardrailStatement::describe)
                .collect();
            findings.push(
                Finding::warn("conditional")
                    .var("request", &j.text)
                    .var("conditions", conditions.join("; "))
                    .evidence(format!(
                        "{}: {}",
                        j.text,
                        crate::policy::eval::explain_cases(
                            ev.best,
                            &ev.best_why,
                            ev.worst,
                            &ev.worst_why
                        )
                    ))
                    .evidence_lines(
                        statements
                            .into_iter()
                            .map(|s| format!("depends on {s} (if {})", conditions.join(" and "))),
                    ),
            );
            continue;
        }
        let key = cause_key(&ev);
        match groups.iter_mut().find(|g| g.key == key) {
            Some(g) => g.members.push((j, ev)),
            None => groups.push(Group {
                key,
                members: vec![(j, ev)],
            }),
        }
    }

    for g in &groups {
        findings.push(denial_finding(g, input, org, &engine_org));
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

/// The requests refused for one cause.
struct Group<'j> {
    key: String,
    members: Vec<(&'j Judged, OrgEvaluation)>,
}

fn cause_key(ev: &OrgEvaluation) -> String {
    match (&ev.worst_cause, ev.denying_statement()) {
        (_, Some(st)) => st.describe(),
        (Some(GuardrailCause::NoScpAllows { level_text, .. }), None) => level_text.clone(),
        _ => ev.worst_why.clone(),
    }
}

fn denial_finding(
    group: &Group<'_>,
    input: &Input<'_>,
    org: &OrgPolicies,
    engine_org: &Organization<'_>,
) -> Finding {
    let requests: Vec<String> = group.members.iter().map(|(j, _)| j.text.clone()).collect();
    let Some((_, first)) = group.members.first() else {
        return Finding::fail("denied");
    };
    let evidence: Vec<String> = group
        .members
        .iter()
        .map(|(j, ev)| format!("{}: {}", j.text, ev.worst_why))
        .collect();
    if let Some(st) = first.denying_statement() {
        let fix = deny_fix(group, st, input, org, engine_org);
        return Finding::fail("denied")
            .var("kind", st.kind.noun())
            .var("policy", &st.policy_name)
            .var("policy_id", &st.policy_id)
            .var("level", &st.level_text)
            .var("statement", &st.statement_text)
            .var("requests", requests.join("; "))
            .evidence_lines(evidence)
            .fix(fix);
    }
    let (level, level_text) = match &first.worst_cause {
        Some(GuardrailCause::NoScpAllows { level, level_text }) => (*level, level_text.clone()),
        _ => (0, String::new()),
    };
    let fix = allow_list_fix(group, level, org);
    Finding::fail("no-scp-allows")
        .var("level", level_text)
        .var("requests", requests.join("; "))
        .evidence_lines(evidence)
        .fix(fix)
}

/// The requests judged: AoC's `sts:AssumeRole` when AoC's principal is known, every S3
/// request of the role's session, and the KMS requests S3 makes with it.
fn requests(input: &Input<'_>, org: &OrgPolicies) -> Vec<Judged> {
    let values = input.values;
    let mut out = Vec::new();
    if let (Some(role), Some(principal)) = (values.role.as_ref(), values.aoc_principal.as_deref()) {
        let mut c = Context::partial();
        aoc::apply_facts(&mut c, &["sts"], None);
        c.set("aws:PrincipalArn", vec![principal.to_string()]);
        if let Some(account) = crate::arn::account_of(principal) {
            c.set("aws:PrincipalAccount", vec![account]);
        }
        c.set("aws:PrincipalType", vec!["AssumedRole".into()]);
        c.set("aws:PrincipalOrgID", vec![AOC_ORG_ID.into()]);
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

/// The policy a statement belongs to, found by level and ID.
fn policy_of<'a>(org: &'a OrgPolicies, st: &GuardrailStatement) -> Option<&'a OrgPolicy> {
    let level = org.levels.get(st.level)?;
    let list = match st.kind {
        GuardrailKind::Scp => &level.scps,
        GuardrailKind::Rcp => &level.rcps,
    };
    list.iter().find(|p| p.id == st.policy_id)
}

/// Negated string operators: a Deny with one of them denies callers whose value is not listed,
/// so listing a value exempts it.
fn is_negated_string(operator: &str) -> bool {
    let op = operator.to_ascii_lowercase();
    let op = op.strip_suffix("ifexists").unwrap_or(&op);
    matches!(op, "stringnotequals" | "stringnotlike")
}

/// The fix for a statement that denies: an exception for AoC's account on an RCP perimeter,
/// the bucket's region added to a region-deny SCP, else what to ask of the organization's
/// administrators. Never the Deny removed, never a wildcard.
fn deny_fix(
    group: &Group<'_>,
    st: &GuardrailStatement,
    input: &Input<'_>,
    org: &OrgPolicies,
    engine_org: &Organization<'_>,
) -> Vec<FixStep> {
    let Some(policy) = policy_of(org, st) else {
        return Vec::new();
    };
    let Some(statement) = policy
        .policy
        .document
        .statements
        .iter()
        .find(|s| s.index == st.index)
    else {
        return Vec::new();
    };
    let keys_in = |keys: &[&str]| {
        statement
            .conditions
            .iter()
            .any(|c| keys.iter().any(|k| c.key.eq_ignore_ascii_case(k)))
    };
    let aoc_account = group
        .members
        .iter()
        .find(|(j, _)| j.aoc)
        .and_then(|(j, _)| crate::arn::account_of(&j.request.principal));

    let mut changed = statement.clone();
    let what;
    if st.kind == GuardrailKind::Rcp
        && let Some(account) = &aoc_account
        && keys_in(PERIMETER_KEYS)
    {
        add_exception(&mut changed.conditions, "aws:PrincipalAccount", account);
        what = format!(
            "AoC's account {account} added as an exception (aws:PrincipalAccount) to {}; the perimeter stays as it is for everyone else",
            st.statement_text
        );
    } else if st.kind == GuardrailKind::Scp
        && let Some(region) = region_of(group)
        && changed.conditions.iter().any(|c| {
            c.key.eq_ignore_ascii_case("aws:RequestedRegion") && is_negated_string(&c.operator)
        })
    {
        for c in changed.conditions.iter_mut().filter(|c| {
            c.key.eq_ignore_ascii_case("aws:RequestedRegion") && is_negated_string(&c.operator)
        }) {
            c.values.push(region.clone());
        }
        what = format!(
            "the bucket's region {region} added to the regions {} allows",
            st.statement_text
        );
    } else {
        return vec![FixStep::note(manual_advice(st, input))];
    }

    let mut fixed = policy.policy.clone();
    if let Some(target) = fixed
        .document
        .statements
        .iter_mut()
        .find(|s| s.index == st.index)
    {
        *target = changed;
    }
    // The change must lift this statement's refusal of every request in the group.
    let still_denied = {
        let mut after = org.clone();
        replace_policy(&mut after, st, &fixed);
        let (id, _) = organization_id(&after);
        let managed = managed_key(input);
        let mut engine = organization(&after, id.as_deref(), managed.as_deref());
        engine.id = engine.id.or(engine_org.id);
        group.members.iter().any(|(j, _)| {
            let ev = evaluate_org(&engine, &j.request);
            ev.statements.iter().any(|s| {
                s.policy_id == st.policy_id
                    && s.level == st.level
                    && s.index == st.index
                    && s.effect == Effect::Deny
            })
        })
    };
    if still_denied {
        return vec![FixStep::note(manual_advice(st, input))];
    }
    org_policy_fix(policy, fixed, &what)
}

/// Adds `value` to the negated string condition on `key`, or a new `StringNotEquals` one:
/// conditions of a statement all have to hold for the Deny to apply, so the caller with that
/// value is left out of it.
fn add_exception(conditions: &mut Vec<Condition>, key: &str, value: &str) {
    if let Some(c) = conditions
        .iter_mut()
        .find(|c| c.key.eq_ignore_ascii_case(key) && is_negated_string(&c.operator))
    {
        if !c.values.iter().any(|v| v == value) {
            c.values.push(value.to_string());
        }
        return;
    }
    conditions.push(Condition {
        operator: "StringNotEquals".into(),
        key: key.into(),
        values: vec![value.into()],
    });
}

/// The region the group's requests are made in, when they agree on one.
fn region_of(group: &Group<'_>) -> Option<String> {
    let mut regions = group.members.iter().filter_map(|(j, _)| {
        match j.request.context.get("aws:RequestedRegion") {
            crate::policy::KeyState::Present([one]) => Some(one.clone()),
            _ => None,
        }
    });
    let first = regions.next()?;
    regions.all(|r| r == first).then_some(first)
}

fn replace_policy(org: &mut OrgPolicies, st: &GuardrailStatement, fixed: &NamedPolicy) {
    if let Some(level) = org.levels.get_mut(st.level) {
        let list = match st.kind {
            GuardrailKind::Scp => &mut level.scps,
            GuardrailKind::Rcp => &mut level.rcps,
        };
        for p in list.iter_mut().filter(|p| p.id == st.policy_id) {
            p.policy = fixed.clone();
        }
    }
}

/// The whole policy, changed, and the command that puts it in place.
fn org_policy_fix(policy: &OrgPolicy, fixed: NamedPolicy, what: &str) -> Vec<FixStep> {
    let original = crate::policy::to_json(&policy.policy.document);
    if !crate::model::org_input::is_policy_id(&policy.id) && !policy.aws_managed {
        // Given as a file offline, under a name that is not its ID: the file, corrected.
        let file = policy.policy.label.clone();
        let kind = if policy
            .policy
            .document
            .statements
            .iter()
            .any(|s| s.principal.is_some())
        {
            "RESOURCE_CONTROL_POLICY"
        } else {
            "SERVICE_CONTROL_POLICY"
        };
        return vec![
            FixStep::document(
                format!(
                    "The whole policy {}, with {what}; update-policy replaces it whole, so every statement it had is kept",
                    policy.name
                ),
                &file,
                FixDocument::file(&file, crate::policy::to_json(&fixed.document))
                    .replacing(original),
            ),
            FixStep::command(
                format!(
                    "Put it in place, from the management account or a delegated administrator (POLICY_ID: the policy's p-... ID, listed by `aws organizations list-policies --filter {kind}`; name the file after it to get it here)"
                ),
                format!(
                    "aws organizations update-policy --policy-id POLICY_ID --content file://{file}"
                ),
            ),
        ];
    }
    let file = format!("{}.json", policy.id);
    vec![
        FixStep::document(
            format!(
                "The whole policy {} ({}), with {what}; update-policy replaces it whole, so every statement it had is kept",
                policy.name, policy.id
            ),
            &file,
            FixDocument::org_policy(&policy.id, crate::policy::to_json(&fixed.document))
                .replacing(original),
        ),
        FixStep::command(
            "Put it in place, from the management account or a delegated administrator",
            format!(
                "aws organizations update-policy --policy-id {} --content file://{file}",
                policy.id
            ),
        ),
    ]
}

/// What to ask of the organization's administrators when no change can be computed.
fn manual_advice(st: &GuardrailStatement, input: &Input<'_>) -> String {
    let role = input
        .values
        .role
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "the role".into());
    match st.kind {
        GuardrailKind::Scp => format!(
            "{} is a guardrail of the organization: ask its administrators whether the role {role} may be exempted (a condition such as `\"ArnNotLike\": {{\"aws:PrincipalArn\": \"{role}\"}}` on that statement), or whether AoC should use an account outside its scope. Do not remove the statement.",
            st.describe()
        ),
        GuardrailKind::Rcp => format!(
            "{} is a guardrail of the organization: ask its administrators for an exception for AoC's requests on that statement; do not remove it.",
            st.describe()
        ),
    }
}

/// The fix for a level where no SCP allows the requests: the allow-list SCP attached there,
/// with a statement allowing them added, when there is exactly one customer SCP to extend.
fn allow_list_fix(group: &Group<'_>, level: usize, org: &OrgPolicies) -> Vec<FixStep> {
    let mut actions: Vec<String> = Vec::new();
    for (j, _) in &group.members {
        if !actions.contains(&j.request.action) {
            actions.push(j.request.action.clone());
        }
    }
    let Some(l) = org.levels.get(level) else {
        return Vec::new();
    };
    let customer: Vec<&OrgPolicy> = l.scps.iter().filter(|p| !p.aws_managed).collect();
    let advice = format!(
        "At {} ({}) no SCP allows {}: SCPs must allow an action at every level from the root to the account.",
        l.name,
        l.id,
        actions.join(", ")
    );
    let [only] = customer.as_slice() else {
        return vec![FixStep::note(format!(
            "{advice} Add these actions to the allow-list SCP attached there (or attach one that allows them)."
        ))];
    };
    let mut fixed = only.policy.clone();
    let index = fixed.document.statements.len();
    fixed.document.statements.push(crate::policy::Statement {
        index,
        sid: Some("AllowAocDataPath".into()),
        effect: Effect::Allow,
        principal: None,
        action: ActionSpec::Action(actions.clone()),
        resource: Some(crate::policy::ResourceSpec::Resource(vec!["*".into()])),
        conditions: Vec::new(),
        position: None,
    });
    let mut steps = vec![FixStep::note(advice)];
    steps.extend(org_policy_fix(
        only,
        fixed,
        "a statement allowing AoC's actions added",
    ));
    steps
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
                crate::model::facts::FailureKind::AccessDenied,
                "AccessDeniedException",
            ))),
        );
        assert_eq!((status(&f), f[0].reason), (Status::Skip, "not-read"));
        let f = run_check(&DEF, &attachment(), &facts(Fact::Known(None)));
        assert_eq!(
            (status(&f), f[0].reason),
            (Status::Skip, "not-in-organization")
        );
    }

    #[test]
    fn region_deny_without_the_buckets_region_fails_and_adds_it() {
        let mut o = org();
        o.levels[0].scps.push(custom(
            "p-regions1",
            "DenyOtherRegions",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Regions","Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}]}"#,
        ));
        let f = run(o);
        assert_eq!(status(&f), Status::Fail, "{}", text(&f));
        let denied = f.iter().find(|f| f.reason == "denied").unwrap();
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
        let regions =
            &doc.document["Statement"][0]["Condition"]["StringNotEquals"]["aws:RequestedRegion"];
        assert_eq!(regions, &serde_json::json!(["eu-west-1", "us-east-1"]));
        // One finding for the one statement, naming every request it refuses.
        assert_eq!(f.iter().filter(|f| f.reason == "denied").count(), 1);
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
        let denied = f.iter().find(|f| f.reason == "denied").unwrap();
        let all = text(std::slice::from_ref(denied));
        assert!(all.contains("kind=resource control policy"), "{all}");
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
        assert_eq!(
            st["Condition"]["StringNotEquals"]["aws:PrincipalAccount"],
            "860559707280"
        );
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
}
