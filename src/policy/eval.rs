//! Combining policies into a decision, with AWS's rules, three-valued.
//!
//! Pure: no I/O. Sources:
//! - "Policy evaluation logic" and "How AWS enforcement code logic evaluates requests"
//!   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html>):
//!   an applicable `Deny` anywhere wins; in one account an `Allow` in the identity policies
//!   or in the resource policy suffices, except for IAM role trust policies and KMS key
//!   policies, which must themselves allow the principal.
//! - "Cross-account policy evaluation logic"
//!   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html>):
//!   across accounts both the identity policies and the resource policy must allow.
//! - "Permissions boundaries for IAM entities"
//!   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html>):
//!   a boundary caps identity-policy grants; it also caps resource-policy grants to a role
//!   ARN, but not grants naming an IAM user ARN or a role session ARN.
//! - KMS "Default key policy" (<https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html>):
//!   a key policy statement for `arn:aws:iam::ACCT:root` lets IAM policies of that account
//!   grant use of the key; without it (or a statement naming the principal) IAM policies
//!   grant nothing.
//!
//! Each statement is True/False/Unknown; the decision is computed twice, for the best case
//! (unknown Allow statements apply, unknown Deny statements do not) and the worst case.

use std::borrow::Cow;
use std::fmt;

use crate::arn::ArnRef;

use super::condition::evaluate_condition;
use super::matching::{
    PrincipalMatch, Tri, action_spec_matches, principal_spec_matches, resource_spec_matches,
};
use super::{
    Context, Decision, Effect, Evaluation, MatchedStatement, NamedPolicy, Request, Statement,
};

/// The policies that apply to one request.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicySet<'a> {
    /// The principal's identity policies (inline and managed).
    pub identity: &'a [NamedPolicy],
    /// The principal's permissions boundary, if any.
    pub boundary: Option<&'a NamedPolicy>,
    /// The resource's policy (bucket policy, key policy, role trust policy), if any.
    pub resource: Option<&'a NamedPolicy>,
}

/// Which role a policy plays in the request; it decides how `Principal` is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    Identity,
    Boundary,
    Resource,
}

impl PolicyKind {
    fn noun(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity policy",
            PolicyKind::Boundary => "permissions boundary",
            PolicyKind::Resource => "resource policy",
        }
    }
}

/// How one statement relates to a request.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementOutcome {
    /// Whether the statement applies (action, resource, principal and every condition).
    pub applies: Tri,
    /// How the principal matched; `Exact` for statements without a principal element
    /// (identity policies, which apply to the principal they are attached to).
    pub principal: PrincipalMatch,
    /// The parts that could not be determined (conditions, a `Resource` whose policy variable
    /// is unknown, a session of unknown name).
    pub unresolved: Vec<super::Unresolved>,
    /// When principal, action and resource match but a condition is false: that condition,
    /// rendered (a "near miss" worth naming in an explanation).
    pub failed_condition: Option<String>,
}

/// True when the document's policy variables are substituted: AWS does so only for
/// `"Version": "2012-10-17"` (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html>).
pub fn variables_enabled(policy: &NamedPolicy) -> bool {
    policy.document.version.as_deref() == Some("2012-10-17")
}

/// Evaluates one statement against a request. `resource_policy`: the statement belongs to
/// a resource policy, so a statement without `Principal`/`NotPrincipal` applies to nobody
/// (AWS requires the element there); in identity policies it applies to the holder.
pub fn statement_outcome(
    statement: &Statement,
    request: &Request,
    ctx: &Context,
    vars: bool,
    resource_policy: bool,
) -> StatementOutcome {
    outcome_inner(statement, request, ctx, vars, resource_policy, false)
}

/// [`statement_outcome`], plus one documented quirk: a resource-policy `Deny` with
/// `NotPrincipal` "will always deny any IAM principal that has a permissions boundary
/// policy attached, regardless of the values specified in the NotPrincipal element"
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html>).
fn outcome_inner(
    statement: &Statement,
    request: &Request,
    ctx: &Context,
    vars: bool,
    resource_policy: bool,
    has_boundary: bool,
) -> StatementOutcome {
    let mut unresolved = Vec::new();
    let mut principal = match &statement.principal {
        Some(super::PrincipalSpec::NotPrincipal(_))
            if has_boundary && resource_policy && statement.effect == Effect::Deny =>
        {
            PrincipalMatch::Any
        }
        Some(spec) => {
            principal_spec_matches(spec, &request.principal, statement.effect == Effect::Deny)
        }
        None if resource_policy => PrincipalMatch::No,
        None => PrincipalMatch::Exact,
    };
    // A caller whose session name is not known (the checks' model of AoC's session): a
    // statement that names one exact session of the same role may or may not be about it.
    let mut session_unknown = false;
    if let Some(spec) = &statement.principal
        && let Some(named) = names_session_of_unknown_caller(spec, &request.principal)
    {
        session_unknown = true;
        unresolved.push(super::Unresolved::Session(named.to_string()));
        principal = match spec {
            // Named in Principal: it may be the caller.
            super::PrincipalSpec::Principal(_) => PrincipalMatch::Exact,
            // Named in NotPrincipal: it may exclude the caller.
            super::PrincipalSpec::NotPrincipal(_) => PrincipalMatch::Any,
        };
    }
    let none = |p| StatementOutcome {
        applies: Tri::False,
        principal: p,
        unresolved: Vec::new(),
        failed_condition: None,
    };
    if !principal.matched() || !action_spec_matches(&statement.action, &request.action) {
        return none(principal);
    }
    let resource = match &statement.resource {
        Some(spec) => resource_spec_matches(spec, &request.resource, ctx, vars),
        None => Tri::True,
    };
    if resource == Tri::False {
        return none(principal);
    }
    if resource == Tri::Unknown
        && let Some(spec) = &statement.resource
    {
        unresolved.push(super::Unresolved::Resource(render_resource(spec)));
    }
    let mut applies = if session_unknown {
        resource.and(Tri::Unknown)
    } else {
        resource
    };
    for cond in &statement.conditions {
        match evaluate_condition(cond, ctx, vars) {
            Tri::False => {
                return StatementOutcome {
                    failed_condition: Some(cond.to_string()),
                    ..none(principal)
                };
            }
            Tri::Unknown => {
                unresolved.push(super::Unresolved::Condition(cond.clone()));
                applies = applies.and(Tri::Unknown);
            }
            Tri::True => {}
        }
    }
    StatementOutcome {
        applies,
        principal,
        unresolved,
        failed_condition: None,
    }
}

/// The session name that stands for one the tool does not know. Not a valid session name
/// (`*` is not allowed in one), so it never equals a session ARN a policy names.
pub const UNKNOWN_SESSION: &str = "*";

/// When `caller` is a session of unknown name (`assumed-role/ROLE/*`) and the principal element
/// names a session of the same role, that session ARN: whether it is the caller is not known.
fn names_session_of_unknown_caller(spec: &super::PrincipalSpec, caller: &str) -> Option<String> {
    let role_part = caller.strip_suffix(UNKNOWN_SESSION)?;
    if !role_part.contains(":assumed-role/") {
        return None;
    }
    let (super::PrincipalSpec::Principal(super::Principals::Map(map))
    | super::PrincipalSpec::NotPrincipal(super::Principals::Map(map))) = spec
    else {
        return None;
    };
    map.get("AWS")?
        .iter()
        .find(|p| p.starts_with(role_part) && p.len() > role_part.len())
        .cloned()
}

fn render_resource(spec: &super::ResourceSpec) -> String {
    let (name, list) = match spec {
        super::ResourceSpec::Resource(l) => ("Resource", l),
        super::ResourceSpec::NotResource(l) => ("NotResource", l),
    };
    let values: Vec<String> = list.iter().map(|v| format!("{v:?}")).collect();
    format!("{name} [{}]", values.join(", "))
}

/// `statement 2 (Sid "DenyOtherKeys")` — how evidence names a statement.
pub fn describe_statement(statement: &Statement) -> String {
    match &statement.sid {
        Some(sid) if !sid.is_empty() => format!("statement {} (Sid {sid:?})", statement.index),
        _ => format!("statement {}", statement.index),
    }
}

/// The context as AWS would see it: keys AWS always sets and that can be read off the
/// principal ARN (`aws:PrincipalArn`, `aws:PrincipalAccount`, and `aws:username` for IAM
/// users) are filled in unless the caller said something about them.
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html>)
pub fn effective_context(request: &Request) -> Cow<'_, Context> {
    let extra = implied_keys(request);
    if extra.is_empty() {
        return Cow::Borrowed(&request.context);
    }
    let mut owned = request.context.clone();
    for (k, v) in extra {
        owned.set(k, vec![v]);
    }
    Cow::Owned(owned)
}

/// Fills in the keys of [`effective_context`] once, in the request itself, so that evaluating
/// it (once or many times) borrows its context instead of copying it each time.
pub fn complete_context(request: &mut Request) {
    for (k, v) in implied_keys(request) {
        request.context.set(k, vec![v]);
    }
}

/// The keys AWS sets that the request's context does not say anything about.
fn implied_keys(request: &Request) -> Vec<(&'static str, String)> {
    let ctx = &request.context;
    // Keys are stored lower-cased; these are written lower-case so no allocation is needed.
    let said = |k: &str| ctx.values.contains_key(k) || ctx.absent.contains(k);
    let Some(arn) = ArnRef::parse(&request.principal) else {
        return Vec::new();
    };
    let mut extra = Vec::new();
    if !arn.account.is_empty() && !said("aws:principalaccount") {
        extra.push(("aws:PrincipalAccount", arn.account.to_string()));
    }
    // For a role session AWS reports the role's ARN, whose path the session ARN does not
    // carry; only users and roles are filled in.
    if arn.service == "iam"
        && matches!(arn.resource_type(), "user" | "role")
        && !said("aws:principalarn")
    {
        extra.push(("aws:PrincipalArn", request.principal.clone()));
    }
    if arn.service == "iam" && arn.resource_type() == "user" && !said("aws:username") {
        extra.push(("aws:username", arn.resource_name().to_string()));
    }
    extra
}

/// One statement that did not certainly fail.
struct Hit<'a> {
    policy: &'a NamedPolicy,
    /// How evidence names the policy: "identity policy", "key policy", ...
    noun: &'static str,
    statement: &'a Statement,
    outcome: StatementOutcome,
}

impl Hit<'_> {
    /// Whether the statement takes effect in the given case.
    fn applies(&self, best: bool) -> bool {
        let possible = self.outcome.applies != Tri::False;
        let certain = self.outcome.applies == Tri::True;
        match (self.statement.effect, best) {
            (Effect::Allow, true) | (Effect::Deny, false) => possible,
            (Effect::Allow, false) | (Effect::Deny, true) => certain,
        }
    }

    fn name(&self) -> String {
        format!(
            "{} {} {}",
            self.noun,
            self.policy.label,
            describe_statement(self.statement)
        )
    }

    fn matched(&self) -> MatchedStatement {
        MatchedStatement {
            policy: self.policy.label.clone(),
            index: self.statement.index,
            sid: self.statement.sid.clone(),
            effect: self.statement.effect,
            unresolved: self.outcome.unresolved.clone(),
        }
    }
}

fn hits<'a>(
    policy: &'a NamedPolicy,
    kind: PolicyKind,
    request: &Request,
    ctx: &Context,
    has_boundary: bool,
) -> Vec<Hit<'a>> {
    let vars = variables_enabled(policy);
    let noun = match kind {
        PolicyKind::Resource => strict_resource(request).unwrap_or("resource policy"),
        _ => kind.noun(),
    };
    policy
        .document
        .statements
        .iter()
        .filter_map(|statement| {
            let outcome = outcome_inner(
                statement,
                request,
                ctx,
                vars,
                kind == PolicyKind::Resource,
                has_boundary,
            );
            (outcome.applies != Tri::False || outcome.failed_condition.is_some()).then_some(Hit {
                policy,
                noun,
                statement,
                outcome,
            })
        })
        .collect()
}

/// The account that owns the resource: as given, else the ARN's account field, else (S3
/// ARNs have none) the principal's account.
pub fn resource_account(request: &Request) -> Option<String> {
    resource_account_in(request).map(str::to_string)
}

/// [`resource_account`] without allocating.
fn resource_account_in(request: &Request) -> Option<&str> {
    if let Some(a) = request.resource_account.as_deref()
        && !a.is_empty()
    {
        return Some(a);
    }
    ArnRef::parse(&request.resource)
        .map(|a| a.account)
        .filter(|a| !a.is_empty())
        .or_else(|| crate::arn::account_in(&request.principal))
}

/// True when the request crosses accounts (both accounts known and different).
pub fn is_cross_account(request: &Request) -> bool {
    match (
        crate::arn::account_in(&request.principal),
        resource_account_in(request),
    ) {
        (Some(p), Some(r)) => p != r,
        _ => false,
    }
}

/// Resources whose own policy must allow the principal even within one account: KMS keys
/// (key policy) and IAM roles being assumed (trust policy). Gives the policy's name.
pub fn strict_resource(request: &Request) -> Option<&'static str> {
    let arn = ArnRef::parse(&request.resource)?;
    if arn.service == "kms" {
        return Some("key policy");
    }
    let sts = request
        .action
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("sts:"));
    if arn.service == "iam" && arn.resource_type() == "role" && sts {
        return Some("trust policy");
    }
    None
}

/// True for a caller whose resource-policy grant is not capped by its permissions boundary
/// when the policy names it exactly: an IAM user or a role session.
fn boundary_exempt(caller: &str) -> bool {
    let Some(arn) = ArnRef::parse(caller) else {
        return false;
    };
    (arn.service == "iam" && arn.resource_type() == "user")
        || (arn.service == "sts" && arn.resource_type() == "assumed-role")
}

/// Evaluates a request against a set of policies.
pub fn evaluate(set: &PolicySet<'_>, request: &Request) -> Evaluation {
    evaluate_cases(set, request).0
}

/// [`evaluate`], with the sentences for the best and the worst case when uncertain.
fn evaluate_cases(
    set: &PolicySet<'_>,
    request: &Request,
) -> (Evaluation, Option<(String, String)>) {
    let ctx = effective_context(request);
    let identity: Vec<Hit> = set
        .identity
        .iter()
        .flat_map(|p| hits(p, PolicyKind::Identity, request, &ctx, false))
        .collect();
    let boundary: Option<Vec<Hit>> = set
        .boundary
        .map(|p| hits(p, PolicyKind::Boundary, request, &ctx, false));
    let resource: Option<Vec<Hit>> = set.resource.map(|p| {
        hits(
            p,
            PolicyKind::Resource,
            request,
            &ctx,
            set.boundary.is_some(),
        )
    });

    let matched: Vec<MatchedStatement> = identity
        .iter()
        .chain(boundary.iter().flatten())
        .chain(resource.iter().flatten())
        .filter(|h| h.outcome.applies != Tri::False)
        .map(Hit::matched)
        .collect();

    let input = Combine {
        set,
        request,
        identity: &identity,
        boundary: boundary.as_deref(),
        resource: resource.as_deref(),
    };
    let all = identity
        .iter()
        .chain(boundary.iter().flatten())
        .chain(resource.iter().flatten());
    both_cases_with_reasons(all, matched, |best| input.decide(best))
}

/// Evaluates a request against a set of policies and the organization's SCPs and RCPs, in
/// one decision: an explicit deny anywhere wins, then an SCP that does not allow at some level
/// refuses, then the policies decide as [`evaluate`] does (SCPs and RCPs grant nothing).
/// Several organizations may be given when the principal's and the resource's accounts are
/// described apart (`simulate`: the SCPs lead to the one, the RCPs to the other).
pub fn evaluate_in_organization(
    set: &PolicySet<'_>,
    orgs: &[&super::org::Organization<'_>],
    request: &Request,
) -> Evaluation {
    let (own, cases) = evaluate_cases(set, request);
    fold_organizations(own, cases, orgs, request)
}

/// Adds the organizations' SCPs and RCPs to an evaluation already made (`simulate`, which
/// adjusts the policies' answer first). Its explanation stands for both cases, which is exact
/// for a certain evaluation.
pub fn add_organizations(
    own: Evaluation,
    orgs: &[&super::org::Organization<'_>],
    request: &Request,
) -> Evaluation {
    fold_organizations(own, None, orgs, request)
}

fn fold_organizations(
    own: Evaluation,
    cases: Option<(String, String)>,
    orgs: &[&super::org::Organization<'_>],
    request: &Request,
) -> Evaluation {
    let (mut best_why, mut worst_why) =
        cases.unwrap_or_else(|| (own.explanation.clone(), own.explanation.clone()));
    let (mut best, mut worst) = (own.best, own.worst);
    let mut matched = own.matched;
    let case = |own_decision: Decision, own_why: &str, org_decision: Decision, org_why: &str| {
        let decision = own_decision.max(org_decision);
        let why = if org_decision > own_decision {
            org_why.to_string()
        } else if own_decision > org_decision || decision == Decision::Allowed {
            own_why.to_string()
        } else {
            format!("{own_why}; also {org_why}")
        };
        (decision, why)
    };
    for org in orgs {
        let guardrails = super::org::evaluate_org(org, request);
        (best, best_why) = case(best, &best_why, guardrails.best, &guardrails.best_why);
        (worst, worst_why) = case(worst, &worst_why, guardrails.worst, &guardrails.worst_why);
        matched.extend(guardrails.to_evaluation().matched);
    }
    Evaluation {
        best,
        worst,
        matched,
        explanation: explain_cases(best, &best_why, worst, &worst_why),
    }
}

/// The evaluation from the decisions in the best and the worst case. The two differ only
/// through statements whose conditions are undecided; without one, the best case is not
/// decided again (half the cost of a typical decision).
fn both_cases<'h, 'p: 'h>(
    hits: impl IntoIterator<Item = &'h Hit<'p>>,
    matched: Vec<MatchedStatement>,
    decide: impl Fn(bool) -> (Decision, String),
) -> Evaluation {
    both_cases_with_reasons(hits, matched, decide).0
}

/// [`both_cases`], with the sentences for the best and the worst case when they differ from
/// the explanation (`None`: the evaluation is certain and its explanation is both).
fn both_cases_with_reasons<'h, 'p: 'h>(
    hits: impl IntoIterator<Item = &'h Hit<'p>>,
    matched: Vec<MatchedStatement>,
    decide: impl Fn(bool) -> (Decision, String),
) -> (Evaluation, Option<(String, String)>) {
    let (worst, worst_why) = decide(false);
    if !hits.into_iter().any(|h| h.outcome.applies == Tri::Unknown) {
        let evaluation = Evaluation {
            best: worst,
            worst,
            matched,
            explanation: worst_why,
        };
        return (evaluation, None);
    }
    let (best, best_why) = decide(true);
    let evaluation = Evaluation {
        best,
        worst,
        matched,
        explanation: explain_cases(best, &best_why, worst, &worst_why),
    };
    (evaluation, Some((best_why, worst_why)))
}

/// One sentence for a decision computed for the best and the worst case.
pub fn explain_cases(best: Decision, best_why: &str, worst: Decision, worst_why: &str) -> String {
    if best == worst {
        worst_why.to_string()
    } else {
        format!(
            "depends on conditions the tool cannot evaluate: {} at best ({best_why}), {} at worst ({worst_why})",
            best.as_str(),
            worst.as_str()
        )
    }
}

struct Combine<'a, 'b> {
    set: &'a PolicySet<'a>,
    request: &'a Request,
    identity: &'a [Hit<'b>],
    boundary: Option<&'a [Hit<'b>]>,
    resource: Option<&'a [Hit<'b>]>,
}

impl Combine<'_, '_> {
    /// The first Allow statement that matched principal, action and resource but failed a
    /// condition: the resource policy's first, then the identity policies', then the
    /// boundary's.
    fn near_miss(&self, resource_only: bool) -> Option<(String, &str)> {
        let resource = self.resource.into_iter().flatten();
        let others = self
            .identity
            .iter()
            .chain(self.boundary.into_iter().flatten())
            .filter(|_| !resource_only);
        resource
            .chain(others)
            .filter(|h| h.statement.effect == Effect::Allow)
            .find_map(|h| h.outcome.failed_condition.as_deref().map(|c| (h.name(), c)))
    }

    /// The decision for one case, with a note on a near miss when nothing allowed it: the
    /// usual cause of a surprising implicit deny is a condition that does not hold.
    fn decide(&self, best: bool) -> (Decision, String) {
        let (decision, why) = self.decide_core(best);
        if decision != Decision::ImplicitDeny {
            return (decision, why);
        }
        match self.near_miss(false) {
            Some((name, cond)) if !why.contains(cond) => (
                decision,
                format!("{why}; {name} would allow it, but its condition {cond} does not hold"),
            ),
            _ => (decision, why),
        }
    }

    fn decide_core(&self, best: bool) -> (Decision, String) {
        let req = self.request;
        let all = self
            .identity
            .iter()
            .chain(self.boundary.into_iter().flatten())
            .chain(self.resource.into_iter().flatten());
        // 1. An applicable Deny anywhere wins.
        if let Some(deny) = all
            .filter(|h| h.statement.effect == Effect::Deny)
            .find(|h| h.applies(best))
        {
            return (
                Decision::ExplicitDeny,
                format!("explicitly denied by {}", deny.name()),
            );
        }
        let allows = |hits: &[Hit<'_>]| -> Vec<usize> {
            hits.iter()
                .enumerate()
                .filter(|(_, h)| h.statement.effect == Effect::Allow && h.applies(best))
                .map(|(i, _)| i)
                .collect()
        };
        let identity_allow = allows(self.identity).first().map(|&i| &self.identity[i]);
        let boundary_allow = self.boundary.map(|b| allows(b).first().map(|&i| &b[i]));
        let boundary_ok = !matches!(boundary_allow, Some(None));
        let boundary_label = self.set.boundary.map(|b| b.label.as_str()).unwrap_or("");
        let (resource_direct, resource_root) = match self.resource {
            Some(r) => {
                let idx = allows(r);
                let direct = idx
                    .iter()
                    .map(|&i| &r[i])
                    .find(|h| h.outcome.principal.is_direct());
                let root = idx
                    .iter()
                    .map(|&i| &r[i])
                    .find(|h| h.outcome.principal == PrincipalMatch::AccountRoot);
                (direct, root)
            }
            None => (None, None),
        };
        // A resource-policy grant naming an IAM user or a role session exactly is not capped
        // by the boundary; one naming the role ARN, or `*`, is.
        let direct_ok = resource_direct.is_some_and(|h| {
            boundary_ok
                || (h.outcome.principal == PrincipalMatch::Exact && boundary_exempt(&req.principal))
        });
        let resource_label = self.set.resource.map(|r| r.label.as_str()).unwrap_or("");
        // Written into the explanation only by the branch that uses them: most decisions need
        // none, and building them for every decision was a measurable share of its cost.
        let action_on = fmt::from_fn(|f| write!(f, "{} on {}", req.action, req.resource));
        let no_identity = fmt::from_fn(|f| write!(f, "no identity policy allows {action_on}"));
        let boundary_blocks = |granted_by: &str| {
            format!(
                "{granted_by} allows it, but the permissions boundary {boundary_label} does not allow {action_on}"
            )
        };
        let root_arn = fmt::from_fn(|f| {
            let account = crate::arn::account_in(&req.principal).unwrap_or("ACCOUNT");
            write!(f, "arn:aws:iam::{account}:root")
        });
        let cross = is_cross_account(req);
        let identity_ok = identity_allow.is_some() && boundary_ok;
        let identity_why = |h: &Hit| {
            if self.boundary.is_some() {
                format!("{} (within the permissions boundary)", h.name())
            } else {
                h.name()
            }
        };

        if let Some(kind) = strict_resource(req) {
            let Some(_) = self.resource else {
                // Without the key or trust policy only the identity side can be judged.
                let note = format!(
                    "no {kind} given: it must also allow {} or delegate to IAM via {root_arn}, which was not checked",
                    req.principal
                );
                return match identity_allow {
                    Some(h) if boundary_ok => (
                        Decision::Allowed,
                        format!("allowed by {}; {note}", identity_why(h)),
                    ),
                    Some(h) => (
                        Decision::ImplicitDeny,
                        format!("{}; {note}", boundary_blocks(&h.name())),
                    ),
                    None => (Decision::ImplicitDeny, format!("{no_identity}; {note}")),
                };
            };
            let service = if kind == "key policy" {
                "KMS"
            } else {
                "IAM role trust"
            };
            let prefix = if cross {
                format!("cross-account {service}: ")
            } else {
                format!("{service}: ")
            };
            if resource_direct.is_none() && resource_root.is_none() {
                if let Some((name, cond)) = self.near_miss(true) {
                    return (
                        Decision::ImplicitDeny,
                        format!(
                            "{prefix}the {kind} {resource_label} does not allow {}: {name} would, but its condition {cond} does not hold",
                            req.principal
                        ),
                    );
                }
                return (
                    Decision::ImplicitDeny,
                    format!(
                        "{prefix}the {kind} {resource_label} neither names {} nor delegates to IAM via {root_arn}",
                        req.principal
                    ),
                );
            }
            if !cross
                && direct_ok
                && let Some(h) = resource_direct
            {
                return (
                    Decision::Allowed,
                    format!("{prefix}allowed by {}, which names the principal", h.name()),
                );
            }
            let grant = resource_direct
                .or(resource_root)
                .map(|h| h.name())
                .unwrap_or_default();
            let how = if resource_direct.is_some() {
                "names the principal"
            } else {
                "delegates to IAM via the account root"
            };
            return match identity_allow {
                Some(h) if boundary_ok => (
                    Decision::Allowed,
                    format!("{prefix}{grant} {how}, and {} allows it", identity_why(h)),
                ),
                Some(h) => (
                    Decision::ImplicitDeny,
                    format!("{prefix}{grant} {how}; {}", boundary_blocks(&h.name())),
                ),
                None if resource_direct.is_some() && !cross => (
                    Decision::ImplicitDeny,
                    format!(
                        "{prefix}{grant} names the principal, but the permissions boundary {boundary_label} does not allow {action_on}"
                    ),
                ),
                None => (
                    Decision::ImplicitDeny,
                    format!("{prefix}{grant} {how}, but {no_identity}"),
                ),
            };
        }

        if cross {
            let resource_account = resource_account(req).unwrap_or_default();
            let Some(_) = self.resource else {
                return (
                    Decision::ImplicitDeny,
                    format!(
                        "cross-account: the resource is in account {resource_account}, and no resource policy was given; across accounts the resource policy must also allow {}",
                        req.principal
                    ),
                );
            };
            let grant = resource_direct.or(resource_root);
            return match (grant, identity_allow) {
                (None, _) => (
                    Decision::ImplicitDeny,
                    format!(
                        "cross-account: the resource policy {resource_label} does not allow {}",
                        req.principal
                    ),
                ),
                (Some(g), None) => (
                    Decision::ImplicitDeny,
                    format!("cross-account: {} allows it, but {no_identity}", g.name()),
                ),
                (Some(g), Some(h)) if boundary_ok => (
                    Decision::Allowed,
                    format!(
                        "cross-account: allowed by {} and by {}",
                        identity_why(h),
                        g.name()
                    ),
                ),
                (Some(_), Some(h)) => (
                    Decision::ImplicitDeny,
                    format!("cross-account: {}", boundary_blocks(&h.name())),
                ),
            };
        }

        // Same account: the identity side or a direct resource-policy grant suffices.
        if let Some(h) = identity_allow
            && identity_ok
        {
            return (Decision::Allowed, format!("allowed by {}", identity_why(h)));
        }
        if direct_ok && let Some(h) = resource_direct {
            return (
                Decision::Allowed,
                format!("allowed by {}, which names the principal", h.name()),
            );
        }
        if let Some(h) = identity_allow {
            return (Decision::ImplicitDeny, boundary_blocks(&h.name()));
        }
        if let Some(h) = resource_direct {
            return (Decision::ImplicitDeny, boundary_blocks(&h.name()));
        }
        if let Some(h) = resource_root {
            return (
                Decision::ImplicitDeny,
                format!(
                    "{} grants only the account root {root_arn} (delegation to IAM), and {no_identity}",
                    h.name()
                ),
            );
        }
        (
            Decision::ImplicitDeny,
            format!("no policy allows {action_on}"),
        )
    }
}

/// Evaluates a request against one policy on its own (no cross-policy combination): allowed
/// if one of its statements allows and none denies. Statements with a principal element
/// must match the caller; an account-root principal counts as matching here.
pub fn evaluate_policy(policy: &NamedPolicy, request: &Request) -> Evaluation {
    let ctx = effective_context(request);
    let vars = variables_enabled(policy);
    let found: Vec<Hit> = policy
        .document
        .statements
        .iter()
        .filter_map(|statement| {
            let outcome = statement_outcome(statement, request, &ctx, vars, false);
            (outcome.applies != Tri::False).then_some(Hit {
                policy,
                noun: "policy",
                statement,
                outcome,
            })
        })
        .collect();
    let decide = |best: bool| -> (Decision, String) {
        let stmt = |h: &Hit| format!("{} {}", policy.label, describe_statement(h.statement));
        if let Some(h) = found
            .iter()
            .find(|h| h.statement.effect == Effect::Deny && h.applies(best))
        {
            return (
                Decision::ExplicitDeny,
                format!("explicitly denied by {}", stmt(h)),
            );
        }
        if let Some(h) = found
            .iter()
            .find(|h| h.statement.effect == Effect::Allow && h.applies(best))
        {
            return (Decision::Allowed, format!("allowed by {}", stmt(h)));
        }
        (
            Decision::ImplicitDeny,
            format!(
                "no statement of {} allows {} to perform {} on {}",
                policy.label, request.principal, request.action, request.resource
            ),
        )
    };
    both_cases(&found, found.iter().map(Hit::matched).collect(), decide)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::parse_policy;

    const ROLE: &str = "arn:aws:iam::111122223333:role/app";
    const OTHER: &str = "arn:aws:iam::444455556666:role/ext";
    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn pol(label: &str, json: &str) -> NamedPolicy {
        NamedPolicy {
            label: label.to_string(),
            document: parse_policy(json).expect("test policy parses"),
        }
    }

    fn req(principal: &str, action: &str, resource: &str) -> Request {
        Request {
            principal: principal.to_string(),
            action: action.to_string(),
            resource: resource.to_string(),
            resource_account: None,
            context: Context::strict(),
        }
    }

    fn allow(action: &str, resource: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}]}}"#
        )
    }

    fn resource_allow(principal: &str, action: &str, resource: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"R","Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"{action}","Resource":"{resource}"}}]}}"#
        )
    }

    fn decide(set: PolicySet<'_>, r: &Request) -> Decision {
        let e = evaluate(&set, r);
        assert!(e.is_certain(), "{e:?}");
        e.decision()
    }

    #[test]
    fn identity_allow_and_deny() {
        let id = [pol("id", &allow("s3:*", "arn:aws:s3:::b/*"))];
        let set = PolicySet {
            identity: &id,
            ..Default::default()
        };
        let e = evaluate(&set, &req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k"));
        assert_eq!(e.decision(), Decision::Allowed);
        assert_eq!(e.matched.len(), 1);
        assert!(
            e.explanation.contains("identity policy id statement 0"),
            "{}",
            e.explanation
        );
        assert_eq!(
            decide(set, &req(ROLE, "s3:GetObject", "arn:aws:s3:::b")),
            Decision::ImplicitDeny
        );

        let deny = pol(
            "deny",
            r#"{"Statement":{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}}"#,
        );
        let ids = [id[0].clone(), deny];
        let set = PolicySet {
            identity: &ids,
            ..Default::default()
        };
        let e = evaluate(&set, &req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k"));
        assert_eq!(e.decision(), Decision::ExplicitDeny);
        assert!(
            e.explanation
                .contains("explicitly denied by identity policy deny"),
            "{}",
            e.explanation
        );
    }

    #[test]
    fn boundary_caps_identity() {
        let id = [pol("id", &allow("s3:*", "*"))];
        let b = pol("b", &allow("s3:GetObject", "*"));
        let set = PolicySet {
            identity: &id,
            boundary: Some(&b),
            resource: None,
        };
        assert_eq!(
            decide(set, &req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k")),
            Decision::Allowed
        );
        let e = evaluate(&set, &req(ROLE, "s3:PutObject", "arn:aws:s3:::b/k"));
        assert_eq!(e.decision(), Decision::ImplicitDeny);
        assert!(
            e.explanation
                .contains("permissions boundary b does not allow"),
            "{}",
            e.explanation
        );
    }

    #[test]
    fn same_account_resource_policy_direct_vs_root() {
        let none: [NamedPolicy; 0] = [];
        let direct = pol(
            "bp",
            &resource_allow(ROLE, "s3:GetObject", "arn:aws:s3:::b/*"),
        );
        let set = PolicySet {
            identity: &none,
            boundary: None,
            resource: Some(&direct),
        };
        assert_eq!(
            decide(set, &req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k")),
            Decision::Allowed
        );
        // A session of the role is covered by the role principal.
        let session = "arn:aws:sts::111122223333:assumed-role/app/s";
        assert_eq!(
            decide(set, &req(session, "s3:GetObject", "arn:aws:s3:::b/k")),
            Decision::Allowed
        );

        let root = pol(
            "bp",
            &resource_allow(
                "arn:aws:iam::111122223333:root",
                "s3:GetObject",
                "arn:aws:s3:::b/*",
            ),
        );
        let set = PolicySet {
            identity: &none,
            boundary: None,
            resource: Some(&root),
        };
        let e = evaluate(&set, &req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k"));
        assert_eq!(e.decision(), Decision::ImplicitDeny);
        assert!(e.explanation.contains("delegation"), "{}", e.explanation);
    }

    #[test]
    fn boundary_and_resource_policy_grants() {
        let none: [NamedPolicy; 0] = [];
        let b = pol("b", &allow("sts:GetCallerIdentity", "*"));
        let user = "arn:aws:iam::111122223333:user/u";
        let for_role = pol("bp", &resource_allow(ROLE, "s3:GetObject", "*"));
        let for_user = pol("bp", &resource_allow(user, "s3:GetObject", "*"));
        fn r<'a>(none: &'a [NamedPolicy], b: &'a NamedPolicy, p: &'a NamedPolicy) -> PolicySet<'a> {
            PolicySet {
                identity: none,
                boundary: Some(b),
                resource: Some(p),
            }
        }
        // Role ARN grants are capped by the boundary; user ARN grants are not.
        let set = r(&none, &b, &for_role);
        assert_eq!(
            decide(set, &req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k")),
            Decision::ImplicitDeny
        );
        let set = r(&none, &b, &for_user);
        assert_eq!(
            decide(set, &req(user, "s3:GetObject", "arn:aws:s3:::b/k")),
            Decision::Allowed
        );
    }

    #[test]
    fn cross_account_needs_both() {
        let id = [pol("id", &allow("s3:GetObject", "*"))];
        let none: [NamedPolicy; 0] = [];
        let bp = pol(
            "bp",
            &resource_allow(OTHER, "s3:GetObject", "arn:aws:s3:::b/*"),
        );
        let mut r = req(OTHER, "s3:GetObject", "arn:aws:s3:::b/k");
        r.resource_account = Some("111122223333".into());
        assert!(is_cross_account(&r));
        assert_eq!(
            decide(
                PolicySet {
                    identity: &id,
                    boundary: None,
                    resource: Some(&bp)
                },
                &r
            ),
            Decision::Allowed
        );
        let e = evaluate(
            &PolicySet {
                identity: &none,
                boundary: None,
                resource: Some(&bp),
            },
            &r,
        );
        assert_eq!(e.decision(), Decision::ImplicitDeny);
        assert!(
            e.explanation.starts_with("cross-account"),
            "{}",
            e.explanation
        );
        let e = evaluate(
            &PolicySet {
                identity: &id,
                boundary: None,
                resource: None,
            },
            &r,
        );
        assert_eq!(e.decision(), Decision::ImplicitDeny);
        assert!(
            e.explanation.contains("no resource policy"),
            "{}",
            e.explanation
        );
        // The trusting account may name the caller's account root.
        let root = pol("bp", &resource_allow("444455556666", "s3:GetObject", "*"));
        assert_eq!(
            decide(
                PolicySet {
                    identity: &id,
                    boundary: None,
                    resource: Some(&root)
                },
                &r
            ),
            Decision::Allowed
        );
    }

    #[test]
    fn kms_key_policy_rules() {
        let id = [pol("id", &allow("kms:Decrypt", KEY))];
        let none: [NamedPolicy; 0] = [];
        let root = pol(
            "kp",
            &resource_allow("arn:aws:iam::111122223333:root", "kms:*", "*"),
        );
        let direct = pol("kp", &resource_allow(ROLE, "kms:Decrypt", "*"));
        let other = pol(
            "kp",
            &resource_allow("arn:aws:iam::111122223333:role/admin", "kms:*", "*"),
        );
        let r = req(ROLE, "kms:Decrypt", KEY);
        assert_eq!(
            decide(
                PolicySet {
                    identity: &id,
                    boundary: None,
                    resource: Some(&root)
                },
                &r
            ),
            Decision::Allowed
        );
        let e = evaluate(
            &PolicySet {
                identity: &none,
                boundary: None,
                resource: Some(&root),
            },
            &r,
        );
        assert_eq!(e.decision(), Decision::ImplicitDeny);
        assert!(
            e.explanation.contains("delegates to IAM"),
            "{}",
            e.explanation
        );
        assert_eq!(
            decide(
                PolicySet {
                    identity: &none,
                    boundary: None,
                    resource: Some(&direct)
                },
                &r
            ),
            Decision::Allowed
        );
        let e = evaluate(
            &PolicySet {
                identity: &id,
                boundary: None,
                resource: Some(&other),
            },
            &r,
        );
        assert_eq!(e.decision(), Decision::ImplicitDeny);
        assert!(
            e.explanation.contains("neither names arn:aws:iam::111122223333:role/app nor delegates to IAM via arn:aws:iam::111122223333:root"),
            "{}",
            e.explanation
        );
        let e = evaluate(
            &PolicySet {
                identity: &id,
                boundary: None,
                resource: None,
            },
            &r,
        );
        assert_eq!(e.decision(), Decision::Allowed);
        assert!(
            e.explanation.contains("no key policy given"),
            "{}",
            e.explanation
        );
    }

    #[test]
    fn unknown_conditions_give_best_and_worst() {
        let id = [pol(
            "id",
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":"s3:*","Resource":"*"},
                {"Sid":"D","Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}}]}"#,
        )];
        let mut r = req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k");
        r.context = Context::partial();
        let e = evaluate(
            &PolicySet {
                identity: &id,
                ..Default::default()
            },
            &r,
        );
        assert_eq!(e.best, Decision::Allowed);
        assert_eq!(e.worst, Decision::ExplicitDeny);
        assert!(!e.is_certain());
        assert_eq!(
            e.unresolved_conditions(),
            vec!["StringNotEquals aws:SourceVpce [\"vpce-1\"]".to_string()]
        );
        assert!(
            e.explanation.starts_with("depends on conditions"),
            "{}",
            e.explanation
        );
        // Known value: certain.
        r.context.add("aws:SourceVpce", "vpce-1");
        let e = evaluate(
            &PolicySet {
                identity: &id,
                ..Default::default()
            },
            &r,
        );
        assert_eq!((e.best, e.worst), (Decision::Allowed, Decision::Allowed));
        assert_eq!(e.matched.len(), 1);
    }

    #[test]
    fn unknown_operator_is_unresolved_in_partial_mode_and_false_in_strict() {
        let id = [pol(
            "id",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringFuzzy":{"k":"v"}}}]}"#,
        )];
        let set = PolicySet {
            identity: &id,
            ..Default::default()
        };
        let mut r = req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k");
        r.context = Context::partial();
        let e = evaluate(&set, &r);
        assert_eq!(
            (e.best, e.worst),
            (Decision::Allowed, Decision::ImplicitDeny)
        );
        assert_eq!(
            e.unresolved_conditions(),
            vec!["StringFuzzy k [\"v\"]".to_string()]
        );
        r.context = Context::strict();
        assert_eq!(decide(set, &r), Decision::ImplicitDeny);
    }

    #[test]
    fn near_miss_names_the_failed_condition() {
        let none: [NamedPolicy; 0] = [];
        let trust = pol(
            "trust",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Aoc","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/ext"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"abc"}}}]}"#,
        );
        let mut r = req(OTHER, "sts:AssumeRole", ROLE);
        r.context.add("sts:ExternalId", "xyz");
        let e = evaluate(
            &PolicySet {
                identity: &none,
                boundary: None,
                resource: Some(&trust),
            },
            &r,
        );
        assert_eq!(e.decision(), Decision::ImplicitDeny);
        assert!(e.matched.is_empty());
        assert!(
            e.explanation.contains("trust policy trust statement 0 (Sid \"Aoc\") would, but its condition StringEquals sts:ExternalId [\"abc\"] does not hold"),
            "{}",
            e.explanation
        );
    }

    #[test]
    fn effective_context_fills_principal_keys() {
        let id = [pol(
            "id",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/home/${aws:username}/*"}]}"#,
        )];
        let set = PolicySet {
            identity: &id,
            ..Default::default()
        };
        let alice = "arn:aws:iam::111122223333:user/alice";
        assert_eq!(
            decide(
                set,
                &req(alice, "s3:GetObject", "arn:aws:s3:::b/home/alice/x")
            ),
            Decision::Allowed
        );
        assert_eq!(
            decide(
                set,
                &req(alice, "s3:GetObject", "arn:aws:s3:::b/home/bob/x")
            ),
            Decision::ImplicitDeny
        );
        // A role has no aws:username.
        assert_eq!(
            decide(set, &req(ROLE, "s3:GetObject", "arn:aws:s3:::b/home/app/x")),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn trust_policy_alone() {
        let trust = pol(
            "trust",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"abc"}}}]}"#,
        );
        let mut r = req(
            OTHER,
            "sts:AssumeRole",
            "arn:aws:iam::111122223333:role/app",
        );
        assert_eq!(
            evaluate_policy(&trust, &r).decision(),
            Decision::ImplicitDeny
        );
        r.context.add("sts:ExternalId", "abc");
        let e = evaluate_policy(&trust, &r);
        assert_eq!(e.decision(), Decision::Allowed);
        assert!(
            e.explanation.contains("allowed by trust statement 0"),
            "{}",
            e.explanation
        );
        let mut r2 = req(ROLE, "sts:AssumeRole", "arn:aws:iam::111122223333:role/x");
        r2.context.add("sts:ExternalId", "abc");
        assert_eq!(
            evaluate_policy(&trust, &r2).decision(),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn describe() {
        let p = pol(
            "p",
            r#"{"Statement":[{"Sid":"S1","Effect":"Allow","Action":"x:y"},{"Effect":"Deny","Action":"x:y"}]}"#,
        );
        assert_eq!(
            describe_statement(&p.document.statements[0]),
            "statement 0 (Sid \"S1\")"
        );
        assert_eq!(describe_statement(&p.document.statements[1]), "statement 1");
    }
}
