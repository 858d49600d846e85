//! Live mode: reads the attachment's state from AWS with read-only calls, concurrently, each
//! fact once, within an overall deadline, and records every call as evidence.
//!
//! Only these operations are ever called here, all reads, each declared by its service's
//! module: sts:GetCallerIdentity (`session`); s3:HeadBucket, GetBucketLocation,
//! GetBucketEncryption, GetBucketPolicy, GetPublicAccessBlock, ListBuckets (only for a bucket
//! that does not exist) (`s3`); kms:DescribeKey, ListAliases, GetKeyPolicy (`kms`);
//! iam:GetRole, ListRolePolicies, GetRolePolicy, ListAttachedRolePolicies, GetPolicy,
//! GetPolicyVersion (`iam`); organizations:DescribeOrganization, ListRoots, ListParents,
//! DescribeOrganizationalUnit, ListPoliciesForTarget, DescribePolicy, with the credentials
//! that can read the organization (`organizations`). [`operations`] lists them; `permissions` prints the IAM policy
//! that allows exactly these, and its tests hold the two in step. The one writing path, the
//! `--probe` write probe, is [`super::probe`], reached from here only when asked for.
//!
//! A call AWS refuses becomes `Fact::Failed` naming the permission the tool needs; a call that
//! does not answer in time becomes `Fact::Failed` saying so; the other facts are unaffected.
//! Each failure has a [`FailureKind`] (`errors` classifies the SDK's errors); `recorder`
//! holds every call to the deadline and records it.

mod errors;
mod iam;
mod kms;
mod organizations;
pub(super) mod recorder;
pub(super) mod s3;
mod session;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use self::iam::{IamRead, RoleFacts, role_facts};
use self::kms::{KeyFacts, KmsRead, key_facts};
use self::organizations::{OrgCells, OrgRead, OrgReader, org_policies};
use self::recorder::{Caller, Operation};
use self::s3::{BucketFacts, S3Read, bucket_facts};
use self::session::{StsRead, caller_identity, load_config};
use crate::model::Values;
use crate::model::attachment::{Access, Attachment};
use crate::model::facts::{
    BucketHead, CallerIdentity, Fact, Facts, Failure, FailureKind, Mode, OrgPolicies,
};
use crate::policy::{NamedPolicy, parse_policy};

pub(super) use self::errors::{CallError, ErrorKind};
pub use self::s3::normalize_location;
pub use self::session::LiveOptions;

/// Every operation live mode calls, by service: what `permissions` must grant.
pub fn operations() -> Vec<&'static str> {
    let sts = StsRead::ALL.iter().map(|o| o.name());
    let s3 = S3Read::ALL.iter().map(|o| o.name());
    let kms = KmsRead::ALL.iter().map(|o| o.name());
    let iam = IamRead::ALL.iter().map(|o| o.name());
    let organizations = OrgRead::ALL.iter().map(|o| o.name());
    sts.chain(s3)
        .chain(kms)
        .chain(iam)
        .chain(organizations)
        .collect()
}

type Cells<K, V> = Mutex<HashMap<K, Arc<OnceCell<V>>>>;

/// One run's connection to AWS, shared by every attachment it checks: each fact (a role, a
/// key, a bucket, the caller's identity, an account's place in its organization and the
/// policies there) is fetched once per set of credentials, however many attachments share it.
pub struct LiveSession {
    options: LiveOptions,
    configs: Cells<(Access, String), aws_config::SdkConfig>,
    callers: Cells<Access, Fact<CallerIdentity>>,
    buckets: Cells<(Access, String), BucketFacts>,
    keys: Cells<(Access, String), KeyFacts>,
    roles: Cells<(Access, String), RoleFacts>,
    organizations: OrgCells,
}

/// The value of `key`'s cell, computed by `init` by whoever asks first; others wait for it.
async fn once<K, V, F>(cells: &Cells<K, V>, key: K, init: F) -> V
where
    K: Eq + std::hash::Hash,
    V: Clone,
    F: Future<Output = V>,
{
    let cell = match cells.lock() {
        Ok(mut map) => map.entry(key).or_default().clone(),
        // A poisoned map only means another task panicked; compute without sharing.
        Err(_) => Arc::new(OnceCell::new()),
    };
    cell.get_or_init(|| init).await.clone()
}

impl LiveSession {
    pub fn new(options: LiveOptions) -> Self {
        LiveSession {
            options,
            configs: Mutex::default(),
            callers: Mutex::default(),
            buckets: Mutex::default(),
            keys: Mutex::default(),
            roles: Mutex::default(),
            organizations: OrgCells::default(),
        }
    }

    async fn config(&self, access: &Access, region: &str) -> aws_config::SdkConfig {
        once(
            &self.configs,
            (access.clone(), region.to_string()),
            load_config(&self.options, access, region),
        )
        .await
    }

    /// Reads every fact the checks need for one attachment. `org_access` reads the
    /// organization's policies; without it, `access` does.
    pub async fn gather(
        &self,
        attachment: &Attachment,
        values: &Values,
        access: &Access,
        org_access: Option<&Access>,
    ) -> Facts {
        let region = values
            .region
            .clone()
            .unwrap_or_else(|| attachment.region.clone());
        let config = self.config(access, &region).await;
        let caller = Caller::new(self.options.timeout);
        let opts = &self.options;
        let bucket_key = values.bucket.clone().unwrap_or_default();
        let key_key = attachment.kms_key.clone();
        let role_key = values
            .role
            .as_ref()
            .map(|r| r.to_string())
            .unwrap_or_default();

        let identity = || {
            once(
                &self.callers,
                access.clone(),
                caller_identity(&caller, &config, opts, access),
            )
        };
        let (identity, bucket, key, role, organization) = tokio::join!(
            identity(),
            once(
                &self.buckets,
                (access.clone(), bucket_key),
                bucket_facts(&caller, &config, opts, values)
            ),
            once(
                &self.keys,
                (access.clone(), key_key),
                key_facts(&caller, &config, values)
            ),
            once(
                &self.roles,
                (access.clone(), role_key),
                role_facts(&caller, &config, values)
            ),
            // Boxed: its reads nest deeply, and the whole gather runs on the caller's stack.
            Box::pin(self.organization(&caller, values, access, org_access, &region, identity())),
        );

        let mut facts = Facts {
            mode: Mode::Live,
            caller: identity,
            ..Facts::default()
        };
        facts.bucket_head = credible_head(bucket.head, &facts.caller);
        facts.bucket_region = bucket.region;
        facts.bucket_owner_account = bucket.owner;
        facts.bucket_not_owned_by = bucket.not_owned_by;
        facts.bucket_encryption = bucket.encryption;
        facts.public_access_block = bucket.public_access;
        facts.bucket_policy = bucket.policy;
        facts.caller_buckets = bucket.listed;
        facts.key = key.metadata;
        facts.key_aliases = key.aliases;
        facts.key_policy = key.policy;
        facts.role = role.role;
        facts.identity_policies = role.identity;
        facts.permissions_boundary = role.boundary;
        facts.role_trust_policy = role.trust;
        facts.organization = organization;
        facts.probe = if self.options.probe {
            super::probe::probe(&caller, &config, opts, values, &facts).await
        } else {
            Fact::Unavailable(
                "not requested (--probe writes to the bucket, so it is opt-in)".into(),
            )
        };
        facts.calls = caller.into_records();
        facts
    }
}

impl LiveSession {
    /// The organization policies that apply to the role's account. `identity` is the
    /// attachment's caller identity (shared with the rest of the gather, so not asked twice).
    async fn organization(
        &self,
        caller: &Caller,
        values: &Values,
        access: &Access,
        org_access: Option<&Access>,
        region: &str,
        identity: impl Future<Output = Fact<CallerIdentity>>,
    ) -> Fact<Option<OrgPolicies>> {
        let Some(account) = values.role.as_ref().map(|r| r.account.clone()) else {
            return Fact::Unavailable("needs a well-formed role ARN (input.values)".to_string());
        };
        let reader_access = org_access.unwrap_or(access);
        let own_account = match org_access {
            Some(_) => None,
            None => match identity.await {
                Fact::Known(i) => Some(i.account.clone()),
                // The tool's own way to AWS failed: the organization's reads would fail the
                // same way (or run past the time limit the wait used up), and the report must
                // name the call that failed, not the next one.
                Fact::Failed(failure)
                    if matches!(
                        failure.kind,
                        FailureKind::Credentials
                            | FailureKind::ExpiredCredentials
                            | FailureKind::Timeout
                            | FailureKind::Network
                            | FailureKind::Endpoint
                    ) =>
                {
                    return Fact::Failed(failure);
                }
                _ => None,
            },
        };
        let config = self.config(reader_access, region).await;
        let reader = OrgReader {
            access: reader_access,
            dedicated: org_access.is_some(),
            own_account,
        };
        org_policies(&self.organizations, caller, &config, reader, &account).await
    }
}

/// HeadBucket's bare status, unless the credentials it was sent with are rejected: S3 answers
/// a HEAD with bad credentials with the same 403 (or 400) as a HEAD it refuses, so when
/// sts:GetCallerIdentity rejected the same credentials the status proves nothing about the
/// bucket, and the fact is the credentials' failure.
fn credible_head(head: Fact<BucketHead>, caller: &Fact<CallerIdentity>) -> Fact<BucketHead> {
    match (&head, caller) {
        (Fact::Known(h), Fact::Failed(why))
            if why.kind.is_credentials() && matches!(h.status, 400 | 403) =>
        {
            Fact::Failed(Failure::new(
                why.kind,
                format!(
                    "HeadBucket answered HTTP {}, which says nothing about the bucket with credentials AWS rejected ({})",
                    h.status, why.message
                ),
            ))
        }
        _ => head,
    }
}

/// A policy document from AWS, parsed. A document AWS returned that does not parse is not
/// the user's input error: the checks that need it are `error`, with the parser's reason.
fn policy_fact(text: &str, label: String) -> Fact<NamedPolicy> {
    match parse_policy(text) {
        Ok(document) => Fact::Known(NamedPolicy { label, document }),
        Err(e) => Fact::failed(
            FailureKind::Other,
            format!(
                "{label} as returned by AWS does not parse: line {}, column {}: {}",
                e.line, e.column, e.message
            ),
        ),
    }
}

/// Why a group of facts is missing; makes a `Fact` of any type.
#[derive(Clone)]
enum Missing {
    Unavailable(String),
    Failed(Failure),
}

impl Missing {
    fn fact<T>(&self) -> Fact<T> {
        match self {
            Missing::Unavailable(w) => Fact::Unavailable(w.clone()),
            Missing::Failed(w) => Fact::Failed(w.clone()),
        }
    }

    /// The reason behind a fact that is not known.
    fn of<T>(fact: &Fact<T>) -> Missing {
        match fact {
            Fact::Unavailable(w) => Missing::Unavailable(w.clone()),
            Fact::Failed(w) => Missing::Failed(w.clone()),
            Fact::Known(_) => Missing::Failed(Failure::new(FailureKind::Other, String::new())),
        }
    }
}

trait MapSome<T> {
    fn map_some(self) -> Fact<Option<T>>;
}

impl<T> MapSome<T> for Fact<T> {
    fn map_some(self) -> Fact<Option<T>> {
        match self {
            Fact::Known(v) => Fact::Known(Some(v)),
            Fact::Unavailable(w) => Fact::Unavailable(w),
            Fact::Failed(w) => Fact::Failed(w),
        }
    }
}
