//! The SARIF sink (`--format sarif`): SARIF 2.1.0 as GitHub code scanning accepts it, so a
//! workflow can upload the run with `github/codeql-action/upload-sarif` and see each
//! problem as an alert.
//!
//! It owns the mapping onto SARIF: one run, one rule per check ID (title, description and
//! doc links from the catalog, `checks/*.toml`), one result per check that needs attention.
//! `fail` is level `error`, `warn` is `warning`, and `error` (could not be determined) is
//! `note`. A `pass` or `skip` produces no result: GitHub turns every result it receives into
//! an alert whatever its `kind`, and it closes an alert when a later analysis no longer
//! reports it, so leaving passes out is what makes a fixed problem disappear.
//!
//! GitHub needs a location in a file for each result, and annotates a pull request only on
//! a real one. A check's findings carry places in the user's files (`checks::locate`): the
//! statement at fault in a policy file, the file a fix changes, or the attachment's table in
//! the config file. A check's result lists every place of the findings behind its status,
//! the first finding's first place first (GitHub shows the alert there); paths become URIs
//! relative to where the tool ran (the repository, in CI). A check whose findings have no
//! place (a replay of saved facts, flags without a config file) points at a stable pseudo
//! path, `aoc-preflight/<attachment>/<check-id>`, line 1.
//!
//! `partialFingerprints` are our own hash of attachment, check, reasons and, for a result at
//! a place, its file and what the place is (a statement's Sid, or a hash of its content),
//! never its line: GitHub does not hash lines itself, and a problem keeps its alert across
//! runs and when unrelated lines above it move.

use std::collections::BTreeSet;
use std::io::{self, Write};

use serde_json::{Value, json};

use super::junit::attachment_label;
use crate::exit::Exit;
use crate::model::report::{CheckResult, FindingResult, FleetReport};
use crate::model::verdict::{Location, Status};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The key of our fingerprint in `partialFingerprints`; bump the suffix if its inputs change,
/// so GitHub does not match old alerts against differently computed values.
const FINGERPRINT_KEY: &str = "aocPreflight/v1";

/// The run as one SARIF log, pretty-printed, with a final newline.
pub fn write_fleet(out: &mut dyn Write, fleet: &FleetReport) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &log(fleet))?;
    writeln!(out)
}

/// The SARIF log as a JSON value.
pub fn log(fleet: &FleetReport) -> Value {
    // One rule per check ID in the order the checks ran; results refer to them by index.
    let mut rule_ids: Vec<&str> = Vec::new();
    for report in &fleet.reports {
        for check in &report.checks {
            if !rule_ids.contains(&check.id.as_str()) {
                rule_ids.push(&check.id);
            }
        }
    }
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| {
            let title = fleet
                .reports
                .iter()
                .flat_map(|r| &r.checks)
                .find(|c| c.id == *id)
                .map(|c| c.title.as_str())
                .unwrap_or(id);
            rule(id, title)
        })
        .collect();

    let mut results = Vec::new();
    for (index, report) in fleet.reports.iter().enumerate() {
        let label = attachment_label(report, index);
        for check in &report.checks {
            let Some(level) = level(check.status) else {
                continue;
            };
            let rule_index = rule_ids.iter().position(|id| *id == check.id);
            results.push(result(check, &label, level, rule_index));
        }
        results.extend(suppressed_results(report, &label, &rule_ids));
    }

    let mut driver = json!({
        "name": fleet.tool.name,
        "version": fleet.tool.version,
        "semanticVersion": fleet.tool.version,
        "rules": rules,
    });
    // SARIF wants an absolute URI here; the crate's `repository` is one when it is set, and
    // a made-up address would be worse than none.
    let repository = env!("CARGO_PKG_REPOSITORY");
    if !repository.is_empty() {
        driver["informationUri"] = json!(repository);
    }
    let mut run = json!({
        "tool": { "driver": driver },
        "results": results,
        "properties": {
            "status": fleet.status.as_str(),
            "summary": fleet.summary,
        },
    });
    if let Some(invocation) = gate_invocation(fleet) {
        run["invocations"] = json!([invocation]);
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    })
}

/// A finding a `[[suppress]]` entry accepted: a result as it would have been, with an
/// `external` suppression carrying the entry's reason. Its place and fingerprint are the ones
/// the check's result has when that finding alone is behind it, so GitHub marks that alert
/// suppressed instead of opening a new one.
fn suppressed_results(
    report: &crate::model::report::Report,
    label: &str,
    rule_ids: &[&str],
) -> Vec<Value> {
    report
        .suppressed
        .iter()
        .map(|s| {
            let reasons = std::slice::from_ref(&s.finding);
            let mut result = json!({
                "ruleId": s.check,
                "level": level(s.status).unwrap_or("note"),
                "message": { "text": format!("[{label}] {}", s.summary) },
                "locations": locations(&s.locations.iter().collect::<Vec<_>>(), label, &s.check),
                "partialFingerprints": {
                    FINGERPRINT_KEY: fingerprint_at(label, &s.check, reasons, s.locations.first()),
                },
                "suppressions": [{
                    "kind": "external",
                    "status": "accepted",
                    "justification": s.reason,
                }],
                "properties": {
                    "attachment": label,
                    "status": s.status.as_str(),
                    "reasons": reasons,
                },
            });
            if let Some(i) = rule_ids.iter().position(|id| *id == s.check) {
                result["ruleIndex"] = json!(i);
            }
            result
        })
        .collect()
}

/// The run's invocation: how it ended and the gate's warnings (nothing verified, a
/// suppression expired or unmatched) as tool notifications; none for a report with neither.
///
/// SARIF's `executionSuccessful` says whether the tool did its job, not whether it found
/// anything (SARIF 2.1.0, 3.20.14: results do not make it false): a run that found the
/// attachment broken (exit 1) succeeded; one where the tool could not look (exit 3: its
/// credentials, the network, its own permissions, no access verified) did not, and then an
/// `error` notification says why, as the spec asks of a failed invocation.
fn gate_invocation(fleet: &FleetReport) -> Option<Value> {
    let several = fleet.reports.len() > 1;
    let mut seen = BTreeSet::new();
    let mut notifications: Vec<Value> = fleet
        .reports
        .iter()
        .enumerate()
        .flat_map(|(index, report)| {
            let label = attachment_label(report, index);
            report.gate_warnings.iter().map(move |w| {
                if several {
                    format!("[{label}] {}", w.message)
                } else {
                    w.message.clone()
                }
            })
        })
        .filter(|text| seen.insert(text.clone()))
        .map(|text| json!({ "level": "warning", "message": { "text": text } }))
        .collect();
    let run = fleet.run;
    if run.is_none() && notifications.is_empty() {
        return None;
    }
    let could_not_look = run.is_some_and(|r| r.exit_code == Exit::Undetermined.code());
    if could_not_look {
        notifications.insert(
            0,
            json!({ "level": "error", "message": { "text": could_not_look_text(fleet) } }),
        );
    }
    let mut invocation = json!({ "executionSuccessful": !could_not_look });
    if let Some(run) = run {
        invocation["exitCode"] = json!(run.exit_code);
        invocation["exitCodeDescription"] = json!(run.outcome);
    }
    if !notifications.is_empty() {
        invocation["toolExecutionNotifications"] = json!(notifications);
    }
    Some(invocation)
}

/// Why a run that exits 3 could not look: the checks it could not determine or that the tool's
/// own access stopped, else the gate (no access, or AoC's trust, verified).
fn could_not_look_text(fleet: &FleetReport) -> String {
    let mut stopped: Vec<&str> = Vec::new();
    for check in fleet.reports.iter().flat_map(|r| &r.checks) {
        let stopped_here = check.status == Status::Error
            || (check.status == Status::Fail && super::causes::stopped_by_access(check));
        if stopped_here && !stopped.contains(&check.id.as_str()) {
            stopped.push(&check.id);
        }
    }
    if stopped.is_empty() {
        "The tool could not verify the attachment (exit 3): no access, or not AoC's trust in the role, was verified; see the warnings.".to_string()
    } else {
        format!(
            "The tool could not look (exit 3): {} could not be determined, or the tool's own access stopped them.",
            stopped.join(", ")
        )
    }
}

/// The SARIF level of a check that needs attention; `None` for a pass or a skip.
fn level(status: Status) -> Option<&'static str> {
    match status {
        Status::Fail => Some("error"),
        Status::Warn => Some("warning"),
        Status::Error => Some("note"),
        Status::Pass | Status::Skip => None,
    }
}

/// A rule from the catalog; from the report's title alone if the catalog has no such check.
fn rule(id: &str, report_title: &str) -> Value {
    let meta = crate::catalog::get().ok().and_then(|c| c.meta(id));
    let title = meta.map(|m| m.title.as_str()).unwrap_or(report_title);
    let description = meta
        .map(|m| unwrap_lines(&m.description))
        .unwrap_or_else(|| title.to_string());
    let docs: &[String] = meta.map(|m| m.docs.as_slice()).unwrap_or(&[]);
    let mut help_text = description.clone();
    let mut help_markdown = description.clone();
    if !docs.is_empty() {
        help_text.push_str("\n\nDocumentation:");
        help_markdown.push_str("\n\n**Documentation**\n");
        for doc in docs {
            help_text.push_str(&format!("\n- {doc}"));
            help_markdown.push_str(&format!("\n- <{doc}>"));
        }
    }
    let area = id.split('.').next().unwrap_or(id);
    let mut rule = json!({
        "id": id,
        "shortDescription": { "text": title },
        "fullDescription": { "text": description },
        "help": { "text": help_text, "markdown": help_markdown },
        "properties": { "tags": ["aoc-preflight", area] },
    });
    if let Some(doc) = docs.first() {
        rule["helpUri"] = json!(doc);
    }
    rule
}

/// The result of a check that needs attention: at every place the findings behind its
/// status name (the first one's first place first, which is where GitHub shows the alert).
fn result(check: &CheckResult, label: &str, level: &str, rule_index: Option<usize>) -> Value {
    let behind: Vec<&FindingResult> = check
        .findings
        .iter()
        .filter(|f| f.status == check.status)
        .collect();
    let mut places: Vec<&Location> = Vec::new();
    for place in behind.iter().flat_map(|f| &f.locations) {
        if !places.contains(&place) {
            places.push(place);
        }
    }
    let reasons = reasons(behind.iter().copied());
    let mut result = json!({
        "ruleId": check.id,
        "level": level,
        "message": { "text": message(check, label) },
        "locations": locations(&places, label, &check.id),
        "partialFingerprints": {
            FINGERPRINT_KEY: fingerprint_at(label, &check.id, &reasons, places.first().copied()),
        },
        "properties": {
            "attachment": label,
            "status": check.status.as_str(),
            "reasons": reasons,
        },
    });
    if let Some(i) = rule_index {
        result["ruleIndex"] = json!(i);
    }
    result
}

/// SARIF locations: each place in the user's files, or, when there is none, the stable
/// pseudo path `aoc-preflight/<attachment>/<check-id>` line 1 (GitHub needs a file).
fn locations(places: &[&Location], label: &str, check_id: &str) -> Value {
    let logical = json!([{
        "name": label,
        "fullyQualifiedName": format!("{label}/{check_id}"),
        "kind": "resource",
    }]);
    if places.is_empty() {
        let uri = format!(
            "aoc-preflight/{}/{}",
            uri_segment(label),
            uri_segment(check_id)
        );
        return json!([{
            "physicalLocation": {
                "artifactLocation": { "uri": uri },
                "region": { "startLine": 1 },
            },
            "logicalLocations": logical,
        }]);
    }
    Value::Array(
        places
            .iter()
            .map(|place| {
                json!({
                    "physicalLocation": {
                        "artifactLocation": { "uri": file_uri(&place.file) },
                        "region": {
                            "startLine": place.line.max(1),
                            "startColumn": place.column.max(1),
                        },
                    },
                    "logicalLocations": logical,
                    "message": { "text": place.anchor },
                })
            })
            .collect(),
    )
}

/// What the alert says: which attachment, the summary, then the evidence and the fix, as
/// plain text (GitHub shows `message.text`).
fn message(check: &CheckResult, label: &str) -> String {
    let summary = if check.status == Status::Error
        && !check
            .summary
            .to_ascii_lowercase()
            .starts_with("could not be determined")
    {
        format!("Could not be determined: {}", check.summary)
    } else {
        check.summary.clone()
    };
    let mut text = format!("[{label}] {summary}");
    if !check.evidence.is_empty() {
        text.push_str("\n\nEvidence:");
        for e in &check.evidence {
            text.push_str(&format!("\n- {e}"));
        }
    }
    if let Some(fix) = &check.remediation {
        text.push_str("\n\nFix:\n");
        text.push_str(fix);
    }
    text
}

/// The stable reason keys of some findings (not their text, which carries values that may
/// change from run to run, such as a timeout's message).
fn reasons<'a>(findings: impl Iterator<Item = &'a FindingResult>) -> Vec<String> {
    let set: BTreeSet<&str> = findings.map(|f| f.reason.as_str()).collect();
    set.into_iter().map(str::to_string).collect()
}

/// [`fingerprint`], and for a result at a place in the user's files, that place as its file
/// and anchor (a statement's Sid or content hash), never its line: an alert keeps its
/// fingerprint when unrelated lines above it move.
fn fingerprint_at(label: &str, id: &str, reasons: &[String], at: Option<&Location>) -> String {
    match at {
        None => fingerprint(label, id, reasons),
        Some(place) => {
            let mut inputs = reasons.to_vec();
            inputs.push(format!("@{}", file_uri(&place.file)));
            inputs.push(format!("@{}", place.anchor));
            fingerprint(label, id, &inputs)
        }
    }
}

/// A file path as the URI SARIF wants: relative paths (to where the tool ran, which in CI is
/// the repository) as a relative reference with `/` and without `.` or `..` steps that can be
/// resolved, so GitHub finds the file in the repository; absolute ones as `file://` URIs.
fn file_uri(path: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    // RFC 3986 unreserved characters stay as they are; everything else is escaped.
    const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let unified = path.replace('\\', "/");
    let drive = unified.len() >= 2
        && unified.as_bytes()[0].is_ascii_alphabetic()
        && unified.as_bytes()[1] == b':';
    let absolute = unified.starts_with('/') || drive;
    let mut steps: Vec<&str> = Vec::new();
    for step in unified.split('/') {
        match step {
            "" | "." => {}
            ".." if steps.last().is_some_and(|s| *s != "..") => {
                steps.pop();
            }
            ".." if absolute => {}
            other => steps.push(other),
        }
    }
    let encoded: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if drive && i == 0 {
                (*s).to_string()
            } else {
                utf8_percent_encode(s, SEGMENT).to_string()
            }
        })
        .collect();
    if absolute {
        format!("file:///{}", encoded.join("/"))
    } else {
        encoded.join("/")
    }
}

/// FNV-1a (64 bits) over attachment, check and reasons: stable across runs, platforms and
/// Rust versions, which `std`'s hasher does not promise.
fn fingerprint(label: &str, id: &str, reasons: &[String]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // A separator that cannot occur in the text, so ("ab","c") and ("a","bc") differ.
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    };
    feed(label.as_bytes());
    feed(id.as_bytes());
    for r in reasons {
        feed(r.as_bytes());
    }
    format!("{hash:016x}")
}

/// A path segment that is a valid relative URI whatever the attachment is called: letters,
/// digits, `.`, `-` and `_` stay, anything else becomes `-`.
fn uri_segment(s: &str) -> String {
    let segment: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    // `.` and `..` would be resolved away as path steps.
    if segment.chars().all(|c| c == '.') {
        segment.replace('.', "-")
    } else {
        segment
    }
}

/// The catalog's descriptions are wrapped for reading in TOML; GitHub shows them as flowing
/// text, so single line breaks become spaces and blank lines stay paragraph breaks.
fn unwrap_lines(text: &str) -> String {
    text.trim()
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::attachment::Attachment;
    use crate::model::report::Report;

    fn check(id: &str, status: Status, reason: &str) -> CheckResult {
        CheckResult {
            id: id.to_string(),
            title: format!("title of {id}"),
            status,
            summary: format!("{id} summary"),
            evidence: vec!["e1".to_string()],
            remediation: None,
            docs: Vec::new(),
            fixes: Vec::new(),
            steps: Vec::new(),
            findings: vec![FindingResult {
                status,
                reason: reason.to_string(),
                summary: String::new(),
                evidence: Vec::new(),
                action: None,
                failure: None,
                locations: Vec::new(),
            }],
        }
    }

    fn fleet(checks: Vec<CheckResult>) -> FleetReport {
        let attachment = Attachment {
            name: Some("my bucket/../x".to_string()),
            ..Default::default()
        };
        FleetReport::new(vec![Report::new("offline", attachment, checks)])
    }

    #[test]
    fn only_checks_needing_attention_become_results_with_their_levels() {
        let log = log(&fleet(vec![
            check("role.trust", Status::Pass, "ok"),
            check("role.s3-access", Status::Fail, "missing-action"),
            check("kms.key", Status::Warn, "aws-managed"),
            check("kms.alias", Status::Skip, "not-applicable"),
            check("role.exists", Status::Error, "timeout"),
        ]));
        let run = &log["runs"][0];
        assert_eq!(
            run["tool"]["driver"]["rules"].as_array().map(Vec::len),
            Some(5)
        );
        let results = run["results"].as_array().cloned().unwrap_or_default();
        let levels: Vec<(&str, &str)> = results
            .iter()
            .map(|r| {
                (
                    r["ruleId"].as_str().unwrap_or(""),
                    r["level"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            levels,
            [
                ("role.s3-access", "error"),
                ("kms.key", "warning"),
                ("role.exists", "note")
            ]
        );
        let error = &results[2];
        assert!(
            error["message"]["text"]
                .as_str()
                .unwrap_or("")
                .starts_with("[my bucket/../x] Could not be determined: role.exists summary"),
            "{error}"
        );
        assert_eq!(
            error["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "aoc-preflight/my-bucket-..-x/role.exists"
        );
        // ruleIndex points at the rule with the same ID.
        for r in &results {
            let i = r["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize;
            assert_eq!(run["tool"]["driver"]["rules"][i]["id"], r["ruleId"]);
        }
    }

    #[test]
    fn rules_carry_the_catalog_text() {
        let log = log(&fleet(vec![check("role.trust", Status::Fail, "x")]));
        let rule = &log["runs"][0]["tool"]["driver"]["rules"][0];
        assert_eq!(
            rule["shortDescription"]["text"],
            "The role trusts AoC's principal with AoC's external ID"
        );
        let full = rule["fullDescription"]["text"].as_str().unwrap_or("");
        assert!(
            full.starts_with("Compares the role's trust policy"),
            "{full}"
        );
        assert!(!full.contains('\n'), "unwrapped: {full}");
        assert_eq!(
            rule["helpUri"],
            "https://www.ibm.com/docs/SS5W4X/dita/content/aws_kms_encrypted_bucket.html"
        );
        assert!(
            rule["help"]["markdown"]
                .as_str()
                .unwrap_or("")
                .contains("**Documentation**")
        );
    }

    #[test]
    fn fingerprints_are_stable_and_tell_problems_apart() {
        let a = fingerprint("att", "role.trust", &["x".to_string()]);
        assert_eq!(a, fingerprint("att", "role.trust", &["x".to_string()]));
        assert_ne!(a, fingerprint("att", "role.trust", &["y".to_string()]));
        assert_ne!(a, fingerprint("at", "trole.trust", &["x".to_string()]));
        // Pinned: a different hash would close every alert on GitHub and open it again.
        assert_eq!(a, "0f00068edf5c55c3");
    }

    #[test]
    fn file_paths_become_uris_github_resolves_in_the_repository() {
        assert_eq!(
            file_uri("examples/broken/../seed/key-policy.json"),
            "examples/seed/key-policy.json"
        );
        assert_eq!(file_uri("./a b/p#1.json"), "a%20b/p%231.json");
        assert_eq!(file_uri("..\\up\\x.json"), "../up/x.json");
        assert_eq!(file_uri("/tmp/../abs.json"), "file:///abs.json");
        assert_eq!(file_uri("C:\\repo\\p.json"), "file:///C:/repo/p.json");
    }

    #[test]
    fn a_place_fingerprints_by_file_and_anchor_not_by_line() {
        let place = |line| Location {
            file: "p.json".into(),
            line,
            column: 5,
            anchor: "statement Sid `A`".into(),
        };
        let reasons = ["x".to_string()];
        let at = |l: &Location| fingerprint_at("att", "role.trust", &reasons, Some(l));
        assert_eq!(at(&place(3)), at(&place(30)));
        let other = Location {
            anchor: "statement Sid `B`".into(),
            ..place(3)
        };
        assert_ne!(at(&place(3)), at(&other));
        // Without a place, the fingerprint is the one alerts have had since v1.
        assert_eq!(
            fingerprint_at("att", "role.trust", &reasons, None),
            fingerprint("att", "role.trust", &reasons)
        );
    }

    #[test]
    fn uri_segments_are_safe() {
        assert_eq!(uri_segment("broken-sample"), "broken-sample");
        assert_eq!(uri_segment("a b/c?d"), "a-b-c-d");
        assert_eq!(uri_segment(".."), "--");
    }
}
