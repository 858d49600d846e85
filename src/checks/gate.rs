//! The CI gate over the checks' findings: suppressions (`[[suppress]]`) take accepted
//! findings out of the verdict, with their reason, until they expire; a required check that
//! could not run fails instead of being skipped; and a report in which no access check reached
//! a verdict says so. Pure: the run's date and settings come from the caller
//! (docs/contract.md, "Required checks and suppressions").

use std::collections::BTreeSet;

use crate::catalog::{Catalog, fill};
use crate::model::gate::{
    ACCESS_CHECKS, GateWarning, GateWarningKind, SuppressedFinding, Suppression,
};
use crate::model::report::{CheckResult, Report};
use crate::model::verdict::{Finding, Status};

use super::CheckDef;
use super::results::check_result;

/// What is wrong with a check ID given by the user, or `None` if a check has it: unknown,
/// with the nearest ID when one is close.
pub fn unknown_check(id: &str) -> Option<String> {
    if super::find(id).is_some() {
        return None;
    }
    let known: Vec<&str> = super::ALL.iter().map(|c| c.id).collect();
    Some(format!(
        "unknown check ID `{id}`{} (known: {})",
        did_you_mean(id, &known),
        known.join(", ")
    ))
}

/// What is wrong with a finding key of a check (`finding = "..."`), or `None` if the check
/// can return it.
pub fn unknown_finding(check: &str, key: &str) -> Option<String> {
    let def = super::find(check)?;
    let known: Vec<&str> = def
        .reasons
        .iter()
        .chain(super::COMMON_REASONS)
        .copied()
        .collect();
    if known.contains(&key) {
        return None;
    }
    Some(format!(
        "`{check}` has no finding `{key}`{} (its findings: {})",
        did_you_mean(key, &known),
        def.reasons.join(", ")
    ))
}

/// ` (did you mean `x`?)` for the known word nearest to a typo, or nothing when none is near.
fn did_you_mean(word: &str, known: &[&str]) -> String {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(word, k), *k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default()
}

/// A check this attachment's run requires, and what made it required (shown when it fails).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Required {
    pub id: String,
    /// `--require`, `require in the config file`, ...
    pub by: String,
}

/// What the gate applies to one attachment.
pub struct Gate<'a> {
    pub suppressions: &'a [Suppression],
    pub today: jiff::civil::Date,
    /// The attachment's name in the config file, which `attachment = "..."` matches.
    pub attachment: Option<&'a str>,
    pub required: &'a [Required],
}

/// One attachment's checks after the gate.
pub struct Gated {
    pub results: Vec<CheckResult>,
    pub suppressed: Vec<SuppressedFinding>,
    pub warnings: Vec<GateWarning>,
    /// Indices (into the suppressions) of those that covered a finding here, expired or not.
    pub matched: BTreeSet<usize>,
}

impl Gate<'_> {
    /// Judges each check's findings into its report entry, through the suppressions and the
    /// required checks.
    pub fn apply(&self, catalog: &Catalog, judged: &[(&CheckDef, Vec<Finding>)]) -> Gated {
        let mut out = Gated {
            results: Vec::with_capacity(judged.len()),
            suppressed: Vec::new(),
            warnings: Vec::new(),
            matched: BTreeSet::new(),
        };
        let mut expired_seen = BTreeSet::new();
        for (def, findings) in judged {
            let summary_of = |f: &Finding| {
                catalog
                    .reason(def.id, f.reason)
                    .map(|t| crate::text::cap_lines(&fill(&t.summary, &f.vars)))
                    .unwrap_or_else(|| f.reason.to_string())
            };
            let mut kept: Vec<Finding> = Vec::new();
            let mut suppressed_here: Vec<SuppressedFinding> = Vec::new();
            for f in findings {
                if !matches!(f.status, Status::Fail | Status::Warn) {
                    kept.push(f.clone());
                    continue;
                }
                let covering: Vec<usize> = self
                    .suppressions
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.covers(self.attachment, def.id, f.reason))
                    .map(|(i, _)| i)
                    .collect();
                out.matched.extend(covering.iter().copied());
                let live = covering
                    .iter()
                    .map(|&i| &self.suppressions[i])
                    .find(|s| !s.expired(self.today));
                if let Some(s) = live {
                    suppressed_here.push(SuppressedFinding {
                        check: def.id.to_string(),
                        finding: f.reason.to_string(),
                        status: f.status,
                        summary: summary_of(f),
                        reason: s.reason.clone(),
                        expires: s.expires,
                        locations: f.locations.clone(),
                    });
                    continue;
                }
                for &i in &covering {
                    if expired_seen.insert(i) {
                        let s = &self.suppressions[i];
                        out.warnings.push(GateWarning {
                            kind: GateWarningKind::SuppressionExpired,
                            message: format!(
                                "The suppression of {} expired on {}: its finding counts again ({}: {}).",
                                s.describe(),
                                s.expires.map(|d| d.to_string()).unwrap_or_default(),
                                def.id,
                                summary_of(f)
                            ),
                        });
                    }
                }
                kept.push(f.clone());
            }
            // A check whose every finding was suppressed says so, not "nothing to say".
            if let Some(first) = suppressed_here.first()
                && !kept.iter().any(|f| f.status != Status::Skip)
            {
                kept.push(
                    Finding::new(Status::Skip, "suppressed")
                        .var("what", first.summary.trim_end_matches('.'))
                        .var("why", first.reason.trim_end_matches('.')),
                );
            }
            let mut result = check_result(catalog, def, &kept);
            if result.status == Status::Skip
                && suppressed_here.is_empty()
                && !nothing_to_check(def.id, &kept)
                && let Some(required) = self.required.iter().find(|r| r.id == def.id)
            {
                kept.push(
                    Finding::fail("required-not-run")
                        .var("required_by", &required.by)
                        .var("why", &result.summary),
                );
                result = check_result(catalog, def, &kept);
            }
            out.suppressed.extend(suppressed_here);
            out.results.push(result);
        }
        // Nothing verified says it all; else each part of the access path left unjudged.
        let unverified: Vec<GateWarning> = match nothing_verified(&out.results, &out.suppressed) {
            Some(warning) => vec![warning],
            None => [
                trust_not_verified(&out.results, &out.suppressed),
                role_access_not_verified(&out.results, &out.suppressed),
            ]
            .into_iter()
            .flatten()
            .collect(),
        };
        out.warnings.splice(0..0, unverified);
        out
    }
}

/// The skip reasons that are a verdict rather than missing input: the check found that there
/// is nothing for it to judge (an account outside any AWS Organization has no SCP or RCP), so
/// it satisfies a requirement. A skip for a document not given or not readable still fails a
/// required check.
const NOTHING_TO_CHECK: &[(&str, &str)] = &[("org.policies", "not-in-organization")];

/// Whether a skipped check skipped only because there is nothing for it to judge.
fn nothing_to_check(check: &str, findings: &[Finding]) -> bool {
    let skips: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.status == Status::Skip)
        .collect();
    !skips.is_empty()
        && skips
            .iter()
            .all(|f| NOTHING_TO_CHECK.contains(&(check, f.reason)))
}

/// Whether an access check reached a verdict: pass, warn or fail, or a finding suppressed
/// (it was judged, and accepted).
pub fn access_verified(results: &[CheckResult], suppressed: &[SuppressedFinding]) -> bool {
    results.iter().any(|c| {
        ACCESS_CHECKS.contains(&c.id.as_str())
            && matches!(c.status, Status::Pass | Status::Warn | Status::Fail)
    }) || suppressed
        .iter()
        .any(|s| ACCESS_CHECKS.contains(&s.check.as_str()))
}

/// The warning of a report whose access checks were selected and none reached a verdict.
/// None when they were all left out (`--only`, `--skip`): that run asked for no access check.
fn nothing_verified(
    results: &[CheckResult],
    suppressed: &[SuppressedFinding],
) -> Option<GateWarning> {
    let selected: Vec<&str> = results
        .iter()
        .map(|c| c.id.as_str())
        .filter(|id| ACCESS_CHECKS.contains(id))
        .collect();
    if selected.is_empty() || access_verified(results, suppressed) {
        return None;
    }
    Some(GateWarning {
        kind: GateWarningKind::NothingVerified,
        message: format!(
            "No access was verified: none of the access checks ({}) reached a verdict, so the run cannot exit 0 (it exits 3 unless a check failed). Offline, give the role's, key's and bucket's policies as files; live, fix what kept them from running (above).",
            selected.join(", ")
        ),
    })
}

/// The warning of a report whose `role.trust` was selected and skipped (neither required,
/// which makes it fail, nor suppressed): the trust policy is the step IBM's procedure warns
/// about most, so a gate must not go green with it unchecked.
fn trust_not_verified(
    results: &[CheckResult],
    suppressed: &[SuppressedFinding],
) -> Option<GateWarning> {
    let trust = results.iter().find(|c| c.id == "role.trust")?;
    if trust.status != Status::Skip || suppressed.iter().any(|s| s.check == "role.trust") {
        return None;
    }
    Some(GateWarning {
        kind: GateWarningKind::TrustNotVerified,
        message: format!(
            "AoC's trust in the role was not verified ({}), so the run cannot exit 0 (it exits 3 unless a check failed). Give AoC's trust policy (--trust-policy) or its external ID and principal (--external-id, --aoc-principal), or leave the check out on purpose with --skip role.trust.",
            trust.summary.trim_end_matches('.')
        ),
    })
}

/// The role's own access checks: one of them judged alone (the key policy, say) does not
/// show that the role may reach the bucket and the key.
const ROLE_ACCESS_CHECKS: &[&str] = &["role.s3-access", "role.kms-access"];

/// The warning of a report in which `role.s3-access` or `role.kms-access` was selected and
/// skipped (neither required, which makes it fail, nor suppressed): another access check's
/// verdict does not show that the role itself may do what AoC asks of it, so the gate must not
/// go green with it unjudged (a plan whose new key's ARN is known only after apply, offline
/// files without the role's policies).
fn role_access_not_verified(
    results: &[CheckResult],
    suppressed: &[SuppressedFinding],
) -> Option<GateWarning> {
    let skipped: Vec<&CheckResult> = results
        .iter()
        .filter(|c| {
            ROLE_ACCESS_CHECKS.contains(&c.id.as_str())
                && c.status == Status::Skip
                && !suppressed.iter().any(|s| s.check == c.id)
        })
        .collect();
    if skipped.is_empty() {
        return None;
    }
    let ids: Vec<&str> = skipped.iter().map(|c| c.id.as_str()).collect();
    // The two checks usually skip for one reason (the role's policies): said once.
    let mut why: Vec<(Vec<&str>, &str)> = Vec::new();
    for c in &skipped {
        let reason = c
            .summary
            .trim_start_matches("Not checked: ")
            .trim_end_matches('.');
        match why.iter_mut().find(|(_, r)| *r == reason) {
            Some((checks, _)) => checks.push(&c.id),
            None => why.push((vec![&c.id], reason)),
        }
    }
    let why: Vec<String> = why
        .iter()
        .map(|(checks, reason)| format!("{}: {reason}", checks.join(", ")))
        .collect();
    Some(GateWarning {
        kind: GateWarningKind::RoleAccessNotVerified,
        message: format!(
            "The role's own access was not verified ({}), so the run cannot exit 0 (it exits 3 unless a check failed). Give what the check needs (offline: the role's policies with --identity-policy, or a plan that holds them; the key's ARN once it is known), or leave it out on purpose with --skip {}.",
            why.join("; "),
            ids.join(",")
        ),
    })
}

/// After every attachment was judged: each suppression that covered no finding in the run is
/// reported on the reports it was meant for (its attachment's, or every one).
pub fn report_unmatched(
    suppressions: &[Suppression],
    matched: &BTreeSet<usize>,
    today: jiff::civil::Date,
    reports: &mut [Report],
) {
    for (i, s) in suppressions.iter().enumerate() {
        if matched.contains(&i) {
            continue;
        }
        let expired = match s.expires {
            Some(date) if s.expired(today) => format!(" (it also expired on {date})"),
            _ => String::new(),
        };
        let warning = GateWarning {
            kind: GateWarningKind::SuppressionUnmatched,
            message: format!(
                "The suppression of {} matched no failing or warning finding in this run{expired}: remove it, or correct its `check`, `attachment` or `finding`.",
                s.describe()
            ),
        };
        for report in reports.iter_mut().filter(|r| {
            s.attachment
                .as_deref()
                .is_none_or(|a| r.attachment.name.as_deref() == Some(a))
        }) {
            report.gate_warnings.push(warning.clone());
        }
        // An attachment name that no report has: the first report carries the warning, so
        // the typo is seen.
        if s.attachment.is_some()
            && !reports
                .iter()
                .any(|r| r.attachment.name.as_deref() == s.attachment.as_deref())
            && let Some(first) = reports.first_mut()
        {
            first.gate_warnings.push(warning);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::checks::{Input, Values, find};
    use crate::model::facts::Facts;

    fn date(s: &str) -> jiff::civil::Date {
        s.parse().expect("date")
    }

    fn suppression(check: &str, finding: Option<&str>, expires: Option<&str>) -> Suppression {
        Suppression {
            check: check.into(),
            attachment: None,
            finding: finding.map(Into::into),
            reason: "accepted".into(),
            expires: expires.map(date),
        }
    }

    /// input.values with an alias ARN: one warning (`alias-arn`).
    fn alias_findings() -> (&'static CheckDef, Vec<Finding>) {
        let mut a = attachment();
        a.kms_key = "arn:aws:kms:us-east-1:111122223333:alias/aoc".into();
        let values = Values::from_attachment(&a);
        let def = find("input.values").expect("exists");
        let findings = (def.run)(&Input {
            attachment: &a,
            values: &values,
            facts: &Facts::default(),
        });
        assert!(
            findings.iter().any(|f| f.status == Status::Warn),
            "{findings:?}"
        );
        (def, findings)
    }

    fn gate<'a>(suppressions: &'a [Suppression], required: &'a [Required]) -> Gate<'a> {
        Gate {
            suppressions,
            today: date("2026-06-01"),
            attachment: None,
            required,
        }
    }

    #[test]
    fn a_live_suppression_takes_the_finding_out_with_its_reason() {
        let catalog = crate::catalog::get().expect("catalog");
        let (def, findings) = alias_findings();
        let reason = findings
            .iter()
            .find(|f| f.status == Status::Warn)
            .map(|f| f.reason)
            .expect("warn");
        let s = [suppression(
            "input.values",
            Some(reason),
            Some("2027-01-31"),
        )];
        let gated = gate(&s, &[]).apply(catalog, &[(def, findings)]);
        assert_ne!(gated.results[0].status, Status::Warn);
        assert_eq!(gated.suppressed.len(), 1);
        assert_eq!(gated.suppressed[0].reason, "accepted");
        assert_eq!(gated.suppressed[0].status, Status::Warn);
        assert!(gated.matched.contains(&0));
        assert!(gated.warnings.is_empty(), "{:?}", gated.warnings);
    }

    #[test]
    fn an_expired_suppression_stops_applying_and_says_so() {
        let catalog = crate::catalog::get().expect("catalog");
        let (def, findings) = alias_findings();
        let s = [suppression("input.values", None, Some("2026-06-01"))];
        let gated = gate(&s, &[]).apply(catalog, &[(def, findings)]);
        assert_eq!(gated.results[0].status, Status::Warn);
        assert!(gated.suppressed.is_empty());
        assert_eq!(gated.warnings.len(), 1);
        assert_eq!(gated.warnings[0].kind, GateWarningKind::SuppressionExpired);
        assert!(gated.warnings[0].message.contains("2026-06-01"));
        assert!(
            gated.matched.contains(&0),
            "an expired match is not unmatched"
        );
    }

    #[test]
    fn another_finding_or_attachment_is_not_covered() {
        let catalog = crate::catalog::get().expect("catalog");
        let (def, findings) = alias_findings();
        let mut other_attachment = suppression("input.values", None, None);
        other_attachment.attachment = Some("prod".into());
        let s = [
            suppression("input.values", Some("no-such-reason"), None),
            other_attachment,
        ];
        let gated = gate(&s, &[]).apply(catalog, &[(def, findings)]);
        assert_eq!(gated.results[0].status, Status::Warn);
        assert!(gated.matched.is_empty());
    }

    #[test]
    fn a_required_check_that_skips_fails_with_its_skip_reason() {
        let catalog = crate::catalog::get().expect("catalog");
        let def = find("role.trust").expect("exists");
        let findings = run_check(def, &attachment(), &Facts::default());
        let skipped = gate(&[], &[]).apply(catalog, &[(def, findings.clone())]);
        assert_eq!(skipped.results[0].status, Status::Skip);
        let required = [Required {
            id: "role.trust".into(),
            by: "--require".into(),
        }];
        let gated = gate(&[], &required).apply(catalog, &[(def, findings)]);
        let r = &gated.results[0];
        assert_eq!(r.status, Status::Fail);
        assert!(r.summary.contains("--require"), "{}", r.summary);
        assert!(
            r.summary.contains(&skipped.results[0].summary),
            "{}",
            r.summary
        );
    }

    #[test]
    fn a_required_check_with_nothing_to_judge_is_satisfied_but_one_missing_input_fails() {
        let catalog = crate::catalog::get().expect("catalog");
        let def = find("org.policies").expect("exists");
        let required = [Required {
            id: "org.policies".into(),
            by: "--require".into(),
        }];
        let outside = [Finding::new(Status::Skip, "not-in-organization")];
        let gated = gate(&[], &required).apply(catalog, &[(def, outside.to_vec())]);
        assert_eq!(gated.results[0].status, Status::Skip, "{:?}", gated.results);
        let not_read = [Finding::new(Status::Skip, "not-read").var("why", "AccessDenied")];
        let gated = gate(&[], &required).apply(catalog, &[(def, not_read.to_vec())]);
        assert_eq!(gated.results[0].status, Status::Fail, "{:?}", gated.results);
    }

    #[test]
    fn no_access_verdict_is_a_warning_unless_no_access_check_was_selected() {
        let catalog = crate::catalog::get().expect("catalog");
        let def = find("role.trust").expect("exists");
        let findings = run_check(def, &attachment(), &Facts::default());
        let gated = gate(&[], &[]).apply(catalog, &[(def, findings)]);
        assert_eq!(gated.warnings[0].kind, GateWarningKind::NothingVerified);
        let (def, findings) = alias_findings();
        let gated = gate(&[], &[]).apply(catalog, &[(def, findings)]);
        assert!(gated.warnings.is_empty());
    }
}
