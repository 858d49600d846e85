//! The check catalog: titles, descriptions, doc links and the text of every reason, loaded
//! from `checks/*.toml` (embedded at build time so the binary needs no data files). Data
//! only: [`crate::checks::results`] turns findings into report entries with this text.
//!
//! The data files are the place to improve wording; a unit test keeps them and the code in
//! step (no check without data, no data without a check, every reason with text).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

/// One reason's text. `{name}` placeholders are filled from the finding's variables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonText {
    pub summary: String,
    #[serde(default)]
    pub remediation: Option<String>,
}

/// A check's metadata.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckMeta {
    pub id: String,
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub docs: Vec<String>,
    #[serde(default)]
    pub reasons: BTreeMap<String, ReasonText>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommonFile {
    reasons: BTreeMap<String, ReasonText>,
}

/// The embedded data files, by check ID.
pub const FILES: &[(&str, &str)] = &[
    ("input.values", include_str!("../checks/input.values.toml")),
    (
        "aws.credentials",
        include_str!("../checks/aws.credentials.toml"),
    ),
    (
        "bucket.reachable",
        include_str!("../checks/bucket.reachable.toml"),
    ),
    (
        "bucket.region",
        include_str!("../checks/bucket.region.toml"),
    ),
    (
        "bucket.encryption",
        include_str!("../checks/bucket.encryption.toml"),
    ),
    (
        "bucket.policy",
        include_str!("../checks/bucket.policy.toml"),
    ),
    (
        "bucket.public-access",
        include_str!("../checks/bucket.public-access.toml"),
    ),
    ("kms.key", include_str!("../checks/kms.key.toml")),
    ("kms.alias", include_str!("../checks/kms.alias.toml")),
    (
        "kms.key-policy",
        include_str!("../checks/kms.key-policy.toml"),
    ),
    ("role.exists", include_str!("../checks/role.exists.toml")),
    (
        "role.s3-access",
        include_str!("../checks/role.s3-access.toml"),
    ),
    (
        "role.kms-access",
        include_str!("../checks/role.kms-access.toml"),
    ),
    ("role.trust", include_str!("../checks/role.trust.toml")),
    ("org.policies", include_str!("../checks/org.policies.toml")),
    ("probe.write", include_str!("../checks/probe.write.toml")),
];

const COMMON: &str = include_str!("../checks/common.toml");

/// The parsed catalog.
#[derive(Debug)]
pub struct Catalog {
    pub checks: BTreeMap<String, CheckMeta>,
    pub common: BTreeMap<String, ReasonText>,
}

/// Parses the embedded files. Errors name the file: they are build defects, caught by the
/// unit tests, but a broken file must still not panic the tool.
pub fn load() -> Result<Catalog, String> {
    let mut checks = BTreeMap::new();
    for (id, text) in FILES {
        let meta: CheckMeta =
            toml::from_str(text).map_err(|e| format!("checks/{id}.toml: {}", e.message()))?;
        if meta.id != *id {
            return Err(format!("checks/{id}.toml: id is `{}`", meta.id));
        }
        checks.insert(id.to_string(), meta);
    }
    let common: CommonFile =
        toml::from_str(COMMON).map_err(|e| format!("checks/common.toml: {}", e.message()))?;
    Ok(Catalog {
        checks,
        common: common.reasons,
    })
}

pub static CATALOG: LazyLock<Result<Catalog, String>> = LazyLock::new(load);

/// The catalog, or the reason it is broken.
pub fn get() -> Result<&'static Catalog, String> {
    CATALOG.as_ref().map_err(Clone::clone)
}

impl Catalog {
    pub fn meta(&self, id: &str) -> Option<&CheckMeta> {
        self.checks.get(id)
    }

    /// A reason's text: the check's own, else the common one.
    pub fn reason(&self, id: &str, reason: &str) -> Option<&ReasonText> {
        self.checks
            .get(id)
            .and_then(|m| m.reasons.get(reason))
            .or_else(|| self.common.get(reason))
    }
}

/// Fills `{name}` placeholders; anything else in braces (JSON in remediation text) is kept.
/// One pass over the template, so a value that itself holds `{name}` (an AWS message, a
/// policy) is not filled again. A value that ends a sentence (`... is disabled.`) before the
/// template's own full stop does not get a second one.
pub fn fill(template: &str, vars: &[(&'static str, String)]) -> String {
    let template = template.trim();
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (v, &after[close + 1..]))
        });
        match value {
            Some((value, tail)) => {
                out.push_str(value);
                rest = match tail.strip_prefix('.') {
                    Some(beyond) if value.ends_with('.') => beyond,
                    _ => tail,
                };
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Placeholders (`{lower_case}`) left in a text: what a test looks for.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end)
                if end > 0
                    && after[..end]
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'_') =>
            {
                out.push(after[..end].to_string());
                rest = &after[end + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_ignore_json() {
        assert_eq!(
            placeholders(r#"use {action} in {"StringEquals": {}}"#),
            vec!["action".to_string()]
        );
    }

    #[test]
    fn fill_substitutes_once_and_keeps_other_braces() {
        let vars = [
            ("step", "PutObject".to_string()),
            ("detail", "key {step} is disabled.".to_string()),
        ];
        assert_eq!(
            fill(
                "At {step}: {detail}. {\"Effect\": \"Allow\"} {unknown}",
                &vars
            ),
            "At PutObject: key {step} is disabled. {\"Effect\": \"Allow\"} {unknown}"
        );
        assert_eq!(fill("{step}.", &[("step", "done".to_string())]), "done.");
    }
}
