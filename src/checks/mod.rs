//! The checks: one module per check ID, each a pure function from the attachment and the
//! gathered facts to findings. No I/O here and no text for humans beyond values: titles,
//! summaries and remediation live as data in `checks/*.toml` (see [`crate::catalog`]).

pub mod aoc_model;
pub mod aws_credentials;
pub mod bucket_encryption;
pub mod bucket_policy;
pub mod bucket_public_access;
pub mod bucket_reachable;
pub mod bucket_region;
pub mod fix;
pub mod input_values;
pub mod kms_alias;
pub mod kms_key;
pub mod kms_key_policy;
pub mod policy_help;
pub mod probe_write;
pub mod role_exists;
pub mod role_kms_access;
pub mod role_s3_access;
pub mod role_trust;

use serde::Serialize;

use crate::facts::{Fact, Facts};
use crate::spec::Attachment;

pub use input_values::Values;

/// A check's status (docs/contract.md, "Statuses and exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Error => "error",
        }
    }

    /// The most serious of some statuses, or `None` for none: each caller says what "nothing"
    /// means where it folds (a check with no finding, a report with no check).
    pub fn most_serious(statuses: impl IntoIterator<Item = Status>) -> Option<Status> {
        statuses.into_iter().max_by_key(|s| s.severity())
    }

    /// Which status a check with several findings takes: the most serious one.
    pub fn severity(self) -> u8 {
        match self {
            Status::Skip => 0,
            Status::Pass => 1,
            Status::Warn => 2,
            Status::Error => 3,
            Status::Fail => 4,
        }
    }
}

/// One thing a check found. `reason` keys the text in the check's TOML file; `vars` fill
/// its `{placeholders}`; `evidence` says what in which document led to it; `fix` is a
/// computed remedy as typed steps (a whole document for one layer, the command that applies
/// it, notes), which every report sink renders.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub status: Status,
    pub reason: &'static str,
    pub vars: Vec<(&'static str, String)>,
    pub evidence: Vec<String>,
    pub fix: Vec<fix::FixStep>,
}

/// A policy document a fix proposes, and where it goes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixDocument {
    /// `identity-policy` (an inline policy of the role, named by `policy_name`: new, or an
    /// existing one given whole), `managed-policy-version` (the whole new default version of
    /// the customer-managed policy `policy_arn`), `policy-file` (the whole new content of the
    /// file `file`, offline), `key-policy` (the whole key policy, merged), `trust-policy` (the
    /// role's whole trust policy) or `bucket-policy` (the whole bucket policy, merged).
    pub applies_to: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub document: serde_json::Value,
    /// The document this one replaces, when it changes one that exists: what lets fixes of
    /// several checks for the same document be merged ([`fix::merge_across_checks`]).
    #[serde(skip)]
    pub original: Option<serde_json::Value>,
}

impl FixDocument {
    /// A whole document for a layer AWS replaces whole (key, bucket or trust policy).
    pub fn whole(applies_to: &'static str, document: serde_json::Value) -> Self {
        FixDocument {
            applies_to,
            policy_name: None,
            policy_arn: None,
            file: None,
            document,
            original: None,
        }
    }

    /// The same, recording the document it replaces.
    pub fn replacing(mut self, original: serde_json::Value) -> Self {
        self.original = Some(original);
        self
    }

    pub fn inline(name: &str, document: serde_json::Value) -> Self {
        FixDocument {
            policy_name: Some(name.to_string()),
            ..FixDocument::whole("identity-policy", document)
        }
    }

    pub fn managed_version(arn: &str, document: serde_json::Value) -> Self {
        FixDocument {
            policy_arn: Some(arn.to_string()),
            ..FixDocument::whole("managed-policy-version", document)
        }
    }

    pub fn file(path: &str, document: serde_json::Value) -> Self {
        FixDocument {
            file: Some(path.to_string()),
            ..FixDocument::whole("policy-file", document)
        }
    }
}

impl Finding {
    pub fn new(status: Status, reason: &'static str) -> Self {
        Finding {
            status,
            reason,
            vars: Vec::new(),
            evidence: Vec::new(),
            fix: Vec::new(),
        }
    }

    pub fn pass(reason: &'static str) -> Self {
        Finding::new(Status::Pass, reason)
    }

    pub fn warn(reason: &'static str) -> Self {
        Finding::new(Status::Warn, reason)
    }

    pub fn fail(reason: &'static str) -> Self {
        Finding::new(Status::Fail, reason)
    }

    pub fn var(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.vars.push((name, value.into()));
        self
    }

    pub fn evidence(mut self, line: impl Into<String>) -> Self {
        self.evidence.push(line.into());
        self
    }

    pub fn evidence_lines(mut self, lines: impl IntoIterator<Item = String>) -> Self {
        self.evidence.extend(lines);
        self
    }

    /// The document the fix proposes, for tools that apply it (`fixes` in the JSON report).
    pub fn fix_document(&self) -> Option<&FixDocument> {
        self.fix.iter().find_map(|step| match step {
            fix::FixStep::Document { document, .. } => Some(document),
            _ => None,
        })
    }

    /// The fix as plain text (what the text report shows).
    pub fn fix_text(&self) -> Option<String> {
        (!self.fix.is_empty()).then(|| fix::steps_text(&self.fix))
    }

    pub fn fix(mut self, steps: Vec<fix::FixStep>) -> Self {
        self.fix = steps;
        self
    }

    /// `skip` because a value the check needs is malformed or missing.
    pub fn skip_needs(what: &str) -> Self {
        Finding::new(Status::Skip, "needs-value").var("value", what)
    }

    /// `skip` or `error` for a fact that is not known, with the fact's own explanation.
    pub fn from_missing_fact<T>(fact: &Fact<T>) -> Option<Self> {
        match fact {
            Fact::Known(_) => None,
            Fact::Unavailable(why) => {
                Some(Finding::new(Status::Skip, "fact-unavailable").var("why", why.clone()))
            }
            Fact::Failed(why) => {
                Some(Finding::new(Status::Error, "fact-failed").var("why", why.clone()))
            }
        }
    }
}

/// Reasons every check may return, with text in `checks/common.toml`.
pub const COMMON_REASONS: &[&str] = &["needs-value", "fact-unavailable", "fact-failed"];

/// What a check is judged on.
pub struct Input<'a> {
    pub attachment: &'a Attachment,
    pub values: &'a Values,
    pub facts: &'a Facts,
}

/// A check: its ID (the name of its TOML file), the reasons it can return, and its logic.
pub struct CheckDef {
    pub id: &'static str,
    pub reasons: &'static [&'static str],
    pub run: fn(&Input<'_>) -> Vec<Finding>,
}

/// Every check, in report order (docs/contract.md, "Check catalog").
pub const ALL: &[CheckDef] = &[
    input_values::DEF,
    aws_credentials::DEF,
    bucket_reachable::DEF,
    bucket_region::DEF,
    bucket_encryption::DEF,
    bucket_policy::DEF,
    bucket_public_access::DEF,
    kms_key::DEF,
    kms_alias::DEF,
    kms_key_policy::DEF,
    role_exists::DEF,
    role_s3_access::DEF,
    role_kms_access::DEF,
    role_trust::DEF,
    probe_write::DEF,
];

/// Looks a check up by ID.
pub fn find(id: &str) -> Option<&'static CheckDef> {
    ALL.iter().find(|c| c.id == id)
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Builders for unit tests of the checks.

    use super::*;
    use crate::facts::Facts;
    use crate::policy::{NamedPolicy, parse_policy};
    use crate::spec::{AocTrust, Attachment};

    pub const KEY_ARN: &str =
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    pub const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/aoc-access";
    pub const AOC_PRINCIPAL: &str = "arn:aws:iam::860559707280:role/atp-aws-us-east-1-ts-atc-node";

    pub fn attachment() -> Attachment {
        Attachment {
            name: None,
            region: "us-east-1".into(),
            bucket: "aspera-kms".into(),
            path: "/".into(),
            kms_key: KEY_ARN.into(),
            role_arn: ROLE_ARN.into(),
            aoc_trust: AocTrust {
                policy: None,
                external_id: Some("aoc-external-id-1".into()),
                aoc_principal: Some(AOC_PRINCIPAL.into()),
            },
        }
    }

    pub fn policy(label: &str, json: &str) -> NamedPolicy {
        NamedPolicy {
            label: label.into(),
            document: parse_policy(json).expect("test policy parses"),
        }
    }

    /// Runs one check and returns its findings, asserting every finding has catalog text.
    pub fn run_check(def: &CheckDef, attachment: &Attachment, facts: &Facts) -> Vec<Finding> {
        let values = Values::from_attachment(attachment);
        let input = Input {
            attachment,
            values: &values,
            facts,
        };
        let findings = (def.run)(&input);
        assert!(!findings.is_empty(), "{} returned no finding", def.id);
        for f in &findings {
            assert!(
                def.reasons.contains(&f.reason) || COMMON_REASONS.contains(&f.reason),
                "{} returned undeclared reason {}",
                def.id,
                f.reason
            );
        }
        // Every placeholder of the rendered text must be filled by the finding's variables.
        let catalog = crate::catalog::get().expect("catalog loads");
        let result = catalog.result(def, &findings);
        let rendered = format!(
            "{}\n{}",
            result.summary,
            result.remediation.clone().unwrap_or_default()
        );
        let left = crate::catalog::placeholders(&rendered);
        assert!(
            left.is_empty(),
            "{}: unfilled {left:?} in {rendered}",
            def.id
        );
        findings
    }

    /// The overall status of findings.
    pub fn status(findings: &[Finding]) -> Status {
        Status::most_serious(findings.iter().map(|f| f.status)).unwrap_or(Status::Skip)
    }

    /// The one document the findings' fixes propose.
    pub fn fix_document(findings: &[Finding]) -> FixDocument {
        findings
            .iter()
            .find_map(|f| f.fix_document().cloned())
            .unwrap_or_else(|| panic!("no fix document in:\n{}", text(findings)))
    }

    /// All evidence and fixes of the findings, as one text to search.
    pub fn text(findings: &[Finding]) -> String {
        let mut out = String::new();
        for f in findings {
            out.push_str(f.reason);
            out.push('\n');
            for (k, v) in &f.vars {
                out.push_str(&format!("{k}={v}\n"));
            }
            for e in &f.evidence {
                out.push_str(e);
                out.push('\n');
            }
            if let Some(fix) = f.fix_text() {
                out.push_str(&fix);
                out.push('\n');
            }
        }
        out
    }
}
