//! `generate`'s text and JSON output: each document with what to know before applying it and
//! the `aws` command that applies it, then the `check --offline` command that checks them all;
//! or one JSON object of the documents. Pure: strings out.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use crate::arn::Arn;
use crate::cli::Model;
use crate::text::shell_word;

use super::plan::{
    AOC_KEY_SID, BUCKET_POLICY, Document, KMS_ACCESS, Kind, Plan, ROLE_KEY_SID, ROOT_KEY_SID,
    TrustSource,
};

/// Indented JSON, as the documents are shown and saved.
pub(super) fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
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
