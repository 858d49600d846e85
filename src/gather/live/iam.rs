//! The role's facts from IAM: the role itself with its trust policy and permissions boundary
//! (`GetRole`), and its identity policies, inline and attached, each read in full.

use futures_util::future::join_all;

use super::errors::CompleteXml;
use super::recorder::{Caller, operations};
use super::{MapSome, Missing, policy_fact};
use crate::model::Values;
use crate::model::facts::{Fact, Failure, FailureKind, RoleInfo};
use crate::policy::NamedPolicy;

operations! {
    /// The IAM reads.
    pub enum IamRead {
        GetRole => "iam:GetRole",
        ListRolePolicies => "iam:ListRolePolicies",
        GetRolePolicy => "iam:GetRolePolicy",
        ListAttachedRolePolicies => "iam:ListAttachedRolePolicies",
        GetPolicy => "iam:GetPolicy",
        GetPolicyVersion => "iam:GetPolicyVersion",
    }
}

#[derive(Clone)]
pub(super) struct RoleFacts {
    pub role: Fact<Option<RoleInfo>>,
    pub identity: Fact<Vec<NamedPolicy>>,
    pub boundary: Fact<Option<NamedPolicy>>,
    pub trust: Fact<NamedPolicy>,
}

impl RoleFacts {
    fn missing(role: Option<Fact<Option<RoleInfo>>>, why: &Missing) -> Self {
        RoleFacts {
            role: role.unwrap_or_else(|| why.fact()),
            identity: why.fact(),
            boundary: why.fact(),
            trust: why.fact(),
        }
    }
}

pub(super) async fn role_facts(
    caller: &Caller,
    config: &aws_config::SdkConfig,
    values: &Values,
) -> RoleFacts {
    let Some(role_arn) = values.role.as_ref() else {
        return RoleFacts::missing(
            None,
            &Missing::Unavailable("needs a well-formed role ARN (input.values)".to_string()),
        );
    };
    let iam = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::config::Builder::from(config)
            .interceptor(CompleteXml)
            .build(),
    );
    let name = role_arn.resource_name().to_string();
    let arn_text = role_arn.to_string();

    // The policy lists need only the role's name, so they start with GetRole instead of
    // after it: that takes one round trip off the longest chain of the run (role → attached
    // policies → policy version). The boundary's ARN comes from GetRole, so its fetch follows
    // GetRole within the same branch.
    let role_and_boundary = async {
        let got = caller
            .call(
                IamRead::GetRole,
                &name,
                1,
                iam.get_role().role_name(&name).send(),
            )
            .await;
        let role = match got {
            Ok(out) => match out.role() {
                Some(r) => r.clone(),
                None => {
                    return Err(RoleFacts::missing(
                        None,
                        &Missing::Failed(Failure::new(
                            FailureKind::Other,
                            "iam:GetRole returned no role",
                        )),
                    ));
                }
            },
            Err(e) if e.is(&["NoSuchEntity"]) => {
                return Err(RoleFacts::missing(
                    Some(Fact::Known(None)),
                    &Missing::Unavailable(format!("the role {name} does not exist (role.exists)")),
                ));
            }
            Err(e) => {
                let why = caller.missing(&e, "iam:GetRole", &arn_text);
                return Err(RoleFacts::missing(None, &why));
            }
        };
        let boundary_arn = role
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .map(str::to_string);
        let boundary = match &boundary_arn {
            None => Fact::Known(None),
            Some(arn) => managed_policy(caller, &iam, arn, "permissions boundary", 2)
                .await
                .map_some(),
        };
        let info = RoleInfo {
            arn: role.arn().to_string(),
            role_id: role.role_id().to_string(),
            permissions_boundary_arn: boundary_arn,
        };
        let trust = match role.assume_role_policy_document() {
            Some(doc) => policy_fact(doc, format!("trust policy of role {name}")),
            None => Fact::failed(FailureKind::Other, "iam:GetRole returned no trust policy"),
        };
        Ok((info, trust, boundary))
    };
    let (role, inline, attached) = tokio::join!(
        role_and_boundary,
        inline_policies(caller, &iam, &name, &arn_text),
        attached_policies(caller, &iam, &name, &arn_text),
    );
    // Without the role, what the lists said (no such entity, most likely) adds nothing.
    let (info, trust, boundary) = match role {
        Ok(found) => found,
        Err(missing) => return missing,
    };
    let identity = match (inline, attached) {
        (Fact::Known(mut a), Fact::Known(b)) => {
            a.extend(b);
            Fact::Known(a)
        }
        (Fact::Failed(w), _) | (_, Fact::Failed(w)) => Fact::Failed(w),
        (Fact::Unavailable(w), _) | (_, Fact::Unavailable(w)) => Fact::Unavailable(w),
    };
    RoleFacts {
        role: Fact::Known(Some(info)),
        identity,
        boundary,
        trust,
    }
}

async fn inline_policies(
    caller: &Caller,
    iam: &aws_sdk_iam::Client,
    role: &str,
    role_arn: &str,
) -> Fact<Vec<NamedPolicy>> {
    let mut names = Vec::new();
    // Pages of a list wait on each other; the first waits on nothing.
    let mut list_depth = 0;
    let mut pages = iam
        .list_role_policies()
        .role_name(role)
        .into_paginator()
        .send();
    loop {
        match caller
            .page(
                IamRead::ListRolePolicies,
                role,
                list_depth + 1,
                pages.next(),
            )
            .await
        {
            Ok(Some(p)) => {
                list_depth += 1;
                names.extend(p.policy_names().iter().cloned())
            }
            Ok(None) => break,
            Err(e) => return caller.failed(&e, "iam:ListRolePolicies", role_arn),
        }
    }
    let list_depth: u32 = list_depth;
    let fetches = names.iter().map(|n| async move {
        match caller
            .call(
                IamRead::GetRolePolicy,
                &format!("{role}/{n}"),
                list_depth + 1,
                iam.get_role_policy().role_name(role).policy_name(n).send(),
            )
            .await
        {
            Ok(out) => policy_fact(out.policy_document(), format!("inline policy {n}")),
            Err(e) => caller.failed(&e, "iam:GetRolePolicy", role_arn),
        }
    });
    collect_policies(join_all(fetches).await)
}

async fn attached_policies(
    caller: &Caller,
    iam: &aws_sdk_iam::Client,
    role: &str,
    role_arn: &str,
) -> Fact<Vec<NamedPolicy>> {
    let mut arns = Vec::new();
    let mut list_depth = 0;
    let mut pages = iam
        .list_attached_role_policies()
        .role_name(role)
        .into_paginator()
        .send();
    loop {
        match caller
            .page(
                IamRead::ListAttachedRolePolicies,
                role,
                list_depth + 1,
                pages.next(),
            )
            .await
        {
            Ok(Some(p)) => {
                list_depth += 1;
                arns.extend(
                    p.attached_policies()
                        .iter()
                        .filter_map(|a| a.policy_arn().map(str::to_string)),
                )
            }
            Ok(None) => break,
            Err(e) => return caller.failed(&e, "iam:ListAttachedRolePolicies", role_arn),
        }
    }
    let fetches = arns
        .iter()
        .map(|arn| managed_policy(caller, iam, arn, "managed policy", list_depth + 1));
    collect_policies(join_all(fetches).await)
}

/// A managed policy's default version (GetPolicy, then GetPolicyVersion).
async fn managed_policy(
    caller: &Caller,
    iam: &aws_sdk_iam::Client,
    arn: &str,
    what: &str,
    depth: u32,
) -> Fact<NamedPolicy> {
    let version = match caller
        .call(
            IamRead::GetPolicy,
            arn,
            depth,
            iam.get_policy().policy_arn(arn).send(),
        )
        .await
    {
        Ok(out) => match out.policy().and_then(|p| p.default_version_id()) {
            Some(v) => v.to_string(),
            None => {
                return Fact::failed(
                    FailureKind::Other,
                    format!("iam:GetPolicy on {arn} gave no default version"),
                );
            }
        },
        Err(e) => return caller.failed(&e, "iam:GetPolicy", arn),
    };
    match caller
        .call(
            IamRead::GetPolicyVersion,
            arn,
            depth + 1,
            iam.get_policy_version()
                .policy_arn(arn)
                .version_id(&version)
                .send(),
        )
        .await
    {
        Ok(out) => match out.policy_version().and_then(|v| v.document()) {
            Some(doc) => policy_fact(doc, format!("{what} {arn}")),
            None => Fact::failed(
                FailureKind::Other,
                format!("iam:GetPolicyVersion on {arn} gave no document"),
            ),
        },
        Err(e) => caller.failed(&e, "iam:GetPolicyVersion", arn),
    }
}

fn collect_policies(facts: Vec<Fact<NamedPolicy>>) -> Fact<Vec<NamedPolicy>> {
    let mut out = Vec::new();
    for f in facts {
        match f {
            Fact::Known(p) => out.push(p),
            Fact::Failed(w) => return Fact::Failed(w),
            Fact::Unavailable(w) => return Fact::Unavailable(w),
        }
    }
    Fact::Known(out)
}
