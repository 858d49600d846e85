//! Deciding what `generate` writes for an attachment: which documents, their statements, and
//! the values the commands that apply them need. Pure: the attachment and the options in, the
//! [`Plan`] out, or a usage error naming the value nothing correct can be built from.
//!
//! The statements come from the model the checks judge with (`checks/required-actions.toml`
//! through [`aoc`], the `kms:ViaService` value of [`aoc::kms_request`]), which is what makes
//! the documents pass `check --offline`.

use serde_json::Value;

use crate::arn::Arn;
use crate::cli::{KmsActions, Model};
use crate::error::UsageError;
use crate::model::Values;
use crate::model::aoc::{self, REQUIRED, S3Target};
use crate::model::attachment::{AocTrust, Attachment};
use crate::model::values::aoc_expectations;
use crate::policy::build::{allow_statement, document};
use crate::policy::{Condition, KeyState, PolicyDocument, Statement, to_json};

use super::inputs::{check_aoc_principal, key_arn_for_policies, refuse_failures};

/// What a document is, which decides how it is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An inline policy of the role (`aws iam put-role-policy`).
    RolePolicy,
    /// The key policy, whole (`aws kms put-key-policy` replaces it).
    KeyPolicy,
    /// The role's trust policy (`aws iam update-assume-role-policy`).
    TrustPolicy,
    /// The bucket policy, whole (`aws s3api put-bucket-policy` replaces it).
    BucketPolicy,
}

/// One generated document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// File stem, JSON key and (with `-` as `_`) Terraform name: `aoc-s3-access`, ...
    pub name: &'static str,
    pub title: &'static str,
    pub kind: Kind,
    pub policy: PolicyDocument,
}

impl Document {
    pub fn to_json(&self) -> Value {
        to_json(&self.policy)
    }
}

/// Where the trust policy came from.
#[derive(Debug, Clone, PartialEq)]
pub enum TrustSource {
    /// The JSON pasted from the AoC page, as is: it is what AoC will present.
    Pasted,
    /// Built from AoC's principal and external ID.
    Built,
    /// Not generated, and why.
    Omitted(&'static str),
}

/// What `generate` was asked for besides the attachment.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub model: Model,
    pub kms_actions: KmsActions,
    /// The key ARN behind an alias ARN or key ID.
    pub key_arn: Option<String>,
}

/// The documents for one attachment, and the values the commands to apply them need.
#[derive(Debug, Clone)]
pub struct Plan {
    pub name: Option<String>,
    pub region: String,
    pub partition: String,
    pub bucket: String,
    pub path: String,
    pub role: Arn,
    pub key_arn: String,
    pub model: Model,
    /// The key (and so, offline, the bucket) is in another account than the role.
    pub cross_account: bool,
    pub aoc_principal: Option<String>,
    pub external_id: Option<String>,
    pub trust: TrustSource,
    pub documents: Vec<Document>,
}

impl Plan {
    pub fn document(&self, name: &str) -> Option<&Document> {
        self.documents.iter().find(|d| d.name == name)
    }
}

pub const S3_ACCESS: &str = "aoc-s3-access";
pub const KMS_ACCESS: &str = "aoc-kms-access";
pub const KEY_POLICY: &str = "key-policy";
pub const TRUST: &str = "aoc-trust";
pub const BUCKET_POLICY: &str = "bucket-policy";

/// The Sid of the key policy statement that grants the role (the one to add to a custom key
/// policy instead of replacing it).
pub const ROLE_KEY_SID: &str = "AllowAocRoleUseOfTheKeyViaS3";
pub(super) const AOC_KEY_SID: &str = "AllowAocPrincipalUseOfTheKeyViaS3";
/// AWS's own Sid for the default key policy's statement, so the admin recognises it.
pub(super) const ROOT_KEY_SID: &str = "Enable IAM User Permissions";

/// Builds the documents for an attachment. Pure.
pub fn plan(attachment: &Attachment, options: &Options) -> Result<Plan, UsageError> {
    if REQUIRED.s3.object.actions.is_empty()
        || REQUIRED.s3.bucket.actions.is_empty()
        || REQUIRED.kms.required.is_empty()
    {
        // The manifest is embedded and unit-tested; this only keeps a broken build from
        // writing policies that grant nothing.
        return Err(UsageError::new(
            "checks/required-actions.toml lists no actions (a build defect)",
        ));
    }
    let given = Values::from_attachment(attachment);
    refuse_failures(&given.problems, "")?;
    let key_arn = key_arn_for_policies(attachment, &given, options.key_arn.as_deref())?;

    // From here on, the values with the key ARN in place of an alias or key ID: everything
    // the documents name is then a well-formed ARN of the region's partition.
    let mut with_key = attachment.clone();
    with_key.kms_key = key_arn.to_string();
    let values = Values::from_attachment(&with_key);
    refuse_failures(&values.problems, "--key-arn: ")?;
    let (Some(partition), Some(region), Some(bucket), Some(prefix), Some(role)) = (
        values.partition.clone(),
        values.region.clone(),
        values.bucket.clone(),
        values.prefix.clone(),
        values.role.clone(),
    ) else {
        return Err(UsageError::new(
            "the attachment needs a well-formed region, bucket, path and role ARN",
        ));
    };

    let (aoc_principal, external_id) = (values.aoc_principal.clone(), values.external_id.clone());
    if let Some(p) = &aoc_principal {
        check_aoc_principal(p, &partition, &region)?;
    }
    if options.model == Model::Direct && aoc_principal.is_none() {
        return Err(UsageError::new(
            "--model direct grants AoC's principal in the bucket policy: give --aoc-principal (or --trust-policy with the JSON the AoC page shows)",
        ));
    }

    // A `$` in the path would start a policy variable (`${...}`) in a 2012-10-17 policy;
    // `${$}` is IAM's escape for a literal `$`.
    let resource_prefix = prefix.replace('$', "${$}");
    let target = S3Target {
        partition: &partition,
        region: &region,
        bucket: &bucket,
        prefix: &resource_prefix,
        role: &role,
        role_id: None,
    };
    let object_arn = target.object_arn();
    let bucket_arn = target.bucket_arn();
    let role_arn = role.to_string();
    let key_account = key_arn.account.clone();
    let cross_account = key_account != role.account;

    let mut documents = Vec::new();

    // The role's S3 access: the eight actions, object actions under the path only.
    documents.push(Document {
        name: S3_ACCESS,
        title: "S3 access policy for the role",
        kind: Kind::RolePolicy,
        policy: document(vec![
            allow(
                "AocObjectsUnderPath",
                None,
                &REQUIRED.s3.object.actions,
                &object_arn,
                Vec::new(),
            ),
            allow(
                "AocBucket",
                None,
                &REQUIRED.s3.bucket.actions,
                &bucket_arn,
                Vec::new(),
            ),
        ]),
    });

    // The role's KMS access, on the key ARN (never the alias ARN: it would grant nothing).
    let key = key_arn.to_string();
    let mut kms_statements = vec![allow(
        "AocKmsDataPath",
        None,
        &REQUIRED.kms.required,
        &key,
        Vec::new(),
    )];
    if options.kms_actions == KmsActions::Procedure && !REQUIRED.kms.recommended.is_empty() {
        kms_statements.push(allow(
            "AocKmsIbmProcedureActions",
            None,
            &REQUIRED.kms.recommended,
            &key,
            Vec::new(),
        ));
    }
    documents.push(Document {
        name: KMS_ACCESS,
        title: "KMS policy for the role",
        kind: Kind::RolePolicy,
        policy: document(kms_statements),
    });

    // The key policy: the default statement that lets the key's account delegate to IAM
    // (kept so that applying this document can never lock the account out of its key), and
    // a statement that grants the role use of the key for requests S3 makes on its behalf.
    let via_service = via_service(&target, &key, &values);
    let via_s3 = || {
        vec![Condition {
            operator: "StringEquals".into(),
            key: "kms:ViaService".into(),
            values: via_service.clone(),
        }]
    };
    let mut key_statements = vec![
        allow(
            ROOT_KEY_SID,
            Some(&format!("arn:{partition}:iam::{key_account}:root")),
            &["kms:*".to_string()],
            "*",
            Vec::new(),
        ),
        allow(
            ROLE_KEY_SID,
            Some(&role_arn),
            &REQUIRED.kms.required,
            "*",
            via_s3(),
        ),
    ];
    if options.model == Model::Direct
        && let Some(p) = &aoc_principal
    {
        // Across accounts, KMS needs the key policy itself to name the caller.
        key_statements.push(allow(
            AOC_KEY_SID,
            Some(p),
            &REQUIRED.kms.required,
            "*",
            via_s3(),
        ));
    }
    documents.push(Document {
        name: KEY_POLICY,
        title: "Key policy",
        kind: Kind::KeyPolicy,
        policy: document(key_statements),
    });

    let (trust, trust_source) =
        trust_document(attachment, aoc_principal.as_deref(), external_id.as_deref())?;
    if let Some(policy) = trust {
        documents.push(Document {
            name: TRUST,
            title: "Trust policy for the role",
            kind: Kind::TrustPolicy,
            policy,
        });
    }

    // The bucket policy: AoC's principal in the direct model; the role when the bucket is in
    // another account (offline the key's account stands for the bucket's, as in the
    // bucket.policy check), where the bucket policy must grant it too.
    let mut bucket_statements = Vec::new();
    if options.model == Model::Direct
        && let Some(p) = &aoc_principal
    {
        bucket_statements.push(allow(
            "AocPrincipalObjectsUnderPath",
            Some(p),
            &REQUIRED.s3.object.actions,
            &object_arn,
            Vec::new(),
        ));
        bucket_statements.push(allow(
            "AocPrincipalBucket",
            Some(p),
            &REQUIRED.s3.bucket.actions,
            &bucket_arn,
            Vec::new(),
        ));
    }
    if cross_account {
        bucket_statements.push(allow(
            "AocRoleObjectsUnderPath",
            Some(&role_arn),
            &REQUIRED.s3.object.actions,
            &object_arn,
            Vec::new(),
        ));
        bucket_statements.push(allow(
            "AocRoleBucket",
            Some(&role_arn),
            &REQUIRED.s3.bucket.actions,
            &bucket_arn,
            Vec::new(),
        ));
    }
    if !bucket_statements.is_empty() {
        documents.push(Document {
            name: BUCKET_POLICY,
            title: "Bucket policy",
            kind: Kind::BucketPolicy,
            policy: document(bucket_statements),
        });
    }

    Ok(Plan {
        name: attachment.name.clone(),
        region,
        partition,
        bucket,
        path: attachment.path.clone(),
        role,
        key_arn: key,
        model: options.model,
        cross_account,
        aoc_principal,
        external_id,
        trust: trust_source,
        documents,
    })
}

/// The role's trust policy: the JSON pasted from AoC when it is what AoC will present (it may
/// hold more than the principal and external ID), else built from those two; none, with
/// [`TrustSource::Omitted`], when there is not enough to build one.
fn trust_document(
    a: &Attachment,
    principal: Option<&str>,
    external_id: Option<&str>,
) -> Result<(Option<PolicyDocument>, TrustSource), UsageError> {
    if let Some(pasted) = &a.aoc_trust.policy {
        let from_pasted = aoc_expectations(&AocTrust {
            policy: Some(pasted.clone()),
            external_id: None,
            aoc_principal: None,
        });
        if from_pasted.0.is_none() {
            return Err(UsageError(format!(
                "the trust policy in {} names no AWS principal allowed sts:AssumeRole: paste the JSON the AoC page shows",
                pasted.label
            )));
        }
        // Explicit --external-id/--aoc-principal override the pasted JSON (as in `check`);
        // only when they agree is the pasted document what AoC expects.
        if from_pasted.0.as_deref() == principal && from_pasted.1.as_deref() == external_id {
            return Ok((Some(pasted.document.clone()), TrustSource::Pasted));
        }
    }
    match (principal, external_id) {
        (Some(p), Some(id)) => {
            let mut st = allow_statement(None, Some(p), &["sts:AssumeRole".to_string()], None);
            st.conditions = vec![Condition {
                operator: "StringEquals".into(),
                key: "sts:ExternalId".into(),
                values: vec![id.to_string()],
            }];
            Ok((Some(document(vec![st])), TrustSource::Built))
        }
        // Trusting IBM's principal without the external ID AoC presents would let any AoC
        // customer's attachment assume the role (the confused deputy).
        (Some(_), None) => Ok((
            None,
            TrustSource::Omitted(
                "AoC's external ID was not given (--external-id, or --trust-policy with the JSON the AoC page shows)",
            ),
        )),
        (None, Some(_)) => Err(UsageError::new(
            "--external-id needs AoC's principal too: give --aoc-principal (or --trust-policy with the JSON the AoC page shows)",
        )),
        (None, None) => Ok((
            None,
            TrustSource::Omitted(
                "AoC's trust policy was not given (--trust-policy with the JSON the AoC page shows, or --external-id and --aoc-principal)",
            ),
        )),
    }
}

/// The `kms:ViaService` value of the requests S3 makes to KMS for the role, taken from the
/// model the checks evaluate, so the key policy condition and the check agree.
fn via_service(target: &S3Target<'_>, key_arn: &str, values: &Values) -> Vec<String> {
    let action = REQUIRED
        .kms
        .required
        .first()
        .map_or("kms:Decrypt", String::as_str);
    let request = aoc::kms_request(target, action, key_arn, values);
    match request.context.get("kms:ViaService") {
        KeyState::Present(v) if !v.is_empty() => v.to_vec(),
        _ => vec![format!("s3.{}.amazonaws.com", target.region)],
    }
}

fn allow(
    sid: &str,
    principal: Option<&str>,
    actions: &[String],
    resource: &str,
    conditions: Vec<Condition>,
) -> Statement {
    let mut st = allow_statement(Some(sid), principal, actions, Some(resource));
    st.conditions = conditions;
    st
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::fixtures::{AOC, KEY, ROLE, attachment};
    use crate::policy::{ResourceSpec, parse_policy};

    fn resources(plan: &Plan, name: &str) -> Vec<String> {
        plan.document(name)
            .unwrap()
            .policy
            .statements
            .iter()
            .flat_map(|st| match &st.resource {
                Some(ResourceSpec::Resource(r)) => r.clone(),
                _ => Vec::new(),
            })
            .collect()
    }

    #[test]
    fn resources_follow_path_and_partition() {
        let p = plan(&attachment(), &Options::default()).unwrap();
        assert_eq!(
            resources(&p, S3_ACCESS),
            ["arn:aws:s3:::aspera-kms/*", "arn:aws:s3:::aspera-kms"]
        );
        let mut a = attachment();
        a.path = "/data/in".into();
        let p = plan(&a, &Options::default()).unwrap();
        assert_eq!(
            resources(&p, S3_ACCESS)[0],
            "arn:aws:s3:::aspera-kms/data/in/*"
        );

        let mut a = attachment();
        a.region = "us-gov-west-1".into();
        a.kms_key = KEY.replace("aws:kms:us-east-1", "aws-us-gov:kms:us-gov-west-1");
        a.role_arn = ROLE.replace("arn:aws:", "arn:aws-us-gov:");
        a.aoc_trust.aoc_principal = None;
        a.aoc_trust.external_id = None;
        let p = plan(&a, &Options::default()).unwrap();
        assert_eq!(
            resources(&p, S3_ACCESS),
            [
                "arn:aws-us-gov:s3:::aspera-kms/*",
                "arn:aws-us-gov:s3:::aspera-kms"
            ]
        );
        let key_policy = to_json(&p.document(KEY_POLICY).unwrap().policy).to_string();
        assert!(
            key_policy.contains("arn:aws-us-gov:iam::111122223333:root"),
            "{key_policy}"
        );
        assert!(
            key_policy.contains("s3.us-gov-west-1.amazonaws.com"),
            "{key_policy}"
        );
        assert!(matches!(p.trust, TrustSource::Omitted(_)));
    }

    #[test]
    fn a_dollar_in_the_path_is_escaped_not_a_variable() {
        let mut a = attachment();
        a.path = "/a${b}".into();
        let p = plan(&a, &Options::default()).unwrap();
        assert_eq!(
            resources(&p, S3_ACCESS)[0],
            "arn:aws:s3:::aspera-kms/a${$}{b}/*"
        );
    }

    #[test]
    fn kms_policy_names_the_key_arn_and_the_procedure_actions_by_default() {
        let p = plan(&attachment(), &Options::default()).unwrap();
        assert!(resources(&p, KMS_ACCESS).iter().all(|r| r == KEY));
        let json = p.document(KMS_ACCESS).unwrap().to_json().to_string();
        assert!(json.contains("kms:EnableKey"), "{json}");
        let p = plan(
            &attachment(),
            &Options {
                kms_actions: KmsActions::DataPath,
                ..Options::default()
            },
        )
        .unwrap();
        let json = p.document(KMS_ACCESS).unwrap().to_json().to_string();
        assert!(!json.contains("kms:EnableKey"), "{json}");
        assert!(json.contains("kms:GenerateDataKey"), "{json}");
    }

    #[test]
    fn bucket_policy_only_for_direct_model_or_another_account() {
        let p = plan(&attachment(), &Options::default()).unwrap();
        assert!(p.document(BUCKET_POLICY).is_none());
        let p = plan(
            &attachment(),
            &Options {
                model: Model::Direct,
                ..Options::default()
            },
        )
        .unwrap();
        let bucket = p.document(BUCKET_POLICY).unwrap().to_json().to_string();
        assert!(bucket.contains(AOC), "{bucket}");
        let key = p.document(KEY_POLICY).unwrap().to_json().to_string();
        assert!(key.contains(AOC), "{key}");

        let mut a = attachment();
        a.role_arn = "arn:aws:iam::444455556666:role/aoc-access".into();
        let p = plan(&a, &Options::default()).unwrap();
        assert!(p.cross_account);
        let bucket = p.document(BUCKET_POLICY).unwrap().to_json().to_string();
        assert!(bucket.contains("444455556666:role/aoc-access"), "{bucket}");
    }

    #[test]
    fn trust_policy_is_built_pasted_or_omitted() {
        let p = plan(&attachment(), &Options::default()).unwrap();
        assert_eq!(p.trust, TrustSource::Built);
        let trust = p.document(TRUST).unwrap().to_json().to_string();
        assert!(
            trust.contains("aoc-external-id-1") && trust.contains(AOC),
            "{trust}"
        );

        let mut a = attachment();
        let pasted = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{AOC}"}},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{{"StringEquals":{{"sts:ExternalId":"from-aoc"}}}}}}]}}"#
        );
        a.aoc_trust = AocTrust {
            policy: Some(crate::policy::NamedPolicy {
                label: "aoc-trust.json".into(),
                document: parse_policy(&pasted).unwrap(),
            }),
            external_id: None,
            aoc_principal: None,
        };
        let p = plan(&a, &Options::default()).unwrap();
        assert_eq!(p.trust, TrustSource::Pasted);
        assert!(
            p.document(TRUST)
                .unwrap()
                .to_json()
                .to_string()
                .contains("sts:TagSession")
        );

        let mut a = attachment();
        a.aoc_trust.external_id = None;
        let p = plan(&a, &Options::default()).unwrap();
        assert!(matches!(p.trust, TrustSource::Omitted(_)));
        assert!(p.document(TRUST).is_none());

        let mut a = attachment();
        a.aoc_trust.aoc_principal = None;
        assert!(plan(&a, &Options::default()).is_err());
    }
}
