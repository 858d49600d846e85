//! "What to fix": the report's checks that need attention, one entry per root cause, in the
//! order AoC meets them when it uses the attachment (the values it was given, the tool's own
//! access, then trust → organization → role → key → bucket). Pure; the text and Markdown sinks
//! render the entries their own way.

use crate::model::report::{CheckResult, Report};
use crate::model::verdict::Status;

/// One root cause and what to do about it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cause<'a> {
    /// A check that failed, warned or could not be determined, on its own.
    Check(&'a CheckResult),
}

impl Cause<'_> {
    pub fn status(&self) -> Status {
        match self {
            Cause::Check(c) => c.status,
        }
    }

    /// The checks this entry stands for (whose details point back to it).
    pub fn check_ids(&self) -> Vec<&str> {
        match self {
            Cause::Check(c) => vec![c.id.as_str()],
        }
    }
}

/// Where AoC meets what a check looks at; a check this version does not place comes last.
fn stage(id: &str) -> usize {
    const ORDER: &[&str] = &[
        "input.values",
        "aws.credentials",
        "role.exists",
        "role.trust",
        "org.policies",
        "role.s3-access",
        "role.kms-access",
        "kms.key",
        "kms.alias",
        "kms.key-policy",
        "bucket.reachable",
        "bucket.region",
        "bucket.encryption",
        "bucket.policy",
        "bucket.public-access",
        "probe.write",
    ];
    ORDER.iter().position(|o| *o == id).unwrap_or(ORDER.len())
}

fn needs_attention(status: Status) -> bool {
    matches!(status, Status::Fail | Status::Error | Status::Warn)
}

/// The root causes of one report, in the order AoC meets them.
pub fn causes(report: &Report) -> Vec<Cause<'_>> {
    let mut checks: Vec<&CheckResult> = report
        .checks
        .iter()
        .filter(|c| needs_attention(c.status))
        .collect();
    // Stable: checks of one stage keep the report's order.
    checks.sort_by_key(|c| stage(&c.id));
    checks.into_iter().map(Cause::Check).collect()
}

/// The number (from 1) of the entry that stands for a check, if one does.
pub fn entry_of(causes: &[Cause<'_>], check_id: &str) -> Option<usize> {
    causes
        .iter()
        .position(|c| c.check_ids().contains(&check_id))
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::attachment::Attachment;

    fn check(id: &str, status: Status) -> CheckResult {
        CheckResult {
            id: id.into(),
            title: String::new(),
            status,
            summary: String::new(),
            evidence: Vec::new(),
            remediation: None,
            docs: Vec::new(),
            fixes: Vec::new(),
            steps: Vec::new(),
            findings: Vec::new(),
        }
    }

    #[test]
    fn causes_come_in_the_order_aoc_meets_them_and_passes_are_left_out() {
        let report = Report::new(
            "offline",
            Attachment::default(),
            vec![
                check("bucket.policy", Status::Fail),
                check("kms.key-policy", Status::Warn),
                check("role.s3-access", Status::Fail),
                check("role.kms-access", Status::Pass),
                check("role.trust", Status::Fail),
                check("future.check", Status::Error),
                check("probe.write", Status::Skip),
            ],
        );
        let found = causes(&report);
        let ids: Vec<&str> = found.iter().flat_map(Cause::check_ids).collect();
        assert_eq!(
            ids,
            [
                "role.trust",
                "role.s3-access",
                "kms.key-policy",
                "bucket.policy",
                "future.check"
            ]
        );
        assert_eq!(entry_of(&found, "bucket.policy"), Some(4));
        assert_eq!(entry_of(&found, "role.kms-access"), None);
    }
}
