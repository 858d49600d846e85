//! The report model: what one run concluded about each attachment, check by check. Its serde
//! form is the JSON format (`--format json`, `docs/report.schema.json`); every other format is
//! rendered from it by a sink in [`crate::report`].

use serde::Serialize;

use super::attachment::Attachment;
use super::facts::{CallRecord, FailureKind};
use super::gate::{ACCESS_CHECKS, GateWarning, SuppressedFinding};
use super::verdict::{FixDocument, FixStep, Location, Status};

/// Bumped when a field changes meaning or disappears; adding fields does not bump it.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

pub const TOOL: Tool = Tool {
    name: env!("CARGO_PKG_NAME"),
    version: env!("CARGO_PKG_VERSION"),
};

/// The report for one attachment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    /// `offline` or `live`.
    pub mode: &'static str,
    pub attachment: Attachment,
    /// The attachment's verdict: the most serious check status.
    pub status: Status,
    /// How the run ends (`exit_code`, `outcome`), on a report that is the whole run; absent
    /// on the reports inside a fleet, whose own top level carries it.
    #[serde(flatten)]
    pub run: Option<RunOutcome>,
    pub summary: Summary,
    /// Live mode: the AWS requests this attachment's checks made (facts shared with an
    /// attachment checked earlier in the run are not fetched again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsUsage>,
    /// What reading the input did that the admin should know (the JSON object taken out of
    /// text pasted around it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Set when the facts were replayed from a support bundle (`check --facts`) rather than
    /// gathered by this run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay: Option<Replay>,
    pub checks: Vec<CheckResult>,
    /// The checks this attachment's run required (`--require`, `require = [...]`, and,
    /// offline, `role.trust` when AoC's principal and external ID were given): one that could not run
    /// fails instead of being skipped.
    pub required: Vec<String>,
    /// Whether an access check (`ACCESS_CHECKS`) reached a verdict (pass, warn or fail, or a
    /// suppressed finding). A run where access checks were selected and none did exits 3.
    pub access_verified: bool,
    /// Findings a `[[suppress]]` entry of the config file took out of the verdict, each with
    /// the entry's reason.
    pub suppressed: Vec<SuppressedFinding>,
    /// What a reader must see next to the verdict: nothing verified, a suppression expired
    /// (its finding counts again) or matched nothing.
    pub gate_warnings: Vec<GateWarning>,
}

/// How a run ends, as its process exit code says it
/// (docs/contract.md, "Statuses and exit codes"). A check's or an attachment's `status` is its verdict; this is the gate's, which
/// also counts a tool stopped by its own credentials and a run that verified no access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RunOutcome {
    pub exit_code: u8,
    /// `pass`, `broken`, `usage` or `undetermined`.
    pub outcome: &'static str,
}

impl From<crate::exit::Exit> for RunOutcome {
    fn from(exit: crate::exit::Exit) -> Self {
        RunOutcome {
            exit_code: exit.code(),
            outcome: exit.outcome(),
        }
    }
}

/// Where a replayed report's facts come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replay {
    /// The bundle file, as given to `--facts`.
    pub bundle: String,
    /// When the facts were gathered (RFC 3339); `null` for a bundle saved before bundles
    /// recorded it.
    pub gathered_at: Option<String>,
    /// Who gathered them: the caller identity ARN of the run that saved the bundle; `null`
    /// offline or when the credentials did not resolve.
    pub gathered_by: Option<String>,
}

impl Replay {
    /// One line for a person: `facts gathered live at T by ARN, replayed from FILE`.
    pub fn describe(&self, mode: &str) -> String {
        format!(
            "facts gathered {mode} at {} by {}, replayed from {}",
            self.gathered_at.as_deref().unwrap_or("an unknown time"),
            self.gathered_by.as_deref().unwrap_or("an unknown identity"),
            self.bundle
        )
    }
}

/// What a live run asked AWS.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AwsUsage {
    /// Requests sent.
    pub requests: usize,
    /// The longest chain of requests that had to wait on each other: the run's lower bound is
    /// about this many round trips.
    pub critical_path: u32,
    pub calls: Vec<CallRecord>,
}

impl AwsUsage {
    pub fn from_calls(calls: &[CallRecord]) -> Self {
        AwsUsage {
            requests: calls.len(),
            critical_path: calls.iter().map(|c| c.depth).max().unwrap_or(0),
            calls: calls.to_vec(),
        }
    }
}

/// Several attachments (a config file with several `[[attachment]]` tables).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetReport {
    pub schema_version: u32,
    pub tool: Tool,
    pub status: Status,
    /// How the run ends; set by [`crate::report::settle`] before rendering.
    #[serde(flatten)]
    pub run: Option<RunOutcome>,
    /// Counts over every check of every attachment.
    pub summary: Summary,
    /// Live mode: AWS requests of the whole run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_requests: Option<usize>,
    pub reports: Vec<Report>,
    /// The roll-up: each attachment, in the order of `reports`, with its status and the checks
    /// that need attention.
    pub attachments: Vec<AttachmentOutcome>,
}

/// One attachment of a fleet at a glance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttachmentOutcome {
    /// The attachment's name; its bucket, or `attachment-N`, when it has none.
    pub name: String,
    pub status: Status,
    /// The checks that failed, could not be determined or warned, in report order.
    pub checks: Vec<CheckOutcome>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckOutcome {
    pub id: String,
    pub status: Status,
}

/// Counts of check statuses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub total: usize,
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
    pub error: usize,
}

impl Summary {
    pub fn add(&mut self, status: Status) {
        self.total += 1;
        match status {
            Status::Pass => self.pass += 1,
            Status::Warn => self.warn += 1,
            Status::Fail => self.fail += 1,
            Status::Skip => self.skip += 1,
            Status::Error => self.error += 1,
        }
    }

    pub fn merge(&mut self, other: &Summary) {
        self.total += other.total;
        self.pass += other.pass;
        self.warn += other.warn;
        self.fail += other.fail;
        self.skip += other.skip;
        self.error += other.error;
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub status: Status,
    /// One line.
    pub summary: String,
    /// What in which document led to the status.
    pub evidence: Vec<String>,
    /// What to change, with filled-in statements and commands; `null` when nothing is to be
    /// done.
    pub remediation: Option<String>,
    pub docs: Vec<String>,
    /// Documents the remediation proposes, ready to apply (`applies_to`: `identity-policy`,
    /// `managed-policy-version`, `policy-file`, `key-policy`, `trust-policy`, `bucket-policy`);
    /// every document AWS replaces whole is given whole, merged with what is there.
    pub fixes: Vec<FixDocument>,
    /// The remediation as typed steps (notes, whole documents, diffs, commands), the same
    /// the text of `remediation` is made of; empty when nothing is to be done.
    pub steps: Vec<FixStep>,
    /// Every finding behind the status, for tools that want them one by one.
    pub findings: Vec<FindingResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingResult {
    pub status: Status,
    pub reason: String,
    pub summary: String,
    pub evidence: Vec<String>,
    /// The AWS action the finding is about, when it is about one (`kms:Decrypt`): a pipeline,
    /// or `explain --run`, can tell which permission is missing without reading the text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// When the finding reports a fact the tool could not obtain: why (`network`,
    /// `credentials`, `expired_credentials`, `access_denied`, `timeout`, `unreadable`,
    /// `service`, `other`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureKind>,
    /// Where in the user's files the finding is, most relevant first (for a check that
    /// fails, warns or could not decide): the statements at fault, the file a fix changes, or
    /// the attachment's table in the config file. Absent when not known.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
}

/// The most serious of some statuses; `pass` for none (a report of no check has nothing that
/// failed; whether a run that verified nothing may pass is the exit code's business).
pub fn overall<'a>(statuses: impl IntoIterator<Item = &'a Status>) -> Status {
    Status::most_serious(statuses.into_iter().copied()).unwrap_or(Status::Pass)
}

impl Report {
    /// What to call the attachment in a fleet: its name, else its bucket, else its place
    /// (`index` from 0).
    pub fn label(&self, index: usize) -> String {
        let a = &self.attachment;
        match (&a.name, a.bucket.trim()) {
            (Some(name), _) if !name.trim().is_empty() => name.clone(),
            (_, bucket) if !bucket.is_empty() => bucket.to_string(),
            _ => format!("attachment-{}", index + 1),
        }
    }

    pub fn new(mode: &'static str, mut attachment: Attachment, checks: Vec<CheckResult>) -> Self {
        // A value megabytes long (pasted by mistake) is shown cut, not echoed whole.
        for v in [
            &mut attachment.region,
            &mut attachment.bucket,
            &mut attachment.path,
            &mut attachment.kms_key,
            &mut attachment.role_arn,
        ] {
            *v = crate::text::cap_lines(v);
        }
        let mut summary = Summary::default();
        for c in &checks {
            summary.add(c.status);
        }
        Report {
            schema_version: SCHEMA_VERSION,
            tool: TOOL,
            mode,
            attachment,
            status: overall(checks.iter().map(|c| &c.status)),
            run: None,
            summary,
            aws: None,
            access_verified: checks.iter().any(|c| {
                ACCESS_CHECKS.contains(&c.id.as_str())
                    && matches!(c.status, Status::Pass | Status::Warn | Status::Fail)
            }),
            notes: Vec::new(),
            replay: None,
            checks,
            required: Vec::new(),
            suppressed: Vec::new(),
            gate_warnings: Vec::new(),
        }
    }
}

impl FleetReport {
    pub fn new(reports: Vec<Report>) -> Self {
        let mut summary = Summary::default();
        for r in &reports {
            summary.merge(&r.summary);
        }
        let attachments = reports
            .iter()
            .enumerate()
            .map(|(i, r)| AttachmentOutcome {
                name: r.label(i),
                status: r.status,
                checks: r
                    .checks
                    .iter()
                    .filter(|c| matches!(c.status, Status::Fail | Status::Error | Status::Warn))
                    .map(|c| CheckOutcome {
                        id: c.id.clone(),
                        status: c.status,
                    })
                    .collect(),
            })
            .collect();
        FleetReport {
            schema_version: SCHEMA_VERSION,
            tool: TOOL,
            attachments,
            status: overall(reports.iter().map(|r| &r.status)),
            run: None,
            summary,
            aws_requests: reports
                .iter()
                .map(|r| r.aws.as_ref().map(|a| a.requests))
                .sum(),
            reports,
        }
    }
}
