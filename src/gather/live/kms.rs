//! The key's facts from KMS, asked in the key's own region: what it is and its state
//! (`DescribeKey`, by key or alias ARN), the aliases that point at it, and its key policy.

use super::Missing;
use super::policy_fact;
use super::recorder::{Caller, operations};
use crate::model::Values;
use crate::model::facts::{Fact, Failure, FailureKind, KeyMetadata};
use crate::model::values::KmsKeyRef;
use crate::policy::NamedPolicy;

operations! {
    /// The KMS reads.
    pub enum KmsRead {
        DescribeKey => "kms:DescribeKey",
        ListAliases => "kms:ListAliases",
        GetKeyPolicy => "kms:GetKeyPolicy",
    }
}

#[derive(Clone)]
pub(super) struct KeyFacts {
    pub metadata: Fact<Option<KeyMetadata>>,
    pub aliases: Fact<Vec<String>>,
    pub policy: Fact<NamedPolicy>,
}

impl KeyFacts {
    fn missing(metadata: Option<Fact<Option<KeyMetadata>>>, why: &Missing) -> Self {
        KeyFacts {
            metadata: metadata.unwrap_or_else(|| why.fact()),
            aliases: why.fact(),
            policy: why.fact(),
        }
    }
}

pub(super) async fn key_facts(
    caller: &Caller,
    config: &aws_config::SdkConfig,
    values: &Values,
) -> KeyFacts {
    let (key_id, key_region) = match &values.key {
        Some(KmsKeyRef::Key(arn) | KmsKeyRef::Alias(arn)) => (arn.to_string(), arn.region.clone()),
        Some(KmsKeyRef::BareId(id)) => (id.clone(), values.region.clone().unwrap_or_default()),
        None => {
            return KeyFacts::missing(
                None,
                &Missing::Unavailable("needs a well-formed KMS key (input.values)".to_string()),
            );
        }
    };
    // KMS calls go to the key's own region.
    let kms = aws_sdk_kms::Client::from_conf(
        aws_sdk_kms::config::Builder::from(config)
            .region(aws_sdk_kms::config::Region::new(key_region))
            .build(),
    );
    let described = caller
        .call(
            KmsRead::DescribeKey,
            &key_id,
            1,
            kms.describe_key().key_id(&key_id).send(),
        )
        .await;
    let meta = match described {
        Ok(out) => match out.key_metadata() {
            Some(m) => m.clone(),
            None => {
                return KeyFacts::missing(
                    None,
                    &Missing::Failed(Failure::new(
                        FailureKind::Other,
                        "kms:DescribeKey returned no key metadata",
                    )),
                );
            }
        },
        Err(e) if e.is(&["NotFoundException"]) => {
            return KeyFacts::missing(
                Some(Fact::Known(None)),
                &Missing::Unavailable(format!("KMS has no key {key_id} (kms.key, kms.alias)")),
            );
        }
        Err(e) => {
            let why = caller.missing(&e, "kms:DescribeKey", &key_id);
            return KeyFacts::missing(None, &why);
        }
    };
    let key_arn = meta.arn().unwrap_or(&key_id).to_string();
    let metadata = KeyMetadata {
        arn: key_arn.clone(),
        key_id: meta.key_id().to_string(),
        enabled: meta.enabled(),
        key_state: meta
            .key_state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        key_usage: meta
            .key_usage()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        key_spec: meta
            .key_spec()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        key_manager: meta
            .key_manager()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        deletion_date: meta.deletion_date().and_then(|d| {
            d.fmt(aws_sdk_kms::primitives::DateTimeFormat::DateTime)
                .ok()
        }),
    };

    let key_uuid = metadata.key_id.clone();
    let (aliases, policy) = tokio::join!(
        async {
            let mut names = Vec::new();
            let mut alias_depth = 1;
            let mut pages = kms.list_aliases().key_id(&key_uuid).into_paginator().send();
            loop {
                let page = caller
                    .page(
                        KmsRead::ListAliases,
                        &key_arn,
                        alias_depth + 1,
                        pages.next(),
                    )
                    .await;
                match page {
                    Ok(Some(p)) => {
                        alias_depth += 1;
                        names.extend(
                            p.aliases()
                                .iter()
                                .filter_map(|a| a.alias_name().map(str::to_string)),
                        )
                    }
                    Ok(None) => break Fact::Known(names),
                    Err(e) => break caller.failed(&e, "kms:ListAliases", "*"),
                }
            }
        },
        async {
            match caller
                .call(
                    KmsRead::GetKeyPolicy,
                    &key_arn,
                    2,
                    kms.get_key_policy()
                        .key_id(&key_arn)
                        .policy_name("default")
                        .send(),
                )
                .await
            {
                Ok(out) => match out.policy() {
                    Some(text) => policy_fact(text, "key policy".to_string()),
                    None => Fact::failed(FailureKind::Other, "kms:GetKeyPolicy returned no policy"),
                },
                Err(e) => caller.failed(&e, "kms:GetKeyPolicy", &key_arn),
            }
        },
    );
    KeyFacts {
        metadata: Fact::Known(Some(metadata)),
        aliases,
        policy,
    }
}
