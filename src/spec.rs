//! Reading the attachments to check ([`crate::model::attachment`]): what the admin entered in
//! AoC (region, bucket, path, key, role) and what AoC showed them (the trust policy, or its
//! external ID and principal), gathered from a TOML config file and command-line flags (flags
//! win).
//!
//! This module only assembles and reads inputs; it does not judge the values. A malformed ARN
//! or bucket name is a finding of the `input.values` check, not a usage error (docs/contract.md, "Statuses and exit codes").
//! What is a usage error here (exit 2): an unreadable file, TOML or JSON that does not parse,
//! an unknown key in the config file, and a missing required value.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cli::{AttachmentArgs, DocumentArgs, InputArgs, OrgArgs};
use crate::error::{UsageError, read_input};
use crate::model::attachment::{Access, AocTrust, Attachment, AttachmentInput, OfflineDocuments};
use crate::model::gate::Suppression;
use crate::model::org_input::OrgPolicyFile;
use crate::model::verdict::Location;

/// The config file: several `[[attachment]]` tables, and `[defaults]` for keys they share
/// (an audit role, a profile, a region). Unknown keys are an error so that a typo
/// (`kms_kye`) is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    defaults: ConfigAttachment,
    #[serde(default)]
    attachment: Vec<ConfigAttachment>,
    /// Accepted findings (`[[suppress]]`), for the whole file.
    #[serde(default)]
    suppress: Vec<ConfigSuppression>,
}

/// A `[[suppress]]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigSuppression {
    check: String,
    attachment: Option<String>,
    finding: Option<String>,
    reason: String,
    expires: Option<toml::value::Datetime>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigAttachment {
    name: Option<String>,
    region: Option<String>,
    bucket: Option<String>,
    path: Option<String>,
    kms_key: Option<String>,
    role_arn: Option<String>,
    trust_policy: Option<PathBuf>,
    external_id: Option<String>,
    aoc_principal: Option<String>,
    #[serde(default)]
    identity_policies: Vec<PathBuf>,
    permissions_boundary: Option<PathBuf>,
    bucket_policy: Option<PathBuf>,
    key_policy: Option<PathBuf>,
    role_trust_policy: Option<PathBuf>,
    /// Offline: a Terraform plan as JSON (`terraform show -json PLANFILE`).
    terraform_plan: Option<PathBuf>,
    /// Offline: the account that owns the bucket (default: the role's).
    bucket_account: Option<String>,
    /// Offline: the organization's SCPs and RCPs, `[LEVEL=]FILE` each.
    #[serde(default, deserialize_with = "org_policy_files")]
    scps: Vec<OrgPolicyFile>,
    #[serde(default, deserialize_with = "org_policy_files")]
    rcps: Vec<OrgPolicyFile>,
    /// Offline: the organization's management account.
    org_management_account: Option<String>,
    /// Live mode: the AWS profile that reads this attachment's account.
    profile: Option<String>,
    /// Live mode: a role to assume (a central audit role) to read this attachment's account.
    assume_role_arn: Option<String>,
    assume_role_external_id: Option<String>,
    /// Checks that must run for this attachment (with `[defaults]`'s: both apply).
    #[serde(default)]
    require: Vec<String>,
    /// Live mode: the profile of the organization's management account or a delegated
    /// administrator, which can read the SCPs and RCPs that apply.
    org_profile: Option<String>,
    /// Live mode: a role there to assume to read them.
    org_assume_role_arn: Option<String>,
    org_assume_role_external_id: Option<String>,
}

impl ConfigAttachment {
    /// This attachment's values, with `defaults` for those it does not set.
    fn or_defaults(self, d: &ConfigAttachment) -> ConfigAttachment {
        let d = d.clone();
        ConfigAttachment {
            name: self.name,
            region: self.region.or(d.region),
            bucket: self.bucket.or(d.bucket),
            path: self.path.or(d.path),
            kms_key: self.kms_key.or(d.kms_key),
            role_arn: self.role_arn.or(d.role_arn),
            trust_policy: self.trust_policy.or(d.trust_policy),
            external_id: self.external_id.or(d.external_id),
            aoc_principal: self.aoc_principal.or(d.aoc_principal),
            identity_policies: if self.identity_policies.is_empty() {
                d.identity_policies
            } else {
                self.identity_policies
            },
            permissions_boundary: self.permissions_boundary.or(d.permissions_boundary),
            bucket_policy: self.bucket_policy.or(d.bucket_policy),
            key_policy: self.key_policy.or(d.key_policy),
            role_trust_policy: self.role_trust_policy.or(d.role_trust_policy),
            terraform_plan: self.terraform_plan.or(d.terraform_plan),
            bucket_account: self.bucket_account.or(d.bucket_account),
            scps: if self.scps.is_empty() {
                d.scps
            } else {
                self.scps
            },
            rcps: if self.rcps.is_empty() {
                d.rcps
            } else {
                self.rcps
            },
            org_management_account: self.org_management_account.or(d.org_management_account),
            profile: self.profile.or(d.profile),
            assume_role_arn: self.assume_role_arn.or(d.assume_role_arn),
            assume_role_external_id: self.assume_role_external_id.or(d.assume_role_external_id),
            // An attachment adds to what every attachment requires; it cannot drop it.
            require: d
                .require
                .into_iter()
                .chain(self.require)
                .fold(Vec::new(), |mut all, id| {
                    if !all.contains(&id) {
                        all.push(id);
                    }
                    all
                }),
            org_profile: self.org_profile.or(d.org_profile),
            org_assume_role_arn: self.org_assume_role_arn.or(d.org_assume_role_arn),
            org_assume_role_external_id: self
                .org_assume_role_external_id
                .or(d.org_assume_role_external_id),
        }
    }
}

/// Where the attachments are described: a config file (and the one attachment chosen in it),
/// the flags that override its values, and the offline document flags of a command that has
/// them (`generate` has none: it reads the documents only from the config file).
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub config: Option<&'a Path>,
    /// `--attachment NAME`.
    pub attachment: Option<&'a str>,
    pub flags: &'a AttachmentArgs,
    pub documents: Option<&'a DocumentArgs>,
    /// `--org-profile`, `--org-assume-role-arn` of a command that reads AWS.
    pub org: Option<&'a OrgArgs>,
}

impl<'a> Sources<'a> {
    /// The sources `check` (and `explain --run`) read.
    pub fn of(input: &'a InputArgs) -> Self {
        Sources {
            config: input.config.as_deref(),
            attachment: input.attachment.as_deref(),
            flags: &input.attachment_args,
            documents: Some(&input.documents),
            org: Some(&input.org),
        }
    }
}

/// Builds the attachments to check from `--config` and the flags. Flags override every
/// attachment's value of the same name; with `--attachment NAME` only that one is kept.
pub fn resolve(sources: Sources<'_>) -> Result<Vec<AttachmentInput>, UsageError> {
    let mut entries: Vec<(ConfigAttachment, Option<Location>)> = match sources.config {
        Some(path) => {
            let (file, text) = load_config_text(path)?;
            let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
            let tables = table_locations(path, &text, &file);
            let mut entries: Vec<(ConfigAttachment, Option<Location>)> = file
                .attachment
                .into_iter()
                .map(|a| relative_to(a.or_defaults(&file.defaults), &base))
                .zip(tables.iter().cloned().map(Some))
                .collect();
            // A file with only defaults describes one attachment.
            if entries.is_empty() {
                entries.push((relative_to(file.defaults, &base), tables.first().cloned()));
            }
            entries
        }
        None => Vec::new(),
    };
    if let Some(wanted) = sources.attachment {
        entries.retain(|(a, _)| a.name.as_deref() == Some(wanted));
        if entries.is_empty() {
            return Err(UsageError(format!(
                "--attachment: no attachment named `{wanted}` in the config file"
            )));
        }
    }
    if entries.is_empty() {
        entries.push((ConfigAttachment::default(), None));
    }
    let several = entries.len() > 1;
    let (built, errors): (Vec<_>, Vec<_>) = entries
        .into_iter()
        .enumerate()
        .map(|(i, (entry, table))| {
            build(entry, sources, several.then_some(i)).map(|input| AttachmentInput {
                config_entry: table,
                ..input
            })
        })
        .partition(Result::is_ok);
    // A fleet file's problems are all reported in one run, like one attachment's.
    let errors: Vec<String> = errors
        .into_iter()
        .filter_map(Result::err)
        .map(|e| e.0)
        .collect();
    if !errors.is_empty() {
        return Err(UsageError(errors.join("; ")));
    }
    Ok(built.into_iter().filter_map(Result::ok).collect())
}

/// Where each attachment of the config file is written, in the order of its
/// `[[attachment]]` tables: the table's header line, found in the text (the parsed values do
/// not keep positions). A file with no table (only `[defaults]`, or inline arrays the scan
/// cannot place) points at its `[defaults]` line, else at line 1.
fn table_locations(path: &Path, text: &str, file: &ConfigFile) -> Vec<Location> {
    let header = |line: &str, name: &str| {
        let compact: String = line
            .split('#')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        compact == name
    };
    let lines_of = |name: &str| -> Vec<usize> {
        text.lines()
            .enumerate()
            .filter(|(_, line)| header(line, name))
            .map(|(i, _)| i + 1)
            .collect()
    };
    let at = |line: usize, anchor: String| Location {
        file: path.display().to_string(),
        line,
        column: 1,
        anchor,
    };
    let tables = lines_of("[[attachment]]");
    if !file.attachment.is_empty() && tables.len() == file.attachment.len() {
        return file
            .attachment
            .iter()
            .zip(tables)
            .enumerate()
            .map(|(i, (a, line))| {
                let anchor = match &a.name {
                    Some(name) => format!("attachment `{name}`"),
                    None => format!("attachment #{}", i + 1),
                };
                at(line, anchor)
            })
            .collect();
    }
    let defaults = lines_of("[defaults]").first().copied().unwrap_or(1);
    let count = file.attachment.len().max(1);
    (0..count)
        .map(|i| at(defaults, format!("attachment #{}", i + 1)))
        .collect()
}

/// The config file's `[[suppress]]` tables, checked: a check ID or finding key that does not
/// exist is a usage error (with the nearest one), so a typo cannot silently suppress nothing;
/// `reason` must say something; `expires` is a date (`2027-01-31`), not a date-time.
pub fn suppressions(config: Option<&Path>) -> Result<Vec<Suppression>, UsageError> {
    let Some(path) = config else {
        return Ok(Vec::new());
    };
    let file = load_config(path)?;
    file.suppress
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let at = format!("{}: [[suppress]] #{}", path.display(), i + 1);
            if let Some(problem) = crate::checks::gate::unknown_check(&s.check) {
                return Err(UsageError(format!("{at}: check: {problem}")));
            }
            if let Some(key) = &s.finding
                && let Some(problem) = crate::checks::gate::unknown_finding(&s.check, key)
            {
                return Err(UsageError(format!("{at}: finding: {problem}")));
            }
            if s.reason.trim().is_empty() {
                return Err(UsageError(format!(
                    "{at}: `reason` is empty: say why the finding is accepted"
                )));
            }
            let expires = match s.expires {
                None => None,
                Some(d) => match (d.date, d.time, d.offset) {
                    (Some(date), None, None) => Some(
                        jiff::civil::Date::new(date.year as i16, date.month as i8, date.day as i8)
                            .map_err(|e| UsageError(format!("{at}: expires: {e}")))?,
                    ),
                    _ => {
                        return Err(UsageError(format!(
                            "{at}: expires = {d} is not a date: write it as 2027-01-31"
                        )));
                    }
                },
            };
            Ok(Suppression {
                check: s.check,
                attachment: s.attachment,
                finding: s.finding,
                reason: s.reason.trim().to_string(),
                expires,
            })
        })
        .collect()
}

/// Reads and parses the config file; errors give the file, line and column on one line.
fn load_config(path: &Path) -> Result<ConfigFile, UsageError> {
    load_config_text(path).map(|(file, _)| file)
}

/// [`load_config`], with the text it was parsed from.
fn load_config_text(path: &Path) -> Result<(ConfigFile, String), UsageError> {
    let text = read_input(path)?;
    let file = toml::from_str::<ConfigFile>(&text).map_err(|e| {
        let (line, column) = e
            .span()
            .map(|span| line_column(&text, span.start))
            .unwrap_or((1, 1));
        UsageError(format!(
            "{}:{line}:{column}: {}",
            path.display(),
            e.message().trim().replace('\n', " ")
        ))
    })?;
    Ok((file, text))
}

/// 1-based line and column of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Paths in a config file are relative to the file, not to the working directory, so a
/// config can be run from anywhere.
fn relative_to(mut a: ConfigAttachment, base: &Path) -> ConfigAttachment {
    let fix = |p: &mut PathBuf| {
        if p.is_relative() && p.as_os_str() != "-" {
            *p = base.join(&*p);
        }
    };
    a.trust_policy.as_mut().map(fix);
    a.identity_policies.iter_mut().for_each(fix);
    a.permissions_boundary.as_mut().map(fix);
    a.bucket_policy.as_mut().map(fix);
    a.key_policy.as_mut().map(fix);
    a.role_trust_policy.as_mut().map(fix);
    a.terraform_plan.as_mut().map(fix);
    a.scps
        .iter_mut()
        .chain(a.rcps.iter_mut())
        .filter(|f| !f.is_full_aws_access())
        .for_each(|f| fix(&mut f.path));
    a
}

/// `scps` / `rcps`: a list of `[LEVEL=]FILE` strings.
fn org_policy_files<'de, D>(deserializer: D) -> Result<Vec<OrgPolicyFile>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let values = Vec::<String>::deserialize(deserializer)?;
    values
        .iter()
        .map(|v| OrgPolicyFile::parse(v).map_err(serde::de::Error::custom))
        .collect()
}

fn build(
    file: ConfigAttachment,
    sources: Sources<'_>,
    position: Option<usize>,
) -> Result<AttachmentInput, UsageError> {
    let flags = sources.flags;
    let label = match (&file.name, position, sources.config) {
        (Some(name), _, _) => format!("attachment `{name}`: "),
        (None, Some(i), _) => format!("attachment #{}: ", i + 1),
        (None, None, Some(config)) => format!("{}: ", config.display()),
        (None, None, None) => String::new(),
    };
    // Every missing value is named at once: fixing them one run at a time wastes the admin's.
    let mut missing: Vec<&'static str> = Vec::new();
    // A value `init` left to fill in is missing, not a malformed value of the attachment.
    let mut unfilled: Vec<&'static str> = Vec::new();
    let mut pick = |flag: &Option<String>, from_file: Option<String>, name: &'static str| {
        let value = flag.clone().or(from_file);
        match &value {
            None => missing.push(name),
            Some(v) if v.trim() == crate::init::PLACEHOLDER => unfilled.push(name),
            Some(_) => {}
        }
        value.unwrap_or_default()
    };
    let region = pick(&flags.region, file.region, "region");
    let bucket = pick(&flags.bucket, file.bucket, "bucket");
    let kms_key = pick(&flags.kms_key, file.kms_key, "kms_key");
    let role_arn = pick(&flags.role_arn, file.role_arn, "role_arn");
    if !missing.is_empty() {
        return Err(UsageError(format!("{label}{}", missing_values(&missing))));
    }
    if !unfilled.is_empty() {
        return Err(UsageError(format!(
            "{label}still {} in the config file: fill in {}",
            crate::init::PLACEHOLDER,
            unfilled.join(", ")
        )));
    }
    let path = flags
        .path
        .clone()
        .or(file.path)
        .unwrap_or_else(|| "/".to_string());

    let trust_file: Option<PathBuf> = flags
        .trust_policy
        .as_ref()
        .map(PathBuf::from)
        .or(file.trust_policy);
    let mut notes = Vec::new();
    let policy = match trust_file {
        Some(p) => {
            let pasted = crate::pasted::load_trust_policy(&p)?;
            notes.extend(pasted.note);
            Some(pasted.policy)
        }
        None => None,
    };
    let aoc_trust = AocTrust {
        policy,
        external_id: flags.external_id.clone().or(file.external_id),
        aoc_principal: flags.aoc_principal.clone().or(file.aoc_principal),
    };

    let document_flags = sources.documents;
    let or_flag = |flag: fn(&DocumentArgs) -> &Option<PathBuf>, from_file: Option<PathBuf>| {
        document_flags.and_then(|d| flag(d).clone()).or(from_file)
    };
    let identity_flags = document_flags.map_or(&[][..], |d| d.identity_policies.as_slice());
    let documents = OfflineDocuments {
        identity_policies: if identity_flags.is_empty() {
            file.identity_policies
        } else {
            identity_flags.to_vec()
        },
        permissions_boundary: or_flag(|d| &d.permissions_boundary, file.permissions_boundary),
        bucket_policy: or_flag(|d| &d.bucket_policy, file.bucket_policy),
        key_policy: or_flag(|d| &d.key_policy, file.key_policy),
        role_trust_policy: or_flag(|d| &d.role_trust_policy, file.role_trust_policy),
        terraform_plan: or_flag(|d| &d.terraform_plan, file.terraform_plan),
        bucket_account: match document_flags
            .and_then(|d| d.bucket_account.clone())
            .or(file.bucket_account)
        {
            Some(a) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => Some(a),
            Some(a) => {
                return Err(UsageError(format!(
                    "{label}bucket account `{a}` is not a 12-digit AWS account ID (--bucket-account, `bucket_account`)"
                )));
            }
            None => None,
        },
        scps: match document_flags.map(|d| d.scps.clone()) {
            Some(flags) if !flags.is_empty() => flags,
            _ => file.scps,
        },
        rcps: match document_flags.map(|d| d.rcps.clone()) {
            Some(flags) if !flags.is_empty() => flags,
            _ => file.rcps,
        },
        org_management_account: match document_flags
            .and_then(|d| d.org_management_account.clone())
            .or(file.org_management_account)
        {
            Some(a) if crate::arn::is_account_id(&a) => Some(a),
            Some(a) => {
                return Err(UsageError(format!(
                    "{label}management account `{a}` is not a 12-digit AWS account ID (--org-management-account, `org_management_account`)"
                )));
            }
            None => None,
        },
    };

    let org_flags = sources.org.cloned().unwrap_or_default();
    let org_access = org_access(
        file.profile.as_ref(),
        file.org_profile.or(org_flags.org_profile),
        file.org_assume_role_arn.or(org_flags.org_assume_role_arn),
        file.org_assume_role_external_id
            .or(org_flags.org_assume_role_external_id),
    )
    .map_err(|e| UsageError(format!("{label}{e}")))?;
    let access = Access {
        profile: file.profile,
        assume_role_arn: file.assume_role_arn,
        assume_role_external_id: file.assume_role_external_id,
    };
    for id in &file.require {
        if let Some(problem) = crate::checks::gate::unknown_check(id) {
            return Err(UsageError(format!("{label}require: {problem}")));
        }
    }
    Ok(AttachmentInput {
        required: file.require,
        notes,
        access,
        org_access,
        attachment: Attachment {
            name: file.name,
            region,
            bucket,
            path,
            kms_key,
            role_arn,
            aoc_trust,
        },
        documents,
        config_entry: None,
    })
}

/// The credentials that read the organization's policies: `None` when neither a profile nor a
/// role is named for them (the attachment's own then try). A role alone is assumed from the
/// attachment's profile, as its own credentials would be.
fn org_access(
    attachment_profile: Option<&String>,
    org_profile: Option<String>,
    org_role: Option<String>,
    org_external_id: Option<String>,
) -> Result<Option<Access>, String> {
    if org_role.is_none() && org_external_id.is_some() {
        return Err(
            "`org_assume_role_external_id` needs `org_assume_role_arn` (the role it is for)"
                .to_string(),
        );
    }
    if org_profile.is_none() && org_role.is_none() {
        return Ok(None);
    }
    Ok(Some(Access {
        profile: org_profile.or_else(|| attachment_profile.cloned()),
        assume_role_arn: org_role,
        assume_role_external_id: org_external_id,
    }))
}

/// The message for required values neither flags nor the config file gave.
fn missing_values(names: &[&str]) -> String {
    let flag = |name: &str| format!("--{}", name.replace('_', "-"));
    match names {
        [name] => format!(
            "missing required value `{name}` (give {} or set `{name}` in the config file)",
            flag(name)
        ),
        _ => {
            let listed: Vec<String> = names
                .iter()
                .map(|name| format!("`{name}` ({})", flag(name)))
                .collect();
            format!(
                "missing required value {}: give each flag or set each key in the config file",
                listed.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 8), (2, 3));
    }

    #[test]
    fn unknown_config_key_is_rejected_with_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aoc.toml");
        std::fs::write(
            &path,
            "[[attachment]]\nregion = \"us-east-1\"\nkms_kye = \"x\"\n",
        )
        .unwrap();
        let err = load_config(&path).unwrap_err().to_string();
        assert!(err.contains("aoc.toml:3:1"), "{err}");
        assert!(err.contains("kms_kye"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn flags_override_file_and_paths_are_relative_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aoc.toml");
        std::fs::write(
            &path,
            r#"
[[attachment]]
name = "prod"
region = "us-east-1"
bucket = "from-file"
kms_key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
role_arn = "arn:aws:iam::111122223333:role/aoc"
bucket_policy = "bucket.json"
"#,
        )
        .unwrap();
        let flags = AttachmentArgs {
            bucket: Some("from-flag".into()),
            ..Default::default()
        };
        let got = resolve(Sources {
            config: Some(&path),
            attachment: None,
            flags: &flags,
            documents: None,
            org: None,
        })
        .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].attachment.bucket, "from-flag");
        assert_eq!(got[0].attachment.region, "us-east-1");
        assert_eq!(got[0].attachment.path, "/");
        assert_eq!(got[0].attachment.name.as_deref(), Some("prod"));
        assert_eq!(
            got[0].documents.bucket_policy.as_deref(),
            Some(dir.path().join("bucket.json").as_path())
        );
    }

    #[test]
    fn issue11_d3_bucket_account_from_the_config_file_or_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aoc.toml");
        std::fs::write(
            &path,
            r#"
[defaults]
bucket_account = "444455556666"

[[attachment]]
region = "us-east-1"
bucket = "b-1"
kms_key = "k"
role_arn = "r"
"#,
        )
        .unwrap();
        let flags = AttachmentArgs::default();
        let resolve_with = |bucket_account: Option<&str>| {
            let documents = DocumentArgs {
                bucket_account: bucket_account.map(String::from),
                ..Default::default()
            };
            resolve(Sources {
                config: Some(&path),
                attachment: None,
                flags: &flags,
                documents: Some(&documents),
                org: None,
            })
        };
        let got = resolve_with(None).unwrap();
        assert_eq!(
            got[0].documents.bucket_account.as_deref(),
            Some("444455556666")
        );
        let got = resolve_with(Some("111122223333")).unwrap();
        assert_eq!(
            got[0].documents.bucket_account.as_deref(),
            Some("111122223333")
        );
        let err = resolve_with(Some("1111")).unwrap_err().to_string();
        assert!(err.contains("12-digit"), "{err}");
    }

    #[test]
    fn every_missing_value_is_named_at_once() {
        let flags = AttachmentArgs {
            bucket: Some("b".into()),
            ..Default::default()
        };
        let err = resolve(Sources {
            config: None,
            attachment: None,
            flags: &flags,
            documents: None,
            org: None,
        })
        .unwrap_err()
        .to_string();
        for name in [
            "`region` (--region)",
            "`kms_key` (--kms-key)",
            "`role_arn` (--role-arn)",
        ] {
            assert!(err.contains(name), "{err}");
        }
        assert!(!err.contains("bucket"), "{err}");
    }

    #[test]
    fn missing_required_value_names_flag_and_key() {
        let err = resolve(Sources::of(&InputArgs::default()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("--region"), "{err}");
        assert!(err.contains("`region`"), "{err}");
    }

    #[test]
    fn org_credentials_come_from_the_attachment_then_defaults_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fleet.toml");
        std::fs::write(
            &path,
            r#"
[defaults]
region = "us-east-1"
bucket = "b"
kms_key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
role_arn = "arn:aws:iam::111122223333:role/aoc"
org_assume_role_arn = "arn:aws:iam::999988887777:role/org-reader"

[[attachment]]
name = "own-profile"
profile = "member"

[[attachment]]
name = "org-profile"
org_profile = "management"
org_assume_role_arn = "arn:aws:iam::999988887777:role/other"
org_assume_role_external_id = "ext-1"
"#,
        )
        .unwrap();
        let flags = AttachmentArgs::default();
        let org_flags = OrgArgs {
            org_profile: Some("from-flag".into()),
            ..OrgArgs::default()
        };
        let resolve_with = |org: Option<&OrgArgs>| {
            resolve(Sources {
                config: Some(&path),
                attachment: None,
                flags: &flags,
                documents: None,
                org,
            })
            .unwrap()
        };
        let got = resolve_with(None);
        // The defaults' role, assumed from the attachment's own profile.
        assert_eq!(
            got[0].org_access,
            Some(Access {
                profile: Some("member".into()),
                assume_role_arn: Some("arn:aws:iam::999988887777:role/org-reader".into()),
                assume_role_external_id: None,
            })
        );
        assert_eq!(
            got[1].org_access,
            Some(Access {
                profile: Some("management".into()),
                assume_role_arn: Some("arn:aws:iam::999988887777:role/other".into()),
                assume_role_external_id: Some("ext-1".into()),
            })
        );
        // A flag fills what the file leaves out; the file's values win.
        let got = resolve_with(Some(&org_flags));
        assert_eq!(
            got[0]
                .org_access
                .as_ref()
                .and_then(|a| a.profile.as_deref()),
            Some("from-flag")
        );
        assert_eq!(
            got[1]
                .org_access
                .as_ref()
                .and_then(|a| a.profile.as_deref()),
            Some("management")
        );
        // Nothing named: the attachment's own credentials read the organization.
        let none = resolve(Sources::of(&InputArgs {
            attachment_args: AttachmentArgs {
                region: Some("us-east-1".into()),
                bucket: Some("b".into()),
                kms_key: Some("k".into()),
                role_arn: Some("r".into()),
                ..Default::default()
            },
            ..Default::default()
        }))
        .unwrap();
        assert_eq!(none[0].org_access, None);
        // An external ID without its role is a mistake, not ignored.
        assert!(org_access(None, None, None, Some("x".into())).is_err());
    }
}
