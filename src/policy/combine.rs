//! The decision for one case (best or worst) once each statement is known to apply or not:
//! AWS's rules for combining identity policies, a permissions boundary and a resource policy,
//! with the sentence that says why. The rules and their sources are in [`super::eval`]'s
//! module documentation; this module is their three shapes: a resource that must itself allow
//! (a KMS key policy, a role trust policy), a request across accounts, and a request in one
//! account.

use std::fmt;

use super::eval::{
    Hit, PolicySet, boundary_exempt, is_cross_account, resource_account, strict_resource,
};
use super::matching::PrincipalMatch;
use super::{Decision, Effect, Request};

/// The statements that matched a request, by layer, and the policies they came from.
pub(super) struct Combine<'a, 'b> {
    pub(super) set: &'a PolicySet<'a>,
    pub(super) request: &'a Request,
    pub(super) identity: &'a [Hit<'b>],
    pub(super) boundary: Option<&'a [Hit<'b>]>,
    pub(super) resource: Option<&'a [Hit<'b>]>,
}

/// What each layer grants in one case, found once for whichever shape decides.
struct Grants<'h, 'p> {
    /// The first identity-policy Allow that applies.
    identity_allow: Option<&'h Hit<'p>>,
    /// No boundary, or the boundary allows.
    boundary_ok: bool,
    /// A resource-policy Allow naming the principal itself (or `*`).
    resource_direct: Option<&'h Hit<'p>>,
    /// A resource-policy Allow naming the principal's account root (delegation to IAM).
    resource_root: Option<&'h Hit<'p>>,
    /// `resource_direct`, when the boundary does not cap it.
    direct_ok: bool,
}

impl<'a, 'b> Combine<'a, 'b> {
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
    pub(super) fn decide(&self, best: bool) -> (Decision, String) {
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
        let all = self
            .identity
            .iter()
            .chain(self.boundary.into_iter().flatten())
            .chain(self.resource.into_iter().flatten());
        // An applicable Deny anywhere wins.
        if let Some(deny) = all
            .filter(|h| h.statement.effect == Effect::Deny)
            .find(|h| h.applies(best))
        {
            return (
                Decision::ExplicitDeny,
                format!("explicitly denied by {}", deny.name()),
            );
        }
        let grants = self.grants(best);
        if let Some(kind) = strict_resource(self.request) {
            self.resource_must_allow(kind, &grants)
        } else if is_cross_account(self.request) {
            self.cross_account(&grants)
        } else {
            self.same_account(&grants)
        }
    }

    fn grants(&self, best: bool) -> Grants<'a, 'b> {
        let allows = |hits: &'a [Hit<'b>]| {
            hits.iter()
                .filter(move |h| h.statement.effect == Effect::Allow && h.applies(best))
        };
        let identity_allow = allows(self.identity).next();
        let boundary_ok = self.boundary.is_none_or(|b| allows(b).next().is_some());
        let (resource_direct, resource_root) = match self.resource {
            Some(r) => (
                allows(r).find(|h| h.outcome.principal.is_direct()),
                allows(r).find(|h| h.outcome.principal == PrincipalMatch::AccountRoot),
            ),
            None => (None, None),
        };
        // A resource-policy grant naming an IAM user or a role session exactly is not capped
        // by the boundary; one naming the role ARN, or `*`, is.
        let direct_ok = resource_direct.is_some_and(|h| {
            boundary_ok
                || (h.outcome.principal == PrincipalMatch::Exact
                    && boundary_exempt(&self.request.principal))
        });
        Grants {
            identity_allow,
            boundary_ok,
            resource_direct,
            resource_root,
            direct_ok,
        }
    }

    // The phrases below are written into the explanation only by the branch that uses them:
    // most decisions need none, and building them for every decision was a measurable share
    // of its cost.

    fn action_on(&self) -> impl fmt::Display + '_ {
        fmt::from_fn(|f| write!(f, "{} on {}", self.request.action, self.request.resource))
    }

    fn no_identity(&self) -> impl fmt::Display + '_ {
        fmt::from_fn(|f| write!(f, "no identity policy allows {}", self.action_on()))
    }

    fn boundary_label(&self) -> &str {
        self.set.boundary.map(|b| b.label.as_str()).unwrap_or("")
    }

    fn resource_label(&self) -> &str {
        self.set.resource.map(|r| r.label.as_str()).unwrap_or("")
    }

    fn boundary_blocks(&self, granted_by: &str) -> String {
        format!(
            "{granted_by} allows it, but the permissions boundary {} does not allow {}",
            self.boundary_label(),
            self.action_on()
        )
    }

    fn root_arn(&self) -> impl fmt::Display + '_ {
        fmt::from_fn(|f| {
            let account = crate::arn::account_in(&self.request.principal).unwrap_or("ACCOUNT");
            write!(f, "arn:aws:iam::{account}:root")
        })
    }

    fn identity_why(&self, h: &Hit<'_>) -> String {
        if self.boundary.is_some() {
            format!("{} (within the permissions boundary)", h.name())
        } else {
            h.name()
        }
    }

    /// A KMS key policy or a role trust policy (`kind`): the resource must itself allow the
    /// principal, naming it or delegating to IAM through the account root.
    fn resource_must_allow(&self, kind: &str, g: &Grants<'_, '_>) -> (Decision, String) {
        let req = self.request;
        let cross = is_cross_account(req);
        let Some(_) = self.resource else {
            // Without the key or trust policy only the identity side can be judged.
            let note = format!(
                "no {kind} given: it must also allow {} or delegate to IAM via {}, which was not checked",
                req.principal,
                self.root_arn()
            );
            return match g.identity_allow {
                Some(h) if g.boundary_ok => (
                    Decision::Allowed,
                    format!("allowed by {}; {note}", self.identity_why(h)),
                ),
                Some(h) => (
                    Decision::ImplicitDeny,
                    format!("{}; {note}", self.boundary_blocks(&h.name())),
                ),
                None => (
                    Decision::ImplicitDeny,
                    format!("{}; {note}", self.no_identity()),
                ),
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
        let resource_label = self.resource_label();
        if g.resource_direct.is_none() && g.resource_root.is_none() {
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
                    "{prefix}the {kind} {resource_label} neither names {} nor delegates to IAM via {}",
                    req.principal,
                    self.root_arn()
                ),
            );
        }
        if !cross
            && g.direct_ok
            && let Some(h) = g.resource_direct
        {
            return (
                Decision::Allowed,
                format!("{prefix}allowed by {}, which names the principal", h.name()),
            );
        }
        let grant = g
            .resource_direct
            .or(g.resource_root)
            .map(|h| h.name())
            .unwrap_or_default();
        let how = if g.resource_direct.is_some() {
            "names the principal"
        } else {
            "delegates to IAM via the account root"
        };
        match g.identity_allow {
            Some(h) if g.boundary_ok => (
                Decision::Allowed,
                format!(
                    "{prefix}{grant} {how}, and {} allows it",
                    self.identity_why(h)
                ),
            ),
            Some(h) => (
                Decision::ImplicitDeny,
                format!("{prefix}{grant} {how}; {}", self.boundary_blocks(&h.name())),
            ),
            None if g.resource_direct.is_some() && !cross => (
                Decision::ImplicitDeny,
                format!(
                    "{prefix}{grant} names the principal, but the permissions boundary {} does not allow {}",
                    self.boundary_label(),
                    self.action_on()
                ),
            ),
            None => (
                Decision::ImplicitDeny,
                format!("{prefix}{grant} {how}, but {}", self.no_identity()),
            ),
        }
    }

    /// Across accounts, the identity side and the resource policy must both allow.
    fn cross_account(&self, g: &Grants<'_, '_>) -> (Decision, String) {
        let req = self.request;
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
        let grant = g.resource_direct.or(g.resource_root);
        match (grant, g.identity_allow) {
            (None, _) => (
                Decision::ImplicitDeny,
                format!(
                    "cross-account: the resource policy {} does not allow {}",
                    self.resource_label(),
                    req.principal
                ),
            ),
            (Some(grant), None) => (
                Decision::ImplicitDeny,
                format!(
                    "cross-account: {} allows it, but {}",
                    grant.name(),
                    self.no_identity()
                ),
            ),
            (Some(grant), Some(h)) if g.boundary_ok => (
                Decision::Allowed,
                format!(
                    "cross-account: allowed by {} and by {}",
                    self.identity_why(h),
                    grant.name()
                ),
            ),
            (Some(_), Some(h)) => (
                Decision::ImplicitDeny,
                format!("cross-account: {}", self.boundary_blocks(&h.name())),
            ),
        }
    }

    /// In one account, the identity side or a resource-policy grant naming the principal
    /// suffices.
    fn same_account(&self, g: &Grants<'_, '_>) -> (Decision, String) {
        if let Some(h) = g.identity_allow
            && g.boundary_ok
        {
            return (
                Decision::Allowed,
                format!("allowed by {}", self.identity_why(h)),
            );
        }
        if g.direct_ok
            && let Some(h) = g.resource_direct
        {
            return (
                Decision::Allowed,
                format!("allowed by {}, which names the principal", h.name()),
            );
        }
        if let Some(h) = g.identity_allow.or(g.resource_direct) {
            return (Decision::ImplicitDeny, self.boundary_blocks(&h.name()));
        }
        if let Some(h) = g.resource_root {
            return (
                Decision::ImplicitDeny,
                format!(
                    "{} grants only the account root {} (delegation to IAM), and {}",
                    h.name(),
                    self.root_arn(),
                    self.no_identity()
                ),
            );
        }
        (
            Decision::ImplicitDeny,
            format!("no policy allows {}", self.action_on()),
        )
    }
}
