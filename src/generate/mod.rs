//! The `generate` command: from an attachment spec (the same flags and config file as
//! `check`), the policy documents the IBM procedure ("Attach a KMS-encrypted AWS bucket")
//! needs, correct by construction: the role's S3 access policy and KMS policy, the key
//! policy, the role's trust policy (when AoC's principal and external ID are given) and, for
//! the direct-access model or a bucket in another account than the role, the bucket policy.
//!
//! This module owns the command: reading the attachment, writing the output and the
//! `--output-dir` files. Building the documents is `plan`'s, with `inputs` refusing the values
//! nothing correct can be built from; rendering them is `render`'s (text with the `aws` command
//! that applies each, one JSON object) and `terraform`'s (`aws_iam_policy_document` data
//! sources, `--terraform`).
//!
//! "Correct by construction" means the documents come from the same model the checks judge
//! with: the actions and resource templates of `checks/required-actions.toml` through
//! [`crate::model::aoc`], and the `kms:ViaService` value of
//! [`crate::model::aoc::kms_request`]. So what this writes passes `check --offline` for the
//! same spec (a test runs exactly that).

use std::io::Write;
use std::path::Path;

use crate::cli::{GenerateArgs, GenerateFormat};
use crate::error::{CommandError, UsageError, io_reason};
use crate::exit::Exit;
use crate::model::attachment::Attachment;
use crate::spec::Sources;
use crate::text::one_line;

mod inputs;
mod plan;
mod rcp_exception;
mod render;
mod terraform;

pub use plan::{
    BUCKET_POLICY, Document, KEY_POLICY, KMS_ACCESS, Kind, Options, Plan, ROLE_KEY_SID, S3_ACCESS,
    TRUST, TrustSource, plan,
};
pub use render::{render_json, render_text};
pub use terraform::{hcl_policy_document, hcl_string, render_terraform};

/// `out` gets the documents; `err` the explanations that must not spoil them
/// (`generate --rcp-exception > x.json` must be JSON).
pub fn run(
    args: &GenerateArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Exit, CommandError> {
    let result = (|| -> Result<Exit, CommandError> {
        if args.rcp_exception {
            let attachment = resolve_for_rcp_exception(args)?;
            let rendered = rcp_exception::render(&attachment, args.format)?;
            err.write_all(rendered.comments.as_bytes())?;
            err.flush()?;
            out.write_all(rendered.document.as_bytes())?;
            out.flush()?;
            return Ok(Exit::Success);
        }
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

/// The attachment `--rcp-exception` reads AoC's principal from. The exception names AoC's
/// principal only, so the values it does not use (region, bucket, key, role) are not required:
/// placeholders stand for those the flags do not give (overriding the config file's is
/// harmless, nothing reads them).
fn resolve_for_rcp_exception(args: &GenerateArgs) -> Result<Attachment, UsageError> {
    let mut flags = args.attachment_args.clone();
    let placeholders = [
        (&mut flags.region, "us-east-1"),
        (&mut flags.bucket, "unused-by-rcp-exception"),
        (
            &mut flags.kms_key,
            "arn:aws:kms:us-east-1:000000000000:key/unused-by-rcp-exception",
        ),
        (
            &mut flags.role_arn,
            "arn:aws:iam::000000000000:role/unused-by-rcp-exception",
        ),
    ];
    for (value, placeholder) in placeholders {
        value.get_or_insert_with(|| placeholder.to_string());
    }
    resolve_with(args, &flags)
}

/// The one attachment to generate for, from `--config`/`--attachment` and the flags, the way
/// `check` reads them.
fn resolve_one(args: &GenerateArgs) -> Result<Attachment, UsageError> {
    resolve_with(args, &args.attachment_args)
}

fn resolve_with(
    args: &GenerateArgs,
    flags: &crate::cli::AttachmentArgs,
) -> Result<Attachment, UsageError> {
    let mut inputs = crate::spec::resolve(Sources {
        config: args.config.as_deref(),
        attachment: args.attachment.as_deref(),
        flags,
        // The documents are what this writes, not what it reads.
        documents: None,
        org: None,
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
        std::fs::write(&path, render::pretty(&d.to_json()) + "\n").map_err(|e| {
            UsageError(format!(
                "--output-dir: cannot write {}: {}",
                path.display(),
                io_reason(&e)
            ))
        })?;
    }
    Ok(())
}

/// The attachment the unit tests generate for: one account, AoC's principal and external ID
/// given.
#[cfg(test)]
mod fixtures {
    use crate::model::attachment::{AocTrust, Attachment};

    pub const KEY: &str =
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    pub const ROLE: &str = "arn:aws:iam::111122223333:role/aoc-access";
    pub const AOC: &str = "arn:aws:iam::860559707280:role/atp-aws-us-east-1-ts-atc-node";

    pub fn attachment() -> Attachment {
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
}
