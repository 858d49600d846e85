//! Checks whose facts only AWS can give (the bucket's existence and settings, the key's
//! metadata, the role's existence, the caller's identity, the write probe). Until the live
//! gather layer provides those facts they are `skip`, with the reason.

use super::{CheckDef, Finding, Input, Status};

fn not_gathered(input: &Input<'_>) -> Vec<Finding> {
    let why = match input.facts.mode {
        crate::facts::Mode::Offline => {
            "offline mode: this check reads AWS state, which offline mode does not"
        }
        crate::facts::Mode::Live => "this check's facts are not gathered by this version",
    };
    vec![Finding::new(Status::Skip, "fact-unavailable").var("why", why)]
}

fn probe_not_requested(_: &Input<'_>) -> Vec<Finding> {
    vec![Finding::new(Status::Skip, "not-requested")]
}

pub const AWS_CREDENTIALS: CheckDef = CheckDef {
    id: "aws.credentials",
    reasons: &[],
    run: not_gathered,
};
pub const BUCKET_REACHABLE: CheckDef = CheckDef {
    id: "bucket.reachable",
    reasons: &[],
    run: not_gathered,
};
pub const BUCKET_ENCRYPTION: CheckDef = CheckDef {
    id: "bucket.encryption",
    reasons: &[],
    run: not_gathered,
};
pub const BUCKET_PUBLIC_ACCESS: CheckDef = CheckDef {
    id: "bucket.public-access",
    reasons: &[],
    run: not_gathered,
};
pub const KMS_KEY: CheckDef = CheckDef {
    id: "kms.key",
    reasons: &[],
    run: not_gathered,
};
pub const KMS_ALIAS: CheckDef = CheckDef {
    id: "kms.alias",
    reasons: &[],
    run: not_gathered,
};
pub const ROLE_EXISTS: CheckDef = CheckDef {
    id: "role.exists",
    reasons: &[],
    run: not_gathered,
};
pub const PROBE_WRITE: CheckDef = CheckDef {
    id: "probe.write",
    reasons: &["not-requested"],
    run: probe_not_requested,
};
