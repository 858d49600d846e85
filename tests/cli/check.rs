//! `check --offline` end to end: the bundled examples, the report formats, the exit codes and
//! bad input, through the real binary.

use std::path::{Path, PathBuf};

use crate::support::{assert_line_endings_as_snapshotted, bin};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn example(name: &str) -> PathBuf {
    root().join("examples").join(name).join("aoc.toml")
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/check").join(name)
}

/// Runs `check --offline --format json` with the arguments; returns the exit code and the
/// parsed report.
fn json_report(args: &[&str]) -> (i32, Value) {
    let out = bin()
        .args(["check", "--offline", "--format", "json"])
        .args(args)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

fn status_of<'a>(report: &'a Value, id: &str) -> &'a str {
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == id))
        .and_then(|c| c["status"].as_str())
        .unwrap_or_else(|| panic!("no check {id} in {report}"))
}

fn check_text(report: &Value, id: &str) -> String {
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == id))
        .map(|c| c.to_string())
        .unwrap_or_default()
}

fn config_arg(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn seed_example_passes_offline_with_every_check_reported() {
    let (code, report) = json_report(&["--config", &config_arg(&example("seed"))]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["mode"], "offline");
    assert_eq!(report["tool"]["name"], "aoc-preflight");
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 16);
    let ids: Vec<&str> = checks.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(
        ids,
        crate::support::all_checks(),
        "every check, in report order"
    );
    for c in checks {
        for field in [
            "id",
            "title",
            "status",
            "summary",
            "evidence",
            "remediation",
        ] {
            assert!(c.get(field).is_some(), "{field} missing in {c}");
        }
    }
    for id in [
        "input.values",
        "bucket.region",
        "bucket.policy",
        "kms.key-policy",
        "role.s3-access",
        "role.kms-access",
        "role.trust",
    ] {
        assert_eq!(
            status_of(&report, id),
            "pass",
            "{}",
            check_text(&report, id)
        );
    }
    for id in [
        "aws.credentials",
        "bucket.reachable",
        "kms.key",
        "role.exists",
        "org.policies",
        "probe.write",
    ] {
        assert_eq!(
            status_of(&report, id),
            "skip",
            "{}",
            check_text(&report, id)
        );
    }
    assert_eq!(report["summary"]["pass"], 7);
    assert_eq!(report["summary"]["skip"], 9);
}

#[test]
fn broken_example_fails_the_right_checks_and_says_why() {
    let (code, report) = json_report(&["--config", &config_arg(&example("broken"))]);
    assert_eq!(code, 1);
    assert_eq!(status_of(&report, "role.s3-access"), "fail");
    assert_eq!(status_of(&report, "role.kms-access"), "fail");
    assert_eq!(status_of(&report, "role.trust"), "fail");
    assert_eq!(status_of(&report, "bucket.policy"), "pass");
    assert_eq!(status_of(&report, "kms.key-policy"), "pass");
    let s3 = check_text(&report, "role.s3-access");
    assert!(s3.contains("s3:ListBucketMultipartUpload`"), "{s3}");
    let kms = check_text(&report, "role.kms-access");
    assert!(kms.contains("alias/aspera-kms"), "{kms}");
    let trust = check_text(&report, "role.trust");
    assert!(trust.contains("reloaded"), "{trust}");
    assert!(
        trust.contains("0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d"),
        "{trust}"
    );
}

#[test]
fn text_report_is_plain_when_piped_and_coloured_on_request() {
    let out = bin()
        .args(["check", "--offline", "--config"])
        .arg(example("broken"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\u{1b}'), "no colour in a pipe");
    assert!(text.contains("FAIL   role.trust"), "{text}");
    assert!(text.contains("Summary: 3 failed"), "{text}");
    assert!(text.contains("update-assume-role-policy"), "{text}");

    let out = bin()
        .args(["--color", "always", "check", "--offline", "--config"])
        .arg(example("broken"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\u{1b}["));

    let out = bin()
        .env("NO_COLOR", "1")
        .args(["check", "--offline", "--config"])
        .arg(example("broken"))
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\u{1b}'));
}

#[test]
fn flags_alone_describe_an_attachment_and_override_the_file() {
    let seed = root().join("examples/seed");
    let (code, report) = json_report(&[
        "--config",
        &config_arg(&example("seed")),
        "--path",
        "/data",
        "--identity-policy",
        &seed.join("s3-access-policy.json").display().to_string(),
        "--identity-policy",
        &seed.join("kms-policy.json").display().to_string(),
    ]);
    // The seed's S3 policy covers the whole bucket, so a narrower path still passes.
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["attachment"]["path"], "/data");

    let (code, report) = json_report(&[
        "--region",
        "us-east-1",
        "--bucket",
        "aspera-kms",
        "--kms-key",
        "arn:aws:kms:us-east-1:239600258224:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46",
        "--role-arn",
        "arn:aws:iam::239600258224:role/aspera-kms-access",
        "--identity-policy",
        &seed.join("s3-access-policy.json").display().to_string(),
    ]);
    assert_eq!(code, 1, "kms policy missing: {report:#}");
    assert_eq!(status_of(&report, "role.s3-access"), "pass");
    assert_eq!(status_of(&report, "role.kms-access"), "fail");
    assert_eq!(status_of(&report, "role.trust"), "skip");
    assert_eq!(status_of(&report, "bucket.policy"), "skip");
}

#[test]
fn only_and_skip_select_checks() {
    let (_, report) = json_report(&[
        "--config",
        &config_arg(&example("broken")),
        "--only",
        "role.trust,input.values",
    ]);
    let ids: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["input.values", "role.trust"]);

    let (code, report) = json_report(&[
        "--config",
        &config_arg(&example("broken")),
        "--skip",
        "role.trust,role.s3-access,role.kms-access",
    ]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["total"], 13);
    let reported: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    for skipped in ["role.trust", "role.s3-access", "role.kms-access"] {
        assert!(!reported.contains(&skipped), "{skipped} was reported");
    }
}

#[test]
fn fail_on_warn_turns_warnings_into_exit_1() {
    let alias = "arn:aws:kms:us-east-1:239600258224:alias/aspera-kms";
    let args = [
        "--config",
        &config_arg(&example("seed")),
        "--kms-key",
        alias,
        "--only",
        "input.values",
    ];
    let (code, report) = json_report(&args);
    assert_eq!(status_of(&report, "input.values"), "warn");
    assert_eq!(code, 0);
    let mut with = args.to_vec();
    with.extend(["--fail-on", "warn"]);
    let (code, _) = json_report(&with);
    assert_eq!(code, 1);
}

#[test]
fn several_attachments_give_one_report_each() {
    let dir = tempfile::tempdir().unwrap();
    let seed = root().join("examples/seed");
    let config = dir.path().join("fleet.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[[attachment]]
name = "good"
region = "us-east-1"
bucket = "aspera-kms"
kms_key = "arn:aws:kms:us-east-1:239600258224:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46"
role_arn = "arn:aws:iam::239600258224:role/aspera-kms-access"
identity_policies = ["{s3}", "{kms}"]

[[attachment]]
name = "bad-bucket"
region = "us-east-1"
bucket = "Aspera_KMS"
kms_key = "arn:aws:kms:us-east-1:239600258224:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46"
role_arn = "arn:aws:iam::239600258224:role/aspera-kms-access"
"#,
            s3 = seed.join("s3-access-policy.json").display(),
            kms = seed.join("kms-policy.json").display(),
        ),
    )
    .unwrap();
    let (code, report) = json_report(&["--config", &config_arg(&config)]);
    assert_eq!(code, 1);
    let reports = report["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["attachment"]["name"], "good");
    assert_eq!(reports[0]["status"], "pass");
    assert_eq!(reports[1]["status"], "fail");
    assert_eq!(report["status"], "fail");

    let (code, report) = json_report(&["--config", &config_arg(&config), "--attachment", "good"]);
    // Every check of `good` passes, but AoC's trust was not given: not a green gate.
    assert_eq!(code, 3);
    assert_eq!(report["attachment"]["name"], "good");
    assert_eq!(report["status"], "pass");
}

#[test]
fn malformed_attachment_values_fail_input_values_not_usage() {
    let (code, report) = json_report(&[
        "--region",
        "us-east-1",
        "--bucket",
        "My_Bucket",
        "--kms-key",
        "arn:aws:kms:us-east-1:239600258224:alias",
        "--role-arn",
        "aspera-kms-access",
    ]);
    assert_eq!(code, 1);
    assert_eq!(status_of(&report, "input.values"), "fail");
    let text = check_text(&report, "input.values");
    assert!(text.contains("My_Bucket"), "{text}");
    assert!(
        text.contains("arn:aws:iam::ACCOUNT:role/PATH/NAME"),
        "{text}"
    );
    // Checks that need those values are skipped, not guessed.
    assert_eq!(status_of(&report, "role.s3-access"), "skip");
}

#[test]
fn output_file_gets_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let status = bin()
        .args(["check", "--offline", "--format", "json", "--config"])
        .arg(example("seed"))
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(0));
    assert!(status.stdout.is_empty());
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(report["summary"]["pass"], 7);
}

/// Runs `check` and expects exit 2 with a one-line error on stderr containing `want`.
fn usage_error(args: &[&str], want: &[&str]) {
    let out = bin().arg("check").args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("aoc-preflight: error: "), "{stderr}");
    for w in want {
        assert!(stderr.contains(w), "`{w}` not in: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_input_is_a_one_line_usage_error() {
    let seed = config_arg(&example("seed"));
    let not_json = fixture("not-json.json");
    let not_json = not_json.display().to_string();
    usage_error(
        &["--offline", "--config", &seed, "--bucket-policy", &not_json],
        &["not-json.json:3:"],
    );
    usage_error(
        &[
            "--offline",
            "--config",
            &seed,
            "--key-policy",
            "/nonexistent/key.json",
        ],
        &["/nonexistent/key.json", "no such file"],
    );
    usage_error(
        &["--offline", "--config", &seed, "--only", "role.trusts"],
        &["unknown check ID `role.trusts`", "role.trust"],
    );
    let unknown_key = fixture("unknown-key.toml").display().to_string();
    usage_error(
        &["--offline", "--config", &unknown_key],
        &["unknown-key.toml:4:1", "kms_kye"],
    );
    let bad_toml = fixture("bad.toml").display().to_string();
    usage_error(&["--offline", "--config", &bad_toml], &["bad.toml:2:"]);
    usage_error(
        &["--offline", "--bucket", "b"],
        &["missing required value", "--region"],
    );
    usage_error(
        &["--offline", "--config", "/nonexistent/aoc.toml"],
        &["/nonexistent/aoc.toml"],
    );
}

#[test]
fn on_github_actions_the_markdown_summary_is_appended_redacted_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let out = bin()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args([
            "check",
            "--offline",
            "--redact",
            "--format",
            "json",
            "--config",
        ])
        .arg(example("broken"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.starts_with("earlier step\n"), "{text}");
    assert!(text.contains("| `role.trust` |"), "{text}");
    assert!(!text.contains("239600258224"), "redacted: {text}");

    // Off Actions, nothing is written.
    let other = dir.path().join("other.md");
    bin()
        .env_remove("GITHUB_ACTIONS")
        .env("GITHUB_STEP_SUMMARY", &other)
        .args(["check", "--offline", "--config"])
        .arg(example("broken"))
        .output()
        .unwrap();
    assert!(!other.exists());
}

/// The text report of the broken example, as a person reads it: a snapshot
/// (`snapshots/cli__check__broken_text_report.snap`), so any change to what an admin sees is
/// reviewed (how to accept one: the crate doc in `main.rs`).
#[test]
fn text_report_of_the_broken_example_matches_its_snapshot() {
    let out = bin()
        .args(["check", "--offline", "--config"])
        .arg(example("broken"))
        .current_dir(root())
        .output()
        .unwrap();
    // Paths in evidence are the ones the config gave, made relative to the repository.
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace(&format!("{}/", root().display()), "")
        .replace(env!("CARGO_PKG_VERSION"), "VERSION");
    assert_line_endings_as_snapshotted(&text);
    insta::assert_snapshot!("broken_text_report", text);
}

/// The seed attachment with its key in another account than the bucket and the role (a
/// documented setup: KMS Developer Guide, "Allowing users in other accounts to use a KMS key").
const FOREIGN_KEY: &str =
    "arn:aws:kms:us-east-1:444455556666:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46";

#[test]
fn issue11_d3_key_in_another_account_is_not_the_bucket_owner() {
    let config = config_arg(&example("seed"));
    let (_, report) = json_report(&["--config", &config, "--kms-key", FOREIGN_KEY]);
    assert_eq!(status_of(&report, "bucket.policy"), "pass", "{report:#}");
    let text = check_text(&report, "bucket.policy");
    assert!(
        text.contains("bucket owner: 239600258224 (assumed to be the role's account"),
        "{text}"
    );
    assert!(text.contains("--bucket-account"), "{text}");

    // Given, the owner decides: a bucket of the key's account must grant the role.
    let (code, report) = json_report(&[
        "--config",
        &config,
        "--kms-key",
        FOREIGN_KEY,
        "--bucket-account",
        "444455556666",
    ]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(status_of(&report, "bucket.policy"), "fail", "{report:#}");
    assert!(
        check_text(&report, "bucket.policy").contains("given with --bucket-account"),
        "{report:#}"
    );
}

#[test]
fn issue11_d3_malformed_bucket_account_is_a_usage_error() {
    let out = bin()
        .args(["check", "--offline", "--config"])
        .arg(example("seed"))
        .args(["--bucket-account", "4444-5555-6666"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("4444-5555-6666"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn bucket_account_in_live_mode_is_refused_not_ignored() {
    // Live mode establishes the owner with S3; a value it would ignore is a usage error.
    let out = bin()
        .args(["check", "--region", "us-east-1", "--bucket", "aspera-kms"])
        .args([
            "--role-arn",
            "arn:aws:iam::239600258224:role/aspera-kms-access",
        ])
        .args([
            "--kms-key",
            "arn:aws:kms:us-east-1:239600258224:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46",
        ])
        .args(["--bucket-account", "444455556666"])
        .args(["--endpoint-url", "http://127.0.0.1:9"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--bucket-account"), "{err}");
}
