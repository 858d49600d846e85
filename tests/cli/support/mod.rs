//! Test harness for live mode: a moto server, SDK clients that seed it, worlds (a bucket, a
//! key, a role, as the IBM procedure sets them up, or broken in one way) and the binary run
//! against them.

use assert_cmd::Command;

pub mod moto;
pub mod proxy;
pub mod stub_aws;
pub mod world;

/// The binary, independent of the developer's shell: these variables would fill in the
/// attachment, pick credentials or an endpoint, or turn colour off.
pub fn bin() -> Command {
    let mut cmd = Command::cargo_bin("aoc-preflight").expect("binary builds");
    for var in [
        "NO_COLOR",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AOC_PREFLIGHT_REGION",
        "AOC_PREFLIGHT_BUCKET",
        "AOC_PREFLIGHT_PATH",
        "AOC_PREFLIGHT_KMS_KEY",
        "AOC_PREFLIGHT_ROLE_ARN",
        "AOC_PREFLIGHT_EXTERNAL_ID",
        "AOC_PREFLIGHT_AOC_PRINCIPAL",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Every check ID, in report order: the library's own list (a unit test in `catalog.rs`
/// pins it to docs/contract.md, "Check catalog").
pub fn all_checks() -> Vec<&'static str> {
    aoc_preflight::checks::ALL.iter().map(|c| c.id).collect()
}
