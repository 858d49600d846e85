//! The fixes `org.policies` proposes: the denying statements of an SCP or RCP patched to
//! except AoC's role or principal (never the guardrail widened for anyone else), an allow-list
//! SCP extended with AoC's actions on AoC's resources, each judged again until no statement
//! refuses AoC, and given whole with the `aws organizations update-policy` command.

use super::*;

/// Negated operators on a principal's ARN: a Deny with one of them denies callers whose ARN
/// is not listed, so listing an ARN exempts it.
pub(super) fn is_negated_principal_match(operator: &str) -> bool {
    let op = operator.to_ascii_lowercase();
    let op = op.strip_suffix("ifexists").unwrap_or(&op);
    matches!(
        op,
        "arnnotlike" | "arnnotequals" | "stringnotequals" | "stringnotlike"
    )
}

/// Negated string operators (for `aws:RequestedRegion`): a Deny with one of them denies
/// requests whose value is not listed.
pub(super) fn is_negated_string(operator: &str) -> bool {
    let op = operator.to_ascii_lowercase();
    let op = op.strip_suffix("ifexists").unwrap_or(&op);
    matches!(op, "stringnotequals" | "stringnotlike")
}

/// The fix for a policy whose statements deny AoC's requests: each denying statement gets the
/// narrowest exception that lifts its refusal (AoC's principal, on an RCP statement that
/// denies AoC's sts:AssumeRole; the role, on a region-deny SCP statement), then the patched
/// policy is judged again, until none of its statements denies (a bounded number of rounds:
/// each round patches statements not patched before). Never the Deny removed, never a
/// wildcard, never a wider list for everyone.
pub(super) fn policy_fix(
    group: &Group<'_>,
    input: &Input<'_>,
    org: &OrgPolicies,
    engine_org: &Organization<'_>,
) -> Vec<FixStep> {
    let GroupKey::Policy {
        kind,
        level,
        policy_id,
    } = &group.key
    else {
        return Vec::new();
    };
    let Some(policy) = policy_of(org, *kind, *level, policy_id) else {
        return Vec::new();
    };
    let mut fixed = policy.policy.clone();
    let mut attempted: Vec<usize> = Vec::new();
    let mut changes: Vec<String> = Vec::new();
    let mut alternatives: Vec<String> = Vec::new();
    for _round in 0..=fixed.document.statements.len() {
        let still = still_denying(group, input, org, engine_org, &fixed);
        let fresh: Vec<(GuardrailStatement, Vec<&Judged>)> = still
            .into_iter()
            .filter(|(st, _)| !attempted.contains(&st.index))
            .collect();
        if fresh.is_empty() {
            break;
        }
        for (st, refused) in fresh {
            attempted.push(st.index);
            let Some(target) = fixed
                .document
                .statements
                .iter_mut()
                .find(|s| s.index == st.index)
            else {
                continue;
            };
            if let Some((what, alternative)) = exempt(target, &st, &refused, input) {
                changes.push(what);
                alternatives.extend(alternative);
            }
        }
    }
    let remaining = still_denying(group, input, org, engine_org, &fixed);
    let advice = remaining
        .iter()
        .map(|(st, _)| FixStep::note(manual_advice(st, input)));
    if changes.is_empty() {
        return advice.collect();
    }
    let mut steps = Vec::new();
    if !remaining.is_empty() {
        let names: Vec<String> = remaining
            .iter()
            .map(|(st, _)| st.statement_text.clone())
            .collect();
        steps.push(FixStep::note(format!(
            "The change below lifts part of the refusal only: {} still denies AoC's requests after it.",
            join_words(&names)
        )));
    }
    steps.extend(org_policy_fix(policy, fixed, &join_words(&changes)));
    steps.extend(advice);
    steps.extend(alternatives.into_iter().map(FixStep::note));
    steps
}

/// The statements of the group's policy that still certainly deny a request of the group once
/// the policy is `fixed`, each with the requests it denies.
pub(super) fn still_denying<'j>(
    group: &Group<'j>,
    input: &Input<'_>,
    org: &OrgPolicies,
    engine_org: &Organization<'_>,
    fixed: &NamedPolicy,
) -> Vec<(GuardrailStatement, Vec<&'j Judged>)> {
    let GroupKey::Policy {
        kind,
        level,
        policy_id,
    } = &group.key
    else {
        return Vec::new();
    };
    let mut after = org.clone();
    replace_policy(&mut after, *kind, *level, policy_id, fixed);
    let (id, _) = organization_id(&after);
    let managed = managed_key(input);
    let mut engine = organization(&after, id.as_deref(), managed.as_deref());
    engine.id = engine.id.or(engine_org.id);
    let mut out: Vec<(GuardrailStatement, Vec<&'j Judged>)> = Vec::new();
    for m in &group.members {
        let ev = evaluate_org(&engine, &m.judged.request);
        for s in ev.statements.into_iter().filter(|s| {
            s.kind == *kind
                && s.level == *level
                && &s.policy_id == policy_id
                && s.effect == Effect::Deny
                && s.certain
        }) {
            match out.iter_mut().find(|(st, _)| st.index == s.index) {
                Some((_, refused)) => refused.push(m.judged),
                None => out.push((s, vec![m.judged])),
            }
        }
    }
    out.sort_by_key(|(st, _)| st.index);
    out
}

/// Narrows one denying statement so that it no longer refuses `refused`: what was changed,
/// and an alternative to mention. `None` when no narrow exception fits (the administrators
/// must decide).
pub(super) fn exempt(
    target: &mut crate::policy::Statement,
    st: &GuardrailStatement,
    refused: &[&Judged],
    input: &Input<'_>,
) -> Option<(String, Option<String>)> {
    match st.kind {
        GuardrailKind::Rcp => {
            // AoC's principal itself only assumes the role; its S3 and KMS requests are made by
            // the role's session, inside the account, so only its sts:AssumeRole is exempted.
            let aoc = refused
                .iter()
                .find(|j| j.aoc && j.request.action.eq_ignore_ascii_case(ASSUME))?;
            let principal = aoc.request.principal.clone();
            add_principal_exception(&mut target.conditions, &principal);
            Some((
                format!(
                    "AoC's principal {principal} exempted (aws:PrincipalArn) from {}; the statement still applies to everyone else",
                    st.statement_text
                ),
                None,
            ))
        }
        GuardrailKind::Scp => {
            let role = input.values.role.as_ref()?.to_string();
            let region = region_of(refused)?;
            let region_deny = target.conditions.iter().any(|c| {
                c.key.eq_ignore_ascii_case("aws:RequestedRegion") && is_negated_string(&c.operator)
            });
            if !region_deny {
                return None;
            }
            add_principal_exception(&mut target.conditions, &role);
            Some((
                format!(
                    "the role {role} exempted (aws:PrincipalArn) from {}, so only AoC's role may work in {region} outside the regions it lists",
                    st.statement_text
                ),
                Some(format!(
                    "Alternative, wider: add {region} to the regions {} of {} allows (aws:RequestedRegion). That opens every service in {region} to every principal of every account under the policy, which is why the exception for the role is proposed instead.",
                    st.statement_text, st.policy_name
                )),
            ))
        }
    }
}

/// Adds `arn` to the statement's negated condition on `aws:PrincipalArn` (merging into the
/// entry already there), else a new `ArnNotLike` one: conditions of a statement must all
/// hold for the Deny to apply, so that principal is left out of it.
pub(super) fn add_principal_exception(conditions: &mut Vec<Condition>, arn: &str) {
    const KEY: &str = "aws:PrincipalArn";
    if let Some(c) = conditions
        .iter_mut()
        .find(|c| c.key.eq_ignore_ascii_case(KEY) && is_negated_principal_match(&c.operator))
    {
        if !c.values.iter().any(|v| v == arn) {
            c.values.push(arn.to_string());
        }
        return;
    }
    conditions.push(Condition {
        operator: "ArnNotLike".into(),
        key: KEY.into(),
        values: vec![arn.into()],
    });
}

/// The region the requests are made in, when they agree on one.
pub(super) fn region_of(refused: &[&Judged]) -> Option<String> {
    let mut regions =
        refused
            .iter()
            .filter_map(|j| match j.request.context.get("aws:RequestedRegion") {
                crate::policy::KeyState::Present([one]) => Some(one.clone()),
                _ => None,
            });
    let first = regions.next()?;
    regions.all(|r| r == first).then_some(first)
}

pub(super) fn replace_policy(
    org: &mut OrgPolicies,
    kind: GuardrailKind,
    level: usize,
    policy_id: &str,
    fixed: &NamedPolicy,
) {
    if let Some(level) = org.levels.get_mut(level) {
        let list = match kind {
            GuardrailKind::Scp => &mut level.scps,
            GuardrailKind::Rcp => &mut level.rcps,
        };
        for p in list.iter_mut().filter(|p| p.id == policy_id) {
            p.policy = fixed.clone();
        }
    }
}
/// The whole policy, changed, and the command that puts it in place.
pub(super) fn org_policy_fix(policy: &OrgPolicy, fixed: NamedPolicy, what: &str) -> Vec<FixStep> {
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
pub(super) fn manual_advice(st: &GuardrailStatement, input: &Input<'_>) -> String {
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
/// with statements allowing them added, when there is exactly one customer SCP to extend.
/// The added statements name AoC's resources only (SCPs accept resource ARNs), and carry the
/// conditions of the policy's own Allow statements that AoC's requests meet.
pub(super) fn allow_list_fix(
    group: &Group<'_>,
    level: usize,
    org: &OrgPolicies,
    engine_org: &Organization<'_>,
) -> Vec<FixStep> {
    let actions = actions_of(group.members.iter().map(|m| m.judged));
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
    // Each resource with the actions AoC needs on it.
    let mut by_resource: Vec<(String, Vec<String>)> = Vec::new();
    for m in &group.members {
        let r = &m.judged.request;
        match by_resource.iter_mut().find(|(res, _)| *res == r.resource) {
            Some((_, list)) if !list.contains(&r.action) => list.push(r.action.clone()),
            Some(_) => {}
            None => by_resource.push((r.resource.clone(), vec![r.action.clone()])),
        }
    }
    let carried = conditions_met(only, group, engine_org);
    let mut fixed = only.policy.clone();
    for (resource, list) in by_resource {
        let index = fixed.document.statements.len();
        let sid = unique_sid(&fixed, sid_for(&resource));
        fixed.document.statements.push(crate::policy::Statement {
            index,
            sid: Some(sid),
            effect: Effect::Allow,
            principal: None,
            action: ActionSpec::Action(list),
            resource: Some(crate::policy::ResourceSpec::Resource(vec![resource])),
            conditions: carried.clone(),
            position: None,
        });
    }
    let mut steps = vec![FixStep::note(advice)];
    steps.extend(org_policy_fix(
        only,
        fixed,
        "statements allowing AoC's actions on AoC's bucket, objects and key only added",
    ));
    steps
}

/// The conditions of the policy's Allow statements that every request of the group meets:
/// they keep the added statements as narrow as the allow-list, without blocking AoC.
pub(super) fn conditions_met(
    policy: &OrgPolicy,
    group: &Group<'_>,
    engine_org: &Organization<'_>,
) -> Vec<Condition> {
    let mut out: Vec<Condition> = Vec::new();
    let vars = crate::policy::eval::variables_enabled(&policy.policy);
    for c in policy
        .policy
        .document
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
        .flat_map(|s| &s.conditions)
    {
        if out.contains(c) {
            continue;
        }
        let alone = crate::policy::Statement {
            index: 0,
            sid: None,
            effect: Effect::Allow,
            principal: None,
            action: ActionSpec::Action(vec!["*".into()]),
            resource: Some(crate::policy::ResourceSpec::Resource(vec!["*".into()])),
            conditions: vec![c.clone()],
            position: None,
        };
        let met = group.members.iter().all(|m| {
            let ctx = crate::policy::org::context_in(engine_org, &m.judged.request);
            crate::policy::eval::statement_outcome(&alone, &m.judged.request, &ctx, vars, false)
                .applies
                == crate::policy::matching::Tri::True
        });
        if met {
            out.push(c.clone());
        }
    }
    out
}

pub(super) fn sid_for(resource: &str) -> &'static str {
    if resource.starts_with("arn:aws:kms:") || resource.contains(":kms:") {
        "AllowAocKey"
    } else if resource.contains('/') {
        "AllowAocObjects"
    } else {
        "AllowAocBucket"
    }
}

/// `base`, or `base2`, `base3`... when the policy has a statement of that Sid already.
pub(super) fn unique_sid(policy: &NamedPolicy, base: &str) -> String {
    let taken = |sid: &str| {
        policy
            .document
            .statements
            .iter()
            .any(|s| s.sid.as_deref() == Some(sid))
    };
    let mut sid = base.to_string();
    let mut n = 2;
    while taken(&sid) {
        sid = format!("{base}{n}");
        n += 1;
    }
    sid
}
