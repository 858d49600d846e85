//! The check catalog: titles, descriptions, doc links and the text of every reason, loaded
//! from `checks/*.toml` (embedded at build time so the binary needs no data files), and the
//! rendering of findings into report results with that text.
//!
//! The data files are the place to improve wording; a unit test keeps them and the code in
//! step (no check without data, no data without a check, every reason with text).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::checks::{self, CheckDef};
use crate::model::report::CheckResult;
use crate::model::verdict::{Finding, Status};
use crate::model::verdict::{FixStep, steps_text};
use crate::text::cap_lines;

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

    fn reason(&self, id: &str, reason: &str) -> Option<&ReasonText> {
        self.checks
            .get(id)
            .and_then(|m| m.reasons.get(reason))
            .or_else(|| self.common.get(reason))
    }

    /// Turns a check's findings into its report entry: the most serious finding's status and
    /// summary; evidence and remediation of every finding that is not a pass.
    pub fn result(&self, def: &CheckDef, findings: &[Finding]) -> CheckResult {
        let meta = self.meta(def.id);
        // A check that found nothing to say judged nothing.
        let status =
            Status::most_serious(findings.iter().map(|f| f.status)).unwrap_or(Status::Skip);
        let text = |f: &Finding| self.reason(def.id, f.reason);
        let render = |group: &Group<'_>, template: &str| fill(template, &group.vars);
        // Findings that differ only in their action read as one sentence naming every action,
        // so eight missing grants are one line, not eight near-identical ones.
        let groups = group_by_action(findings);
        let summaries: Vec<String> = groups
            .iter()
            .filter(|g| g.first().status == status)
            .map(|g| match text(g.first()) {
                Some(t) => render(g, &t.summary),
                None => format!("({} has no text for reason `{}`)", def.id, g.first().reason),
            })
            .collect();
        let summary = join_summaries(&summaries);

        let mut evidence = Vec::new();
        let mut steps: Vec<FixStep> = Vec::new();
        for g in &groups {
            let shown = matches!(
                g.first().status,
                Status::Fail | Status::Warn | Status::Error | Status::Skip
            );
            if shown && let Some(r) = text(g.first()).and_then(|t| t.remediation.as_ref()) {
                let note = FixStep::note(render(g, r));
                if !steps.contains(&note) {
                    steps.push(note);
                }
            }
            for step in g.members.iter().flat_map(|f| &f.fix) {
                if !steps.contains(step) {
                    steps.push(step.clone());
                }
            }
        }
        if status == Status::Pass {
            steps.clear();
        }
        let mut details = Vec::new();
        for f in findings {
            let filled_summary = text(f).map(|t| fill(&t.summary, &f.vars));
            evidence.extend(f.evidence.iter().cloned());
            details.push(crate::model::report::FindingResult {
                status: f.status,
                reason: f.reason.to_string(),
                summary: cap_lines(&filled_summary.unwrap_or_default()),
                evidence: f.evidence.iter().map(|e| cap_lines(e)).collect(),
                action: f
                    .vars
                    .iter()
                    .find(|(name, _)| *name == "action")
                    .map(|(_, v)| v.clone()),
            });
        }
        CheckResult {
            id: def.id.to_string(),
            title: meta.map(|m| m.title.clone()).unwrap_or_default(),
            status,
            summary: cap_lines(&summary),
            evidence: evidence.iter().map(|e| cap_lines(e)).collect(),
            remediation: (!steps.is_empty()).then(|| cap_lines(&steps_text(&steps))),
            docs: meta.map(|m| m.docs.clone()).unwrap_or_default(),
            fixes: steps
                .iter()
                .filter_map(|step| match step {
                    FixStep::Document { document, .. } => Some(document.clone()),
                    _ => None,
                })
                .collect(),
            steps,
            findings: details,
        }
    }
}

/// Findings of one reason whose variables differ only in `action`, with the actions joined.
struct Group<'a> {
    /// Never empty: a group is made with its first finding.
    members: Vec<&'a Finding>,
    vars: Vec<(&'static str, String)>,
}

impl Group<'_> {
    fn first(&self) -> &Finding {
        self.members[0]
    }
}

/// Same status, reason and variables but `action`: one sentence can say both.
fn same_but_action(a: &Finding, b: &Finding) -> bool {
    fn others(f: &Finding) -> impl Iterator<Item = &(&'static str, String)> {
        f.vars.iter().filter(|(n, _)| *n != "action")
    }
    a.status == b.status && a.reason == b.reason && others(a).eq(others(b))
}

/// Groups findings by reason and every variable but `action`, in the order they came.
fn group_by_action(findings: &[Finding]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for f in findings {
        match groups.iter_mut().find(|g| same_but_action(g.first(), f)) {
            Some(g) => g.members.push(f),
            None => groups.push(Group {
                members: vec![f],
                vars: f.vars.clone(),
            }),
        }
    }
    for g in groups.iter_mut().filter(|g| g.members.len() > 1) {
        let actions: Vec<&str> = g
            .members
            .iter()
            .filter_map(|f| f.vars.iter().find(|(n, _)| *n == "action"))
            .map(|(_, v)| v.as_str())
            .collect();
        if let Some(slot) = g.vars.iter_mut().find(|(n, _)| *n == "action") {
            slot.1 = join_words(&actions);
        }
    }
    groups
}

/// "a", "a and b", "a, b and c".
fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The summary line of several findings: each said once, up to three; beyond that, how many
/// more there are and where to read them, never a bare "(and N more)".
fn join_summaries(summaries: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut out = summaries
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    if summaries.len() > SHOWN {
        out.push_str(&format!(
            " {} more findings are listed in the evidence.",
            summaries.len() - SHOWN
        ));
    }
    out
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

/// Whether every check in the code has data and vice versa; every reason has text.
pub fn lint(catalog: &Catalog) -> Vec<String> {
    let mut problems = Vec::new();
    for def in checks::ALL {
        let Some(meta) = catalog.meta(def.id) else {
            problems.push(format!("check {} has no checks/{}.toml", def.id, def.id));
            continue;
        };
        if meta.title.trim().is_empty() || meta.description.trim().is_empty() {
            problems.push(format!(
                "checks/{}.toml: empty title or description",
                def.id
            ));
        }
        if meta.docs.is_empty() {
            problems.push(format!("checks/{}.toml: no doc link", def.id));
        }
        for reason in def.reasons {
            if !meta.reasons.contains_key(*reason) {
                problems.push(format!(
                    "checks/{}.toml: no text for reason `{reason}`",
                    def.id
                ));
            }
        }
        for reason in meta.reasons.keys() {
            if !def.reasons.contains(&reason.as_str()) {
                problems.push(format!(
                    "checks/{}.toml: reason `{reason}` is never returned by the code",
                    def.id
                ));
            }
        }
    }
    for id in catalog.checks.keys() {
        if checks::find(id).is_none() {
            problems.push(format!("checks/{id}.toml has no check in the code"));
        }
    }
    for reason in checks::COMMON_REASONS {
        if !catalog.common.contains_key(*reason) {
            problems.push(format!("checks/common.toml: no text for `{reason}`"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_and_code_agree() {
        let catalog = load().expect("catalog parses");
        let problems = lint(&catalog);
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn check_ids_are_unique_and_in_design_order() {
        let ids: Vec<&str> = checks::ALL.iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            [
                "input.values",
                "aws.credentials",
                "bucket.reachable",
                "bucket.region",
                "bucket.encryption",
                "bucket.policy",
                "bucket.public-access",
                "kms.key",
                "kms.alias",
                "kms.key-policy",
                "role.exists",
                "role.s3-access",
                "role.kms-access",
                "role.trust",
                "probe.write",
            ]
        );
    }

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
