//! Test harness for live mode: a moto server, SDK clients that seed it, worlds (a bucket, a
//! key, a role, as the IBM procedure sets them up, or broken in one way) and the binary run
//! against them.

use assert_cmd::Command;

pub mod guarded;
pub mod moto;
pub mod proxy;
pub mod stub_aws;
pub mod world;

/// The binary, independent of the shell it runs in: nothing of the developer's or the CI
/// runner's AWS settings (credentials, profile, endpoint, region), the tool's own variables
/// (which would fill in the attachment), `GITHUB_*` (on GitHub Actions a `check` would append to
/// the real step summary), proxies, `CI`, `NO_COLOR` or the locale (which decides between the
/// Unicode and the ASCII diagram: without one, ASCII). Every test runs the binary through this.
pub fn bin() -> Command {
    let mut cmd = Command::cargo_bin("aoc-preflight").expect("binary builds");
    for key in inherited_settings() {
        cmd.env_remove(key);
    }
    cmd
}

/// The variables of the test process that [`bin`] (and the live harness's own command) leave
/// out.
pub fn inherited_settings() -> Vec<std::ffi::OsString> {
    std::env::vars_os()
        .map(|(key, _)| key)
        .filter(|key| {
            let k = key.to_string_lossy();
            k.starts_with("AWS_")
                || k.starts_with("AOC_PREFLIGHT_")
                || k.starts_with("GITHUB_")
                || k.to_ascii_lowercase().ends_with("_proxy")
                || k == "CI"
                || k == "NO_COLOR"
                || k == "LC_ALL"
                || k == "LC_CTYPE"
                || k == "LANG"
        })
        .collect()
}

/// Every check ID, in report order: the library's own list (a unit test in `catalog.rs`
/// pins it to docs/contract.md, "Check catalog").
pub fn all_checks() -> Vec<&'static str> {
    aoc_preflight::checks::ALL.iter().map(|c| c.id).collect()
}

/// What insta's snapshot comparison leaves out, checked here so that a snapshot test still
/// compares every byte: insta ignores trailing whitespace, leading blank lines and `\r\n`
/// against `\n`, and every snapshotted report starts with text, ends with one newline and
/// uses `\n` alone.
pub fn assert_line_endings_as_snapshotted(text: &str) {
    assert!(
        !text.starts_with('\n'),
        "the report starts with a blank line"
    );
    assert!(!text.contains('\r'), "the report has a carriage return");
    let body = text
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("the report does not end with a newline: {text:?}"));
    assert!(
        !body.ends_with(char::is_whitespace),
        "the report ends with more than one newline or with trailing spaces"
    );
}
