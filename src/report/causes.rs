//! "What to fix": the report's checks that need attention, one entry per root cause, in the
//! order AoC meets them when it uses the attachment (the values it was given, the tool's own
//! access, then trust → organization → role → key → bucket). When the tool itself could not
//! reach AWS or use its credentials, that is one cause, with advice for what went wrong, and
//! the checks it stopped are listed under it rather than each repeating it. Pure; the text
//! and Markdown sinks render the entries their own way.

use crate::model::facts::FailureKind;
use crate::model::report::{CheckResult, Report};
use crate::model::verdict::Status;

/// One root cause and what to do about it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cause<'a> {
    /// The tool could not read AWS, for one reason, so these checks were not determined.
    Access {
        problem: AccessProblem,
        /// What AWS or the network said, each different message once.
        messages: Vec<String>,
        stopped: Vec<&'a CheckResult>,
    },
    /// A check that failed, warned or could not be determined, on its own.
    Check(&'a CheckResult),
}

/// What kept the tool from reading AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AccessProblem {
    /// No credentials, or AWS rejected them.
    Credentials,
    /// The credentials' session has expired.
    ExpiredCredentials,
    /// The requests could not be sent: DNS, connection refused, TLS, the endpoint.
    Network,
    /// Something answered at the endpoint, but not as AWS does.
    Endpoint,
    /// AWS did not answer in time.
    Timeout,
    /// AWS refused the tool's own reads.
    AccessDenied,
}

impl AccessProblem {
    fn of(kind: FailureKind) -> Option<Self> {
        match kind {
            FailureKind::Credentials => Some(AccessProblem::Credentials),
            FailureKind::ExpiredCredentials => Some(AccessProblem::ExpiredCredentials),
            FailureKind::Network => Some(AccessProblem::Network),
            FailureKind::Endpoint => Some(AccessProblem::Endpoint),
            FailureKind::Timeout => Some(AccessProblem::Timeout),
            FailureKind::AccessDenied => Some(AccessProblem::AccessDenied),
            FailureKind::Unreadable | FailureKind::Service | FailureKind::Other => None,
        }
    }

    /// One line: what happened.
    pub fn headline(self) -> &'static str {
        match self {
            AccessProblem::Credentials => {
                "The tool's AWS credentials do not work: none were found, or AWS rejected them."
            }
            AccessProblem::ExpiredCredentials => "The tool's AWS credentials have expired.",
            AccessProblem::Network => {
                "The tool could not reach AWS: its requests could not be sent."
            }
            AccessProblem::Endpoint => {
                "Something answered the tool's requests, but not as AWS does: the endpoint is wrong."
            }
            AccessProblem::Timeout => "AWS did not answer the tool in time.",
            AccessProblem::AccessDenied => {
                "AWS refused the tool's own reads: the identity it runs as lacks read permissions."
            }
        }
    }

    /// What to do about it.
    pub fn advice(self) -> &'static str {
        match self {
            AccessProblem::Credentials => {
                "Check where the credentials come from: `--profile NAME` (or AWS_PROFILE) and \
                 its entry in ~/.aws/config and ~/.aws/credentials, AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY, or the instance or container role. \
                 `aws sts get-caller-identity` with the same settings shows what AWS sees. \
                 Then run again."
            }
            AccessProblem::ExpiredCredentials => {
                "Renew the session: `aws sso login --profile NAME` for IAM Identity Center \
                 (SSO), or fresh temporary credentials (AWS_SESSION_TOKEN) from where you got \
                 them. Then run again."
            }
            AccessProblem::Network => {
                "Check the endpoint (`--endpoint-url` or AWS_ENDPOINT_URL, if set: is \
                 something listening there?), DNS (can this machine resolve AWS's host names?), \
                 and the network path (a proxy in HTTPS_PROXY, a firewall, a VPC endpoint). \
                 Then run again."
            }
            AccessProblem::Endpoint => {
                "Check the endpoint URL (`--endpoint-url` or AWS_ENDPOINT_URL, if set): its \
                 host, port and path must be the AWS (or AWS-compatible) service itself, with \
                 no path after the host unless the service needs one; a web server, proxy or \
                 the wrong port answers with its own error page. Then run again."
            }
            AccessProblem::Timeout => {
                "Check the network path and `--endpoint-url`, or give AWS longer with \
                 `--timeout SECONDS`. Then run again."
            }
            AccessProblem::AccessDenied => {
                "Grant the identity the tool runs as the read permissions named above: \
                 `aoc-preflight permissions` (with the attachment's --bucket, --kms-key and \
                 --role-arn) prints the read-only policy it needs. Then run again."
            }
        }
    }
}

impl Cause<'_> {
    pub fn status(&self) -> Status {
        match self {
            Cause::Access { stopped, .. } => {
                Status::most_serious(stopped.iter().map(|c| c.status)).unwrap_or(Status::Error)
            }
            Cause::Check(c) => c.status,
        }
    }

    /// The checks this entry stands for (whose details point back to it).
    pub fn check_ids(&self) -> Vec<&str> {
        match self {
            Cause::Access { stopped, .. } => stopped.iter().map(|c| c.id.as_str()).collect(),
            Cause::Check(c) => vec![c.id.as_str()],
        }
    }
}

/// What kept the tool from determining a check, when it is the tool's own access to AWS: the
/// findings behind the check's status all report facts not obtained for one such reason.
pub fn access_problem(check: &CheckResult) -> Option<AccessProblem> {
    if !matches!(check.status, Status::Error | Status::Fail) {
        return None;
    }
    let mut problems = check
        .findings
        .iter()
        .filter(|f| f.status == check.status)
        .map(|f| f.failure.and_then(AccessProblem::of));
    let first = problems.next()??;
    problems.all(|p| p.is_some()).then_some(first)
}

/// Where AoC meets what a check looks at; a check this version does not place comes last. A
/// bucket that does not exist or is in another region than AoC's comes right after the values:
/// it is a value entered in AoC, and every fix after it (the key, the trust, AoC's principal)
/// depends on the region.
fn stage(id: &str) -> usize {
    const ORDER: &[&str] = &[
        "input.values",
        "aws.credentials",
        "bucket.reachable",
        "bucket.region",
        "role.exists",
        "role.trust",
        "org.policies",
        "role.s3-access",
        "role.kms-access",
        "kms.key",
        "kms.alias",
        "kms.key-policy",
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

/// The root causes of one report: what kept the tool from reading AWS first (nothing else is
/// known until it is fixed), then the checks in the order AoC meets them.
pub fn causes(report: &Report) -> Vec<Cause<'_>> {
    let mut checks: Vec<&CheckResult> = report
        .checks
        .iter()
        .filter(|c| needs_attention(c.status))
        .collect();
    // Stable: checks of one stage keep the report's order.
    checks.sort_by_key(|c| stage(&c.id));
    // Credentials that do not work explain every read that failed (S3 answers a HEAD with a
    // bare status, which on its own looks like a refusal or a fault).
    let credentials = checks
        .iter()
        .filter_map(|c| access_problem(c))
        .filter(|p| {
            matches!(
                p,
                AccessProblem::Credentials | AccessProblem::ExpiredCredentials
            )
        })
        .min();
    let problem_of = |check: &CheckResult| match credentials {
        Some(p) if failed_reading(check) => Some(p),
        _ => access_problem(check),
    };
    let mut access: Vec<Cause<'_>> = Vec::new();
    let mut own = Vec::new();
    for check in checks {
        let Some(problem) = problem_of(check) else {
            own.push(Cause::Check(check));
            continue;
        };
        let at = access
            .iter()
            .position(|c| matches!(c, Cause::Access { problem: p, .. } if *p == problem))
            .unwrap_or_else(|| {
                access.push(Cause::Access {
                    problem,
                    messages: Vec::new(),
                    stopped: Vec::new(),
                });
                access.len() - 1
            });
        if let Some(Cause::Access {
            messages, stopped, ..
        }) = access.get_mut(at)
        {
            stopped.push(check);
            for f in check.findings.iter().filter(|f| f.failure.is_some()) {
                let why = failure_message(&f.summary);
                if !messages.contains(&why) {
                    messages.push(why);
                }
            }
        }
    }
    access.sort_by_key(|c| match c {
        Cause::Access { problem, .. } => Some(*problem),
        Cause::Check(_) => None,
    });
    access.extend(own);
    access
}

/// A check not determined because facts it needed were not obtained, whatever the reason.
fn failed_reading(check: &CheckResult) -> bool {
    matches!(check.status, Status::Error | Status::Fail)
        && check
            .findings
            .iter()
            .filter(|f| f.status == check.status)
            .all(|f| f.failure.is_some())
        && check.findings.iter().any(|f| f.failure.is_some())
}

/// The failure's own message from a finding's summary (`Could not be determined: MESSAGE.`,
/// `The tool's AWS credentials do not work: MESSAGE.`).
fn failure_message(summary: &str) -> String {
    let message = summary
        .split_once(": ")
        .map_or(summary, |(_, rest)| rest)
        .trim_end_matches('.');
    message.to_string()
}

/// Whether a check failed only because the tool could not read AWS: for the exit code, such a
/// run determined nothing about the attachment (`3`), it did not find it broken (`1`).
pub fn stopped_by_access(check: &CheckResult) -> bool {
    access_problem(check).is_some()
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
