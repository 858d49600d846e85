//! Turning a check's findings into its report entry, with the catalog's text: the status,
//! one summary line, the evidence, and the fix steps. And the agreement between the catalog
//! (`checks/*.toml`) and the checks in the code. Pure.

use crate::catalog::{Catalog, fill};
use crate::model::report::{CheckResult, FindingResult};
use crate::model::verdict::{Finding, FixStep, Status, steps_text};
use crate::text::cap_lines;

use super::CheckDef;

/// Turns a check's findings into its report entry: the most serious finding's status and
/// summary; evidence and remediation of every finding that is not a pass.
pub fn check_result(catalog: &Catalog, def: &CheckDef, findings: &[Finding]) -> CheckResult {
    let meta = catalog.meta(def.id);
    // A check that found nothing to say judged nothing.
    let status = Status::most_serious(findings.iter().map(|f| f.status)).unwrap_or(Status::Skip);
    let text = |f: &Finding| catalog.reason(def.id, f.reason);
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
        details.push(FindingResult {
            status: f.status,
            reason: f.reason.to_string(),
            summary: cap_lines(&filled_summary.unwrap_or_default()),
            evidence: f.evidence.iter().map(|e| cap_lines(e)).collect(),
            action: f
                .vars
                .iter()
                .find(|(name, _)| *name == "action")
                .map(|(_, v)| v.clone()),
            failure: f.failure,
            locations: f.locations.clone(),
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

/// Whether every check in the code has data and vice versa; every reason has text.
pub fn lint(catalog: &Catalog) -> Vec<String> {
    let mut problems = Vec::new();
    for def in super::ALL {
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
        if super::find(id).is_none() {
            problems.push(format!("checks/{id}.toml has no check in the code"));
        }
    }
    for reason in super::COMMON_REASONS {
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
        let catalog = crate::catalog::load().expect("catalog parses");
        let problems = lint(&catalog);
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn check_ids_are_unique_and_in_design_order() {
        let ids: Vec<&str> = super::super::ALL.iter().map(|c| c.id).collect();
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
                "org.policies",
                "probe.write",
            ]
        );
    }
}
