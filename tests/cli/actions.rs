//! The GitHub Action (`action.yml`, `action/*.sh`) and the workflows (`.github/workflows/`,
//! `examples/ci/github-actions.yml`): they pass actionlint and ShellCheck, the install script
//! installs a release asset only when its checksum matches, and the run script writes every
//! asked-for report and records the exit code instead of failing before the SARIF upload.
//!
//! actionlint lints workflows only; it reads `action.yml` through the workflow that uses it
//! (`uses: ./` in `.github/workflows/action-test.yml`), checking its metadata and the inputs
//! given to it, but not the shell of its steps: those live in `action/*.sh`, which ShellCheck
//! reads.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A linter from `$var` or `.venv/bin/NAME`; panics with how to install it when it is neither.
fn linter(name: &str, var: &str) -> PathBuf {
    let path = std::env::var_os(var)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin").join(name));
    if !path.is_file() {
        panic!(
            "{name} not found at {}: the GitHub Actions tests need actionlint and ShellCheck. \
             Install them with `./scripts/setup-lint.sh` (into .venv at the repository root; \
             `./scripts/test.sh` runs it), or point {var} at the {name} executable.",
            path.display()
        );
    }
    path
}

fn actionlint() -> PathBuf {
    linter("actionlint", "AOC_PREFLIGHT_ACTIONLINT")
}

fn shellcheck() -> PathBuf {
    linter("shellcheck", "AOC_PREFLIGHT_SHELLCHECK")
}

fn text_of(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every workflow of the repository and the example users copy.
fn workflow_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root().join(".github/workflows"))
        .expect(".github/workflows exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .map(|p| {
            p.strip_prefix(root())
                .expect("under the root")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    files.push("examples/ci/github-actions.yml".into());
    files
}

#[test]
fn workflows_and_the_action_metadata_pass_actionlint() {
    let files = workflow_files();
    for expected in [
        ".github/workflows/action-test.yml",
        ".github/workflows/release.yml",
    ] {
        assert!(files.iter().any(|f| f == expected), "{expected} is missing");
    }
    let out = Command::new(actionlint())
        .arg("-no-color")
        .arg("-shellcheck")
        .arg(shellcheck())
        .args(&files)
        .current_dir(root())
        .output()
        .expect("actionlint runs");
    assert!(out.status.success(), "actionlint: {}", text_of(&out));
}

#[test]
fn actionlint_reads_the_action_through_the_workflow_that_uses_it() {
    // Without this, a passing run above could mean actionlint never opened action.yml.
    let dir = tempfile::tempdir().expect("temp dir");
    // actionlint resolves `./` against the repository the workflow is in.
    let init = Command::new("git")
        .args(["init", "-q", "."])
        .current_dir(dir.path())
        .status()
        .expect("git runs");
    assert!(init.success());
    let workflows = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).expect("mkdir");
    std::fs::copy(root().join("action.yml"), dir.path().join("action.yml")).expect("copy");
    std::fs::write(
        workflows.join("uses-it.yml"),
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./\n        \
         with:\n          config: aoc.toml\n          no-such-input: x\n",
    )
    .expect("write");
    let out = Command::new(actionlint())
        .arg("-no-color")
        .arg(".github/workflows/uses-it.yml")
        .current_dir(dir.path())
        .output()
        .expect("actionlint runs");
    assert!(!out.status.success(), "{}", text_of(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\"no-such-input\" is not defined"),
        "{}",
        text_of(&out)
    );
}

#[test]
fn the_action_scripts_pass_shellcheck() {
    let out = Command::new(shellcheck())
        .args([
            "action/install.sh",
            "action/run.sh",
            "scripts/setup-lint.sh",
            "scripts/test.sh",
        ])
        .current_dir(root())
        .output()
        .expect("shellcheck runs");
    assert!(out.status.success(), "shellcheck: {}", text_of(&out));
}

#[cfg(unix)]
#[test]
fn the_action_runs_the_scripts_it_ships() {
    use std::os::unix::fs::PermissionsExt;
    let action = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    for script in ["action/install.sh", "action/run.sh"] {
        assert!(
            action.contains(&format!("\"$GITHUB_ACTION_PATH/{script}\"")),
            "action.yml does not run {script}"
        );
        let mode = std::fs::metadata(root().join(script))
            .expect("script exists")
            .permissions()
            .mode();
        assert!(mode & 0o111 != 0, "{script} is not executable");
    }
}

/// A fake release of aoc-preflight for Linux x86_64 in `dir`: the archive the release workflow
/// makes, holding a stand-in that prints a version, and SHA256SUMS with `checksum` for it
/// (`None`: the real one).
fn fake_release(dir: &Path, checksum: Option<&str>) {
    let staging = dir.join("staging");
    std::fs::create_dir_all(&staging).expect("mkdir");
    let stand_in = staging.join("aoc-preflight");
    std::fs::write(&stand_in, "#!/bin/sh\necho 'aoc-preflight 9.9.9'\n").expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let asset = "aoc-preflight-x86_64-unknown-linux-gnu.tar.gz";
    let status = Command::new("tar")
        .arg("-czf")
        .arg(dir.join(asset))
        .arg("-C")
        .arg(&staging)
        .arg("aoc-preflight")
        .status()
        .expect("tar runs");
    assert!(status.success());
    let real = Command::new("sha256sum")
        .arg(dir.join(asset))
        .output()
        .expect("sha256sum runs");
    let real = String::from_utf8_lossy(&real.stdout)
        .split_whitespace()
        .next()
        .expect("a checksum")
        .to_string();
    let sum = checksum.unwrap_or(&real);
    std::fs::write(
        dir.join("SHA256SUMS"),
        format!(
            "{}  aoc-preflight-aarch64-apple-darwin.tar.gz\n{sum}  {asset}\n",
            "0".repeat(64)
        ),
    )
    .expect("write");
}

/// Runs action/install.sh as the action's first step would on a Linux x86_64 runner, with the
/// release at `release` (a directory, as a file:// URL). Returns its output and the runner's
/// temp directory.
fn run_install(release: &Path, runner: &Path) -> Output {
    run_install_with(release, runner, &[])
}

/// [`run_install`] with some of its settings replaced (an empty value removes the variable).
fn run_install_with(release: &Path, runner: &Path, settings: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("action/install.sh"));
    for key in crate::support::inherited_settings() {
        cmd.env_remove(key);
    }
    cmd.env("GITHUB_ACTION_PATH", root())
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TEMP", runner)
        .env("GITHUB_PATH", runner.join("github_path"))
        .env("GITHUB_OUTPUT", runner.join("github_output"))
        .env("AOC_VERSION", "v9.9.9")
        .env("AOC_ACTION_REPOSITORY", "example/aoc-preflight")
        .env("AOC_ACTION_REF", "v9.9.9")
        .env(
            "AOC_RELEASE_BASE_URL",
            format!("file://{}", release.display()),
        );
    for (key, value) in settings {
        if value.is_empty() {
            cmd.env_remove(key);
        } else {
            cmd.env(key, value);
        }
    }
    cmd.output().expect("bash runs")
}

/// Whether the install step built (or tried to build) from source.
fn built_from_source(out: &Output) -> bool {
    String::from_utf8_lossy(&out.stdout).contains("building from source")
}

/// Inside a composite action the runner may leave `github.action_repository` and
/// `github.action_ref` empty; the script reads them from the action's checkout path, which
/// on Windows has backslashes.
#[cfg(unix)]
#[test]
fn the_action_finds_its_release_from_a_windows_checkout_path() {
    let release = tempfile::tempdir().expect("temp dir");
    fake_release(release.path(), None);
    for path in [
        r"D:\a\_actions\acme\aoc-preflight\v9.9.9",
        "/opt/actions-runner/_work/_actions/acme/aoc-preflight/v9.9.9",
    ] {
        let runner = tempfile::tempdir().expect("temp dir");
        let out = run_install_with(
            release.path(),
            runner.path(),
            &[
                ("GITHUB_ACTION_PATH", path),
                ("AOC_VERSION", ""),
                ("AOC_ACTION_REPOSITORY", ""),
                ("AOC_ACTION_REF", ""),
            ],
        );
        assert!(out.status.success(), "{path}: {}", text_of(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("action acme/aoc-preflight at v9.9.9"),
            "{path}: {}",
            text_of(&out)
        );
        let outputs =
            std::fs::read_to_string(runner.path().join("github_output")).expect("GITHUB_OUTPUT");
        assert!(outputs.contains("installed=v9.9.9"), "{path}: {outputs}");
    }
}

/// A release the user named that has no asset for the runner, or no SHA256SUMS, stops the
/// step: it never builds the action's own source instead.
#[cfg(unix)]
#[test]
fn a_named_release_that_cannot_be_installed_fails_instead_of_building() {
    // No asset at all.
    let empty = tempfile::tempdir().expect("temp dir");
    let runner = tempfile::tempdir().expect("temp dir");
    let out = run_install(empty.path(), runner.path());
    assert!(!out.status.success(), "{}", text_of(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("::error::")
            && String::from_utf8_lossy(&out.stderr).contains("no release asset"),
        "{}",
        text_of(&out)
    );
    assert!(!built_from_source(&out), "{}", text_of(&out));

    // The asset, but no SHA256SUMS.
    let release = tempfile::tempdir().expect("temp dir");
    fake_release(release.path(), None);
    std::fs::remove_file(release.path().join("SHA256SUMS")).expect("rm");
    let runner = tempfile::tempdir().expect("temp dir");
    let out = run_install(release.path(), runner.path());
    assert!(!out.status.success(), "{}", text_of(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("::error::aoc-preflight: no SHA256SUMS"),
        "{}",
        text_of(&out)
    );
    assert!(!built_from_source(&out));
    assert!(!runner.path().join("github_path").exists());

    // `latest` is named too; a platform without a released binary likewise.
    let runner = tempfile::tempdir().expect("temp dir");
    let out = run_install_with(
        empty.path(),
        runner.path(),
        &[("AOC_VERSION", "latest"), ("RUNNER_ARCH", "RISCV64")],
    );
    assert!(!out.status.success(), "{}", text_of(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no released binary for Linux/RISCV64"),
        "{}",
        text_of(&out)
    );
    assert!(!built_from_source(&out));
}

#[cfg(unix)]
#[test]
fn the_action_installs_a_release_asset_whose_checksum_matches() {
    let release = tempfile::tempdir().expect("temp dir");
    let runner = tempfile::tempdir().expect("temp dir");
    fake_release(release.path(), None);

    let out = run_install(release.path(), runner.path());
    assert!(out.status.success(), "{}", text_of(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("aoc-preflight 9.9.9"),
        "the installed binary did not run: {}",
        text_of(&out)
    );
    let bin_dir = runner.path().join("aoc-preflight/bin");
    assert!(bin_dir.join("aoc-preflight").is_file());
    let path = std::fs::read_to_string(runner.path().join("github_path")).expect("GITHUB_PATH");
    assert_eq!(path.trim(), bin_dir.to_string_lossy());
    let outputs =
        std::fs::read_to_string(runner.path().join("github_output")).expect("GITHUB_OUTPUT");
    assert!(outputs.contains("installed=v9.9.9"), "{outputs}");
}

#[cfg(unix)]
#[test]
fn the_action_refuses_a_release_asset_whose_checksum_differs() {
    let release = tempfile::tempdir().expect("temp dir");
    let runner = tempfile::tempdir().expect("temp dir");
    fake_release(release.path(), Some(&"ab".repeat(32)));

    let out = run_install(release.path(), runner.path());
    assert!(!out.status.success(), "{}", text_of(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("checksum mismatch"),
        "{}",
        text_of(&out)
    );
    // Neither installed nor built from source instead.
    assert!(
        !runner
            .path()
            .join("aoc-preflight/bin/aoc-preflight")
            .exists()
    );
    assert!(!runner.path().join("github_path").exists());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("building from source"));
}

/// Runs action/run.sh as the action's second step would, with the built binary on PATH.
fn run_check(runner: &Path, config: &str, formats: &str, args: &str) -> Output {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_aoc-preflight"));
    let bin_dir = binary.parent().expect("the binary's directory");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("action/run.sh"));
    for key in crate::support::inherited_settings() {
        cmd.env_remove(key);
    }
    cmd.current_dir(root())
        .env("PATH", path)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", runner.join("summary.md"))
        .env("GITHUB_OUTPUT", runner.join("github_output"))
        .env("AOC_CONFIG", config)
        .env("AOC_FORMATS", formats)
        .env("AOC_ARGS", args)
        .env("AOC_RESULTS_DIR", runner.join("results"))
        .output()
        .expect("bash runs")
}

fn step_outputs(runner: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(runner.join("github_output"))
        .expect("GITHUB_OUTPUT written")
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn output_of<'a>(outputs: &'a [(String, String)], key: &str) -> &'a str {
    outputs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no step output {key} in {outputs:?}"))
}

#[cfg(unix)]
#[test]
fn the_action_writes_each_report_and_records_a_failure_without_failing_the_step() {
    let runner = tempfile::tempdir().expect("temp dir");
    let out = run_check(
        runner.path(),
        "examples/broken/aoc.toml",
        "json, sarif junit,markdown",
        "--offline  --fail-on\nfail",
    );
    // The step succeeds so that the SARIF upload still runs; the gate step fails the job.
    assert!(out.status.success(), "{}", text_of(&out));
    let outputs = step_outputs(runner.path());
    assert_eq!(output_of(&outputs, "exit-code"), "1");

    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(output_of(&outputs, "json")).expect("json report"),
    )
    .expect("JSON");
    assert_eq!(json["status"], "fail");
    let sarif: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(output_of(&outputs, "sarif")).expect("sarif report"),
    )
    .expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let junit = std::fs::read_to_string(output_of(&outputs, "junit")).expect("junit report");
    assert!(junit.contains("<testsuite"), "{junit}");
    assert!(Path::new(output_of(&outputs, "markdown")).is_file());
    // The text report is in the log, and the Markdown one in the job summary.
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("role.s3-access"),
        "{}",
        text_of(&out)
    );
    let summary = std::fs::read_to_string(runner.path().join("summary.md")).expect("summary");
    assert!(summary.contains("role.s3-access"), "{summary}");
}

#[cfg(unix)]
#[test]
fn the_action_records_a_pass_and_rejects_an_unknown_format() {
    let runner = tempfile::tempdir().expect("temp dir");
    let out = run_check(
        runner.path(),
        "examples/seed/aoc.toml",
        "sarif",
        "--offline",
    );
    assert!(out.status.success(), "{}", text_of(&out));
    assert_eq!(output_of(&step_outputs(runner.path()), "exit-code"), "0");

    let runner = tempfile::tempdir().expect("temp dir");
    let out = run_check(
        runner.path(),
        "examples/seed/aoc.toml",
        "json,pdf",
        "--offline",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text_of(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown format 'pdf'"),
        "{}",
        text_of(&out)
    );
}

/// A run that stops on bad usage (exit 2) writes no report: the step names none, so the SARIF
/// upload after it (guarded on the output) does not fail on a missing file.
#[cfg(unix)]
#[test]
fn the_action_names_only_the_reports_it_wrote() {
    let runner = tempfile::tempdir().expect("temp dir");
    // A report left by an earlier run in the same directory must not pass for this one's.
    let results = runner.path().join("results");
    std::fs::create_dir_all(&results).expect("mkdir");
    std::fs::write(results.join("aoc-preflight.sarif"), "{}").expect("write");
    let out = run_check(
        runner.path(),
        "examples/no-such-dir/aoc.toml",
        "sarif,json",
        "--offline",
    );
    assert!(out.status.success(), "{}", text_of(&out));
    let outputs = step_outputs(runner.path());
    assert_eq!(output_of(&outputs, "exit-code"), "2");
    for report in ["sarif", "json"] {
        assert!(
            !outputs.iter().any(|(k, _)| k == report),
            "{report} named though not written: {outputs:?}"
        );
    }
    // The upload step is guarded on that output, and skipped for forks' pull requests.
    let action = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    assert!(action.contains("steps.run.outputs.sarif != ''"), "{action}");
    assert!(
        action.contains("github.event.pull_request.head.repo.fork != true"),
        "{action}"
    );
}

/// The GitLab example does what the GitHub one does: it judges the saved Terraform plan
/// (`--terraform-plan`, the plan it then applies) rather than applying part of the
/// configuration first to render policy files, and installs a checksum-verified release
/// rather than building someone's repository with `cargo install --git`.
#[test]
fn the_gitlab_example_judges_the_plan_and_installs_a_verified_release() {
    let gitlab =
        std::fs::read_to_string(root().join("examples/ci/gitlab-ci.yml")).expect("gitlab-ci.yml");
    let github = std::fs::read_to_string(root().join("examples/ci/github-actions.yml"))
        .expect("github-actions.yml");
    for example in [&gitlab, &github] {
        assert!(example.contains("--terraform-plan plan.json"), "{example}");
        assert!(
            example.contains("terraform show -json tfplan > plan.json"),
            "{example}"
        );
    }
    assert!(!gitlab.contains("-target="), "{gitlab}");
    assert!(!gitlab.contains("cargo install"), "{gitlab}");
    assert!(gitlab.contains("sha256sum -c"), "{gitlab}");
    assert!(
        gitlab.contains("terraform apply -input=false tfplan"),
        "{gitlab}"
    );
}
