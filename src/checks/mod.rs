//! The checks: one module per check ID, each a pure function from the attachment and the
//! gathered facts to findings. No I/O here and no text for humans beyond values: titles,
//! summaries and remediation live as data in `checks/*.toml` (see [`crate::catalog`]).

pub mod aws_credentials;
pub mod bucket_encryption;
pub mod bucket_policy;
pub mod bucket_public_access;
pub mod bucket_reachable;
pub mod bucket_region;
pub mod fix;
pub mod gate;
pub mod input_values;
pub mod kms_alias;
pub mod kms_key;
pub mod kms_key_policy;
pub mod locate;
pub mod org_policies;
pub mod policy_help;
pub mod probe_write;
pub mod results;
pub mod role_exists;
pub mod role_kms_access;
pub mod role_s3_access;
pub mod role_trust;

use crate::model::attachment::Attachment;
use crate::model::facts::Facts;
pub use crate::model::values::Values;
use crate::model::verdict::{Finding, FixDocument, FixStep, Status};

/// Reasons every check may return, with text in `checks/common.toml`.
pub const COMMON_REASONS: &[&str] = &[
    "needs-value",
    "fact-unavailable",
    "fact-failed",
    "required-not-run",
    "suppressed",
];

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
    org_policies::DEF,
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
    use crate::model::attachment::{AocTrust, Attachment};
    use crate::model::facts::Facts;
    use crate::policy::{NamedPolicy, parse_policy};

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
        let result = crate::checks::results::check_result(catalog, def, &findings);
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
