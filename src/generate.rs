//! The `generate` command: from an attachment spec (the same flags and config file as
//! `check`), the policy documents the IBM procedure ("Attach a KMS-encrypted AWS bucket")
//! needs, correct by construction: the role's S3 access policy and KMS policy, the key
//! policy, the role's trust policy (when AoC's principal and external ID are given) and, for
//! the direct-access model or a bucket in another account than the role, the bucket policy.
//!
//! This module owns building those documents and rendering them: text with the `aws` command
//! that applies each, one JSON object, one `<name>.json` file each (`--output-dir`), or
//! Terraform `aws_iam_policy_document` data sources (`--terraform`).
//!
//! "Correct by construction" means the documents come from the same model the checks judge
//! with: the actions and resource templates of `checks/required-actions.toml` through
//! [`crate::model::aoc`], and the `kms:ViaService` value of [`aoc::kms_request`]. So what this
//! writes passes `check --offline` for the same spec (a test runs exactly that).

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::arn::Arn;
use crate::checks::bucket_region::principal_region;
use crate::cli::{GenerateArgs, GenerateFormat, KmsActions, Model};
use crate::error::{CommandError, UsageError, io_reason};
use crate::exit::Exit;
use crate::model::Values;
use crate::model::aoc::{self, REQUIRED, S3Target};
use crate::model::attachment::{AocTrust, Attachment};
use crate::model::values::{KmsKeyRef, aoc_expectations};
use crate::model::verdict::{Finding, Status};
use crate::policy::build::{allow_statement, document};
use crate::policy::{
    ActionSpec, Condition, Effect, KeyState, PolicyDocument, PrincipalSpec, Principals,
    ResourceSpec, Statement, to_json,
};
use crate::spec::Sources;
use crate::text::{one_line, shell_word};

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
const AOC_KEY_SID: &str = "AllowAocPrincipalUseOfTheKeyViaS3";
/// AWS's own Sid for the default key policy's statement, so the admin recognises it.
const ROOT_KEY_SID: &str = "Enable IAM User Permissions";

pub fn run(args: &GenerateArgs, out: &mut dyn Write) -> Result<Exit, CommandError> {
    let result = (|| -> Result<Exit, CommandError> {
        let attachment = resolve_one(args)?;
        let options = Options {
            model: args.model,
            kms_actions: args.kms_actions,
            key_arn: args.key_arn.clone(),
        };
        let plan = plan(&attachment, &options)?;
        if let Some(dir) = &args.output_dir {
            write_files(&plan, dir)?;
        }
        let format = if args.terraform {
            GenerateFormat::Terraform
        } else {
            args.format
        };
        let rendered = match format {
            GenerateFormat::Text => render_text(&plan, args.output_dir.as_deref()),
            GenerateFormat::Json => render_json(&plan),
            GenerateFormat::Terraform => render_terraform(&plan),
        };
        out.write_all(rendered.as_bytes())?;
        out.flush()?;
        Ok(Exit::Success)
    })();
    // Every usage error is one line, whatever the values it quotes contain.
    result.map_err(|e| match e {
        CommandError::Usage(u) => CommandError::Usage(UsageError(one_line(&u.0))),
        other => other,
    })
}

/// The one attachment to generate for, from `--config`/`--attachment` and the flags, the way
/// `check` reads them.
fn resolve_one(args: &GenerateArgs) -> Result<Attachment, UsageError> {
    let mut inputs = crate::spec::resolve(Sources {
        config: args.config.as_deref(),
        attachment: args.attachment.as_deref(),
        flags: &args.attachment_args,
        // The documents are what this writes, not what it reads.
        documents: None,
    })?;
    if inputs.len() > 1 {
        let names: Vec<String> = inputs
            .iter()
            .enumerate()
            .map(|(i, a)| {
                a.attachment
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("#{}", i + 1))
            })
            .collect();
        return Err(UsageError(format!(
            "the config file describes {} attachments ({}): choose one with --attachment NAME",
            inputs.len(),
            names.join(", ")
        )));
    }
    inputs
        .pop()
        .map(|i| i.attachment)
        .ok_or_else(|| UsageError::new("no attachment to generate documents for"))
}

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

/// A malformed value is a finding for `check`, but nothing correct can be generated from it:
/// here it is a usage error naming what is wrong.
fn refuse_failures(problems: &[Finding], prefix: &str) -> Result<(), UsageError> {
    let failures: Vec<String> = problems
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| {
            if f.evidence.is_empty() {
                f.reason.to_string()
            } else {
                f.evidence.join("; ")
            }
        })
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(UsageError(format!("{prefix}{}", failures.join("; "))))
    }
}

/// The key ARN the policies name: the one entered, or `--key-arn` for an alias ARN or a key
/// ID (which must then be the same key).
fn key_arn_for_policies(
    a: &Attachment,
    values: &Values,
    key_arn: Option<&str>,
) -> Result<Arn, UsageError> {
    let parse_given = |given: &str| -> Result<Arn, UsageError> {
        match given.parse::<Arn>() {
            Ok(arn)
                if arn.service == "kms"
                    && arn.resource_type() == "key"
                    && crate::model::values::is_key_id(arn.resource_id()) =>
            {
                Ok(arn)
            }
            _ => Err(UsageError(format!(
                "--key-arn `{given}` is not a KMS key ARN (arn:PARTITION:kms:REGION:ACCOUNT:key/KEY_ID)"
            ))),
        }
    };
    match &values.key {
        Some(KmsKeyRef::Key(arn)) => {
            if let Some(given) = key_arn
                && given != arn.to_string()
            {
                return Err(UsageError(format!(
                    "--key-arn `{given}` differs from the key ARN entered as the KMS key, `{arn}`: give one key"
                )));
            }
            Ok(arn.clone())
        }
        Some(KmsKeyRef::Alias(alias)) => {
            let Some(given) = key_arn else {
                return Err(UsageError(format!(
                    "`{}` is an alias ARN: policies must name the key ARN (an alias ARN in Resource grants nothing), which is not known offline; give it with --key-arn (aws kms describe-key --key-id {} --query KeyMetadata.Arn --output text)",
                    a.kms_key, a.kms_key
                )));
            };
            let arn = parse_given(given)?;
            // An alias names a key of its own account and region.
            if arn.account != alias.account || arn.region != alias.region {
                return Err(UsageError(format!(
                    "--key-arn `{given}` is not in the account and region of the alias `{}`",
                    a.kms_key
                )));
            }
            Ok(arn)
        }
        Some(KmsKeyRef::BareId(id)) => {
            let Some(given) = key_arn else {
                return Err(UsageError(format!(
                    "`{id}` is a key ID: policies must name the key ARN; give --kms-key (or --key-arn) arn:PARTITION:kms:REGION:ACCOUNT:key/{id}"
                )));
            };
            let arn = parse_given(given)?;
            if arn.resource_id() != id {
                return Err(UsageError(format!(
                    "--key-arn `{given}` is not the key `{id}` entered as the KMS key"
                )));
            }
            Ok(arn)
        }
        None => Err(UsageError(format!(
            "the KMS key `{}` is not a key ARN",
            a.kms_key
        ))),
    }
}

/// AoC's principal must be usable for this region: a principal of another partition cannot
/// be trusted at all, and IBM's node role serves the region in its name (the trust policy was
/// copied before the region was set in AoC).
fn check_aoc_principal(principal: &str, partition: &str, region: &str) -> Result<(), UsageError> {
    if let Ok(arn) = principal.parse::<Arn>()
        && arn.partition != partition
    {
        return Err(UsageError(format!(
            "AoC's principal `{principal}` is in partition `{}`, region `{region}` is in `{partition}`",
            arn.partition
        )));
    }
    if let Some(r) = principal_region(principal)
        && r != region
    {
        return Err(UsageError(format!(
            "AoC's principal `{principal}` serves region `{r}`, not `{region}`: select the region in AoC first, then copy the trust policy it shows"
        )));
    }
    Ok(())
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

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Writes `<name>.json` per document into `dir`.
fn write_files(plan: &Plan, dir: &Path) -> Result<(), UsageError> {
    std::fs::create_dir_all(dir).map_err(|e| {
        UsageError(format!(
            "--output-dir: cannot create {}: {}",
            dir.display(),
            io_reason(&e)
        ))
    })?;
    for d in &plan.documents {
        let path = dir.join(format!("{}.json", d.name));
        std::fs::write(&path, pretty(&d.to_json()) + "\n").map_err(|e| {
            UsageError(format!(
                "--output-dir: cannot write {}: {}",
                path.display(),
                io_reason(&e)
            ))
        })?;
    }
    Ok(())
}

/// `{ "aoc-s3-access": {...}, ... }`: every value a policy document.
pub fn render_json(plan: &Plan) -> String {
    let object: serde_json::Map<String, Value> = plan
        .documents
        .iter()
        .map(|d| (d.name.to_string(), d.to_json()))
        .collect();
    pretty(&Value::Object(object)) + "\n"
}

/// Where a document's file is (or should be saved), for `file://` in the commands.
fn file_of(name: &str, dir: Option<&Path>) -> String {
    match dir {
        Some(dir) => dir.join(format!("{name}.json")).display().to_string(),
        None => format!("{name}.json"),
    }
}

/// The `aws` command that applies a document.
fn apply_command(plan: &Plan, d: &Document, file: &str) -> String {
    let role_name = plan.role.resource_name();
    // IAM is global in the `aws` partition; elsewhere the CLI finds the partition's IAM
    // endpoint from the region.
    let iam_region = if plan.partition == "aws" {
        String::new()
    } else {
        format!(" --region {}", shell_word(&plan.region))
    };
    let file_url = shell_word(&format!("file://{file}"));
    match d.kind {
        Kind::RolePolicy => format!(
            "aws iam put-role-policy{iam_region} --role-name {} --policy-name {} --policy-document {file_url}",
            shell_word(role_name),
            d.name
        ),
        Kind::KeyPolicy => format!(
            "aws kms put-key-policy --region {} --key-id {} --policy-name default --policy {file_url}",
            shell_word(&plan.region),
            shell_word(&plan.key_arn)
        ),
        Kind::TrustPolicy => format!(
            "aws iam update-assume-role-policy{iam_region} --role-name {} --policy-document {file_url}",
            shell_word(role_name)
        ),
        Kind::BucketPolicy => format!(
            "aws s3api put-bucket-policy --region {} --bucket {} --policy {file_url}",
            shell_word(&plan.region),
            shell_word(&plan.bucket)
        ),
    }
}

/// What to know before applying a document.
fn notes(plan: &Plan, d: &Document) -> Vec<String> {
    let mut n = Vec::new();
    match d.kind {
        Kind::RolePolicy if d.name == KMS_ACCESS => {
            n.push(format!(
                "Names the key ARN {}: an alias ARN in Resource would grant nothing.",
                plan.key_arn
            ));
        }
        Kind::RolePolicy => {
            n.push(format!(
                "Object actions on the path `{}` only; bucket actions on the bucket.",
                plan.path
            ));
        }
        Kind::KeyPolicy => {
            n.push(format!(
                "WARNING: `aws kms put-key-policy` replaces the WHOLE key policy. If the key has a custom key policy (key administrators, other users), do not apply this file: add the statement `{ROLE_KEY_SID}` to the policy the key has (aws kms get-key-policy --region {} --key-id {} --policy-name default --query Policy --output text) and put the merged policy.",
                shell_word(&plan.region),
                shell_word(&plan.key_arn)
            ));
            if plan.cross_account {
                n.push(format!(
                    "The key is in account {}, the role in {}: across accounts the key policy must name the role itself (statement `{ROLE_KEY_SID}`); the root statement only lets the key's own account delegate to IAM.",
                    key_account(plan),
                    plan.role.account
                ));
            } else {
                n.push(format!(
                    "`{ROOT_KEY_SID}` is the default key policy's statement: with it alone (the key's account delegating to IAM), the role's KMS policy ({KMS_ACCESS}) already gives the role use of the key, so a key with the default key policy needs no change. `{ROLE_KEY_SID}` grants the role directly, only for requests S3 makes on its behalf in {}.",
                    plan.region
                ));
            }
            if plan.model == Model::Direct {
                n.push(format!(
                    "`{AOC_KEY_SID}` lets AoC's principal use the key through S3 (direct model). The key must be a customer managed key (the AWS managed key aws/s3 cannot be used across accounts), and AoC must be given the key ARN, not an alias: an alias resolves in the requester's account, IBM's."
                ));
            }
        }
        Kind::TrustPolicy => {
            n.push(match plan.trust {
                TrustSource::Pasted => {
                    "As the AoC page shows it (pasted with --trust-policy).".to_string()
                }
                _ => "Built from AoC's principal and external ID.".to_string(),
            });
            n.push(
                "AoC generates a new external ID on each page load: copy the trust policy only after selecting the region, and save the AoC form without reloading the page."
                    .to_string(),
            );
        }
        Kind::BucketPolicy => {
            n.push(format!(
                "WARNING: `aws s3api put-bucket-policy` replaces the WHOLE bucket policy. If the bucket has one, merge these statements into it (aws s3api get-bucket-policy --region {} --bucket {} --query Policy --output text).",
                shell_word(&plan.region),
                shell_word(&plan.bucket)
            ));
            if plan.model == Model::Direct {
                n.push("Grants AoC's principal directly (the IBM procedure's bucket policy sample). Block Public Access can stay on: a policy naming a fixed principal is not public.".to_string());
            }
            if plan.cross_account {
                n.push(format!(
                    "The bucket is taken to be in the key's account ({}), not the role's ({}): across accounts the bucket policy must grant the role too.",
                    key_account(plan),
                    plan.role.account
                ));
            }
        }
    }
    n
}

fn key_account(plan: &Plan) -> String {
    plan.key_arn
        .parse::<Arn>()
        .map(|a| a.account)
        .unwrap_or_default()
}

/// Each document with a heading, notes and the command that applies it; then how to check
/// them offline before applying.
pub fn render_text(plan: &Plan, dir: Option<&Path>) -> String {
    let mut s = String::new();
    let name = plan
        .name
        .as_deref()
        .map_or(String::new(), |n| format!(" `{n}`"));
    let _ = writeln!(s, "Policy documents for the AoC attachment{name}");
    let _ = writeln!(
        s,
        "  region {} (partition {}), bucket {}, path {}",
        plan.region, plan.partition, plan.bucket, plan.path
    );
    let _ = writeln!(s, "  KMS key {}", plan.key_arn);
    let _ = writeln!(s, "  role    {}", plan.role);
    let _ = writeln!(
        s,
        "  model   {}",
        match plan.model {
            Model::AssumeRole =>
                "assume-role (AoC assumes the role; the bucket needs no bucket policy for it)",
            Model::Direct => "direct (the bucket policy also grants AoC's principal)",
        }
    );
    for (i, d) in plan.documents.iter().enumerate() {
        let file = file_of(d.name, dir);
        let heading = format!("{}. {} ({file})", i + 1, d.title);
        let _ = writeln!(s, "\n{heading}\n{}", "=".repeat(heading.chars().count()));
        let _ = writeln!(s, "{}", pretty(&d.to_json()));
        for note in notes(plan, d) {
            if note.starts_with("WARNING") {
                let _ = writeln!(s, "{note}");
            } else {
                let _ = writeln!(s, "Note: {note}");
            }
        }
        let how = if dir.is_some() {
            "Apply it:".to_string()
        } else {
            format!("Save it as {file}, then apply it:")
        };
        let _ = writeln!(s, "{how}\n  {}", apply_command(plan, d, &file));
    }
    if let TrustSource::Omitted(why) = &plan.trust {
        let _ = writeln!(
            s,
            "\nTrust policy for the role: not generated: {why}. Copy it from the AoC page after selecting the region."
        );
    }
    if plan.model == Model::AssumeRole && plan.document(BUCKET_POLICY).is_none() {
        let _ = writeln!(
            s,
            "\nBucket policy: none needed (AoC's requests come from the role, in the bucket's account). Use --model direct for the IBM procedure's bucket policy sample."
        );
    }
    let _ = writeln!(
        s,
        "\nCheck them before applying:\n  {}",
        check_command(plan, dir)
    );
    s
}

/// `aoc-preflight check --offline ...` for these documents.
fn check_command(plan: &Plan, dir: Option<&Path>) -> String {
    let mut args: Vec<String> = vec![
        "aoc-preflight check --offline".into(),
        format!("--region {}", shell_word(&plan.region)),
        format!("--bucket {}", shell_word(&plan.bucket)),
        format!("--path {}", shell_word(&plan.path)),
        format!("--kms-key {}", shell_word(&plan.key_arn)),
        format!("--role-arn {}", shell_word(&plan.role.to_string())),
    ];
    if let Some(p) = &plan.aoc_principal {
        args.push(format!("--aoc-principal {}", shell_word(p)));
    }
    if let Some(id) = &plan.external_id {
        args.push(format!("--external-id {}", shell_word(id)));
    }
    for d in &plan.documents {
        let flag = match d.kind {
            Kind::RolePolicy => "--identity-policy",
            Kind::KeyPolicy => "--key-policy",
            Kind::TrustPolicy => "--role-trust-policy",
            Kind::BucketPolicy => "--bucket-policy",
        };
        args.push(format!("{flag} {}", shell_word(&file_of(d.name, dir))));
    }
    args.join(" ")
}

/// Terraform: one `aws_iam_policy_document` data source per document, with how to use it.
pub fn render_terraform(plan: &Plan) -> String {
    let mut s = String::new();
    let name = plan
        .name
        .as_deref()
        .map_or(String::new(), |n| format!(" `{n}`"));
    let _ = writeln!(
        s,
        "# Policy documents for the AoC attachment{name}, from aoc-preflight generate:"
    );
    let _ = writeln!(
        s,
        "# region {}, bucket {}, path {}, role {}, KMS key {}.",
        one_line(&plan.region),
        one_line(&plan.bucket),
        one_line(&plan.path),
        plan.role,
        plan.key_arn
    );
    for d in &plan.documents {
        let tf = d.name.replace('-', "_");
        s.push('\n');
        let q = |v: &str| hcl_string(v);
        let json = format!("data.aws_iam_policy_document.{tf}.json");
        let (why, usage) = match d.kind {
            Kind::RolePolicy => (
                "",
                vec![
                    format!("resource \"aws_iam_role_policy\" \"{tf}\" {{"),
                    format!("  name   = {}", q(d.name)),
                    format!("  role   = {}", q(plan.role.resource_name())),
                    format!("  policy = {json}"),
                    "}".to_string(),
                ],
            ),
            Kind::KeyPolicy => (
                " (replaces the whole key policy: keep a custom key policy's statements, e.g. with source_policy_documents)",
                vec![
                    format!("resource \"aws_kms_key_policy\" \"{tf}\" {{"),
                    format!("  key_id = {}", q(&plan.key_arn)),
                    format!("  policy = {json}"),
                    "}".to_string(),
                ],
            ),
            Kind::TrustPolicy => (
                "",
                vec![
                    format!("resource \"aws_iam_role\" \"{tf}\" {{"),
                    format!("  name               = {}", q(plan.role.resource_name())),
                    format!("  assume_role_policy = {json}"),
                    "}".to_string(),
                ],
            ),
            Kind::BucketPolicy => (
                " (replaces the whole bucket policy)",
                vec![
                    format!("resource \"aws_s3_bucket_policy\" \"{tf}\" {{"),
                    format!("  bucket = {}", q(&plan.bucket)),
                    format!("  policy = {json}"),
                    "}".to_string(),
                ],
            ),
        };
        let _ = writeln!(s, "# {}. Use it with{why}:", d.title);
        for line in usage {
            let _ = writeln!(s, "#   {}", one_line(&line));
        }
        s.push_str(&hcl_policy_document(&tf, &d.policy));
    }
    s
}

/// An HCL item: an attribute (its value on one or more lines) or a nested block.
enum Hcl {
    Attr(&'static str, Vec<String>),
    Block(&'static str, Vec<Hcl>),
}

fn hcl_list(values: &[String]) -> Vec<String> {
    match values {
        [one] => vec![format!("[{}]", hcl_string(one))],
        _ => {
            let mut lines = vec!["[".to_string()];
            lines.extend(values.iter().map(|v| format!("  {},", hcl_string(v))));
            lines.push("]".to_string());
            lines
        }
    }
}

fn hcl_principals(name: &'static str, p: &Principals) -> Vec<Hcl> {
    match p {
        Principals::Any => vec![Hcl::Block(
            name,
            vec![
                Hcl::Attr("type", vec![hcl_string("*")]),
                Hcl::Attr("identifiers", hcl_list(&["*".to_string()])),
            ],
        )],
        Principals::Map(m) => m
            .iter()
            .map(|(kind, ids)| {
                Hcl::Block(
                    name,
                    vec![
                        Hcl::Attr("type", vec![hcl_string(kind)]),
                        Hcl::Attr("identifiers", hcl_list(ids)),
                    ],
                )
            })
            .collect(),
    }
}

/// `data "aws_iam_policy_document" "<name>" { statement { ... } }` for a document.
pub fn hcl_policy_document(name: &str, doc: &PolicyDocument) -> String {
    let mut items = Vec::new();
    if let Some(v) = &doc.version {
        items.push(Hcl::Attr("version", vec![hcl_string(v)]));
    }
    if let Some(id) = &doc.id {
        items.push(Hcl::Attr("policy_id", vec![hcl_string(id)]));
    }
    for st in &doc.statements {
        let mut body = Vec::new();
        if let Some(sid) = &st.sid {
            body.push(Hcl::Attr("sid", vec![hcl_string(sid)]));
        }
        body.push(Hcl::Attr(
            "effect",
            vec![hcl_string(match st.effect {
                Effect::Allow => "Allow",
                Effect::Deny => "Deny",
            })],
        ));
        match &st.action {
            ActionSpec::Action(a) => body.push(Hcl::Attr("actions", hcl_list(a))),
            ActionSpec::NotAction(a) => body.push(Hcl::Attr("not_actions", hcl_list(a))),
        }
        match &st.resource {
            Some(ResourceSpec::Resource(r)) => body.push(Hcl::Attr("resources", hcl_list(r))),
            Some(ResourceSpec::NotResource(r)) => {
                body.push(Hcl::Attr("not_resources", hcl_list(r)))
            }
            None => {}
        }
        match &st.principal {
            Some(PrincipalSpec::Principal(p)) => body.extend(hcl_principals("principals", p)),
            Some(PrincipalSpec::NotPrincipal(p)) => {
                body.extend(hcl_principals("not_principals", p))
            }
            None => {}
        }
        for c in &st.conditions {
            body.push(Hcl::Block(
                "condition",
                vec![
                    Hcl::Attr("test", vec![hcl_string(&c.operator)]),
                    Hcl::Attr("variable", vec![hcl_string(&c.key)]),
                    Hcl::Attr("values", hcl_list(&c.values)),
                ],
            ));
        }
        items.push(Hcl::Block("statement", body));
    }
    let mut s = format!("data \"aws_iam_policy_document\" {} {{\n", hcl_string(name));
    write_hcl(&mut s, &items, 1);
    s.push_str("}\n");
    s
}

/// Writes items the way `terraform fmt` lays them out: the `=` of consecutive one-line
/// attributes aligned, a blank line before a block that follows something.
fn write_hcl(s: &mut String, items: &[Hcl], depth: usize) {
    let indent = "  ".repeat(depth);
    let mut i = 0;
    while i < items.len() {
        match &items[i] {
            Hcl::Attr(_, lines) if lines.len() == 1 => {
                let end = items[i..]
                    .iter()
                    .position(|it| !matches!(it, Hcl::Attr(_, l) if l.len() == 1))
                    .map_or(items.len(), |p| i + p);
                let width = items[i..end]
                    .iter()
                    .map(|it| match it {
                        Hcl::Attr(name, _) => name.len(),
                        Hcl::Block(..) => 0,
                    })
                    .max()
                    .unwrap_or(0);
                for it in &items[i..end] {
                    if let Hcl::Attr(name, lines) = it {
                        let _ = writeln!(s, "{indent}{name:width$} = {}", lines[0]);
                    }
                }
                i = end;
            }
            Hcl::Attr(name, lines) => {
                let _ = writeln!(s, "{indent}{name} = {}", lines.first().map_or("", |l| l));
                for line in lines.iter().skip(1) {
                    let _ = writeln!(s, "{indent}{line}");
                }
                i += 1;
            }
            Hcl::Block(name, body) => {
                if i > 0 {
                    s.push('\n');
                }
                let _ = writeln!(s, "{indent}{name} {{");
                write_hcl(s, body, depth + 1);
                let _ = writeln!(s, "{indent}}}");
                i += 1;
            }
        }
    }
}

/// A quoted HCL string literal. Besides `"` and `\`, HCL reads `${` and `%{` as the start of
/// an interpolation or directive: `$${` and `%%{` keep them literal, which matters for IAM
/// policy variables such as `${aws:username}` (or our `${$}` escape).
pub fn hcl_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::parse_policy;

    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const ROLE: &str = "arn:aws:iam::111122223333:role/aoc-access";
    const AOC: &str = "arn:aws:iam::860559707280:role/atp-aws-us-east-1-ts-atc-node";

    fn attachment() -> Attachment {
        Attachment {
            name: None,
            region: "us-east-1".into(),
            bucket: "aspera-kms".into(),
            path: "/".into(),
            kms_key: KEY.into(),
            role_arn: ROLE.into(),
            aoc_trust: AocTrust {
                policy: None,
                external_id: Some("aoc-external-id-1".into()),
                aoc_principal: Some(AOC.into()),
            },
        }
    }

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
    fn hcl_strings_escape_quotes_backslashes_and_interpolation() {
        assert_eq!(hcl_string("plain"), "\"plain\"");
        assert_eq!(hcl_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(hcl_string("${aws:username}"), "\"$${aws:username}\"");
        assert_eq!(hcl_string("%{if x}"), "\"%%{if x}\"");
        // A lone `$` or `%` is not an interpolation and stays as is.
        assert_eq!(hcl_string("100% $5"), "\"100% $5\"");
        assert_eq!(hcl_string("a\nb\tc\r"), "\"a\\nb\\tc\\r\"");
        assert_eq!(hcl_string("\u{1}"), "\"\\u0001\"");
        assert_eq!(hcl_string("${$}"), "\"$${$}\"");
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
    fn an_alias_needs_the_key_arn() {
        let mut a = attachment();
        a.kms_key = "arn:aws:kms:us-east-1:111122223333:alias/aoc".into();
        let err = plan(&a, &Options::default()).unwrap_err().to_string();
        assert!(err.contains("--key-arn"), "{err}");
        let p = plan(
            &a,
            &Options {
                key_arn: Some(KEY.into()),
                ..Options::default()
            },
        )
        .unwrap();
        assert_eq!(p.key_arn, KEY);
        assert!(
            !to_json(&p.document(KMS_ACCESS).unwrap().policy)
                .to_string()
                .contains("alias/")
        );
        // A key of another account cannot be behind this alias.
        let other = KEY.replace("111122223333", "444455556666");
        let err = plan(
            &a,
            &Options {
                key_arn: Some(other),
                ..Options::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("account and region"), "{err}");
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

    #[test]
    fn bad_input_is_a_one_line_usage_error() {
        let mut a = attachment();
        a.role_arn = "arn:aws:iam::1234:user/bob".into();
        a.bucket = "Bad_Bucket\nname".into();
        let err = plan(&a, &Options::default()).unwrap_err().to_string();
        assert!(
            err.contains("user/bob") && err.contains("Bad_Bucket"),
            "{err}"
        );
        assert!(!one_line(&err).contains('\n'));

        let mut a = attachment();
        a.aoc_trust.aoc_principal =
            Some("arn:aws:iam::860559707280:role/atp-aws-eu-west-1-ts-atc-node".into());
        let err = plan(&a, &Options::default()).unwrap_err().to_string();
        assert!(err.contains("eu-west-1"), "{err}");

        let mut a = attachment();
        a.aoc_trust = AocTrust::default();
        let err = plan(
            &a,
            &Options {
                model: Model::Direct,
                ..Options::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("--aoc-principal"), "{err}");
    }

    #[test]
    fn every_document_parses_back_and_terraform_has_the_blocks() {
        let p = plan(
            &attachment(),
            &Options {
                model: Model::Direct,
                ..Options::default()
            },
        )
        .unwrap();
        let all: Value = serde_json::from_str(&render_json(&p)).unwrap();
        for d in &p.documents {
            let doc = parse_policy(&all[d.name].to_string()).unwrap();
            assert_eq!(doc, {
                // The model round-trips through JSON (indices included).
                parse_policy(&d.to_json().to_string()).unwrap()
            });
        }
        let tf = render_terraform(&p);
        assert!(
            tf.contains("data \"aws_iam_policy_document\" \"aoc_s3_access\" {"),
            "{tf}"
        );
        assert!(tf.contains("    condition {\n      test     = \"StringEquals\"\n      variable = \"kms:ViaService\"\n"), "{tf}");
        assert!(
            tf.contains("principals {\n      type        = \"AWS\"\n"),
            "{tf}"
        );
        assert_eq!(tf.matches('{').count(), tf.matches('}').count(), "{tf}");
    }
}
