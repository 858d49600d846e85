//! The JUnit sink (`--format junit`), for CI systems that show test results: one
//! `<testsuite>` per attachment, one `<testcase>` per check, named by the check ID.
//!
//! It owns only the mapping of check statuses onto JUnit's vocabulary; the XML itself is
//! written by `quick-junit`, which escapes text and strips characters XML cannot hold.
//! JUnit has no "warning": a `warn` check is a passing test case whose `<system-out>` says
//! it warned, so a pipeline gated on test failures behaves like `--fail-on fail`.

use std::io::{self, Write};

use quick_junit::{NonSuccessKind, Property, Report as JunitReport, TestCase, TestCaseStatus};
use quick_junit::{TestSuite, XmlString};

use crate::model::report::{CheckResult, FleetReport, Report};
use crate::model::verdict::Status;

/// The whole run as one `<testsuites>` document, with a final newline.
pub fn write_fleet(out: &mut dyn Write, fleet: &FleetReport) -> io::Result<()> {
    let mut junit = JunitReport::new(fleet.tool.name);
    for (index, report) in fleet.reports.iter().enumerate() {
        junit.add_test_suite(suite(report, index));
    }
    // Serialized into memory first so that an I/O error on `out` reaches the caller as
    // itself (a closed pipe stays `BrokenPipe`), not wrapped in quick-junit's error type.
    let xml = junit.to_string().map_err(io::Error::other)?;
    out.write_all(xml.as_bytes())?;
    if !xml.ends_with('\n') {
        writeln!(out)?;
    }
    Ok(())
}

/// The name a CI system shows for an attachment: its name from the config file, else its
/// bucket, else its place in the run (a malformed attachment may have neither).
pub(crate) fn attachment_label(report: &Report, index: usize) -> String {
    report.label(index)
}

fn suite(report: &Report, index: usize) -> TestSuite {
    let label = attachment_label(report, index);
    let mut suite = TestSuite::new(label.as_str());
    let a = &report.attachment;
    // Properties let a CI viewer show which bucket, key and role a suite is about without
    // opening the JSON report.
    suite.add_properties([
        Property::new("mode", report.mode),
        Property::new("status", report.status.as_str()),
        Property::new("region", a.region.as_str()),
        Property::new("bucket", a.bucket.as_str()),
        Property::new("path", a.path.as_str()),
        Property::new("kms_key", a.kms_key.as_str()),
        Property::new("role_arn", a.role_arn.as_str()),
    ]);
    let classname = format!("{}.{label}", report.tool.name);
    for check in &report.checks {
        suite.add_test_case(case(check, &classname));
    }
    add_gate(&mut suite, report, &classname);
    suite
}

/// The gate's part of a suite: each suppressed finding as a skipped test case whose message is
/// the suppression's reason, and the gate's warnings (nothing verified, a suppression expired
/// or unmatched) in the suite's `<system-err>`.
fn add_gate(suite: &mut TestSuite, report: &Report, classname: &str) {
    let names = suppressed_case_names(report);
    for (s, name) in report.suppressed.iter().zip(names) {
        let mut status = TestCaseStatus::skipped();
        status.set_message(format!("Suppressed: {}", s.reason));
        status.set_description(format!(
            "{} (would be {}): {}",
            s.finding,
            s.status.as_str(),
            s.summary
        ));
        let mut case = TestCase::new(name, status);
        case.set_classname(classname);
        suite.add_test_case(case);
    }
    if !report.gate_warnings.is_empty() {
        let text: Vec<String> = report
            .gate_warnings
            .iter()
            .map(|w| format!("WARNING: {}", w.message))
            .collect();
        suite.set_system_err(XmlString::new(text.join("\n") + "\n"));
    }
}

/// Each suppressed finding's test case name, unique in its suite (CI systems merge or drop
/// test cases of one name): `check [suppressed reason]`, with the finding's summary when the
/// check has several findings of that reason suppressed, and its number if even that repeats.
fn suppressed_case_names(report: &Report) -> Vec<String> {
    let base = |s: &crate::model::gate::SuppressedFinding| {
        format!("{} [suppressed {}]", s.check, s.finding)
    };
    let bases: Vec<String> = report.suppressed.iter().map(base).collect();
    let named: Vec<String> = report
        .suppressed
        .iter()
        .zip(&bases)
        .map(|(s, b)| {
            if bases.iter().filter(|other| *other == b).count() > 1 {
                format!("{b} {}", s.summary)
            } else {
                b.clone()
            }
        })
        .collect();
    named
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if named.iter().filter(|other| *other == n).count() > 1 {
                let k = named[..=i].iter().filter(|other| *other == n).count();
                format!("{n} #{k}")
            } else {
                n.clone()
            }
        })
        .collect()
}

fn case(check: &CheckResult, classname: &str) -> TestCase {
    let status = match check.status {
        Status::Pass | Status::Warn => TestCaseStatus::success(),
        // The tool's own credentials or permissions stopped it (`aws.credentials`): the
        // report shows `fail`, but the run exits 3, and JUnit's `<error>` ("the test could
        // not run") says that, where `<failure>` would say the attachment is broken.
        Status::Fail if super::causes::stopped_by_access(check) => {
            non_success(NonSuccessKind::Error, check)
        }
        Status::Fail => non_success(NonSuccessKind::Failure, check),
        Status::Error => non_success(NonSuccessKind::Error, check),
        Status::Skip => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(check.summary.as_str());
            s
        }
    };
    let mut case = TestCase::new(check.id.as_str(), status);
    case.set_classname(classname);
    if check.status == Status::Warn {
        let mut text = format!(
            "WARNING (JUnit has no warning status; reported as passed): {}\n",
            check.summary
        );
        text.push_str(&details(check));
        case.set_system_out(XmlString::new(text));
    }
    case
}

/// `<failure>` or `<error>`: the summary as the message (what a CI list shows), the evidence
/// and the fix as the text (what it shows when the case is opened).
fn non_success(kind: NonSuccessKind, check: &CheckResult) -> TestCaseStatus {
    let mut s = TestCaseStatus::non_success(kind);
    s.set_message(check.summary.as_str());
    s.set_type(check.status.as_str());
    s.set_description(details(check));
    s
}

/// Title, evidence, fix and the first doc link, as plain text.
fn details(check: &CheckResult) -> String {
    let mut text = format!("{}\n", check.title);
    if !check.evidence.is_empty() {
        text.push_str("\nEvidence:\n");
        for e in &check.evidence {
            text.push_str(&format!("  - {e}\n"));
        }
    }
    if let Some(fix) = &check.remediation {
        text.push_str("\nFix:\n");
        for line in fix.lines() {
            if line.is_empty() {
                text.push('\n');
            } else {
                text.push_str(&format!("  {line}\n"));
            }
        }
    }
    if let Some(doc) = check.docs.first() {
        text.push_str(&format!("\nDocs: {doc}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::attachment::Attachment;
    use crate::model::report::{FindingResult, Report};

    fn check(id: &str, status: Status) -> CheckResult {
        CheckResult {
            id: id.to_string(),
            title: format!("title of {id}"),
            status,
            summary: format!("{id} is {} <&>", status.as_str()),
            evidence: vec!["evidence \"quoted\"".to_string()],
            remediation: Some("do this\n\n  aws iam put-role-policy".to_string()),
            docs: vec!["https://example.com/doc".to_string()],
            fixes: Vec::new(),
            steps: Vec::new(),
            findings: vec![FindingResult {
                status,
                reason: "r".to_string(),
                summary: String::new(),
                evidence: Vec::new(),
                action: None,
                failure: None,
                locations: Vec::new(),
            }],
        }
    }

    fn render(fleet: &FleetReport) -> String {
        let mut out = Vec::new();
        write_fleet(&mut out, fleet).expect("renders");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn statuses_map_onto_junit_elements() {
        let attachment = Attachment {
            name: Some("one".to_string()),
            bucket: "b".to_string(),
            ..Default::default()
        };
        let checks = vec![
            check("a.pass", Status::Pass),
            check("a.warn", Status::Warn),
            check("a.fail", Status::Fail),
            check("a.skip", Status::Skip),
            check("a.error", Status::Error),
        ];
        let fleet = FleetReport::new(vec![Report::new("offline", attachment, checks)]);
        let xml = render(&fleet);
        let suite_tag = xml
            .lines()
            .find(|l| l.contains("<testsuite "))
            .unwrap_or_default();
        for attr in [
            r#"name="one""#,
            r#"tests="5""#,
            r#"failures="1""#,
            r#"errors="1""#,
            r#"skipped="1""#,
        ] {
            assert!(suite_tag.contains(attr), "{attr} in {suite_tag}");
        }
        assert!(xml.contains(r#"classname="aoc-preflight.one""#), "{xml}");
        assert!(
            xml.contains(r#"<failure message="a.fail is fail &lt;&amp;&gt;" type="fail">"#),
            "{xml}"
        );
        assert!(xml.contains(r#"<error message="a.error is error"#), "{xml}");
        assert!(xml.contains(r#"<skipped message="a.skip is skip"#), "{xml}");
        assert!(
            xml.contains("WARNING (JUnit has no warning status"),
            "{xml}"
        );
        assert!(xml.ends_with('\n'));
    }

    #[test]
    fn suppressed_findings_have_test_cases_of_their_own_names() {
        let suppressed = |finding: &str, summary: &str| crate::model::gate::SuppressedFinding {
            check: "role.kms-access".into(),
            finding: finding.into(),
            status: Status::Warn,
            summary: summary.into(),
            reason: "accepted".into(),
            expires: None,
            locations: Vec::new(),
        };
        let mut report = Report::new("offline", Attachment::default(), Vec::new());
        report.suppressed = vec![
            suppressed("recommended-missing", "kms:Encrypt is not allowed."),
            suppressed("recommended-missing", "kms:EnableKey is not allowed."),
            suppressed("recommended-missing", "kms:EnableKey is not allowed."),
            suppressed("other", "once"),
        ];
        let names = suppressed_case_names(&report);
        assert_eq!(
            names,
            [
                "role.kms-access [suppressed recommended-missing] kms:Encrypt is not allowed.",
                "role.kms-access [suppressed recommended-missing] kms:EnableKey is not allowed. #1",
                "role.kms-access [suppressed recommended-missing] kms:EnableKey is not allowed. #2",
                "role.kms-access [suppressed other]",
            ]
        );
        let xml = render(&FleetReport::new(vec![report]));
        let doc = roxmltree::Document::parse(&xml).expect("XML");
        let mut cases: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .filter_map(|n| n.attribute("name"))
            .collect();
        let total = cases.len();
        cases.sort_unstable();
        cases.dedup();
        assert_eq!(cases.len(), total, "{xml}");
    }

    #[test]
    fn an_attachment_without_name_or_bucket_is_named_by_its_place() {
        let r = Report::new("offline", Attachment::default(), Vec::new());
        assert_eq!(attachment_label(&r, 2), "attachment-3");
    }
}
