//! `aoc-preflight init`: a commented config file for one attachment, written from the flags
//! given and with placeholders for the values still to enter, so that an admin starts from a
//! file that says what each key means rather than from the documentation.

use std::io::Write;

use crate::cli::InitArgs;
use crate::error::{CommandError, UsageError, io_reason};
use crate::exit::Exit;

/// What a required value not given on the command line is set to: obviously not a value, and
/// found by a search for it.
pub const PLACEHOLDER: &str = "FILL-IN";

/// Writes the config file (or prints it, for `--output -`); `status` gets one line saying what
/// was written and what is left to fill in.
pub fn run(
    args: &InitArgs,
    stdout: &mut dyn Write,
    status: &mut dyn Write,
) -> Result<Exit, CommandError> {
    let path = &args.output;
    let (text, to_fill) = if path.as_os_str() == "-" {
        render(args)
    } else {
        render(&rebased(args, path))
    };
    if path.as_os_str() == "-" {
        stdout.write_all(text.as_bytes())?;
        stdout.flush()?;
        return Ok(Exit::Success);
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    // Without --force an existing file is refused atomically: it may hold a filled-in config.
    if args.force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            UsageError(format!(
                "{} exists: give --force to overwrite it, or --output another file",
                path.display()
            ))
        } else {
            UsageError(format!(
                "--output: cannot create {}: {}",
                path.display(),
                io_reason(&e)
            ))
        }
    })?;
    file.write_all(text.as_bytes())?;
    let next = format!("aoc-preflight check --config {}", path.display());
    if to_fill.is_empty() {
        writeln!(
            status,
            "aoc-preflight: wrote {}; run `{next}`",
            path.display()
        )?;
    } else {
        writeln!(
            status,
            "aoc-preflight: wrote {}; fill in {} (marked {PLACEHOLDER}), then run `{next}`",
            path.display(),
            to_fill.join(", ")
        )?;
    }
    Ok(Exit::Success)
}

/// `args` with a relative `--trust-policy` made absolute when the config file goes to another
/// directory: paths in a config file are read relative to the file, so the path as typed
/// (relative to where `init` ran) would name another file.
fn rebased(args: &InitArgs, output: &std::path::Path) -> InitArgs {
    let mut args = args.clone();
    let elsewhere = output
        .parent()
        .is_some_and(|dir| !dir.as_os_str().is_empty() && dir != std::path::Path::new("."));
    if elsewhere
        && let Some(trust) = args.attachment_args.trust_policy.as_mut()
        && trust != "-"
        && std::path::Path::new(trust.as_str()).is_relative()
        && let Ok(absolute) = std::path::absolute(trust.as_str())
    {
        *trust = absolute.display().to_string();
    }
    args
}

/// The file's text, and the required keys left as placeholders.
pub fn render(args: &InitArgs) -> (String, Vec<&'static str>) {
    let a = &args.attachment_args;
    let mut to_fill = Vec::new();
    let mut out = String::from(HEADER);
    out.push_str("\n[[attachment]]\n");
    match &args.name {
        Some(name) => out.push_str(&format!(
            "# A name for the attachment, shown in reports.\nname = {}\n",
            quoted(name)
        )),
        None => out.push_str(
            "# A name for the attachment, shown in reports (optional).\n# name = \"production\"\n",
        ),
    }
    let required: [(&'static str, &Option<String>, &str); 4] = [
        (
            "region",
            &a.region,
            "The region selected in AoC, where the bucket is, e.g. \"us-east-1\".",
        ),
        (
            "bucket",
            &a.bucket,
            "The bucket name as entered in AoC: the name only, no s3:// or path.",
        ),
        (
            "kms_key",
            &a.kms_key,
            "The KMS key as entered in AoC: arn:aws:kms:REGION:ACCOUNT:key/KEY_ID\n# (or an alias ARN, arn:aws:kms:REGION:ACCOUNT:alias/NAME).",
        ),
        (
            "role_arn",
            &a.role_arn,
            "The IAM role ARN entered in AoC: arn:aws:iam::ACCOUNT:role/PATH/NAME.",
        ),
    ];
    for (key, value, comment) in required {
        out.push_str(&format!("\n# {comment}\n"));
        match value {
            Some(v) => out.push_str(&format!("{key} = {}\n", quoted(v))),
            None => {
                to_fill.push(key);
                out.push_str(&format!("{key} = {}\n", quoted(PLACEHOLDER)));
            }
        }
        if key == "bucket" {
            out.push_str(
                "\n# The bucket path entered in AoC: \"/\" for the whole bucket, or a folder like \"/data\".\n",
            );
            out.push_str(&format!(
                "path = {}\n",
                quoted(a.path.as_deref().unwrap_or("/"))
            ));
        }
    }
    out.push_str(TRUST_COMMENT);
    let trust: [(&str, Option<&str>, &str); 3] = [
        (
            "trust_policy",
            a.trust_policy.as_deref(),
            "aoc-trust-policy.json",
        ),
        ("external_id", a.external_id.as_deref(), "EXTERNAL_ID"),
        (
            "aoc_principal",
            a.aoc_principal.as_deref(),
            "arn:aws:iam::AOC_ACCOUNT:role/NAME",
        ),
    ];
    for (key, value, example) in trust {
        match value {
            Some(v) => out.push_str(&format!("{key} = {}\n", quoted(v))),
            None => out.push_str(&format!("# {key} = {}\n", quoted(example))),
        }
    }
    out.push_str(DOCUMENTS_COMMENT);
    (out, to_fill)
}

/// A TOML basic string: quotes, backslashes and control characters escaped.
fn quoted(value: &str) -> String {
    toml::Value::String(value.to_string()).to_string()
}

const HEADER: &str = "\
# aoc-preflight configuration: one storage attachment, as entered in IBM Aspera on Cloud.
#
# Fill in every value marked FILL-IN, then run
#   aoc-preflight check --config aoc.toml             (live: reads AWS with your credentials)
#   aoc-preflight check --config aoc.toml --offline   (judges the policy files listed below)
# Command-line flags override the values here. For several attachments, repeat the
# [[attachment]] table (each with its own name), and put shared keys under [defaults].
";

const TRUST_COMMENT: &str = "
# AoC's side of the trust relationship, as the AoC page shows it once the region is selected:
# the trust policy JSON saved to a file (text around it is fine: the tool takes the JSON
# object), or its external ID and principal.
";

const DOCUMENTS_COMMENT: &str = r#"
# Offline mode (--offline): the policy documents to judge, as files relative to this file.
# identity_policies = ["role-s3-policy.json", "role-kms-policy.json"]
# permissions_boundary = "boundary.json"
# bucket_policy = "bucket-policy.json"
# key_policy = "key-policy.json"
# role_trust_policy = "role-trust-policy.json"
# bucket_account = "111122223333"   # default: the role's account

# Live mode: the AWS profile that reads this account, and a role to assume for it.
# profile = "audit"
# assume_role_arn = "arn:aws:iam::111122223333:role/aoc-preflight-audit"
# assume_role_external_id = "..."
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::AttachmentArgs;

    fn args(attachment_args: AttachmentArgs) -> InitArgs {
        InitArgs {
            attachment_args,
            name: None,
            output: "aoc.toml".into(),
            force: false,
        }
    }

    #[test]
    fn values_given_are_written_and_the_rest_are_placeholders() {
        let (text, to_fill) = render(&args(AttachmentArgs {
            region: Some("eu-west-1".into()),
            bucket: Some("say \"hi\"".into()),
            external_id: Some("abc".into()),
            ..Default::default()
        }));
        assert!(text.contains("region = \"eu-west-1\"\n"), "{text}");
        assert!(text.contains("\nexternal_id = \"abc\"\n"), "{text}");
        assert!(text.contains("\n# aoc_principal = "), "{text}");
        assert_eq!(to_fill, ["kms_key", "role_arn"]);
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(
            parsed["attachment"][0]["kms_key"].as_str(),
            Some(PLACEHOLDER)
        );
        assert_eq!(
            parsed["attachment"][0]["bucket"].as_str(),
            Some("say \"hi\"")
        );
    }
}
