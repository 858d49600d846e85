//! What a CI gate adds to the checks' verdicts, as data: the checks a run requires
//! (`--require`, `require = [...]`), the suppressions of the config file (`[[suppress]]`) and
//! what became of them, and the gate's warnings (a suppression expired or unmatched, no access
//! verified). Judged in [`crate::checks::gate`]; the report carries the outcome, every sink
//! renders it (docs/contract.md, "Required checks and suppressions").

use serde::Serialize;

use super::verdict::Status;

/// The checks that look at whether AoC's requests are allowed (identity, key, bucket and
/// organization policies, and the trust policy). Value and region checks alone do not make a
/// green gate: a run in which none of these reached a verdict verified no access. Named by ID,
/// so a check this version does not have (yet) is simply never present.
pub const ACCESS_CHECKS: &[&str] = &[
    "role.s3-access",
    "role.kms-access",
    "role.trust",
    "kms.key-policy",
    "bucket.policy",
    "org.policies",
];

/// A `[[suppress]]` table: findings of `check` (optionally of one attachment, optionally only
/// those with one reason key) stop failing or warning, for `reason`, until `expires`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub check: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<String>,
    /// A finding's reason key (`alias-arn`), as in the JSON report's `findings[].reason`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    /// Why the finding is accepted: shown wherever the finding is.
    pub reason: String,
    /// The first day the suppression no longer applies (`YYYY-MM-DD`, UTC).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "date_as_text"
    )]
    pub expires: Option<jiff::civil::Date>,
}

impl Suppression {
    /// Whether it names this finding (its expiry aside).
    pub fn covers(&self, attachment: Option<&str>, check: &str, reason: &str) -> bool {
        self.check == check
            && self
                .attachment
                .as_deref()
                .is_none_or(|a| Some(a) == attachment)
            && self.finding.as_deref().is_none_or(|f| f == reason)
    }

    /// Expired on `today`: from its `expires` date on.
    pub fn expired(&self, today: jiff::civil::Date) -> bool {
        self.expires.is_some_and(|e| today >= e)
    }

    /// How the config file's entry reads in a report: `input.values (finding alias-arn,
    /// attachment prod)`.
    pub fn describe(&self) -> String {
        let mut scope = Vec::new();
        if let Some(f) = &self.finding {
            scope.push(format!("finding {f}"));
        }
        if let Some(a) = &self.attachment {
            scope.push(format!("attachment {a}"));
        }
        if scope.is_empty() {
            self.check.clone()
        } else {
            format!("{} ({})", self.check, scope.join(", "))
        }
    }
}

/// A finding a suppression took out of the verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuppressedFinding {
    /// The check ID.
    pub check: String,
    /// The finding's reason key.
    pub finding: String,
    /// What the finding would have made the check: `fail` or `warn`.
    pub status: Status,
    /// The finding's summary line.
    pub summary: String,
    /// The suppression's reason.
    pub reason: String,
    /// Where the finding is in the user's files (as in a check's findings).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<super::verdict::Location>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "date_as_text"
    )]
    pub expires: Option<jiff::civil::Date>,
}

/// Something about the gate a reader must see next to the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateWarning {
    pub kind: GateWarningKind,
    /// One line.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GateWarningKind {
    /// Access checks were selected but none reached a verdict: the run never exits 0 (3,
    /// unless a check failed).
    NothingVerified,
    /// Access was verified, but not AoC's trust in the role (`role.trust` skipped): the run
    /// exits 3, never 0, unless the check is left out on purpose (`--skip role.trust`).
    TrustNotVerified,
    /// Access was verified, but `role.s3-access` or `role.kms-access` was skipped: the run
    /// never exits 0 (3, unless a check failed), unless they are left out on purpose
    /// (`--skip`, `--only`).
    RoleAccessNotVerified,
    /// A suppression matched a finding but has expired: the finding counts again.
    SuppressionExpired,
    /// A suppression matched no finding in the run.
    SuppressionUnmatched,
}

/// A date as `YYYY-MM-DD`, as it was written in the config file.
fn date_as_text<S: serde::Serializer>(
    date: &Option<jiff::civil::Date>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match date {
        Some(d) => s.serialize_str(&d.to_string()),
        None => s.serialize_none(),
    }
}
