//! `aws.credentials`: the tool's own credentials resolve (`sts:GetCallerIdentity`), and say
//! which identity the checks ran as. Live mode only.

use super::{CheckDef, Finding, Input, Status};
use crate::model::facts::Fact;

pub const DEF: CheckDef = CheckDef {
    id: "aws.credentials",
    reasons: &["ok", "no-credentials", "other-account"],
    run,
};

fn run(input: &Input<'_>) -> Vec<Finding> {
    let me = match &input.facts.caller {
        Fact::Known(c) => c,
        // Credentials that do not work are a failure of the set-up, not an undetermined
        // check; a timeout or a refused call is `error` like anywhere else.
        Fact::Failed(failure) if failure.kind.is_credentials() => {
            return vec![
                Finding::fail("no-credentials")
                    .var("why", &failure.message)
                    .evidence(failure.message.clone())
                    .failure(failure.kind),
            ];
        }
        other => return Finding::from_missing_fact(other).into_iter().collect(),
    };
    let evidence = format!(
        "running as {} (account {}), credentials from {}",
        me.arn, me.account, me.credential_source
    );
    match &input.values.role {
        Some(role) if role.account != me.account => vec![
            Finding::warn("other-account")
                .var("caller_account", &me.account)
                .var("role_account", &role.account)
                .evidence(evidence),
        ],
        _ => vec![
            Finding::new(Status::Pass, "ok")
                .var("arn", &me.arn)
                .var("source", &me.credential_source)
                .evidence(evidence),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::facts::{CREDENTIALS_PROBLEM, CallerIdentity, Facts, FailureKind};

    fn facts(caller: Fact<CallerIdentity>) -> Facts {
        Facts {
            caller,
            ..Facts::default()
        }
    }

    #[test]
    fn same_account_passes_other_warns_failure_fails() {
        let me = CallerIdentity {
            account: "111122223333".into(),
            arn: "arn:aws:iam::111122223333:user/admin".into(),
            credential_source: "environment variables".into(),
        };
        let f = run_check(&DEF, &attachment(), &facts(Fact::Known(me.clone())));
        assert_eq!(status(&f), Status::Pass);
        assert!(text(&f).contains("environment variables"));
        let other = CallerIdentity {
            account: "999988887777".into(),
            ..me
        };
        let f = run_check(&DEF, &attachment(), &facts(Fact::Known(other)));
        assert_eq!(status(&f), Status::Warn);
        let no_credentials = format!("{CREDENTIALS_PROBLEM}: no credentials in chain");
        let f = run_check(
            &DEF,
            &attachment(),
            &facts(Fact::failed(FailureKind::Credentials, &no_credentials)),
        );
        assert_eq!(status(&f), Status::Fail);
        assert!(text(&f).contains("no credentials in chain"), "{}", text(&f));
        let f = run_check(
            &DEF,
            &attachment(),
            &facts(Fact::failed(
                FailureKind::ExpiredCredentials,
                format!("{CREDENTIALS_PROBLEM}: ExpiredToken"),
            )),
        );
        assert_eq!(status(&f), Status::Fail);
        // The kind decides, not how the message reads.
        for kind in [
            FailureKind::Timeout,
            FailureKind::AccessDenied,
            FailureKind::Network,
            FailureKind::Other,
        ] {
            let f = run_check(
                &DEF,
                &attachment(),
                &facts(Fact::failed(kind, &no_credentials)),
            );
            assert_eq!(status(&f), Status::Error, "{kind:?}");
        }
        let f = run_check(
            &DEF,
            &attachment(),
            &facts(Fact::Unavailable("offline".into())),
        );
        assert_eq!(status(&f), Status::Skip);
    }
}
