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

use crate::cli::{AttachmentArgs, DocumentArgs, InputArgs};
use crate::error::{UsageError, load_policy, read_input};
use crate::model::attachment::{Access, AocTrust, Attachment, AttachmentInput, OfflineDocuments};
use crate::model::gate::Suppression;
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
    /// Offline: the account that owns the bucket (default: the role's).
    bucket_account: Option<String>,
    /// Live mode: the AWS profile that reads this attachment's account.
    profile: Option<String>,
    /// Live mode: a role to assume (a central audit role) to read this attachment's account.
    assume_role_arn: Option<String>,
    assume_role_external_id: Option<String>,
    /// Checks that must run for this attachment (with `[defaults]`'s: both apply).
    #[serde(default)]
    require: Vec<String>,
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
            bucket_account: self.bucket_account.or(d.bucket_account),
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
}

impl<'a> Sources<'a> {
    /// The sources `check` (and `explain --run`) read.
    pub fn of(input: &'a InputArgs) -> Self {
        Sources {
            config: input.config.as_deref(),
            attachment: input.attachment.as_deref(),
            flags: &input.attachment_args,
            documents: Some(&input.documents),
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
    entries
        .into_iter()
        .enumerate()
        .map(|(i, (entry, table))| {
            let mut input = build(entry, sources, several.then_some(i))?;
            input.config_entry = table;
            Ok(input)
        })
        .collect()
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
    a
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
    let pick = |flag: &Option<String>, from_file: Option<String>, name: &str| {
        flag.clone()
            .or(from_file)
            .ok_or_else(|| {
                UsageError(format!(
                    "{label}missing required value `{name}` (give --{} or set `{name}` in the config file)",
                    name.replace('_', "-")
                ))
            })
    };
    let region = pick(&flags.region, file.region, "region")?;
    let bucket = pick(&flags.bucket, file.bucket, "bucket")?;
    let kms_key = pick(&flags.kms_key, file.kms_key, "kms_key")?;
    let role_arn = pick(&flags.role_arn, file.role_arn, "role_arn")?;
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
    let policy = match trust_file {
        Some(p) => Some(load_policy(&p)?),
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
    };

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
        access,
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
    fn missing_required_value_names_flag_and_key() {
        let err = resolve(Sources::of(&InputArgs::default()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("--region"), "{err}");
        assert!(err.contains("`region`"), "{err}");
    }
}
