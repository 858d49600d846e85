//! `probe.write`: the opt-in end-to-end write probe. Not implemented in this version: it is
//! `skip` unless asked for, and the command refuses `--probe` until it exists.

use super::{CheckDef, Finding, Input, Status};

pub const DEF: CheckDef = CheckDef {
    id: "probe.write",
    reasons: &["not-requested"],
    run,
};

fn run(_: &Input<'_>) -> Vec<Finding> {
    vec![Finding::new(Status::Skip, "not-requested")]
}
