//! The explain catalogue: the error messages admins meet (AWS's and AoC's), what each means, and
//! its likely causes with the checks that confirm them. It is data (`checks/explain.toml`,
//! embedded) so that a non-programmer can improve it; this module parses it and holds it to
//! its rules (the lint), so a broken file says what to fix instead of misleading.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::error::UsageError;

use super::matching::normalize;

const DATA: &str = include_str!("../../checks/explain.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    entry: Vec<Entry>,
}

/// One message the catalog recognises.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub id: String,
    pub title: String,
    /// Higher is more specific, shown first.
    pub priority: i64,
    /// The message must contain at least one of these...
    pub any: Vec<String>,
    /// ...and all of these...
    #[serde(default)]
    pub all: Vec<String>,
    /// ...and none of these.
    #[serde(default)]
    pub none: Vec<String>,
    pub meaning: String,
    /// Most likely first. Defaulted so that an entry without causes reaches the lint with a
    /// clear message instead of a serde "missing field".
    #[serde(default, rename = "cause")]
    pub causes: Vec<Cause>,
}

/// A likely cause of a message, and the checks that confirm it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cause {
    pub text: String,
    /// Empty only with `unchecked` (the lint holds it to that).
    #[serde(default)]
    pub checks: Vec<String>,
    /// `check-id:reason` keys: only failing findings with these reasons confirm the cause for
    /// that check (a check that fails for another reason points at another cause).
    #[serde(default)]
    pub reasons: Vec<String>,
    /// When the message contains one of these, the cause is listed first; among several such
    /// causes, the one named by the longest (most specific) pattern leads.
    #[serde(default)]
    pub first_if: Vec<String>,
    /// Why no check of this tool can confirm the cause (a policy it cannot read, such as an
    /// organization's SCP): said instead of naming checks, so that an empty `checks` is a
    /// statement, not an omission.
    #[serde(default)]
    pub unchecked: Option<String>,
}

impl Cause {
    /// The reasons that confirm this cause for `check`, or `None` when any failure does.
    pub(super) fn reasons_for(&self, check: &str) -> Option<Vec<&str>> {
        let reasons: Vec<&str> = self
            .reasons
            .iter()
            .filter_map(|r| r.split_once(':'))
            .filter(|(id, _)| *id == check)
            .map(|(_, reason)| reason)
            .collect();
        (!reasons.is_empty()).then_some(reasons)
    }
}

/// The parsed explain catalog.
#[derive(Debug)]
pub struct Catalog {
    pub entries: Vec<Entry>,
}

/// Parses and validates catalog text. Errors name the problem (and the entry), so a broken
/// data file says what to fix rather than panicking the tool.
pub fn parse(text: &str) -> Result<Catalog, String> {
    let file: CatalogFile =
        toml::from_str(text).map_err(|e| format!("checks/explain.toml: {}", e.message()))?;
    let catalog = Catalog {
        entries: file.entry,
    };
    let problems = lint(&catalog);
    if problems.is_empty() {
        Ok(catalog)
    } else {
        Err(format!("checks/explain.toml: {}", problems.join("; ")))
    }
}

/// Everything wrong with a catalog: unknown check IDs or reasons, entries without causes,
/// empty patterns, duplicate IDs. Empty when it is sound.
pub fn lint(catalog: &Catalog) -> Vec<String> {
    let mut problems = Vec::new();
    let mut ids = BTreeSet::new();
    let common: Vec<&str> = crate::catalog::get()
        .map(|c| c.common.keys().map(String::as_str).collect())
        .unwrap_or_default();
    if catalog.entries.is_empty() {
        problems.push("no entries".to_string());
    }
    for e in &catalog.entries {
        let at = format!("entry `{}`", e.id);
        if e.id.trim().is_empty() || e.title.trim().is_empty() || e.meaning.trim().is_empty() {
            problems.push(format!("{at}: id, title and meaning must not be empty"));
        }
        if !ids.insert(e.id.as_str()) {
            problems.push(format!("{at}: duplicate id"));
        }
        if e.any.is_empty() {
            problems.push(format!("{at}: `any` needs at least one pattern"));
        }
        // An empty pattern is contained in every message: it would match everything (in
        // `any`/`all`) or nothing (in `none`).
        for p in e.any.iter().chain(&e.all).chain(&e.none) {
            if normalize(p).is_empty() {
                problems.push(format!("{at}: empty pattern"));
            }
        }
        if e.causes.is_empty() {
            problems.push(format!("{at}: no cause"));
        }
        for (i, c) in e.causes.iter().enumerate() {
            let at = format!("{at}, cause {}", i + 1);
            if c.text.trim().is_empty() {
                problems.push(format!("{at}: empty text"));
            }
            let unchecked = c.unchecked.as_deref().is_some_and(|u| !u.trim().is_empty());
            if c.checks.is_empty() && !unchecked {
                problems.push(format!(
                    "{at}: no check confirms it (name `checks`, or say in `unchecked` why none can)"
                ));
            }
            if !c.checks.is_empty() && c.unchecked.is_some() {
                problems.push(format!(
                    "{at}: `unchecked` with `checks`: say one or the other"
                ));
            }
            for id in &c.checks {
                if crate::checks::find(id).is_none() {
                    problems.push(format!("{at}: unknown check ID `{id}`"));
                }
            }
            for key in &c.reasons {
                let Some((id, reason)) = key.split_once(':') else {
                    problems.push(format!("{at}: reason `{key}` is not `check-id:reason`"));
                    continue;
                };
                if !c.checks.iter().any(|c| c == id) {
                    problems.push(format!(
                        "{at}: reason `{key}` is for a check not in `checks`"
                    ));
                }
                let known = crate::checks::find(id)
                    .is_some_and(|d| d.reasons.contains(&reason) || common.contains(&reason));
                if !known {
                    problems.push(format!("{at}: `{id}` has no reason `{reason}`"));
                }
            }
            if c.first_if.iter().any(|p| normalize(p).is_empty()) {
                problems.push(format!("{at}: empty first_if pattern"));
            }
        }
    }
    problems
}

static CATALOG: LazyLock<Result<Catalog, String>> = LazyLock::new(|| parse(DATA));

/// The embedded catalog, or why it is broken (a build defect the unit tests catch).
pub fn catalog() -> Result<&'static Catalog, UsageError> {
    CATALOG.as_ref().map_err(|e| UsageError(e.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalog_is_sound() {
        // parse() runs the lint; a problem fails here with the list of them.
        let catalog = parse(DATA).unwrap_or_else(|e| panic!("{e}"));
        assert!(lint(&catalog).is_empty());
        for e in &catalog.entries {
            assert!(!e.causes.is_empty(), "{} has no cause", e.id);
            assert!(!e.any.is_empty(), "{} has no pattern", e.id);
            for c in &e.causes {
                for id in &c.checks {
                    assert!(crate::checks::find(id).is_some(), "{}: {id}", e.id);
                }
            }
            for p in e.any.iter().chain(&e.all).chain(&e.none) {
                assert!(!normalize(p).is_empty(), "{}: empty pattern", e.id);
            }
        }
    }

    #[test]
    fn the_lint_catches_unknown_ids_empty_patterns_and_causeless_entries() {
        let bad = r#"
            [[entry]]
            id = "x"
            title = "X"
            priority = 1
            any = ["  "]
            meaning = "m"

            [[entry]]
            id = "y"
            title = "Y"
            priority = 1
            any = ["y"]
            meaning = "m"
            [[entry.cause]]
            text = "t"
            checks = ["role.trusts"]
            reasons = ["role.trust:nope", "kms.key:disabled"]
        "#;
        let err = parse(bad).expect_err("lint fails");
        for expected in [
            "entry `x`: empty pattern",
            "entry `x`: no cause",
            "unknown check ID `role.trusts`",
            "reason `role.trust:nope` is for a check not in `checks`",
            "`role.trust` has no reason `nope`",
            "reason `kms.key:disabled` is for a check not in `checks`",
        ] {
            assert!(err.contains(expected), "{expected} not in {err}");
        }
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = parse("[[entry]]\nid = \"x\"\ntitel = \"X\"\n").expect_err("typo");
        assert!(err.contains("titel"), "{err}");
    }
}
