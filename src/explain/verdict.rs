//! Deciding, from a `check` report, what it says about each cause: confirmed, not confirmed,
//! or unknown, with the finding that decided it. Running the checks is the command's
//! ([`crate::run::check`]); this only reads their results.

use serde::Serialize;

use crate::model::report::{CheckResult, Report};
use crate::model::verdict::Status;

use super::catalog::Cause;

const ORG_POLICIES: &str = "org.policies";

/// `org.policies` reasons that say the tool could not decide, whatever the policy's kind.
const ORG_UNDECIDED: &[&str] = &["conditional", "aoc-not-judged", "other-account"];

/// What a check run says about one cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// One of its checks fails for this cause.
    Confirmed,
    /// Every one of its checks passed (or failed for another cause).
    NotConfirmed,
    /// No failure, but a check was skipped, errored, warned or did not run.
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Confirmed => "confirmed",
            Verdict::NotConfirmed => "not-confirmed",
            Verdict::Unknown => "unknown",
        }
    }
}

/// One check's part in a cause's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct CheckOutcome {
    pub id: String,
    /// The check's status, as `check` reports it (`not-run` when it was not in the report).
    pub status: String,
    /// The finding that bears on the cause, else the check's own summary.
    pub summary: String,
    pub verdict: Verdict,
}

/// The AWS action an error message names (`... not authorized to perform: kms:Decrypt on
/// ...`), as `service:Action`; `None` when it names none.
pub fn message_action(message: &str) -> Option<&str> {
    let services = ["s3:", "kms:", "sts:", "iam:"];
    message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
        .find(|word| {
            services.iter().any(|s| {
                word.len() > s.len()
                    && word[..s.len()].eq_ignore_ascii_case(s)
                    && word[s.len()..].bytes().all(|b| b.is_ascii_alphabetic())
            })
        })
}

/// The `org.policies` reasons that can be the cause a message names: AWS's text says which
/// kind of organization policy refused ("explicit deny in a service control policy", "... in a
/// resource control policy", "no service control policy allows"), and a finding about another
/// kind is not it. `None` when the message names no kind.
pub fn message_org_reasons(message: &str) -> Option<&'static [&'static str]> {
    let m = message.to_ascii_lowercase();
    if m.contains("in a resource control policy") {
        Some(&["rcp-denied"])
    } else if m.contains("no service control policy allows") {
        Some(&["no-scp-allows"])
    } else if m.contains("in a service control policy") {
        Some(&["scp-denied"])
    } else {
        None
    }
}

/// What the message says of the request that was refused, to tell which findings are about it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asked<'m> {
    /// The action the message names (`kms:Decrypt`).
    pub action: Option<&'m str>,
    /// The `org.policies` reasons that fit the kind of organization policy it names.
    pub org_reasons: Option<&'static [&'static str]>,
}

impl<'m> Asked<'m> {
    pub fn of(message: &'m str) -> Self {
        Asked {
            action: message_action(message),
            org_reasons: message_org_reasons(message),
        }
    }
}

/// Judges one cause on a report: the most telling verdict among its checks. `action`: the
/// action the message names, if any; a finding about another action does not confirm the
/// cause (a role refused kms:Decrypt is not why kms:GenerateDataKey failed).
pub fn judge(cause: &Cause, report: &Report, action: Option<&str>) -> (Verdict, Vec<CheckOutcome>) {
    judge_asked(
        cause,
        report,
        Asked {
            action,
            org_reasons: None,
        },
    )
}

/// [`judge`], with all the message says of the refused request: its action and, for an
/// organization policy, its kind (an RCP's refusal is not confirmed by an SCP's).
pub fn judge_asked(
    cause: &Cause,
    report: &Report,
    asked: Asked<'_>,
) -> (Verdict, Vec<CheckOutcome>) {
    let action = asked.action;
    // No check can confirm it (an organization policy the tool does not read): a run that finds
    // nothing has not ruled it out.
    if cause.checks.is_empty() {
        return (Verdict::Unknown, Vec::new());
    }
    let outcomes: Vec<CheckOutcome> = cause
        .checks
        .iter()
        .map(|id| match report.checks.iter().find(|c| &c.id == id) {
            Some(result) => judge_check(cause, result, action, asked.org_reasons),
            None => CheckOutcome {
                id: id.clone(),
                status: "not-run".to_string(),
                summary: "Not run (--skip).".to_string(),
                verdict: Verdict::Unknown,
            },
        })
        .collect();
    let verdict = if outcomes.iter().any(|o| o.verdict == Verdict::Confirmed) {
        Verdict::Confirmed
    } else if outcomes.iter().any(|o| o.verdict == Verdict::Unknown) {
        Verdict::Unknown
    } else {
        Verdict::NotConfirmed
    };
    (verdict, outcomes)
}

fn judge_check(
    cause: &Cause,
    result: &CheckResult,
    action: Option<&str>,
    org_reasons: Option<&[&str]>,
) -> CheckOutcome {
    let outcome = |verdict, summary: &str| CheckOutcome {
        id: result.id.clone(),
        status: result.status.as_str().to_string(),
        summary: summary.to_string(),
        verdict,
    };
    // A check that does not apply to this attachment (kms.alias when a key ARN was entered)
    // rules its cause out: there is no alias to be wrong.
    if result.status == Status::Skip && result.findings.iter().any(|f| f.reason == "not-applicable")
    {
        return outcome(Verdict::NotConfirmed, &result.summary);
    }
    // Otherwise a skipped or undetermined check says nothing either way.
    if matches!(result.status, Status::Skip | Status::Error) {
        return outcome(Verdict::Unknown, &result.summary);
    }
    let mut wanted = cause.reasons_for(&result.id);
    // The kind of organization policy the message names narrows which refusals are its cause;
    // warnings that cannot tell (a condition not decided) still count as not knowing.
    if result.id == ORG_POLICIES
        && let Some(kinds) = org_reasons
    {
        let fits = |r: &str| kinds.contains(&r) || ORG_UNDECIDED.contains(&r);
        wanted = Some(match wanted {
            Some(w) => w.into_iter().filter(|r| fits(r)).collect(),
            None => kinds.iter().chain(ORG_UNDECIDED).copied().collect(),
        });
    }
    let same_action = |f: &crate::model::report::FindingResult| match (action, f.action.as_deref())
    {
        (Some(asked), Some(about)) => asked.eq_ignore_ascii_case(about),
        _ => true,
    };
    let relevant = |status: Status| {
        result.findings.iter().find(|f| {
            f.status == status
                && wanted
                    .as_ref()
                    .is_none_or(|w| w.contains(&f.reason.as_str()))
                && same_action(f)
        })
    };
    if let Some(f) = relevant(Status::Fail) {
        return outcome(Verdict::Confirmed, &f.summary);
    }
    // A warning is the check saying it cannot settle the question (a condition it cannot
    // evaluate, ...): not a confirmation, not a clearance.
    if let Some(f) = relevant(Status::Warn) {
        return outcome(Verdict::Unknown, &f.summary);
    }
    if let Some(asked) = action
        && let Some(f) = result.findings.iter().find(|f| {
            f.status == Status::Fail
                && wanted
                    .as_ref()
                    .is_none_or(|w| w.contains(&f.reason.as_str()))
        })
        && let Some(about) = &f.action
    {
        return outcome(
            Verdict::NotConfirmed,
            &format!("Fails, but for {about}, not {asked}: {}", f.summary),
        );
    }
    if result.status == Status::Fail {
        return outcome(
            Verdict::NotConfirmed,
            &format!("Fails, but for another problem: {}", result.summary),
        );
    }
    outcome(Verdict::NotConfirmed, &result.summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::parse;

    fn result(id: &str, status: Status, findings: &[(Status, &str)]) -> CheckResult {
        CheckResult {
            id: id.into(),
            title: String::new(),
            status,
            summary: format!("{id} summary"),
            evidence: Vec::new(),
            remediation: None,
            docs: Vec::new(),
            fixes: Vec::new(),
            steps: Vec::new(),
            findings: findings
                .iter()
                .map(|(s, r)| crate::model::report::FindingResult {
                    status: *s,
                    reason: r.to_string(),
                    summary: format!("{id}:{r}"),
                    evidence: Vec::new(),
                    action: None,
                    failure: None,
                    locations: Vec::new(),
                })
                .collect(),
        }
    }

    fn cause(checks: &[&str], reasons: &[&str]) -> Cause {
        Cause {
            text: "c".into(),
            checks: checks.iter().map(|s| s.to_string()).collect(),
            reasons: reasons.iter().map(|s| s.to_string()).collect(),
            first_if: Vec::new(),
            unchecked: None,
        }
    }

    fn report(checks: Vec<CheckResult>) -> Report {
        Report::new(
            "offline",
            crate::model::attachment::Attachment::default(),
            checks,
        )
    }

    #[test]
    fn the_message_names_its_action() {
        let m = "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: \
                 kms:GenerateDataKey on resource: arn:aws:kms:us-east-1:1:key/k";
        assert_eq!(message_action(m), Some("kms:GenerateDataKey"));
        assert_eq!(
            message_action("when calling the PutObject operation: Access Denied"),
            None
        );
        assert_eq!(message_action("(s3:ListBucket)"), Some("s3:ListBucket"));
        assert_eq!(message_action("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn issue11_d12_a_cause_without_checks_must_say_why() {
        let entry = |cause: &str| {
            format!(
                "[[entry]]\nid = \"x\"\ntitle = \"X\"\npriority = 1\nany = [\"x\"]\nmeaning = \"m\"\n[[entry.cause]]\ntext = \"t\"\n{cause}"
            )
        };
        let err = parse(&entry("")).expect_err("no checks, no reason");
        assert!(err.contains("no check confirms it"), "{err}");
        let err =
            parse(&entry("checks = [\"role.trust\"]\nunchecked = \"why\"")).expect_err("both");
        assert!(err.contains("`unchecked` with `checks`"), "{err}");
        let catalog = parse(&entry("unchecked = \"no check reads SCPs\"")).expect("says why");
        // A run cannot rule such a cause out.
        let r = report(vec![result("role.trust", Status::Pass, &[])]);
        let (verdict, outcomes) = judge(&catalog.entries[0].causes[0], &r, None);
        assert_eq!(verdict, Verdict::Unknown);
        assert!(outcomes.is_empty());
    }

    #[test]
    fn verdicts_follow_the_findings() {
        let r = report(vec![
            result(
                "role.trust",
                Status::Fail,
                &[(Status::Fail, "external-id-mismatch")],
            ),
            result("bucket.region", Status::Pass, &[(Status::Pass, "agree")]),
            result(
                "role.exists",
                Status::Skip,
                &[(Status::Skip, "fact-unavailable")],
            ),
            result(
                "bucket.policy",
                Status::Warn,
                &[(Status::Warn, "conditional-deny")],
            ),
        ]);
        let v = |c: &Cause| judge(c, &r, None).0;
        assert_eq!(v(&cause(&["role.trust"], &[])), Verdict::Confirmed);
        assert_eq!(
            v(&cause(
                &["role.trust"],
                &["role.trust:external-id-mismatch"]
            )),
            Verdict::Confirmed
        );
        // Fails, but for another cause.
        assert_eq!(
            v(&cause(
                &["role.trust", "bucket.region"],
                &["role.trust:principal-missing"]
            )),
            Verdict::NotConfirmed
        );
        assert_eq!(v(&cause(&["bucket.region"], &[])), Verdict::NotConfirmed);
        assert_eq!(
            v(&cause(&["bucket.region", "role.exists"], &[])),
            Verdict::Unknown
        );
        assert_eq!(v(&cause(&["bucket.policy"], &[])), Verdict::Unknown);
        // A confirmation outweighs an unknown.
        assert_eq!(
            v(&cause(&["role.exists", "role.trust"], &[])),
            Verdict::Confirmed
        );
        // A check left out of the run (--skip) is unknown.
        assert_eq!(v(&cause(&["kms.key"], &[])), Verdict::Unknown);
    }
}
