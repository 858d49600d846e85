//! Helpers the policy checks share: naming a statement in evidence, finding the statements
//! that mention an action, spotting misspelled action names, saying how an undecided answer
//! depends on conditions (a Deny as a Deny), and building fixes that go to the layer that
//! decides and replace documents whole (the policy that holds a broken statement, a new inline
//! policy under an unused name, a copy scoped to AoC's condition values). Pure.

use std::collections::BTreeMap;

use serde_json::json;

use super::FixStep;

use crate::policy::matching::action_spec_matches;
use crate::policy::{
    ActionSpec, Effect, MatchedStatement, NamedPolicy, ResourceSpec, Statement, Unresolved,
};

/// "statement 2 (Sid `DenyOtherKeys`) of key policy": how evidence names a statement.
/// The role's identity policies and permissions boundary, both needed by the role checks, or
/// the finding that says why one is not known.
pub fn role_policies(
    facts: &crate::model::facts::Facts,
) -> Result<(&[NamedPolicy], Option<&NamedPolicy>), Vec<super::Finding>> {
    use crate::model::facts::Fact;
    let identity: &[NamedPolicy] = match &facts.identity_policies {
        Fact::Known(p) => p,
        other => {
            return Err(super::Finding::from_missing_fact(other)
                .into_iter()
                .collect());
        }
    };
    let boundary: Option<&NamedPolicy> = match &facts.permissions_boundary {
        Fact::Known(b) => b.as_ref(),
        other => {
            return Err(super::Finding::from_missing_fact(other)
                .into_iter()
                .collect());
        }
    };
    Ok((identity, boundary))
}

pub fn describe(policy: &str, index: usize, sid: Option<&str>) -> String {
    match sid {
        Some(sid) if !sid.is_empty() => format!("statement {index} (Sid `{sid}`) of {policy}"),
        _ => format!("statement {index} of {policy}"),
    }
}

pub fn describe_matched(m: &MatchedStatement) -> String {
    let mut s = describe(&m.policy, m.index, m.sid.as_deref());
    if !m.unresolved.is_empty() {
        s.push_str(&format!(" (if {})", Unresolved::join(&m.unresolved)));
    }
    s
}

/// How an undecided answer depends on conditions, one entry per statement, each named with its
/// policy: an Allow "allowed by S only if C", a Deny "denied by S when C". A Deny is never
/// folded into an Allow's "only if": the admin must see which statement takes access away.
pub fn conditional_parts(ev: &crate::policy::Evaluation) -> Vec<String> {
    ev.matched
        .iter()
        .filter(|m| !m.unresolved.is_empty())
        .map(|m| {
            let here = describe(&m.policy, m.index, m.sid.as_deref());
            let conditions = m
                .unresolved
                .iter()
                .map(|part| {
                    // Name a misspelled operator.
                    let meant = part.condition().and_then(|c| {
                        crate::policy::keys::operator_meant(&c.operator)
                            .map(|meant| (c.operator.as_str(), meant))
                    });
                    match meant {
                        Some((operator, meant)) => format!(
                            "{part} (`{operator}` is not a condition operator, did you mean `{meant}`? IAM rejects the policy)"
                        ),
                        None => part.to_string(),
                    }
                })
                .collect::<Vec<_>>()
                .join(" and ");
            match m.effect {
                Effect::Allow => format!("allowed by {here} only if {conditions}"),
                Effect::Deny => format!("denied by {here} when {conditions}"),
            }
        })
        .collect()
}

/// True when the answer is open only because of conditions on the encryption context S3
/// sends (`kms:EncryptionContext:aws:s3:arn`: the object ARN, or the bucket ARN with S3 Bucket
/// Keys). `bucket.encryption` judges those against the bucket's Bucket Key setting, so the
/// KMS checks do not report the same cause a second time.
pub fn open_only_on_encryption_context(ev: &crate::policy::Evaluation) -> bool {
    let mut any = false;
    for m in &ev.matched {
        for c in &m.unresolved {
            if !c.is_condition_on("kms:EncryptionContext:aws:s3:arn") {
                return false;
            }
            any = true;
        }
    }
    any
}

/// A policy of one statement of `policy`, under its label: to ask what that statement alone
/// decides.
pub fn single_statement(policy: &NamedPolicy, st: Statement) -> NamedPolicy {
    NamedPolicy {
        label: policy.label.clone(),
        document: crate::policy::PolicyDocument {
            version: policy.document.version.clone(),
            id: None,
            statements: vec![st],
        },
    }
}

/// True when `st`, an Allow with conditions, grants `request` once its conditions are set
/// aside: its principal, action and resource cover the request.
fn grants_but_for_conditions(
    policy: &NamedPolicy,
    st: &Statement,
    request: &crate::policy::Request,
) -> bool {
    if st.effect != Effect::Allow || st.conditions.is_empty() {
        return false;
    }
    let mut bare = st.clone();
    bare.conditions.clear();
    crate::policy::evaluate_policy(&single_statement(policy, bare), request).worst
        == crate::policy::Decision::Allowed
}

/// Allow statements that would grant `request` but for a condition AoC's request does not
/// meet, one line each: the statement, the conditions that fail, and what the request carries
/// for their keys. Where a grant "is missing", this is often why: the grant is there, scoped
/// to another region, VPC or network than AoC's.
pub fn unmet_conditions<'a>(
    policies: impl IntoIterator<Item = &'a NamedPolicy>,
    request: &crate::policy::Request,
) -> Vec<String> {
    use crate::policy::KeyState;
    use crate::policy::condition::evaluate_condition;
    use crate::policy::matching::Tri;
    let mut out = Vec::new();
    for p in policies {
        let vars = p.document.version.as_deref() == Some("2012-10-17");
        for st in &p.document.statements {
            if !grants_but_for_conditions(p, st, request) {
                continue;
            }
            let failing: Vec<String> = st
                .conditions
                .iter()
                .filter(|c| evaluate_condition(c, &request.context, vars) == Tri::False)
                .map(|c| {
                    let carries = match request.context.get(&c.key) {
                        KeyState::Present(values) => {
                            format!("carry {} = {}", c.key, values.join(", "))
                        }
                        KeyState::Absent => format!("do not carry {}", c.key),
                        _ => format!("carry an unknown {}", c.key),
                    };
                    format!("{c} (AoC's requests {carries}{})", typo_note(c))
                })
                .collect();
            if !failing.is_empty() {
                out.push(format!(
                    "{} allows {} on {} only when {}",
                    describe(&p.label, st.index, st.sid.as_deref()),
                    request.action,
                    request.resource,
                    failing.join(" and ")
                ));
            }
        }
    }
    out
}

/// `policy` with, for each of its grants that a condition keeps from AoC's `requests` (a
/// `kms:ViaService` of another region, a `kms:CallerAccount` of another account), a copy scoped
/// the same way but to AoC's value and to the actions AoC needs: the admin's own scoping kept,
/// nothing the original statement grants widened (it may list actions AoC does not need), and
/// no unconditioned grant beside it. Only positive string and ARN matches on a key the request
/// carries are rewritten; `None` when that does not make every request allowed.
pub fn with_conditions_met(
    policy: &NamedPolicy,
    requests: &[crate::policy::Request],
) -> Option<NamedPolicy> {
    use crate::policy::condition::{BaseOp, evaluate_condition, parse_operator};
    use crate::policy::matching::Tri;
    use crate::policy::{ActionSpec, KeyState};
    let vars = policy.document.version.as_deref() == Some("2012-10-17");
    // Allowed when the conditions the tool cannot know hold: those are the admin's own limits
    // (an encryption context, a source), kept in the copy as they were.
    let allows = |p: &NamedPolicy, r: &crate::policy::Request| {
        crate::policy::evaluate_policy(p, r).best == crate::policy::Decision::Allowed
    };
    let mut fixed = policy.clone();
    for request in requests {
        if allows(&fixed, request) {
            continue;
        }
        let scoped = policy.document.statements.iter().find_map(|st| {
            // The statement itself must cover AoC's action and resource: the copy only narrows.
            if !grants_but_for_conditions(policy, st, request) {
                return None;
            }
            let mut copy = st.clone();
            copy.action = ActionSpec::Action(vec![request.action.clone()]);
            // On AoC's resource only: the original may name every key of the account.
            copy.resource = Some(crate::policy::ResourceSpec::Resource(vec![
                request.resource.clone(),
            ]));
            copy.conditions.clear();
            for c in &st.conditions {
                let mut c = c.clone();
                if evaluate_condition(&c, &request.context, vars) == Tri::False {
                    let op = parse_operator(&c.operator)?;
                    let positive = !op.negated
                        && op.set.is_none()
                        && matches!(
                            op.base,
                            BaseOp::StringEquals
                                | BaseOp::StringEqualsIgnoreCase
                                | BaseOp::StringLike
                                | BaseOp::Arn
                        );
                    let KeyState::Present([value]) = request.context.get(&c.key) else {
                        return None;
                    };
                    if !positive {
                        return None;
                    }
                    c.values = vec![value.clone()];
                }
                copy.conditions.push(c);
            }
            Some(copy)
        })?;
        // One statement per scoping: the actions of later requests join it.
        match fixed.document.statements.iter_mut().find(|st| {
            st.sid
                .as_deref()
                .is_some_and(|s| s.starts_with("AocScoped"))
                && st.resource == scoped.resource
                && st.conditions == scoped.conditions
        }) {
            Some(existing) => {
                if let ActionSpec::Action(list) = &mut existing.action {
                    list.push(request.action.clone());
                }
            }
            None => {
                let mut add = scoped;
                add.sid = Some(unused_sid("AocScoped", Some(&fixed), &[]));
                add.index = fixed.document.statements.len();
                fixed.document.statements.push(add);
            }
        }
    }
    let added = fixed.document.statements.len() > policy.document.statements.len();
    (added && requests.iter().all(|r| allows(&fixed, r))).then_some(fixed)
}

/// What is wrong with a condition's key or operator, if it is misspelled: AWS evaluates a key
/// it does not define as absent, and rejects a policy with an operator it does not know.
pub fn typo_note(c: &crate::policy::Condition) -> String {
    use crate::policy::keys::{key_meant, operator_meant};
    let mut notes = Vec::new();
    if let Some(meant) = operator_meant(&c.operator) {
        notes.push(format!(
            "`{}` is not a condition operator (did you mean `{meant}`?): IAM rejects the policy",
            c.operator
        ));
    }
    if let Some(meant) = key_meant(&c.key) {
        notes.push(format!(
            "`{}` is not a condition key (did you mean `{meant}`?): AWS treats it as absent",
            c.key
        ));
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!("; {}", notes.join("; "))
    }
}

/// [`conditional_parts`] as one clause for a summary.
pub fn conditional_clause(ev: &crate::policy::Evaluation) -> String {
    conditional_parts(ev).join("; ")
}

/// "statement 0 (Sid `S3`) of policy.json; ...": the Allow statements that decided, or "no
/// statement".
pub fn allowing(matched: &[MatchedStatement]) -> String {
    let allows: Vec<String> = matched
        .iter()
        .filter(|m| m.effect == Effect::Allow)
        .map(describe_matched)
        .collect();
    if allows.is_empty() {
        "no statement".to_string()
    } else {
        allows.join("; ")
    }
}

/// `boundary-omits`, when the role's policies allow `request` but its permissions boundary
/// does not: the boundary is the layer to change, not the policies, which already grant it.
pub fn boundary_omits(
    identity: &[NamedPolicy],
    boundary: Option<&NamedPolicy>,
    request: &crate::policy::Request,
) -> Option<super::Finding> {
    let b = boundary?;
    let without = crate::policy::evaluate(
        &crate::policy::PolicySet {
            identity,
            boundary: None,
            resource: None,
        },
        request,
    );
    (without.worst == crate::policy::Decision::Allowed).then(|| {
        let (action, resource) = (&request.action, &request.resource);
        super::Finding::fail("boundary-omits")
            .var("action", action)
            .var("resource", resource)
            .var("boundary", &b.label)
            .evidence(format!(
                "{action} on {resource} is allowed by {} but not by the permissions boundary {}",
                allowing(&without.matched),
                b.label
            ))
    })
}

/// The `Resource` (or `NotResource`) of a statement, as written, for evidence.
pub fn resources_text(st: &Statement) -> String {
    match &st.resource {
        Some(ResourceSpec::Resource(r)) => r.join(", "),
        Some(ResourceSpec::NotResource(r)) => format!("everything except {}", r.join(", ")),
        None => "(no Resource)".to_string(),
    }
}

/// Allow statements whose action list covers `action`, whatever their resources: where a
/// grant exists but on the wrong resource, this is how to show it.
pub fn allows_of_action<'a>(
    policies: impl IntoIterator<Item = &'a NamedPolicy>,
    action: &str,
) -> Vec<(&'a NamedPolicy, &'a Statement)> {
    let mut out = Vec::new();
    for p in policies {
        for st in &p.document.statements {
            if st.effect == Effect::Allow && statement_covers_action(st, action) {
                out.push((p, st));
            }
        }
    }
    out
}

/// True when the statement's `Action`/`NotAction` covers `action`.
pub fn statement_covers_action(st: &Statement, action: &str) -> bool {
    action_spec_matches(&st.action, action)
}

/// Actions that are not real but one or two letters away from one AoC needs, such as
/// `s3:ListBucketMultipartUpload` (the Aspera KB's spelling) for
/// `s3:ListBucketMultipartUploads`. IAM accepts such names silently and they grant nothing.
pub fn misspellings<'a>(
    policies: impl IntoIterator<Item = &'a NamedPolicy>,
    wanted: &[&str],
) -> Vec<Misspelling> {
    let mut out = Vec::new();
    for p in policies {
        for st in &p.document.statements {
            let (ActionSpec::Action(list) | ActionSpec::NotAction(list)) = &st.action;
            for written in list {
                if written.contains(['*', '?']) {
                    continue;
                }
                if wanted.iter().any(|w| w.eq_ignore_ascii_case(written)) {
                    continue;
                }
                let lower = written.to_ascii_lowercase();
                if let Some(meant) = wanted.iter().find(|w| {
                    let d = strsim::levenshtein(&lower, &w.to_ascii_lowercase());
                    (1..=2).contains(&d)
                }) {
                    out.push(Misspelling {
                        policy: p.label.clone(),
                        index: st.index,
                        statement: describe(&p.label, st.index, st.sid.as_deref()),
                        written: written.clone(),
                        meant: (*meant).to_string(),
                    });
                }
            }
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
pub struct Misspelling {
    /// The label of the policy holding it, and the statement's index there.
    pub policy: String,
    pub index: usize,
    pub statement: String,
    pub written: String,
    pub meant: String,
}

/// An Allow statement, to paste into a policy or to apply: the statement builder `generate`
/// uses, as JSON.
pub fn statement(
    sid: &str,
    principal: Option<&str>,
    actions: &[String],
    resource: &str,
) -> serde_json::Value {
    crate::policy::build::statement_json(&crate::policy::build::allow_statement(
        Some(sid),
        principal,
        actions,
        Some(resource),
    ))
}

/// A whole policy document of the given statements.
pub fn policy_document(statements: Vec<serde_json::Value>) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": statements,
    })
}

/// A policy with statements appended (for policies that must be replaced whole, such as key
/// and bucket policies).
pub fn merged(policy: &NamedPolicy, statements: Vec<serde_json::Value>) -> serde_json::Value {
    let mut doc = crate::policy::to_json(&policy.document);
    if let Some(list) = doc.get_mut("Statement").and_then(|s| s.as_array_mut()) {
        list.extend(statements);
    }
    doc
}

/// A Sid not used by any statement of `existing` (nor by `taken`): `base1`, `base2`, ...
pub fn unused_sid(base: &str, existing: Option<&NamedPolicy>, taken: &[String]) -> String {
    (1..)
        .map(|i| format!("{base}{i}"))
        .find(|sid| {
            !taken.contains(sid)
                && !existing.is_some_and(|p| {
                    p.document
                        .statements
                        .iter()
                        .any(|st| st.sid.as_deref() == Some(sid.as_str()))
                })
        })
        .unwrap_or_else(|| base.to_string())
}

/// One Allow statement per resource, for the actions listed under it, each under a Sid
/// (`base1`, `base2`, ...) that `existing` does not use yet.
pub fn statements_by_resource<R: AsRef<str>>(
    base: &str,
    existing: Option<&NamedPolicy>,
    grants: &BTreeMap<R, Vec<String>>,
) -> Vec<serde_json::Value> {
    let mut sids: Vec<String> = Vec::new();
    grants
        .iter()
        .map(|(resource, actions)| {
            let sid = unused_sid(base, existing, &sids);
            sids.push(sid.clone());
            statement(&sid, None, actions, resource.as_ref())
        })
        .collect()
}

/// Pretty JSON for remediation text.
pub fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Where a policy the tool read lives, from the label the gatherer gave it: what a fix can
/// change and with which command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyHome<'a> {
    /// An inline policy of the role, by name (`put-role-policy` replaces it whole).
    Inline(&'a str),
    /// A customer-managed policy, by ARN (changed by a new default version).
    CustomerManaged(&'a str),
    /// An AWS managed policy, by ARN: nobody but AWS can change it.
    AwsManaged(&'a str),
    /// A file given offline: how it reaches AWS is not known.
    File(&'a str),
}

impl<'a> PolicyHome<'a> {
    /// Reads a label: `inline policy NAME`, `managed policy ARN`, `permissions boundary ARN`
    /// (live), anything else is a file given offline.
    pub fn of(label: &'a str) -> Self {
        if let Some(name) = label.strip_prefix("inline policy ") {
            return PolicyHome::Inline(name);
        }
        let arn = label
            .strip_prefix("managed policy ")
            .or_else(|| label.strip_prefix("permissions boundary "));
        match arn {
            // `arn:aws:iam::aws:policy/...`: the account field of AWS managed policies.
            Some(arn) if arn.split(':').nth(4) == Some("aws") => PolicyHome::AwsManaged(arn),
            Some(arn) => PolicyHome::CustomerManaged(arn),
            None => PolicyHome::File(label),
        }
    }
}

/// The name of a new inline policy: `base`, or `base-2`, `base-3`, ... when the role already
/// has an inline policy (or, offline, a file) of that name, so `put-role-policy` never
/// replaces a policy that works.
pub fn unused_policy_name(base: &str, policies: &[NamedPolicy]) -> String {
    let used = |name: &str| {
        policies.iter().any(|p| match PolicyHome::of(&p.label) {
            PolicyHome::Inline(n) => n == name,
            PolicyHome::File(path) => std::path::Path::new(path)
                .file_stem()
                .is_some_and(|stem| stem == name),
            _ => false,
        })
    };
    (1..)
        .map(|i| {
            if i == 1 {
                base.to_string()
            } else {
                format!("{base}-{i}")
            }
        })
        .find(|name| !used(name))
        .unwrap_or_else(|| base.to_string())
}

/// A managed policy keeps at most five versions; `create-policy-version` fails on a sixth.
fn version_limit_note(arn: &str) -> String {
    format!(
        "A managed policy keeps at most five versions: if this one has five, delete the oldest non-default version first (aws iam list-policy-versions --policy-arn {arn}; aws iam delete-policy-version --policy-arn {arn} --version-id vN)."
    )
}

/// A fix that puts `document` on the role's policy `into`, whole: an inline policy by
/// `put-role-policy`, a customer-managed policy (or boundary) by a new default version, a file
/// by replacing its content. `None` for an AWS managed policy, which cannot be changed.
pub fn replace_policy_fix(
    role_name: &str,
    into: &NamedPolicy,
    document: serde_json::Value,
) -> Option<Vec<FixStep>> {
    let original = crate::policy::to_json(&into.document);
    match PolicyHome::of(&into.label) {
        PolicyHome::Inline(name) => {
            let file = format!("{name}.json");
            Some(vec![
                FixStep::document(
                    format!(
                        "The whole inline policy {name}, corrected; put-role-policy replaces it whole, so every statement it had is kept"
                    ),
                    &file,
                    super::FixDocument::inline(name, document).replacing(original),
                ),
                FixStep::command(
                    "Put it on the role",
                    format!(
                        "aws iam put-role-policy --role-name {role_name} --policy-name {name} --policy-document file://{file}"
                    ),
                ),
            ])
        }
        PolicyHome::CustomerManaged(arn) => {
            let file = format!("{}.json", arn.rsplit('/').next().unwrap_or("policy"));
            Some(vec![
                FixStep::document(
                    format!(
                        "The whole managed policy {arn}, corrected, as its new default version; every statement it had is kept"
                    ),
                    &file,
                    super::FixDocument::managed_version(arn, document).replacing(original),
                ),
                FixStep::command(
                    "Make it the policy's default version",
                    format!(
                        "aws iam create-policy-version --policy-arn {arn} --policy-document file://{file} --set-as-default"
                    ),
                ),
                FixStep::note(version_limit_note(arn)),
            ])
        }
        PolicyHome::File(path) => Some(vec![FixStep::document(
            "The whole file, corrected; every statement it had is kept",
            path,
            super::FixDocument::file(path, document).replacing(original),
        )]),
        PolicyHome::AwsManaged(_) => None,
    }
}

/// A fix that adds `document` to the role as a new inline policy, under a name the role does
/// not use yet.
pub fn new_inline_policy_fix(
    role_name: &str,
    identity: &[NamedPolicy],
    base_name: &str,
    intro: &str,
    document: serde_json::Value,
) -> Vec<FixStep> {
    let name = unused_policy_name(base_name, identity);
    let file = format!("{name}.json");
    vec![
        FixStep::document(intro, &file, super::FixDocument::inline(&name, document)),
        FixStep::command(
            "Add it to the role as a new inline policy",
            format!(
                "aws iam put-role-policy --role-name {role_name} --policy-name {name} --policy-document file://{file}"
            ),
        ),
    ]
}

/// The document with the misspelled action names of `typos` that sit in it replaced by the
/// names meant, so the statement the admin wrote works as intended.
pub fn with_actions_corrected(policy: &NamedPolicy, typos: &[Misspelling]) -> NamedPolicy {
    let mut fixed = policy.clone();
    for st in &mut fixed.document.statements {
        let (ActionSpec::Action(list) | ActionSpec::NotAction(list)) = &mut st.action;
        for t in typos
            .iter()
            .filter(|t| t.policy == policy.label && t.index == st.index)
        {
            for a in list.iter_mut().filter(|a| **a == t.written) {
                *a = t.meant.clone();
            }
        }
    }
    fixed
}
