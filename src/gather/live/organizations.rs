//! The AWS Organizations policies that apply to the role's account: whether the account is in
//! an organization and which is its management account (`DescribeOrganization`), whether
//! SCPs and RCPs are enabled (`ListRoots`), the account's path up to the root (`ListParents`,
//! with OU names from `DescribeOrganizationalUnit`), and the SCPs and RCPs attached at each
//! level (`ListPoliciesForTarget`, `DescribePolicy`).
//!
//! All but `DescribeOrganization` answer only the management account or a delegated
//! administrator, so these reads may use their own credentials (`org_profile`,
//! `org_assume_role_arn`). Policies the organization refuses to show are `Unavailable`: the
//! check that judges them is `skip`, saying how to give credentials that can read them. When
//! the reads fail as every read does (no network, a wrong endpoint, no time, credentials
//! rejected), they are `Failed` with that kind, one more fact that cause stopped.
//! In a fleet, the organization, each OU's and each account's place and policies, and each
//! policy's content are read once per set of reading credentials.

use futures_util::future::join_all;

use aws_sdk_organizations::types::{ParentType, PolicyType, PolicyTypeStatus};

use super::errors::CallError;
use super::recorder::{Caller, operations};
use super::{Cells, once, policy_fact};
use crate::model::attachment::Access;
use crate::model::facts::{Fact, FailureKind, OrgLevel, OrgLevelKind, OrgPolicies, OrgPolicy};

operations! {
    /// The Organizations reads (only for the organization's policies; see `permissions`).
    pub enum OrgRead {
        DescribeOrganization => "organizations:DescribeOrganization",
        ListRoots => "organizations:ListRoots",
        ListParents => "organizations:ListParents",
        DescribeOrganizationalUnit => "organizations:DescribeOrganizationalUnit",
        ListPoliciesForTarget => "organizations:ListPoliciesForTarget",
        DescribePolicy => "organizations:DescribePolicy",
    }
}

/// AWS allows OUs five levels deep; a longer chain of parents is an answer not to follow.
const MAX_OU_DEPTH: usize = 8;

/// Whose credentials read the organization.
pub(super) struct OrgReader<'a> {
    pub access: &'a Access,
    /// The attachment named them (`org_profile`, `org_assume_role_arn`); otherwise they are
    /// the attachment's own.
    pub dedicated: bool,
    /// The account the attachment's own credentials belong to, when known: an answer "not in
    /// an organization" about another account says nothing of the role's.
    pub own_account: Option<String>,
}

/// The organization as its root describes it.
#[derive(Debug, Clone)]
enum Organization {
    NotInUse,
    In(Root),
}

#[derive(Debug, Clone)]
struct Root {
    /// The organization's ID (`o-...`), not the root's.
    organization_id: Option<String>,
    management_account: Option<String>,
    id: String,
    name: String,
    scps_enabled: bool,
    rcps_enabled: bool,
}

/// One step up the tree.
#[derive(Debug, Clone)]
enum Parent {
    Root,
    Unit(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Scp,
    Rcp,
}

impl Kind {
    fn policy_type(self) -> PolicyType {
        match self {
            Kind::Scp => PolicyType::ServiceControlPolicy,
            Kind::Rcp => PolicyType::ResourceControlPolicy,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Scp => "service control policy",
            Kind::Rcp => "resource control policy",
        }
    }
}

/// A policy attached to a target, before its content is read.
#[derive(Debug, Clone)]
struct Attached {
    id: String,
    name: String,
    aws_managed: bool,
}

/// A read that failed, with the permission it needed and what it was about.
#[derive(Debug, Clone)]
struct ReadError {
    error: CallError,
    permission: &'static str,
    target: String,
}

type Read<T> = Result<T, ReadError>;

/// What a run learned of organizations, shared by every attachment; each key starts with the
/// credentials that read it, since another reader may see another organization or nothing.
#[derive(Default)]
pub(super) struct OrgCells {
    organizations: Cells<Access, Read<Organization>>,
    parents: Cells<(Access, String), Read<Parent>>,
    unit_names: Cells<(Access, String), String>,
    attached: Cells<(Access, String, Kind), Read<Vec<Attached>>>,
    contents: Cells<(Access, String), Read<Fact<OrgPolicy>>>,
    accounts: Cells<(Access, String), Fact<Option<OrgPolicies>>>,
}

/// The organization's policies that apply to `account`, read with `reader`'s credentials.
pub(super) async fn org_policies(
    cells: &OrgCells,
    caller: &Caller,
    config: &aws_config::SdkConfig,
    reader: OrgReader<'_>,
    account: &str,
) -> Fact<Option<OrgPolicies>> {
    let client = aws_sdk_organizations::Client::new(config);
    let reads = Reads {
        cells,
        caller,
        client: &client,
        access: reader.access,
    };
    once(
        &cells.accounts,
        (reader.access.clone(), account.to_string()),
        async {
            match reads.account(account).await {
                Ok(Some(policies)) => Fact::Known(Some(policies)),
                Ok(None) => not_in_organization(&reader, account),
                // Not reaching AWS, or credentials it rejects, stops every read alike: the
                // organization's policies are as undetermined as the rest, for the same
                // reason, so they join that one cause. Only a refusal of the organization
                // reads themselves (a member account, a target not found) is the usual case
                // that `org_profile` answers.
                Err(e) if stops_every_read(e.error.failure_kind()) => {
                    let target = if e.target.is_empty() { "*" } else { &e.target };
                    caller.failed(&e.error, e.permission, target)
                }
                Err(e) => Fact::Unavailable(unreadable(&reader, account, &e)),
            }
        },
    )
    .await
}

/// A failure that is the tool's way to AWS (network, endpoint, time, credentials), not the
/// organization refusing its reads.
fn stops_every_read(kind: FailureKind) -> bool {
    matches!(
        kind,
        FailureKind::Network
            | FailureKind::Endpoint
            | FailureKind::Timeout
            | FailureKind::Credentials
            | FailureKind::ExpiredCredentials
    )
}

/// "Not in an organization" answered for the reading credentials' own account: about the
/// role's account only when that is the one they belong to.
fn not_in_organization(reader: &OrgReader<'_>, account: &str) -> Fact<Option<OrgPolicies>> {
    match (&reader.own_account, reader.dedicated) {
        (Some(own), false) if own == account => Fact::Known(None),
        (None, false) => Fact::Known(None),
        (Some(own), false) => Fact::Unavailable(format!(
            "the account the tool reads with ({own}) is in no AWS organization, which says nothing \
             of the role's account {account}; {WAY_OUT}"
        )),
        (_, true) => Fact::Unavailable(format!(
            "the organization credentials ({}) belong to an account in no AWS organization; \
             {WAY_OUT}",
            describe(reader.access)
        )),
    }
}

/// How to give credentials that can read the organization's policies.
const WAY_OUT: &str = "SCPs and RCPs are readable only from the organization's management \
     account or a delegated administrator: name credentials there with `org_profile` or \
     `org_assume_role_arn` (config, per attachment or in [defaults]) or --org-profile / \
     --org-assume-role-arn";

fn unreadable(reader: &OrgReader<'_>, account: &str, e: &ReadError) -> String {
    let who = if reader.dedicated {
        format!("the organization credentials ({})", describe(reader.access))
    } else {
        "the attachment's own credentials".to_string()
    };
    let target = if e.target.is_empty() {
        String::new()
    } else {
        format!(" on {}", e.target)
    };
    format!(
        "the organization policies that apply to account {account} could not be read with {who}: \
         {}{target} answered {}; {WAY_OUT}",
        e.permission,
        e.error.brief().trim_end_matches('.')
    )
}

/// The credentials, in a few words.
fn describe(access: &Access) -> String {
    let mut parts = Vec::new();
    if let Some(p) = &access.profile {
        parts.push(format!("profile `{p}`"));
    }
    if let Some(r) = &access.assume_role_arn {
        parts.push(format!("role {r}"));
    }
    if parts.is_empty() {
        "the default credentials".to_string()
    } else {
        parts.join(", ")
    }
}

struct Reads<'a> {
    cells: &'a OrgCells,
    caller: &'a Caller,
    client: &'a aws_sdk_organizations::Client,
    access: &'a Access,
}

impl Reads<'_> {
    /// The account's policies by level; `None` when the reader is in no organization.
    async fn account(&self, account: &str) -> Read<Option<OrgPolicies>> {
        let Organization::In(root) = self.organization().await? else {
            return Ok(None);
        };
        let mut policies = OrgPolicies {
            id: root.organization_id.clone(),
            management_account: root.management_account.clone(),
            account: account.to_string(),
            scps_enabled: root.scps_enabled,
            rcps_enabled: root.rcps_enabled,
            levels: Vec::new(),
        };
        // Neither type enabled: no policy applies, whatever is attached.
        if !root.scps_enabled && !root.rcps_enabled {
            return Ok(Some(policies));
        }
        let units = self.path(account).await?;
        let mut targets = vec![(OrgLevelKind::Root, root.id.clone())];
        targets.extend(
            units
                .iter()
                .rev()
                .map(|u| (OrgLevelKind::OrganizationalUnit, u.clone())),
        );
        targets.push((OrgLevelKind::Account, account.to_string()));
        // The path took one ListParents per OU and one for the root, from depth 3.
        let base_depth = 4 + units.len() as u32;
        let levels = join_all(
            targets
                .into_iter()
                .map(|(kind, id)| self.level(&root, kind, id, base_depth)),
        )
        .await;
        policies.levels = levels.into_iter().collect::<Read<Vec<_>>>()?;
        Ok(Some(policies))
    }

    /// DescribeOrganization and ListRoots, once per reader.
    async fn organization(&self) -> Read<Organization> {
        once(&self.cells.organizations, self.access.clone(), async {
            let described = self
                .caller
                .call(
                    OrgRead::DescribeOrganization,
                    "",
                    1,
                    self.client.describe_organization().send(),
                )
                .await;
            let organization = match described {
                Ok(out) => out.organization().cloned().unwrap_or_else(|| {
                    aws_sdk_organizations::types::Organization::builder().build()
                }),
                Err(e) if e.is(&["AWSOrganizationsNotInUseException"]) => {
                    return Ok(Organization::NotInUse);
                }
                Err(error) => {
                    return Err(ReadError {
                        error,
                        permission: "organizations:DescribeOrganization",
                        target: String::new(),
                    });
                }
            };
            let roots = self
                .caller
                .call(
                    OrgRead::ListRoots,
                    organization.id().unwrap_or_default(),
                    2,
                    self.client.list_roots().send(),
                )
                .await
                .map_err(|error| ReadError {
                    error,
                    permission: "organizations:ListRoots",
                    target: organization.id().unwrap_or_default().to_string(),
                })?;
            let root = roots
                .roots()
                .first()
                .cloned()
                .unwrap_or_else(|| aws_sdk_organizations::types::Root::builder().build());
            let enabled = |wanted: PolicyType| {
                root.policy_types().iter().any(|t| {
                    t.r#type() == Some(&wanted) && t.status() == Some(&PolicyTypeStatus::Enabled)
                })
            };
            // Without all features (consolidated billing only), neither type exists.
            let all_features = organization
                .feature_set()
                .is_none_or(|f| f.as_str() == "ALL");
            let id = root.id().unwrap_or_default().to_string();
            Ok(Organization::In(Root {
                organization_id: organization.id().map(str::to_string),
                management_account: organization.master_account_id().map(str::to_string),
                name: root.name().map_or_else(|| id.clone(), str::to_string),
                id,
                scps_enabled: all_features && enabled(PolicyType::ServiceControlPolicy),
                rcps_enabled: all_features && enabled(PolicyType::ResourceControlPolicy),
            }))
        })
        .await
    }

    /// The OUs from the account's parent up to the one under the root (empty for an account
    /// directly under the root).
    async fn path(&self, account: &str) -> Read<Vec<String>> {
        let mut units = Vec::new();
        let mut child = account.to_string();
        for depth in 0..=MAX_OU_DEPTH {
            match self.parent(&child, 3 + depth as u32).await? {
                Parent::Root => return Ok(units),
                Parent::Unit(id) => {
                    units.push(id.clone());
                    child = id;
                }
            }
        }
        Err(ReadError {
            error: CallError {
                code: String::new(),
                message: format!(
                    "a chain of more than {MAX_OU_DEPTH} organizational units, deeper than AWS allows"
                ),
                status: None,
                bucket_region: None,
                kind: super::ErrorKind::Unreadable,
            },
            permission: "organizations:ListParents",
            target: account.to_string(),
        })
    }

    async fn parent(&self, child: &str, depth: u32) -> Read<Parent> {
        once(
            &self.cells.parents,
            (self.access.clone(), child.to_string()),
            async {
                let out = self
                    .caller
                    .call(
                        OrgRead::ListParents,
                        child,
                        depth,
                        self.client.list_parents().child_id(child).send(),
                    )
                    .await
                    .map_err(|error| ReadError {
                        error,
                        permission: "organizations:ListParents",
                        target: child.to_string(),
                    })?;
                match out.parents().first() {
                    Some(p) if p.r#type() == Some(&ParentType::OrganizationalUnit) => {
                        Ok(Parent::Unit(p.id().unwrap_or_default().to_string()))
                    }
                    Some(_) => Ok(Parent::Root),
                    None => Err(ReadError {
                        error: CallError {
                            code: String::new(),
                            message:
                                "no parent, so the account's place in the organization is not known"
                                    .to_string(),
                            status: None,
                            bucket_region: None,
                            kind: super::ErrorKind::Unreadable,
                        },
                        permission: "organizations:ListParents",
                        target: child.to_string(),
                    }),
                }
            },
        )
        .await
    }

    /// One level: its name and the policies attached to it directly.
    async fn level(
        &self,
        root: &Root,
        kind: OrgLevelKind,
        id: String,
        depth: u32,
    ) -> Read<OrgLevel> {
        let name = async {
            match kind {
                OrgLevelKind::Root => root.name.clone(),
                OrgLevelKind::Account => id.clone(),
                OrgLevelKind::OrganizationalUnit => self.unit_name(&id, depth).await,
            }
        };
        let scps = async {
            if root.scps_enabled {
                self.policies(&id, Kind::Scp, depth).await
            } else {
                Ok(Vec::new())
            }
        };
        let rcps = async {
            if root.rcps_enabled {
                self.policies(&id, Kind::Rcp, depth).await
            } else {
                Ok(Vec::new())
            }
        };
        let (name, scps, rcps) = tokio::join!(name, scps, rcps);
        Ok(OrgLevel {
            kind,
            id,
            name,
            scps: scps?,
            rcps: rcps?,
        })
    }

    /// An OU's name; its ID when it cannot be read (the name is for the report only).
    async fn unit_name(&self, id: &str, depth: u32) -> String {
        once(
            &self.cells.unit_names,
            (self.access.clone(), id.to_string()),
            async {
                self.caller
                    .call(
                        OrgRead::DescribeOrganizationalUnit,
                        id,
                        depth,
                        self.client
                            .describe_organizational_unit()
                            .organizational_unit_id(id)
                            .send(),
                    )
                    .await
                    .ok()
                    .and_then(|out| {
                        out.organizational_unit()
                            .and_then(|u| u.name())
                            .map(str::to_string)
                    })
                    .unwrap_or_else(|| id.to_string())
            },
        )
        .await
    }

    /// The policies of one type attached to `target`, each with its content.
    async fn policies(&self, target: &str, kind: Kind, depth: u32) -> Read<Vec<OrgPolicy>> {
        let attached = self.attached(target, kind, depth).await?;
        let contents = join_all(attached.iter().map(|a| self.content(a, kind, depth + 1))).await;
        let mut policies = Vec::new();
        for content in contents {
            match content? {
                Fact::Known(policy) => policies.push(policy),
                // A document AWS returned that does not parse: the level cannot be judged.
                Fact::Failed(f) => {
                    return Err(ReadError {
                        error: CallError {
                            code: String::new(),
                            message: f.message,
                            status: None,
                            bucket_region: None,
                            kind: super::ErrorKind::Unreadable,
                        },
                        permission: "organizations:DescribePolicy",
                        target: target.to_string(),
                    });
                }
                Fact::Unavailable(_) => {}
            }
        }
        Ok(policies)
    }

    async fn attached(&self, target: &str, kind: Kind, depth: u32) -> Read<Vec<Attached>> {
        once(
            &self.cells.attached,
            (self.access.clone(), target.to_string(), kind),
            async {
                let mut found = Vec::new();
                let mut page_depth = depth;
                let mut pages = self
                    .client
                    .list_policies_for_target()
                    .target_id(target)
                    .filter(kind.policy_type())
                    .into_paginator()
                    .send();
                loop {
                    let page = self
                        .caller
                        .page(
                            OrgRead::ListPoliciesForTarget,
                            target,
                            page_depth,
                            pages.next(),
                        )
                        .await;
                    match page {
                        // Pages may be empty with a NextToken (the API says so): keep going.
                        Ok(Some(p)) => {
                            page_depth += 1;
                            found.extend(p.policies().iter().map(|s| Attached {
                                id: s.id().unwrap_or_default().to_string(),
                                name: s.name().unwrap_or_default().to_string(),
                                aws_managed: s.aws_managed(),
                            }));
                        }
                        Ok(None) => return Ok(found),
                        Err(error) => {
                            return Err(ReadError {
                                error,
                                permission: "organizations:ListPoliciesForTarget",
                                target: target.to_string(),
                            });
                        }
                    }
                }
            },
        )
        .await
    }

    /// A policy's document, read once per reader however many levels it is attached to.
    async fn content(&self, attached: &Attached, kind: Kind, depth: u32) -> Read<Fact<OrgPolicy>> {
        once(
            &self.cells.contents,
            (self.access.clone(), attached.id.clone()),
            async {
                let out = self
                    .caller
                    .call(
                        OrgRead::DescribePolicy,
                        &attached.id,
                        depth,
                        self.client.describe_policy().policy_id(&attached.id).send(),
                    )
                    .await
                    .map_err(|error| ReadError {
                        error,
                        permission: "organizations:DescribePolicy",
                        target: attached.id.clone(),
                    })?;
                let label = format!("{} {} ({})", kind.label(), attached.name, attached.id);
                let text = out.policy().and_then(|p| p.content()).unwrap_or_default();
                Ok(match policy_fact(text, label) {
                    Fact::Known(policy) => Fact::Known(OrgPolicy {
                        id: attached.id.clone(),
                        name: attached.name.clone(),
                        aws_managed: attached.aws_managed,
                        policy,
                    }),
                    Fact::Failed(f) => Fact::Failed(f),
                    Fact::Unavailable(w) => Fact::Unavailable(w),
                })
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader<'a>(access: &'a Access, dedicated: bool, own: Option<&str>) -> OrgReader<'a> {
        OrgReader {
            access,
            dedicated,
            own_account: own.map(str::to_string),
        }
    }

    #[test]
    fn only_the_tools_way_to_aws_stops_the_organization_reads_as_a_failure() {
        use FailureKind::*;
        for kind in [Network, Endpoint, Timeout, Credentials, ExpiredCredentials] {
            assert!(stops_every_read(kind), "{kind:?}");
        }
        // A member account refused ListRoots, AccountNotFound: `org_profile` is the way out.
        for kind in [AccessDenied, Service, Unreadable, Other] {
            assert!(!stops_every_read(kind), "{kind:?}");
        }
    }

    #[test]
    fn not_in_an_organization_only_when_the_reader_is_the_account() {
        let own = Access::default();
        assert_eq!(
            not_in_organization(&reader(&own, false, Some("111122223333")), "111122223333"),
            Fact::Known(None)
        );
        // The tool reads with an audit account's credentials: its org says nothing of the role's.
        let Fact::Unavailable(why) =
            not_in_organization(&reader(&own, false, Some("999988887777")), "111122223333")
        else {
            panic!("expected unavailable");
        };
        assert!(
            why.contains("999988887777") && why.contains("org_profile"),
            "{why}"
        );
        let org = Access {
            profile: Some("mgmt".into()),
            ..Access::default()
        };
        let Fact::Unavailable(why) =
            not_in_organization(&reader(&org, true, Some("111122223333")), "111122223333")
        else {
            panic!("expected unavailable");
        };
        assert!(why.contains("profile `mgmt`"), "{why}");
    }
}
