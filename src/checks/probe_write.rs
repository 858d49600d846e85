//! `probe.write`: the opt-in end-to-end probe (`--probe`): an SSE-KMS write, read, multipart
//! start/part/list/abort and delete under the attachment's path, as the tool's credentials,
//! cleaned up afterwards. It shows that the bucket, the key and the path work together; it
//! does not use AoC's role (the tool cannot assume it: only AoC's principal may).

use super::{CheckDef, Finding, Input, Status};
use crate::model::facts::Fact;

pub const DEF: CheckDef = CheckDef {
    id: "probe.write",
    reasons: &["ok", "step-failed", "left-behind", "not-requested"],
    run,
};

fn run(input: &Input<'_>) -> Vec<Finding> {
    let outcome = match &input.facts.probe {
        Fact::Known(o) => o,
        Fact::Unavailable(why)
            if why.starts_with("not requested") || why.contains("--probe only") =>
        {
            return vec![Finding::new(Status::Skip, "not-requested")];
        }
        other => return Finding::from_missing_fact(other).into_iter().collect(),
    };
    let evidence: Vec<String> = outcome
        .steps
        .iter()
        .map(|s| {
            format!(
                "{} {}: {}",
                if s.ok { "ok" } else { "FAILED" },
                s.step,
                s.detail
            )
        })
        .collect();
    let mut findings = Vec::new();
    if let Some(failed) = outcome.steps.iter().find(|s| !s.ok) {
        findings.push(
            Finding::fail("step-failed")
                .var("step", &failed.step)
                .var("detail", &failed.detail)
                .var("object_key", &outcome.object_key)
                .evidence_lines(evidence.clone()),
        );
    }
    if !outcome.left_behind.is_empty() {
        findings.push(
            Finding::fail("left-behind")
                .var("what", outcome.left_behind.join(", "))
                .evidence_lines(
                    outcome
                        .left_behind
                        .iter()
                        .map(|l| format!("not cleaned up: {l}")),
                ),
        );
    }
    if findings.is_empty() {
        findings.push(
            Finding::pass("ok")
                .var("object_key", &outcome.object_key)
                .evidence_lines(evidence),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::facts::{Facts, ProbeOutcome, ProbeStep};

    fn with(outcome: ProbeOutcome) -> Vec<Finding> {
        let facts = Facts {
            probe: Fact::Known(outcome),
            ..Facts::default()
        };
        run_check(&DEF, &attachment(), &facts)
    }

    fn step(name: &str, ok: bool) -> ProbeStep {
        ProbeStep {
            step: name.into(),
            ok,
            detail: if ok {
                "fine".into()
            } else {
                "AccessDenied: denied".into()
            },
        }
    }

    #[test]
    fn outcomes() {
        let good = ProbeOutcome {
            object_key: ".aoc-preflight-probe-1".into(),
            steps: vec![
                step("PutObject (SSE-KMS)", true),
                step("DeleteObject", true),
            ],
            left_behind: vec![],
        };
        assert_eq!(status(&with(good.clone())), Status::Pass);
        let failed = ProbeOutcome {
            steps: vec![step("PutObject (SSE-KMS)", true), step("GetObject", false)],
            ..good.clone()
        };
        let f = with(failed);
        assert_eq!(f[0].reason, "step-failed");
        assert!(text(&f).contains("step=GetObject"));
        let left = ProbeOutcome {
            left_behind: vec!["s3://b/.aoc-preflight-probe-1".into()],
            ..good
        };
        assert_eq!(with(left)[0].reason, "left-behind");
        let skipped = Facts {
            probe: Fact::Unavailable("not requested (--probe ...)".into()),
            ..Facts::default()
        };
        assert_eq!(
            status(&run_check(&DEF, &attachment(), &skipped)),
            Status::Skip
        );
    }
}
