//! AWS Organizations guardrails on a request: service control policies (SCPs), which cap what
//! principals of member accounts may do, and resource control policies (RCPs), which cap what
//! anyone may do to resources of member accounts. Neither grants anything; they only take away.
//!
//! Pure: no I/O. The organization is given as plain levels (root, each OU down, the account)
//! with the policies attached to each. Sources:
//! - "SCP evaluation" (<https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html>):
//!   an action is allowed only if an SCP allows it at every level from the root to the
//!   account; a `Deny` at any level wins.
//! - "Service control policies" (<https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html>):
//!   SCPs do not affect principals of the management account, service-linked roles, or
//!   principals outside the organization.
//! - "Resource control policies" and "RCP evaluation"
//!   (<https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html>,
//!   <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html>):
//!   RCPs are deny-only on top of `RCPFullAWSAccess`, apply to resources of member accounts
//!   whoever the caller is (principals outside the organization too), not to resources of the
//!   management account, and do not restrict service-linked roles.
//! - KMS "Resource control policies" (<https://docs.aws.amazon.com/kms/latest/developerguide/resource-control-policies.html>):
//!   RCPs do not apply to AWS managed keys, and `kms:RetireGrant` is not affected.

use std::fmt;

use crate::arn::ArnRef;

use super::eval::{describe_statement, effective_context, resource_account, statement_outcome};
use super::matching::Tri;
use super::{Context, Decision, Effect, Evaluation, MatchedStatement, NamedPolicy, Request};

/// Which kind of organization policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardrailKind {
    Scp,
    Rcp,
}

impl GuardrailKind {
    /// The words AWS's AccessDenied messages use.
    pub fn noun(self) -> &'static str {
        match self {
            GuardrailKind::Scp => "service control policy",
            GuardrailKind::Rcp => "resource control policy",
        }
    }
}

/// Where in the organization a level is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelKind {
    Root,
    OrganizationalUnit,
    Account,
}

/// An SCP or RCP as attached: its Organizations ID (`p-...`), its name and its document.
#[derive(Debug, Clone, Copy)]
pub struct OrgPolicyRef<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub policy: &'a NamedPolicy,
}

/// One level of the path from the root to the account, with the policies attached to it.
#[derive(Debug, Clone)]
pub struct Level<'a> {
    pub kind: LevelKind,
    /// `r-...`, `ou-...` or the account ID.
    pub id: &'a str,
    /// Its name; the ID when the name is not known.
    pub name: &'a str,
    pub scps: Vec<OrgPolicyRef<'a>>,
    pub rcps: Vec<OrgPolicyRef<'a>>,
}

/// The organization as it bears on one member account.
#[derive(Debug, Clone, Default)]
pub struct Organization<'a> {
    /// `o-...`, when known: filled in as `aws:PrincipalOrgID` / `aws:ResourceOrgID` for
    /// principals and resources of the account, unless the request says otherwise.
    pub id: Option<&'a str>,
    /// The account the levels lead to.
    pub account: &'a str,
    /// The management account: its principals and resources are exempt. `None`: not known,
    /// the account is taken to be a member.
    pub management_account: Option<&'a str>,
    /// Whether each policy type is enabled on the root; a type not enabled applies to nobody.
    pub scps_enabled: bool,
    pub rcps_enabled: bool,
    /// The root first, then each OU down, then the account itself.
    pub levels: Vec<Level<'a>>,
    /// Resources AWS manages (AWS managed KMS keys), which RCPs do not restrict.
    pub aws_managed_resources: Vec<&'a str>,
}

impl Organization<'_> {
    /// How evidence names a level: `root Root (r-ab12)`, `OU Sales/Prod (ou-ab12-cd34ef56)`,
    /// `account Prod (111122223333)`. An OU is named by its path from the root.
    pub fn describe_level(&self, index: usize) -> String {
        let Some(level) = self.levels.get(index) else {
            return String::new();
        };
        // Levels given offline have no ID of their own: the name says it all.
        let id = if level.id == level.name {
            String::new()
        } else {
            format!(" ({})", level.id)
        };
        match level.kind {
            LevelKind::Root => format!("root {}{id}", level.name),
            LevelKind::Account => format!("account {}{id}", level.name),
            LevelKind::OrganizationalUnit => {
                let path: Vec<&str> = self.levels[..=index]
                    .iter()
                    .filter(|l| l.kind == LevelKind::OrganizationalUnit)
                    .map(|l| l.name)
                    .collect();
                format!("OU {}{id}", path.join("/"))
            }
        }
    }
}

/// A statement of an SCP or RCP that applies (certainly or possibly) to the request.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardrailStatement {
    pub kind: GuardrailKind,
    /// Index into [`Organization::levels`].
    pub level: usize,
    /// As [`Organization::describe_level`] gives it.
    pub level_text: String,
    pub policy_id: String,
    pub policy_name: String,
    /// The policy's label (what [`MatchedStatement::policy`] holds).
    pub label: String,
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    /// Whether it applies for certain, or only if conditions it names go one way.
    pub certain: bool,
    /// Conditions whose value the tool could not determine.
    pub unresolved: Vec<super::Unresolved>,
    /// `statement 1 (Sid "DenyOtherRegions")`.
    pub statement_text: String,
}

impl GuardrailStatement {
    /// `service control policy DenyRegions (p-abcd1234) attached to OU Sales (ou-...),
    /// statement 0 (Sid "D")`.
    pub fn describe(&self) -> String {
        format!(
            "{} {} ({}) attached to {}, {}",
            self.kind.noun(),
            self.policy_name,
            self.policy_id,
            self.level_text,
            self.statement_text
        )
    }

    fn applies(&self, best: bool) -> bool {
        match (self.effect, best) {
            (Effect::Allow, true) | (Effect::Deny, false) => true,
            (Effect::Allow, false) | (Effect::Deny, true) => self.certain,
        }
    }
}

/// Why the organization's policies refuse a request, in one case.
#[derive(Debug, Clone, PartialEq)]
pub enum GuardrailCause {
    /// Index into [`OrgEvaluation::statements`] of the denying statement.
    Deny(usize),
    /// No SCP at this level allows the request (index into [`Organization::levels`]).
    NoScpAllows { level: usize, level_text: String },
}

/// The answer of the organization's policies for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgEvaluation {
    pub best: Decision,
    pub worst: Decision,
    /// Why the SCPs do not apply to this request (`None`: they apply).
    pub scp_exemption: Option<String>,
    /// Why the RCPs do not apply (`None`: they apply).
    pub rcp_exemption: Option<String>,
    /// Statements that apply, certainly or possibly, root first.
    pub statements: Vec<GuardrailStatement>,
    pub best_cause: Option<GuardrailCause>,
    pub worst_cause: Option<GuardrailCause>,
    /// One sentence for each case.
    pub best_why: String,
    pub worst_why: String,
}

impl OrgEvaluation {
    pub fn is_certain(&self) -> bool {
        self.best == self.worst
    }

    /// The statement that denies in the worst case, if a statement does.
    pub fn denying_statement(&self) -> Option<&GuardrailStatement> {
        match &self.worst_cause {
            Some(GuardrailCause::Deny(i)) => self.statements.get(*i),
            _ => None,
        }
    }

    /// The conditions the decision depends on, without duplicates.
    pub fn unresolved_conditions(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in self
            .statements
            .iter()
            .flat_map(|s| &s.unresolved)
            .map(ToString::to_string)
        {
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    /// The answer in the engine's common form.
    pub fn to_evaluation(&self) -> Evaluation {
        Evaluation {
            best: self.best,
            worst: self.worst,
            matched: self
                .statements
                .iter()
                .map(|s| MatchedStatement {
                    policy: s.label.clone(),
                    index: s.index,
                    sid: s.sid.clone(),
                    effect: s.effect,
                    unresolved: s.unresolved.clone(),
                })
                .collect(),
            explanation: super::eval::explain_cases(
                self.best,
                &self.best_why,
                self.worst,
                &self.worst_why,
            ),
        }
    }
}

/// True for a service-linked role or one of its sessions (`role/aws-service-role/...`,
/// `assumed-role/AWSServiceRoleFor...`), which neither SCPs nor RCPs restrict.
pub fn is_service_linked(principal: &str) -> bool {
    let Some(arn) = ArnRef::parse(principal) else {
        return false;
    };
    let resource = arn.resource;
    (arn.service == "iam" && resource.starts_with("role/aws-service-role/"))
        || (arn.service == "sts" && resource.starts_with("assumed-role/AWSServiceRoleFor"))
}

/// Why the organization's SCPs do not limit this caller, or `None` when they do.
pub fn scp_exemption(org: &Organization<'_>, request: &Request) -> Option<String> {
    if !org.scps_enabled {
        return Some("SCPs are not enabled in the organization".into());
    }
    let Some(account) = crate::arn::account_in(&request.principal) else {
        return Some(format!(
            "the caller {} is not a principal of an account (SCPs limit only principals of the organization's accounts)",
            request.principal
        ));
    };
    if org.management_account == Some(account) {
        return Some(format!(
            "the caller is in the management account {account}, whose principals SCPs do not limit"
        ));
    }
    if account != org.account {
        return Some(format!(
            "the caller {} belongs to account {account}, not to {}: SCPs limit only principals of the organization's accounts, and those given are {}'s",
            request.principal, org.account, org.account
        ));
    }
    if is_service_linked(&request.principal) {
        return Some(format!(
            "the caller {} is a service-linked role, which SCPs do not limit",
            request.principal
        ));
    }
    None
}

/// Why the organization's RCPs do not limit this request, or `None` when they do.
pub fn rcp_exemption(org: &Organization<'_>, request: &Request) -> Option<String> {
    if !org.rcps_enabled {
        return Some("RCPs are not enabled in the organization".into());
    }
    let Some(account) = resource_account(request) else {
        return Some(format!(
            "the account that owns {} is not known",
            request.resource
        ));
    };
    if org.management_account == Some(account.as_str()) {
        return Some(format!(
            "{} is in the management account {account}, whose resources RCPs do not limit",
            request.resource
        ));
    }
    if account != org.account {
        return Some(format!(
            "{} belongs to account {account}, not to {}, whose RCPs were given",
            request.resource, org.account
        ));
    }
    if org
        .aws_managed_resources
        .iter()
        .any(|r| *r == request.resource)
    {
        return Some(format!(
            "{} is an AWS managed key, which RCPs do not limit",
            request.resource
        ));
    }
    if request.action.eq_ignore_ascii_case("kms:RetireGrant") {
        return Some("RCPs do not limit kms:RetireGrant".into());
    }
    if is_service_linked(&request.principal) {
        return Some(format!(
            "the caller {} is a service-linked role, which RCPs do not limit",
            request.principal
        ));
    }
    None
}

/// The context with what the organization says of the request filled in: its ID as
/// `aws:PrincipalOrgID` for principals of the account and `aws:ResourceOrgID` for its
/// resources, unless the request says something of them already.
fn with_org_keys<'r>(
    org: &Organization<'_>,
    request: &'r Request,
) -> std::borrow::Cow<'r, Context> {
    let mut ctx = effective_context(request);
    let Some(id) = org.id else {
        return ctx;
    };
    let ours = |account: Option<&str>| {
        account.is_some_and(|a| a == org.account || org.management_account == Some(a))
    };
    if ours(crate::arn::account_in(&request.principal))
        && !request.context.says("aws:PrincipalOrgID")
    {
        ctx.to_mut().set("aws:PrincipalOrgID", vec![id.to_string()]);
    }
    if ours(resource_account(request).as_deref()) && !request.context.says("aws:ResourceOrgID") {
        ctx.to_mut().set("aws:ResourceOrgID", vec![id.to_string()]);
    }
    ctx
}

/// The context the organization's policies see the request with (its ID filled in as
/// `aws:PrincipalOrgID` / `aws:ResourceOrgID` where it applies).
pub fn context_in<'r>(
    org: &Organization<'_>,
    request: &'r Request,
) -> std::borrow::Cow<'r, Context> {
    with_org_keys(org, request)
}

/// Evaluates a request against the organization's SCPs and RCPs alone.
pub fn evaluate_org(org: &Organization<'_>, request: &Request) -> OrgEvaluation {
    let scp_exemption = scp_exemption(org, request);
    let rcp_exemption = rcp_exemption(org, request);
    let ctx = with_org_keys(org, request);
    let mut statements = Vec::new();
    for (level_index, level) in org.levels.iter().enumerate() {
        let kinds = [
            (GuardrailKind::Scp, &level.scps, scp_exemption.is_none()),
            (GuardrailKind::Rcp, &level.rcps, rcp_exemption.is_none()),
        ];
        for (kind, policies, applies) in kinds {
            if !applies {
                continue;
            }
            for p in policies.iter() {
                let vars = super::eval::variables_enabled(p.policy);
                for st in &p.policy.document.statements {
                    // RCP statements carry `Principal` ("*"), SCP statements none: they apply
                    // to the principals of the accounts below, like identity policies.
                    let outcome =
                        statement_outcome(st, request, &ctx, vars, kind == GuardrailKind::Rcp);
                    if outcome.applies == Tri::False {
                        continue;
                    }
                    statements.push(GuardrailStatement {
                        kind,
                        level: level_index,
                        level_text: org.describe_level(level_index),
                        policy_id: p.id.to_string(),
                        policy_name: p.name.to_string(),
                        label: p.policy.label.clone(),
                        index: st.index,
                        sid: st.sid.clone(),
                        effect: st.effect,
                        certain: outcome.applies == Tri::True,
                        unresolved: outcome.unresolved,
                        statement_text: describe_statement(st),
                    });
                }
            }
        }
    }
    let decide = |best: bool| -> (Decision, Option<GuardrailCause>, String) {
        let action_on = fmt::from_fn(|f| write!(f, "{} on {}", request.action, request.resource));
        if let Some((i, st)) = statements
            .iter()
            .enumerate()
            .find(|(_, s)| s.effect == Effect::Deny && s.applies(best))
        {
            return (
                Decision::ExplicitDeny,
                Some(GuardrailCause::Deny(i)),
                format!("explicitly denied by {}", st.describe()),
            );
        }
        if scp_exemption.is_none() {
            for (level_index, level) in org.levels.iter().enumerate() {
                let allowed = statements.iter().any(|s| {
                    s.kind == GuardrailKind::Scp
                        && s.level == level_index
                        && s.effect == Effect::Allow
                        && s.applies(best)
                });
                if allowed {
                    continue;
                }
                let level_text = org.describe_level(level_index);
                let attached = if level.scps.is_empty() {
                    "no SCP is attached there".to_string()
                } else {
                    let names: Vec<String> = level
                        .scps
                        .iter()
                        .map(|p| format!("{} ({})", p.name, p.id))
                        .collect();
                    format!("attached there: {}", names.join(", "))
                };
                return (
                    Decision::ImplicitDeny,
                    Some(GuardrailCause::NoScpAllows {
                        level: level_index,
                        level_text: level_text.clone(),
                    }),
                    format!(
                        "no service control policy allows {action_on} at {level_text} ({attached}); an SCP must allow it at every level from the root to the account"
                    ),
                );
            }
        }
        let scps = match &scp_exemption {
            Some(why) => format!("SCPs do not apply ({why})"),
            None => "an SCP allows it at every level and none denies it".to_string(),
        };
        let rcps = match &rcp_exemption {
            Some(why) => format!("RCPs do not apply ({why})"),
            None => "no RCP denies it".to_string(),
        };
        (
            Decision::Allowed,
            None,
            format!("the organization's policies do not refuse {action_on}: {scps}; {rcps}"),
        )
    };
    let (worst, worst_cause, worst_why) = decide(false);
    let (best, best_cause, best_why) = if statements.iter().all(|s| s.certain) {
        (worst, worst_cause.clone(), worst_why.clone())
    } else {
        decide(true)
    };
    OrgEvaluation {
        best,
        worst,
        scp_exemption,
        rcp_exemption,
        statements,
        best_cause,
        worst_cause,
        best_why,
        worst_why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::parse_policy;

    const MEMBER: &str = "111122223333";
    const MANAGEMENT: &str = "999988887777";
    const AOC: &str = "arn:aws:iam::860559707280:role/atp-aws-us-east-1-ts-atc-node";
    const ROLE: &str = "arn:aws:iam::111122223333:role/aoc-access";
    const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/aoc-access/s";
    const KEY: &str = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    const FULL: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    const RCP_FULL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;
    const REGION_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyOtherRegions","Effect":"Deny","NotAction":["iam:*","sts:*","organizations:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","us-west-2"]}}}]}"#;
    const KMS_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoKms","Effect":"Deny","Action":"kms:*","Resource":"*"}]}"#;
    const PERIMETER: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"EnforceIdentityPerimeter","Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-abc123def4"},"Bool":{"aws:PrincipalIsAWSService":"false"}}}]}"#;
    const PERIMETER_WITH_AOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"EnforceIdentityPerimeter","Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-abc123def4","aws:PrincipalAccount":"860559707280"},"Bool":{"aws:PrincipalIsAWSService":"false"}}}]}"#;

    fn named(label: &str, json: &str) -> NamedPolicy {
        NamedPolicy {
            label: label.into(),
            document: parse_policy(json).unwrap(),
        }
    }

    struct Owned {
        full: NamedPolicy,
        rcp_full: NamedPolicy,
        extra: Vec<(usize, GuardrailKind, &'static str, NamedPolicy)>,
        without_full_at: Option<usize>,
    }

    impl Owned {
        fn new() -> Self {
            Owned {
                full: named("FullAWSAccess", FULL),
                rcp_full: named("RCPFullAWSAccess", RCP_FULL),
                extra: Vec::new(),
                without_full_at: None,
            }
        }

        fn with(mut self, level: usize, kind: GuardrailKind, id: &'static str, json: &str) -> Self {
            self.extra.push((level, kind, id, named(id, json)));
            self
        }

        /// Root, OU Sales, OU Prod, the account.
        fn org(&self, management: Option<&'static str>) -> Organization<'_> {
            let shape = [
                (LevelKind::Root, "r-ab12", "Root"),
                (LevelKind::OrganizationalUnit, "ou-ab12-11111111", "Sales"),
                (LevelKind::OrganizationalUnit, "ou-ab12-22222222", "Prod"),
                (LevelKind::Account, MEMBER, "prod-data"),
            ];
            let levels = shape
                .iter()
                .enumerate()
                .map(|(i, (kind, id, name))| {
                    let mut scps = Vec::new();
                    if self.without_full_at != Some(i) {
                        scps.push(OrgPolicyRef {
                            id: "p-FullAWSAccess",
                            name: "FullAWSAccess",
                            policy: &self.full,
                        });
                    }
                    let mut rcps = vec![OrgPolicyRef {
                        id: "p-RCPFullAWSAccess",
                        name: "RCPFullAWSAccess",
                        policy: &self.rcp_full,
                    }];
                    for (_, k, pid, p) in self.extra.iter().filter(|(l, ..)| *l == i) {
                        let r = OrgPolicyRef {
                            id: pid,
                            name: &p.label,
                            policy: p,
                        };
                        match k {
                            GuardrailKind::Scp => scps.push(r),
                            GuardrailKind::Rcp => rcps.push(r),
                        }
                    }
                    Level {
                        kind: *kind,
                        id,
                        name,
                        scps,
                        rcps,
                    }
                })
                .collect();
            Organization {
                id: Some("o-abc123def4"),
                account: MEMBER,
                management_account: management,
                scps_enabled: true,
                rcps_enabled: true,
                levels,
                aws_managed_resources: Vec::new(),
            }
        }
    }

    fn req(principal: &str, action: &str, resource: &str, region: &str) -> Request {
        let mut context = Context::partial();
        context.set("aws:RequestedRegion", vec![region.into()]);
        Request {
            principal: principal.into(),
            action: action.into(),
            resource: resource.into(),
            resource_account: None,
            context,
        }
    }

    fn aoc_assume() -> Request {
        let mut r = req(AOC, "sts:AssumeRole", ROLE, "us-east-1");
        r.resource_account = Some(MEMBER.into());
        // AoC's principal is in IBM's account, outside the customer's organization.
        r.context
            .set("aws:PrincipalOrgID", vec!["o-not-yours".into()]);
        r.context
            .set("aws:PrincipalIsAWSService", vec!["false".into()]);
        r
    }

    #[test]
    fn full_access_alone_allows() {
        let o = Owned::new();
        let org = o.org(Some(MANAGEMENT));
        for r in [
            req(SESSION, "s3:PutObject", "arn:aws:s3:::b/k", "eu-west-1"),
            req(SESSION, "kms:GenerateDataKey", KEY, "eu-west-1"),
            aoc_assume(),
        ] {
            let e = evaluate_org(&org, &r);
            assert_eq!((e.best, e.worst), (Decision::Allowed, Decision::Allowed));
            assert!(e.worst_why.contains("do not refuse"), "{}", e.worst_why);
        }
    }

    #[test]
    fn region_deny_excluding_the_buckets_region_denies() {
        let o = Owned::new().with(0, GuardrailKind::Scp, "p-regions1", REGION_DENY);
        let org = o.org(Some(MANAGEMENT));
        let e = evaluate_org(
            &org,
            &req(SESSION, "s3:PutObject", "arn:aws:s3:::b/k", "eu-west-1"),
        );
        assert_eq!(e.worst, Decision::ExplicitDeny);
        assert!(e.is_certain());
        let st = e.denying_statement().unwrap();
        assert_eq!(st.policy_id, "p-regions1");
        assert!(
            e.worst_why.contains(
                "service control policy p-regions1 (p-regions1) attached to root Root (r-ab12), statement 0 (Sid \"DenyOtherRegions\")"
            ),
            "{}",
            e.worst_why
        );
        // In an allowed region the same SCP lets it through.
        let e = evaluate_org(
            &org,
            &req(SESSION, "s3:PutObject", "arn:aws:s3:::b/k", "us-west-2"),
        );
        assert_eq!(e.worst, Decision::Allowed);
    }

    #[test]
    fn kms_deny_at_an_ou_names_the_ou_path() {
        let o = Owned::new().with(2, GuardrailKind::Scp, "p-nokms111", KMS_DENY);
        let org = o.org(Some(MANAGEMENT));
        let e = evaluate_org(&org, &req(SESSION, "kms:Decrypt", KEY, "eu-west-1"));
        assert_eq!(e.worst, Decision::ExplicitDeny);
        assert!(
            e.worst_why.contains("OU Sales/Prod (ou-ab12-22222222)"),
            "{}",
            e.worst_why
        );
        // S3 is not touched by it.
        let e = evaluate_org(
            &org,
            &req(SESSION, "s3:GetObject", "arn:aws:s3:::b/k", "eu-west-1"),
        );
        assert_eq!(e.worst, Decision::Allowed);
    }

    #[test]
    fn a_level_without_an_allowing_scp_denies() {
        let mut o = Owned::new();
        o.without_full_at = Some(1);
        let org = o.org(Some(MANAGEMENT));
        let e = evaluate_org(
            &org,
            &req(SESSION, "s3:PutObject", "arn:aws:s3:::b/k", "eu-west-1"),
        );
        assert_eq!(e.worst, Decision::ImplicitDeny);
        assert!(e.is_certain());
        assert!(
            e.worst_why
                .contains("no service control policy allows s3:PutObject on arn:aws:s3:::b/k at OU Sales (ou-ab12-11111111) (no SCP is attached there)"),
            "{}",
            e.worst_why
        );
        assert!(matches!(
            e.worst_cause,
            Some(GuardrailCause::NoScpAllows { level: 1, .. })
        ));
        // An allow-list SCP at that level that covers S3 is enough.
        let o = {
            let mut o = Owned::new().with(
                1,
                GuardrailKind::Scp,
                "p-allows3x",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","kms:*"],"Resource":"*"}]}"#,
            );
            o.without_full_at = Some(1);
            o
        };
        let org = o.org(Some(MANAGEMENT));
        let e = evaluate_org(
            &org,
            &req(SESSION, "s3:PutObject", "arn:aws:s3:::b/k", "eu-west-1"),
        );
        assert_eq!(e.worst, Decision::Allowed);
        let e = evaluate_org(&org, &req(SESSION, "ec2:RunInstances", "*", "eu-west-1"));
        assert_eq!(e.worst, Decision::ImplicitDeny);
    }

    #[test]
    fn management_account_is_exempt() {
        let o = Owned::new()
            .with(0, GuardrailKind::Scp, "p-nokms111", KMS_DENY)
            .with(0, GuardrailKind::Rcp, "p-perim111", PERIMETER);
        let org = o.org(Some(MEMBER));
        let e = evaluate_org(&org, &req(SESSION, "kms:Decrypt", KEY, "eu-west-1"));
        assert_eq!(e.worst, Decision::Allowed);
        assert!(
            e.scp_exemption
                .as_deref()
                .is_some_and(|w| w.contains("management account")),
            "{e:?}"
        );
        assert_eq!(evaluate_org(&org, &aoc_assume()).worst, Decision::Allowed);
    }

    #[test]
    fn scps_do_not_limit_principals_outside_or_service_linked_roles() {
        let o = Owned::new().with(
            0,
            GuardrailKind::Scp,
            "p-denyall1",
            KMS_DENY.replace("kms:*", "*").as_str(),
        );
        let org = o.org(Some(MANAGEMENT));
        let e = evaluate_org(&org, &aoc_assume());
        assert_eq!(e.worst, Decision::Allowed);
        assert!(e.scp_exemption.is_some());
        let slr =
            "arn:aws:iam::111122223333:role/aws-service-role/s3.amazonaws.com/AWSServiceRoleForS3";
        let e = evaluate_org(&org, &req(slr, "kms:Decrypt", KEY, "eu-west-1"));
        assert_eq!(e.worst, Decision::Allowed);
        assert!(e.scp_exemption.unwrap().contains("service-linked"));
    }

    #[test]
    fn rcp_perimeter_on_assume_role_denies_aoc_unless_excepted() {
        let o = Owned::new().with(0, GuardrailKind::Rcp, "p-perim111", PERIMETER);
        let org = o.org(Some(MANAGEMENT));
        let e = evaluate_org(&org, &aoc_assume());
        assert_eq!(
            (e.best, e.worst),
            (Decision::ExplicitDeny, Decision::ExplicitDeny)
        );
        let st = e.denying_statement().unwrap();
        assert_eq!(st.kind, GuardrailKind::Rcp);
        assert!(
            e.worst_why.contains("resource control policy p-perim111 (p-perim111) attached to root Root (r-ab12), statement 0 (Sid \"EnforceIdentityPerimeter\")"),
            "{}",
            e.worst_why
        );
        // The role's own session, inside the organization, is not refused.
        let mut own = req(SESSION, "sts:AssumeRole", ROLE, "us-east-1");
        own.context
            .set("aws:PrincipalIsAWSService", vec!["false".into()]);
        assert_eq!(evaluate_org(&org, &own).worst, Decision::Allowed);

        let o = Owned::new().with(0, GuardrailKind::Rcp, "p-perim111", PERIMETER_WITH_AOC);
        let org = o.org(Some(MANAGEMENT));
        assert_eq!(evaluate_org(&org, &aoc_assume()).worst, Decision::Allowed);
    }

    #[test]
    fn rcps_skip_the_management_accounts_resources_and_aws_managed_keys() {
        let deny_kms = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*"}]}"#;
        let o = Owned::new().with(3, GuardrailKind::Rcp, "p-rcpkms11", deny_kms);
        let mut org = o.org(Some(MANAGEMENT));
        let r = req(SESSION, "kms:Decrypt", KEY, "eu-west-1");
        assert_eq!(evaluate_org(&org, &r).worst, Decision::ExplicitDeny);
        org.aws_managed_resources = vec![KEY];
        let e = evaluate_org(&org, &r);
        assert_eq!(e.worst, Decision::Allowed);
        assert!(e.rcp_exemption.unwrap().contains("AWS managed key"));
        org.aws_managed_resources.clear();
        org.rcps_enabled = false;
        assert_eq!(evaluate_org(&org, &r).worst, Decision::Allowed);
    }

    #[test]
    fn undecidable_condition_leaves_the_answer_open() {
        let vpce = r#"{"Version":"2012-10-17","Statement":[{"Sid":"OnlyFromVpce","Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}]}"#;
        let o = Owned::new().with(2, GuardrailKind::Scp, "p-vpceonly", vpce);
        let org = o.org(Some(MANAGEMENT));
        let e = evaluate_org(
            &org,
            &req(SESSION, "s3:PutObject", "arn:aws:s3:::b/k", "eu-west-1"),
        );
        assert_eq!(
            (e.best, e.worst),
            (Decision::Allowed, Decision::ExplicitDeny)
        );
        assert_eq!(
            e.unresolved_conditions(),
            vec!["StringNotEquals aws:SourceVpce [\"vpce-1a2b3c4d\"]".to_string()]
        );
        assert!(
            e.to_evaluation()
                .explanation
                .starts_with("depends on conditions"),
            "{e:?}"
        );
    }

    #[test]
    fn the_org_id_is_filled_in_for_its_own_principals() {
        let s3_perimeter = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-abc123def4"}}}]}"#;
        let o = Owned::new().with(0, GuardrailKind::Rcp, "p-s3perim1", s3_perimeter);
        let mut org = o.org(Some(MANAGEMENT));
        let r = req(SESSION, "s3:PutObject", "arn:aws:s3:::b/k", "eu-west-1");
        assert_eq!(evaluate_org(&org, &r).worst, Decision::Allowed);
        // Without the organization's ID the answer is open.
        org.id = None;
        let e = evaluate_org(&org, &r);
        assert_eq!(
            (e.best, e.worst),
            (Decision::Allowed, Decision::ExplicitDeny)
        );
    }

    #[test]
    fn combined_with_identity_policies_in_one_decision() {
        use crate::policy::{PolicySet, evaluate_in_organization};
        let identity = [named(
            "inline policy aoc",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","kms:*"],"Resource":"*"}]}"#,
        )];
        let set = PolicySet {
            identity: &identity,
            ..Default::default()
        };
        let o = Owned::new().with(2, GuardrailKind::Scp, "p-nokms111", KMS_DENY);
        let org = o.org(Some(MANAGEMENT));
        let mut r = req(SESSION, "kms:Decrypt", KEY, "eu-west-1");
        r.context = Context::strict();
        let e = evaluate_in_organization(&set, &[&org], &r);
        assert_eq!(e.decision(), Decision::ExplicitDeny);
        assert!(
            e.explanation.contains("service control policy"),
            "{}",
            e.explanation
        );
        r.action = "s3:GetObject".into();
        r.resource = "arn:aws:s3:::b/k".into();
        let e = evaluate_in_organization(&set, &[&org], &r);
        assert_eq!(e.decision(), Decision::Allowed);
        assert!(
            e.explanation.contains("allowed by identity policy"),
            "{}",
            e.explanation
        );
        // The organization allowing grants nothing the policies do not.
        let none = PolicySet::default();
        let e = evaluate_in_organization(&none, &[&org], &r);
        assert_eq!(e.decision(), Decision::ImplicitDeny);
    }

    /// AWS's documented examples, each with its source: where an SCP or RCP sits, the
    /// request, and the decision AWS's pages give.
    #[test]
    fn documented_examples_table() {
        const SCP_EVAL: &str = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html";
        const SCP_PAGE: &str = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html";
        const SCP_EXAMPLES: &str = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_general.html";
        const RCP_PAGE: &str = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html";
        const RCP_EXAMPLES: &str = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_examples.html";
        const KMS_RCP: &str =
            "https://docs.aws.amazon.com/kms/latest/developerguide/resource-control-policies.html";
        let deny_s3 = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
        let allow_ec2_s3 = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:*","s3:*"],"Resource":"*"}]}"#;
        let allow_ec2 = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#;
        let except_admin = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:*","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalARN":"arn:aws:iam::*:role/KeyAdmin"}}}]}"#;
        let tls = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":["s3:*","sts:*","kms:*"],"Resource":"*","Condition":{"BoolIfExists":{"aws:SecureTransport":"false"}}}]}"#;
        let deputy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":["s3:*","kms:*"],"Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:SourceOrgID":"o-abc123def4"},"Null":{"aws:SourceAccount":"false"},"Bool":{"aws:PrincipalIsAWSService":"true"}}}]}"#;
        let kms_all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*"}]}"#;
        let admin = "arn:aws:iam::111122223333:role/KeyAdmin";
        let slr = "arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForBackup/s";

        struct Case<'a> {
            source: &'a str,
            what: &'a str,
            /// (level, kind, json); level 1 or 2 with `no_full` drops FullAWSAccess there.
            attach: Vec<(usize, GuardrailKind, &'a str)>,
            no_full: Option<usize>,
            management: &'a str,
            managed_key: bool,
            request: Request,
            expect: Decision,
        }
        let s3 = || req(SESSION, "s3:PutObject", "arn:aws:s3:::b/k", "us-east-1");
        let ec2 = || req(SESSION, "ec2:RunInstances", "*", "us-east-1");
        let kms = || req(SESSION, "kms:Decrypt", KEY, "eu-west-1");
        let with = |mut r: Request, k: &str, v: &str| {
            r.context.set(k, vec![v.to_string()]);
            r
        };
        let cases = vec![
            Case {
                source: SCP_EVAL,
                what: "FullAWSAccess at every level allows",
                attach: vec![],
                no_full: None,
                management: MANAGEMENT,
                managed_key: false,
                request: s3(),
                expect: Decision::Allowed,
            },
            Case {
                source: SCP_EVAL,
                what: "a Deny at the root applies to every account below",
                attach: vec![(0, GuardrailKind::Scp, deny_s3)],
                no_full: None,
                management: MANAGEMENT,
                managed_key: false,
                request: s3(),
                expect: Decision::ExplicitDeny,
            },
            Case {
                source: SCP_EVAL,
                what: "a Deny of S3 leaves other services alone",
                attach: vec![(0, GuardrailKind::Scp, deny_s3)],
                no_full: None,
                management: MANAGEMENT,
                managed_key: false,
                request: ec2(),
                expect: Decision::Allowed,
            },
            Case {
                source: SCP_EVAL,
                what: "a Deny at the account itself applies",
                attach: vec![(3, GuardrailKind::Scp, deny_s3)],
                no_full: None,
                management: MANAGEMENT,
                managed_key: false,
                request: s3(),
                expect: Decision::ExplicitDeny,
            },
            Case {
                source: SCP_EVAL,
                what: "an OU allow-list (EC2, S3) allows what it lists",
                attach: vec![(1, GuardrailKind::Scp, allow_ec2_s3)],
                no_full: Some(1),
                management: MANAGEMENT,
                managed_key: false,
                request: s3(),
                expect: Decision::Allowed,
            },
            Case {
                source: SCP_EVAL,
                what: "an OU allow-list denies what it does not list",
                attach: vec![(1, GuardrailKind::Scp, allow_ec2_s3)],
                no_full: Some(1),
                management: MANAGEMENT,
                managed_key: false,
                request: kms(),
                expect: Decision::ImplicitDeny,
            },
            Case {
                source: SCP_EVAL,
                what: "the account's allow-list narrows the OU's: S3 allowed above but not at the account",
                attach: vec![(3, GuardrailKind::Scp, allow_ec2)],
                no_full: Some(3),
                management: MANAGEMENT,
                managed_key: false,
                request: s3(),
                expect: Decision::ImplicitDeny,
            },
            Case {
                source: SCP_EVAL,
                what: "an allow-list below FullAWSAccess still allows what it lists",
                attach: vec![(3, GuardrailKind::Scp, allow_ec2)],
                no_full: Some(3),
                management: MANAGEMENT,
                managed_key: false,
                request: ec2(),
                expect: Decision::Allowed,
            },
            Case {
                source: SCP_EXAMPLES,
                what: "region deny: a Region outside the list is denied",
                attach: vec![(0, GuardrailKind::Scp, REGION_DENY)],
                no_full: None,
                management: MANAGEMENT,
                managed_key: false,
                request: kms(),
                expect: Decision::ExplicitDeny,
            },
            Case {
                source: SCP_EXAMPLES,
                what: "region deny: NotAction exempts global services",
                attach: vec![(0, GuardrailKind::Scp, REGION_DENY)],
                no_full: None,
                management: MANAGEMENT,
                managed_key: false,
                request: req(SESSION, "iam:CreateRole", "*", "eu-west-1"),
                expect: Decision::Allowed,
            },
            Case {
                source: SCP_EXAMPLES,
                what: "an exception by aws:PrincipalARN exempts the named role",
                attach: vec![(0, GuardrailKind::Scp, except_admin)],
                no_full: None,
                management: MANAGEMENT,
                managed_key: false,
                request: {
                    let mut r = kms();
                    r.principal = "arn:aws:sts::111122223333:assumed-role/KeyAdmin/s".into();
                    with(r, "aws:PrincipalArn", admin)
                },
                expect: Decision::Allowed,
            },
            Case {
                source: SCP_EXAMPLES,
                what: "the same exception does not exempt another role",
                attach: vec![(0, GuardrailKind::Scp, except_admin)],
                no_full: None,
                management: MANAGEMENT,
                managed_key: false,
                request: with(kms(), "aws:PrincipalArn", ROLE),
                expect: Decision::ExplicitDeny,
            },
            Case {
                source: SCP_PAGE,
                what: "SCPs do not affect the management account's principals",
                attach: vec![(0, GuardrailKind::Scp, deny_s3)],
                no_full: None,
                management: MEMBER,
                managed_key: false,
                request: s3(),
                expect: Decision::Allowed,
            },
            Case {
                source: SCP_PAGE,
                what: "SCPs do not affect service-linked roles",
                attach: vec![(0, GuardrailKind::Scp, deny_s3)],
                no_full: None,
                management: MANAGEMENT,
                managed_key: false,
                request: req(slr, "s3:PutObject", "arn:aws:s3:::b/k", "us-east-1"),
                expect: Decision::Allowed,
            },
            Case {
                source: SCP_PAGE,
                what: "SCPs do not affect principals outside the organization",
                attach: vec![(0, GuardrailKind::Scp, deny_s3)],
                no_full: None,
                management: MANAGEMENT,
                managed_key: false,
                request: req(AOC, "s3:PutObject", "arn:aws:s3:::b/k", "us-east-1"),
                expect: Decision::Allowed,
            },
            Case {
                source: RCP_EXAMPLES,
                what: "identity perimeter: a principal outside the organization is denied",
                attach: vec![(0, GuardrailKind::Rcp, PERIMETER)],
                no_full: None,
                management: MANAGEMENT,
                managed_key: false,
                request: aoc_assume(),
                expect: Decision::ExplicitDeny,
            },
            Case {
                source: RCP_EXAMPLES,
                what: "identity perimeter: an AWS service principal is not",
                attach: vec![(0, GuardrailKind::Rcp, PERIMETER)],
                no_full: None,
                management: MANAGEMENT,
                managed_key: false,
                request: with(aoc_assume(), "aws:PrincipalIsAWSService", "true"),
                expect: Decision::Allowed,
            },
            Case {
                source: RCP_EXAMPLES,
                what: "secure transport: a request without TLS is denied",
                attach: vec![(0, GuardrailKind::Rcp, tls)],
                no_full: None,
                management: MANAGEMENT,
                managed_key: false,
                request: with(s3(), "aws:SecureTransport", "false"),
                expect: Decision::ExplicitDeny,
            },
            Case {
                source: RCP_EXAMPLES,
                what: "secure transport: a request over TLS is not",
                attach: vec![(0, GuardrailKind::Rcp, tls)],
                no_full: None,
                management: MANAGEMENT,
                managed_key: false,
                request: with(s3(), "aws:SecureTransport", "true"),
                expect: Decision::Allowed,
            },
            Case {
                source: RCP_EXAMPLES,
                what: "confused deputy: a service acting for another organization is denied",
                attach: vec![(0, GuardrailKind::Rcp, deputy)],
                no_full: None,
                management: MANAGEMENT,
                managed_key: false,
                request: {
                    let mut r = with(
                        with(
                            req("s3.amazonaws.com", "kms:Decrypt", KEY, "eu-west-1"),
                            "aws:PrincipalIsAWSService",
                            "true",
                        ),
                        "aws:SourceAccount",
                        "444455556666",
                    );
                    r.context
                        .set("aws:SourceOrgID", vec!["o-other00000".into()]);
                    r
                },
                expect: Decision::ExplicitDeny,
            },
            Case {
                source: RCP_PAGE,
                what: "RCPs do not affect the management account's resources",
                attach: vec![(0, GuardrailKind::Rcp, kms_all)],
                no_full: None,
                management: MEMBER,
                managed_key: false,
                request: kms(),
                expect: Decision::Allowed,
            },
            Case {
                source: KMS_RCP,
                what: "RCPs do not apply to AWS managed keys",
                attach: vec![(0, GuardrailKind::Rcp, kms_all)],
                no_full: None,
                management: MANAGEMENT,
                managed_key: true,
                request: kms(),
                expect: Decision::Allowed,
            },
            Case {
                source: KMS_RCP,
                what: "kms:RetireGrant is not affected by an RCP on kms:*",
                attach: vec![(0, GuardrailKind::Rcp, kms_all)],
                no_full: None,
                management: MANAGEMENT,
                managed_key: false,
                request: req(SESSION, "kms:RetireGrant", KEY, "eu-west-1"),
                expect: Decision::Allowed,
            },
            Case {
                source: RCP_PAGE,
                what: "an RCP Deny applies to the account's resources whoever calls",
                attach: vec![(2, GuardrailKind::Rcp, kms_all)],
                no_full: None,
                management: MANAGEMENT,
                managed_key: false,
                request: kms(),
                expect: Decision::ExplicitDeny,
            },
        ];
        assert!(cases.len() >= 15);
        for c in cases {
            let mut o = Owned::new();
            for (level, kind, json) in &c.attach {
                o = o.with(*level, *kind, "p-example1", json);
            }
            o.without_full_at = c.no_full;
            let mut org = o.org(Some(c.management));
            if c.managed_key {
                org.aws_managed_resources = vec![KEY];
            }
            let e = evaluate_org(&org, &c.request);
            assert!(e.is_certain(), "{} ({}): {e:?}", c.what, c.source);
            assert_eq!(
                e.worst, c.expect,
                "{} ({}): {}",
                c.what, c.source, e.worst_why
            );
        }
    }
}
