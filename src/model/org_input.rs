//! The organization policies given as files (offline `check`, `simulate`): the `[LEVEL=]FILE`
//! syntax of `--scp` / `--rcp` and the config keys `scps` / `rcps`, and how the files become
//! the levels of [`OrgPolicies`].
//!
//! LEVEL is `root` (the default), `ou:PATH` (an OU by its path of names from the root,
//! `ou:Sales/Prod`) or `account` (the account itself). Every level has AWS's default
//! `FullAWSAccess` besides the SCPs given there, unless one of those has an `Allow`: an
//! allow-list SCP is what replaces `FullAWSAccess` in practice (give `FullAWSAccess` as FILE
//! to keep it next to one). `RCPFullAWSAccess` is at every level, as AWS
//! attaches it and does not let it be detached. A file named after the policy's ID
//! (`p-abcd1234.json`) gives the ID, which the fix's `update-policy` command needs.
//!
//! Pure: reading the files is the caller's (a loader is passed in).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::facts::{OrgLevel, OrgLevelKind, OrgPolicies, OrgPolicy};
use crate::policy::{NamedPolicy, parse_policy};

/// Where a given policy is attached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LevelSpec {
    Root,
    /// The OU path from the root, by names: `["Sales", "Prod"]`.
    Ou(Vec<String>),
    Account,
}

/// One `--scp` / `--rcp` value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgPolicyFile {
    pub level: LevelSpec,
    pub path: PathBuf,
}

/// AWS's managed SCP that allows everything, attached everywhere by default.
pub const FULL_AWS_ACCESS: &str = "FullAWSAccess";
const FULL_AWS_ACCESS_JSON: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
/// AWS's managed RCP, attached everywhere and not detachable.
pub const RCP_FULL_AWS_ACCESS: &str = "RCPFullAWSAccess";
const RCP_FULL_AWS_ACCESS_JSON: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;

/// The syntax, for error messages and help.
pub const SYNTAX: &str = "[LEVEL=]FILE, LEVEL being root (the default), ou:PATH (OU names from the root, e.g. ou:Sales/Prod) or account";

impl OrgPolicyFile {
    /// Parses `[LEVEL=]FILE`. Text before the first `=` is a level only when it reads as one,
    /// so a file name with `=` in it still works.
    pub fn parse(value: &str) -> Result<Self, String> {
        if let Some((level, path)) = value.split_once('=')
            && let Some(level) = parse_level(level)?
        {
            if path.is_empty() {
                return Err(format!("`{value}`: no file after `=` (expected {SYNTAX})"));
            }
            return Ok(OrgPolicyFile {
                level,
                path: PathBuf::from(path),
            });
        }
        if value.is_empty() {
            return Err(format!("an empty value (expected {SYNTAX})"));
        }
        Ok(OrgPolicyFile {
            level: LevelSpec::Root,
            path: PathBuf::from(value),
        })
    }

    /// The `FullAWSAccess` stand-in rather than a file.
    pub fn is_full_aws_access(&self) -> bool {
        self.path.as_os_str() == FULL_AWS_ACCESS
    }
}

/// `Ok(None)`: not a level (the `=` belongs to the file name).
fn parse_level(text: &str) -> Result<Option<LevelSpec>, String> {
    match text {
        "root" => return Ok(Some(LevelSpec::Root)),
        "account" => return Ok(Some(LevelSpec::Account)),
        _ => {}
    }
    let Some(path) = text.strip_prefix("ou:") else {
        if let Some(why) = misspelt_level(text) {
            return Err(format!(
                "`{text}=`: {why}; a LEVEL is root, ou:Name/Path (OU names from the root, e.g. ou:Sales/Prod) or account"
            ));
        }
        return Ok(None);
    };
    let names: Vec<String> = path
        .split('/')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    if names.is_empty() {
        return Err(format!(
            "`{text}`: an OU needs its path of names from the root (e.g. ou:Sales/Prod)"
        ));
    }
    Ok(Some(LevelSpec::Ou(names)))
}

/// Why text before `=` that is not a level still reads as a mistyped one (a file name with `=`
/// in it does not look like these), or `None`.
fn misspelt_level(text: &str) -> Option<String> {
    let lower = text.trim().to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("ou:") {
        return Some(format!(
            "levels are lower-case (ou:{})",
            &text.trim()[3..3 + rest.len()]
        ));
    }
    if lower == "root" || lower == "account" {
        return Some(format!("levels are lower-case ({lower})"));
    }
    let is_id = |prefix: &str, min: usize| {
        lower.starts_with(prefix)
            && lower.len() >= min
            && lower[prefix.len()..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if is_id("ou-", 6) || is_id("r-", 4) {
        return Some("an OU or root is named, not given by its ID (ou:Sales/Prod for OU Prod under Sales, root for the root)".into());
    }
    if lower.len() == 12 && lower.bytes().all(|b| b.is_ascii_digit()) {
        return Some("the account is `account` (the role's), not its ID".into());
    }
    let close = |word: &str| edit_distance(&lower, word) <= 2;
    if lower.len() >= 3 && !lower.contains(['.', '/', '\\']) && (close("root") || close("account"))
    {
        return Some("not a level".into());
    }
    None
}

/// Levenshtein distance, for short words.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(current).min(row[j])
            };
            previous = current;
        }
    }
    row[b.len()]
}

/// What AWS refuses in an SCP or RCP (Organizations' `CreatePolicy`/`UpdatePolicy` reject
/// it), as "statement N: ...": an SCP has no `Principal`; an RCP's statements deny (only AWS's
/// own RCPFullAWSAccess allows), with `Action` and `"Principal": "*"`.
/// (<https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_syntax.html>,
/// <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html>)
pub fn grammar_errors(policy: &NamedPolicy, rcp: bool) -> Vec<String> {
    use crate::policy::{ActionSpec, Effect, PrincipalSpec, Principals};
    let mut out = Vec::new();
    for st in &policy.document.statements {
        let name = match &st.sid {
            Some(sid) => format!("statement {} (Sid \"{sid}\")", st.index),
            None => format!("statement {}", st.index),
        };
        if !rcp {
            if st.principal.is_some() {
                out.push(format!(
                    "{name}: an SCP has no Principal or NotPrincipal element (it applies to the principals of the accounts below it); is this an RCP (--rcp)?"
                ));
            }
            continue;
        }
        if matches!(st.action, ActionSpec::NotAction(_)) {
            out.push(format!(
                "{name}: an RCP does not accept NotAction; list the actions with Action"
            ));
        }
        if st.effect == Effect::Allow {
            out.push(format!(
                "{name}: an RCP's statements deny (only AWS's RCPFullAWSAccess allows); is this an SCP (--scp)?"
            ));
        }
        match &st.principal {
            Some(PrincipalSpec::Principal(Principals::Any)) => {}
            _ => out.push(format!(
                "{name}: an RCP's statements have \"Principal\": \"*\" (narrow who with conditions such as aws:PrincipalArn)"
            )),
        }
    }
    out
}

/// The organization the files describe, for the member account `account`. `load` reads one
/// file into a policy (its errors are the caller's: file, line and column). `None` when no
/// file was given.
pub fn organization<E>(
    account: &str,
    management_account: Option<&str>,
    scps: &[OrgPolicyFile],
    rcps: &[OrgPolicyFile],
    load: impl Fn(&Path) -> Result<NamedPolicy, E>,
    conflict: impl Fn(String) -> E,
) -> Result<Option<OrgPolicies>, E> {
    if scps.is_empty() && rcps.is_empty() {
        return Ok(None);
    }
    // The OUs form one path: every OU given must lie on the longest one.
    let mut ou_path: Vec<String> = Vec::new();
    for f in scps.iter().chain(rcps) {
        if let LevelSpec::Ou(names) = &f.level {
            let (short, long) = if names.len() <= ou_path.len() {
                (names.as_slice(), ou_path.as_slice())
            } else {
                (ou_path.as_slice(), names.as_slice())
            };
            if !long.starts_with(short) {
                return Err(conflict(format!(
                    "the OUs of --scp/--rcp must lie on one path from the root to the account: ou:{} and ou:{} do not",
                    ou_path.join("/"),
                    names.join("/")
                )));
            }
            if names.len() > ou_path.len() {
                ou_path = names.clone();
            }
        }
    }
    let mut levels = vec![level(OrgLevelKind::Root, "Root", "Root")];
    for name in &ou_path {
        levels.push(level(OrgLevelKind::OrganizationalUnit, name, name));
    }
    levels.push(level(OrgLevelKind::Account, account, account));
    let index_of = |spec: &LevelSpec| match spec {
        LevelSpec::Root => 0,
        LevelSpec::Ou(names) => names.len(),
        LevelSpec::Account => ou_path.len() + 1,
    };
    let mut allow_list = vec![false; levels.len()];
    for f in scps {
        let i = index_of(&f.level);
        let policy = if f.is_full_aws_access() {
            full_aws_access()
        } else {
            let loaded = load(&f.path)?;
            check_grammar(&f.path, &loaded, false).map_err(&conflict)?;
            from_file(&f.path, loaded)
        };
        allow_list[i] |= !f.is_full_aws_access()
            && policy
                .policy
                .document
                .statements
                .iter()
                .any(|s| s.effect == crate::policy::Effect::Allow);
        levels[i].scps.push(policy);
    }
    for (l, allow_list) in levels.iter_mut().zip(&allow_list) {
        let has_full = l.scps.iter().any(|p| p.id == full_aws_access().id);
        if !allow_list && !has_full {
            l.scps.insert(0, full_aws_access());
        }
        l.rcps
            .push(managed(RCP_FULL_AWS_ACCESS, RCP_FULL_AWS_ACCESS_JSON));
    }
    for f in rcps {
        let i = index_of(&f.level);
        let loaded = load(&f.path)?;
        check_grammar(&f.path, &loaded, true).map_err(&conflict)?;
        let policy = from_file(&f.path, loaded);
        levels[i].rcps.push(policy);
    }
    Ok(Some(OrgPolicies {
        id: None,
        management_account: management_account.map(str::to_string),
        account: account.to_string(),
        scps_enabled: true,
        rcps_enabled: true,
        levels,
    }))
}

/// A policy file AWS would not accept as that kind of policy is a usage error naming the file
/// and the statements, like a file that is not JSON.
fn check_grammar(path: &Path, policy: &NamedPolicy, rcp: bool) -> Result<(), String> {
    let errors = grammar_errors(policy, rcp);
    if errors.is_empty() {
        return Ok(());
    }
    let flag = if rcp { "--rcp" } else { "--scp" };
    Err(format!(
        "{} ({flag}): AWS would reject it as {}: {}",
        path.display(),
        if rcp { "an RCP" } else { "an SCP" },
        errors.join("; ")
    ))
}

fn level(kind: OrgLevelKind, id: &str, name: &str) -> OrgLevel {
    OrgLevel {
        kind,
        id: id.to_string(),
        name: name.to_string(),
        scps: Vec::new(),
        rcps: Vec::new(),
    }
}

fn full_aws_access() -> OrgPolicy {
    managed(FULL_AWS_ACCESS, FULL_AWS_ACCESS_JSON)
}

/// One of AWS's managed policies. Their documents are constants covered by a unit test; a
/// parse failure would be a build defect, and an empty document is the safe stand-in (it
/// allows nothing, so the check fails loudly rather than passing).
fn managed(name: &str, json: &str) -> OrgPolicy {
    let document = parse_policy(json).unwrap_or(crate::policy::PolicyDocument {
        version: None,
        id: None,
        statements: Vec::new(),
    });
    OrgPolicy {
        id: format!("p-{name}"),
        name: name.to_string(),
        aws_managed: true,
        policy: NamedPolicy {
            label: name.to_string(),
            document,
        },
    }
}

/// A policy read from a file: named after the file; its ID is the file's stem when that is
/// an Organizations policy ID (`p-...`), else the file itself.
fn from_file(path: &Path, policy: NamedPolicy) -> OrgPolicy {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let id = if is_policy_id(&stem) {
        stem.clone()
    } else {
        path.display().to_string()
    };
    OrgPolicy {
        id,
        name: stem,
        aws_managed: false,
        policy,
    }
}

/// `p-` and 8 to 128 lower-case letters, digits or underscores (Organizations' pattern).
pub fn is_policy_id(text: &str) -> bool {
    text.strip_prefix("p-").is_some_and(|rest| {
        (8..=128).contains(&rest.len())
            && rest
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(path: &Path) -> Result<NamedPolicy, String> {
        Ok(NamedPolicy {
            label: path.display().to_string(),
            document: parse_policy(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:*","Resource":"*"}]}"#,
            )
            .map_err(|e| e.message)?,
        })
    }

    #[test]
    fn level_syntax() {
        assert_eq!(
            OrgPolicyFile::parse("deny.json").unwrap(),
            OrgPolicyFile {
                level: LevelSpec::Root,
                path: "deny.json".into()
            }
        );
        assert_eq!(
            OrgPolicyFile::parse("ou:Sales/Prod=deny.json")
                .unwrap()
                .level,
            LevelSpec::Ou(vec!["Sales".into(), "Prod".into()])
        );
        assert_eq!(
            OrgPolicyFile::parse("account=p-abcd1234.json")
                .unwrap()
                .level,
            LevelSpec::Account
        );
        // An `=` that does not follow a level belongs to the file name.
        assert_eq!(
            OrgPolicyFile::parse("a=b.json").unwrap().path,
            PathBuf::from("a=b.json")
        );
        assert!(OrgPolicyFile::parse("ou:=x.json").is_err());
        assert!(OrgPolicyFile::parse("root=").is_err());
        assert!(OrgPolicyFile::parse("").is_err());
    }

    #[test]
    fn levels_from_files() {
        let scps = [
            OrgPolicyFile::parse("ou:Sales/Prod=p-nokms123.json").unwrap(),
            OrgPolicyFile::parse("ou:Sales=FullAWSAccess").unwrap(),
        ];
        let org = organization("111122223333", None, &scps, &[], load, |e| e)
            .unwrap()
            .unwrap();
        let names: Vec<&str> = org.levels.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["Root", "Sales", "Prod", "111122223333"]);
        // A deny-list SCP sits next to FullAWSAccess.
        let prod: Vec<&str> = org.levels[2].scps.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(prod, ["p-FullAWSAccess", "p-nokms123"]);
        let sales: Vec<&str> = org.levels[1].scps.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(sales, ["p-FullAWSAccess"]);
        assert_eq!(org.levels[0].scps[0].id, "p-FullAWSAccess");
        assert!(
            org.levels
                .iter()
                .all(|l| l.rcps[0].id == "p-RCPFullAWSAccess")
        );
        assert!(
            org.levels
                .iter()
                .all(|l| l.rcps[0].policy.document.statements.len() == 1)
        );

        let bad = [
            OrgPolicyFile::parse("ou:Sales=a.json").unwrap(),
            OrgPolicyFile::parse("ou:Marketing=b.json").unwrap(),
        ];
        let err = organization("111122223333", None, &bad, &[], load, |e| e).unwrap_err();
        assert!(err.contains("one path"), "{err}");
        assert_eq!(
            organization("111122223333", None, &[], &[], load, |e| e).unwrap(),
            None
        );
    }

    #[test]
    fn a_mistyped_level_says_the_valid_forms() {
        for typo in [
            "OU:Sales=p-x.json",
            "Root=p-x.json",
            "acount=p-x.json",
            "ou-ab12-cd34ef56=p-x.json",
            "r-ab12=p-x.json",
            "111122223333=p-x.json",
        ] {
            let err = OrgPolicyFile::parse(typo).unwrap_err();
            assert!(err.contains("root, ou:Name/Path"), "{typo}: {err}");
            assert!(err.contains("account"), "{typo}: {err}");
        }
        assert!(
            OrgPolicyFile::parse("OU:Sales=p-x.json")
                .unwrap_err()
                .contains("ou:Sales")
        );
        // A file name with `=` in it that reads as no level is still a file.
        assert_eq!(
            OrgPolicyFile::parse("a=b.json").unwrap().path,
            PathBuf::from("a=b.json")
        );
    }

    #[test]
    fn grammar_aws_would_reject_is_named_by_statement() {
        let p = |json: &str| NamedPolicy {
            label: "f.json".into(),
            document: parse_policy(json).unwrap(),
        };
        let scp_with_principal = p(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"D","Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*"}]}"#,
        );
        let errors = grammar_errors(&scp_with_principal, false);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("statement 0 (Sid \"D\")"),
            "{errors:?}"
        );
        assert!(grammar_errors(&scp_with_principal, true).is_empty());

        let bad_rcp = p(r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Deny","Principal":"*","NotAction":"s3:GetObject","Resource":"*"},
              {"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"},
              {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:*","Resource":"*"}]}"#);
        let errors = grammar_errors(&bad_rcp, true).join("\n");
        assert!(
            errors.contains("statement 0: an RCP does not accept NotAction"),
            "{errors}"
        );
        assert!(
            errors.contains("statement 1: an RCP's statements deny"),
            "{errors}"
        );
        assert!(
            errors.contains("statement 2: an RCP's statements have \"Principal\": \"*\""),
            "{errors}"
        );
    }

    #[test]
    fn policy_ids() {
        assert!(is_policy_id("p-abcd1234"));
        assert!(!is_policy_id("p-FullAWSAccess"));
        assert!(!is_policy_id("deny"));
    }

    #[test]
    fn an_allow_list_replaces_full_aws_access() {
        let allow = |path: &Path| -> Result<NamedPolicy, String> {
            Ok(NamedPolicy {
                label: path.display().to_string(),
                document: parse_policy(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
                )
                .map_err(|e| e.message)?,
            })
        };
        let scps = [OrgPolicyFile::parse("ou:Sales=allow-s3.json").unwrap()];
        let org = organization("111122223333", None, &scps, &[], allow, |e| e)
            .unwrap()
            .unwrap();
        let sales: Vec<&str> = org.levels[1].scps.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(sales, ["allow-s3"]);
    }
}
