//! `role.exists`: the role entered in AoC exists (`iam:GetRole`). Live mode only.

use super::{CheckDef, Finding, Input};
use crate::model::facts::Fact;

pub const DEF: CheckDef = CheckDef {
    id: "role.exists",
    reasons: &["ok", "no-such-role"],
    run,
};

fn run(input: &Input<'_>) -> Vec<Finding> {
    let Some(role) = input.values.role.as_ref() else {
        return vec![Finding::skip_needs("a well-formed role ARN")];
    };
    match &input.facts.role {
        Fact::Known(Some(info)) => {
            let mut f = Finding::pass("ok")
                .var("role_arn", &info.arn)
                .evidence(format!(
                    "GetRole {}: {} ({})",
                    role.resource_name(),
                    info.arn,
                    info.role_id
                ));
            if info.arn != role.to_string() {
                // Same name, other path or account: AoC would assume the ARN it was given.
                f = Finding::fail("no-such-role")
                    .var("role_arn", role.to_string())
                    .var("role_name", role.resource_name())
                    .evidence(format!(
                        "a role named {} exists, but its ARN is {}, not {}",
                        role.resource_name(),
                        info.arn,
                        role
                    ));
            }
            vec![f]
        }
        Fact::Known(None) => vec![
            Finding::fail("no-such-role")
                .var("role_arn", role.to_string())
                .var("role_name", role.resource_name())
                .evidence(format!("GetRole {}: NoSuchEntity", role.resource_name())),
        ],
        other => Finding::from_missing_fact(other).into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::facts::{Facts, RoleInfo};
    use crate::model::verdict::Status;

    #[test]
    fn exists_missing_and_wrong_path() {
        let facts = |role| Facts {
            role: Fact::Known(role),
            ..Facts::default()
        };
        let ok = RoleInfo {
            arn: ROLE_ARN.into(),
            role_id: "AROAEXAMPLE123456789".into(),
            permissions_boundary_arn: None,
        };
        assert_eq!(
            status(&run_check(&DEF, &attachment(), &facts(Some(ok)))),
            Status::Pass
        );
        assert_eq!(
            status(&run_check(&DEF, &attachment(), &facts(None))),
            Status::Fail
        );
        let other_path = RoleInfo {
            arn: "arn:aws:iam::111122223333:role/team/aoc-access".into(),
            role_id: "AROAEXAMPLE123456789".into(),
            permissions_boundary_arn: None,
        };
        let f = run_check(&DEF, &attachment(), &facts(Some(other_path)));
        assert_eq!(status(&f), Status::Fail);
        assert!(text(&f).contains("role/team/aoc-access"));
    }
}
