//! The CI gate (issue 14): one test per row of the README's exit-code table, the holes the
//! issue lists (a run that verified nothing, a live run without AoC's values, no credentials),
//! required checks, and suppressions — valid, expired and unmatched — in every format.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::bin;
use crate::support::stub_aws::{Op, StubAws, StubWorld, access_denied};

const ALIAS: &str = "arn:aws:kms:us-east-1:239600258224:alias/aspera-kms";
const KEY: &str = "arn:aws:kms:us-east-1:239600258224:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46";
const ROLE: &str = "arn:aws:iam::239600258224:role/aspera-kms-access";
/// The date the suppression tests run on (`AOC_PREFLIGHT_TODAY_FOR_TESTS`).
const TODAY: &str = "2026-06-01";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn seed(file: &str) -> String {
    root()
        .join("examples/seed")
        .join(file)
        .display()
        .to_string()
}

fn example(name: &str) -> String {
    root()
        .join("examples")
        .join(name)
        .join("aoc.toml")
        .display()
        .to_string()
}

/// `check --offline` with the arguments: exit code, standard output, standard error.
fn offline(args: &[&str]) -> (i32, String, String) {
    let out = bin()
        .env("AOC_PREFLIGHT_TODAY_FOR_TESTS", TODAY)
        .args(["check", "--offline"])
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn offline_json(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--format", "json"];
    all.extend(args);
    let (code, stdout, stderr) = offline(&all);
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\nstderr: {stderr}"));
    (code, report)
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no check {id} in {report:#}"))
}

fn warning_kinds(report: &Value) -> Vec<&str> {
    report["gate_warnings"]
        .as_array()
        .map(|w| w.iter().filter_map(|w| w["kind"].as_str()).collect())
        .unwrap_or_default()
}

/// The seed attachment's values and documents as flags, without AoC's trust values.
fn seed_flags_without_aoc() -> Vec<String> {
    [
        "--region",
        "us-east-1",
        "--bucket",
        "aspera-kms",
        "--kms-key",
        KEY,
        "--role-arn",
        ROLE,
        "--identity-policy",
        &seed("s3-access-policy.json"),
        "--identity-policy",
        &seed("kms-policy.json"),
        "--bucket-policy",
        &seed("bucket-policy.json"),
        "--key-policy",
        &seed("key-policy.json"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

// ---------------------------------------------------------------------------------------------
// The exit-code table, row by row
// ---------------------------------------------------------------------------------------------

#[test]
fn exit_0_access_verified_and_nothing_failed() {
    let (code, report) = offline_json(&["--config", &example("seed")]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["access_verified"], true);
    assert!(warning_kinds(&report).is_empty(), "{report:#}");
    assert_eq!(report["suppressed"], serde_json::json!([]));
}

#[test]
fn exit_1_the_attachment_is_shown_broken() {
    let (code, report) = offline_json(&["--config", &example("broken")]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(check(&report, "role.trust")["status"], "fail");
}

#[test]
fn exit_1_a_required_check_was_skipped_with_what_would_let_it_run() {
    let flags = seed_flags_without_aoc();
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    // Without AoC's values, role.trust is skipped and the run is not green (exit 3)...
    let (code, report) = offline_json(&args);
    assert_eq!(code, 3, "{report:#}");
    assert_eq!(check(&report, "role.trust")["status"], "skip");
    assert_eq!(warning_kinds(&report), ["trust-not-verified"], "{report:#}");
    // ...and when the pipeline requires it, it fails (exit 1) saying what would let it run.
    args.extend(["--require", "role.trust"]);
    let (code, report) = offline_json(&args);
    assert_eq!(code, 1, "{report:#}");
    let trust = check(&report, "role.trust");
    assert_eq!(trust["status"], "fail", "{report:#}");
    let summary = trust["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("required (--require)"), "{summary}");
    assert!(
        summary.contains("AoC's trust policy was not given"),
        "{summary}"
    );
    let fix = trust["remediation"].as_str().unwrap_or_default();
    assert!(fix.contains("--trust-policy"), "{fix}");
    assert_eq!(report["required"], serde_json::json!(["role.trust"]));
}

#[test]
fn exit_2_unknown_ids_with_the_nearest_one() {
    let (code, _, stderr) = offline(&["--config", &example("seed"), "--require", "role.trsut"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("did you mean `role.trust`?"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    for (table, expected) in [
        (
            "[[suppress]]\ncheck = \"input.value\"\nreason = \"r\"\n",
            "did you mean `input.values`?",
        ),
        (
            "[[suppress]]\ncheck = \"input.values\"\nfinding = \"alias-ar\"\nreason = \"r\"\n",
            "did you mean `alias-arn`?",
        ),
        (
            "[[suppress]]\ncheck = \"input.values\"\nreason = \" \"\n",
            "`reason` is empty",
        ),
        (
            "[[suppress]]\ncheck = \"input.values\"\nreason = \"r\"\nexpires = 2027-01-31T10:00:00Z\n",
            "not a date",
        ),
        ("[[suppress]]\ncheck = \"input.values\"\n", "reason"),
        (
            "[defaults]\nrequire = [\"kms.kye\"]\n",
            "did you mean `kms.key`?",
        ),
    ] {
        let config = write_config(dir.path(), table);
        let (code, _, stderr) = offline(&["--config", &config]);
        assert_eq!(code, 2, "{table}: {stderr}");
        assert!(stderr.contains(expected), "{table}: {stderr}");
    }
    // A required check that the selection leaves out cannot be required.
    let (code, _, stderr) = offline(&[
        "--config",
        &example("seed"),
        "--require",
        "role.trust",
        "--skip",
        "role.trust",
    ]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn exit_3_a_check_could_not_be_determined() {
    let stub = StubAws::start(StubWorld::default());
    stub.fail_always(Op::GetKeyPolicy, access_denied(Op::GetKeyPolicy).template());
    let run = stub.cmd().run();
    assert_eq!(run.status("kms.key-policy"), "error", "{}", run.pretty());
    assert!(run.with_status("fail").is_empty(), "{}", run.pretty());
    assert_eq!(run.code, 3, "{}", run.pretty());
}

/// The issue's first hole: a region and an external ID, no documents, was "2 passed, 13
/// skipped", exit 0.
#[test]
fn exit_3_nothing_verified_offline_with_only_values() {
    let args = [
        "--region",
        "us-east-1",
        "--bucket",
        "aspera-kms",
        "--kms-key",
        KEY,
        "--role-arn",
        ROLE,
        "--external-id",
        "abc123XYZ",
    ];
    let (code, report) = offline_json(&args);
    assert_eq!(code, 3, "{report:#}");
    assert_eq!(report["access_verified"], false);
    assert_eq!(warning_kinds(&report), ["nothing-verified"]);
    assert!(report["summary"]["fail"] == 0 && report["summary"]["error"] == 0);
    // Said in the report, not only by the exit code; and the skip says what was given.
    let (code, text, _) = offline(&args);
    assert_eq!(code, 3);
    assert!(text.contains("No access was verified"), "{text}");
    assert!(!text.contains("AoC's trust policy was not given"), "{text}");
    assert!(
        text.contains("AoC's external ID was given, but not AoC's principal"),
        "{text}"
    );
    // A run that selects no access check asked for none: it may pass.
    let mut only_values = args.to_vec();
    only_values.extend(["--only", "input.values,bucket.region"]);
    let (code, report) = offline_json(&only_values);
    assert_eq!(code, 0, "{report:#}");
    assert!(warning_kinds(&report).is_empty(), "{report:#}");
}

/// The gate's warnings are true whatever the exit code: a run that verified nothing but
/// also failed a check exits 1, so "exits 3" would be false there, in every format.
#[test]
fn gate_warnings_do_not_promise_exit_3_on_a_run_that_fails() {
    let args = [
        "--region",
        "us-east-1",
        "--bucket",
        "aspera-kms",
        "--kms-key",
        KEY,
        "--role-arn",
        "arn:aws:iam::239600258224:user/not-a-role",
        "--external-id",
        "abc123XYZ",
    ];
    let (code, report) = offline_json(&args);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(check(&report, "input.values")["status"], "fail");
    assert_eq!(warning_kinds(&report), ["nothing-verified"]);
    for format in ["text", "json", "markdown", "junit", "sarif"] {
        let mut all = vec!["--format", format];
        all.extend(args);
        let (code, out, _) = offline(&all);
        assert_eq!(code, 1, "{format}");
        assert!(out.contains("cannot exit 0"), "{format}: {out}");
        assert!(!out.contains("exits 3, not 0"), "{format}: {out}");
    }
    // The same for AoC's trust: the seed without AoC's values, its S3 grant broken.
    let broken_s3 = root()
        .join("examples/broken/s3-access-policy.json")
        .display()
        .to_string();
    let flags: Vec<String> = seed_flags_without_aoc()
        .into_iter()
        .map(|f| {
            if f == seed("s3-access-policy.json") {
                broken_s3.clone()
            } else {
                f
            }
        })
        .collect();
    let refs: Vec<&str> = flags.iter().map(String::as_str).collect();
    let (code, report) = offline_json(&refs);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(check(&report, "role.s3-access")["status"], "fail");
    assert!(
        warning_kinds(&report).contains(&"trust-not-verified"),
        "{report:#}"
    );
    let messages = report["gate_warnings"].to_string();
    assert!(messages.contains("cannot exit 0"), "{messages}");
    assert!(!messages.contains("exits 3, not 0"), "{messages}");
}

/// One access verdict is not a green gate: AoC's trust judged but the role's own S3 and KMS
/// access skipped (its policies not given) was "3 passed, 13 skipped", exit 0.
#[test]
fn exit_3_the_roles_own_access_was_not_verified() {
    let (trust, role_trust) = (
        seed("aoc-trust-policy.json"),
        seed("role-trust-policy.json"),
    );
    let args = [
        "--region",
        "us-east-1",
        "--bucket",
        "aspera-kms",
        "--kms-key",
        KEY,
        "--role-arn",
        ROLE,
        "--trust-policy",
        &trust,
        "--role-trust-policy",
        &role_trust,
    ];
    let (code, report) = offline_json(&args);
    assert_eq!(code, 3, "{report:#}");
    assert_eq!(check(&report, "role.trust")["status"], "pass");
    assert_eq!(report["access_verified"], true);
    assert_eq!(warning_kinds(&report), ["role-access-not-verified"]);
    let message = report["gate_warnings"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("role.s3-access, role.kms-access: no identity policy given")
            && message.contains("--skip role.s3-access,role.kms-access"),
        "{message}"
    );
    let (code, text, _) = offline(&args);
    assert_eq!(code, 3);
    assert!(
        text.contains("The role's own access was not verified"),
        "{text}"
    );

    // Left out on purpose, the rest may pass; so may one of them given and the other left out.
    let mut skipped = args.to_vec();
    skipped.extend(["--skip", "role.s3-access,role.kms-access"]);
    let (code, report) = offline_json(&skipped);
    assert_eq!(code, 0, "{report:#}");
    assert!(warning_kinds(&report).is_empty(), "{report:#}");
    let kms_only = seed("kms-policy.json");
    let mut one = args.to_vec();
    one.extend(["--identity-policy", &kms_only, "--skip", "role.s3-access"]);
    let (code, report) = offline_json(&one);
    assert_eq!(
        check(&report, "role.kms-access")["status"],
        "pass",
        "{report:#}"
    );
    assert_eq!(code, 0, "{report:#}");
    // Required instead, they fail (exit 1) and the warning is not repeated.
    let mut required = args.to_vec();
    required.extend(["--require", "role.s3-access,role.kms-access"]);
    let (code, report) = offline_json(&required);
    assert_eq!(code, 1, "{report:#}");
    assert!(warning_kinds(&report).is_empty(), "{report:#}");
}

/// The issue's second hole: no credentials exited 1, like a broken attachment.
#[test]
fn exit_3_no_credentials() {
    let stub = StubAws::start(StubWorld::default());
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "").unwrap();
    let out = bin()
        .env("AWS_CONFIG_FILE", &empty)
        .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args(["check", "--format", "json", "--timeout", "10"])
        .args(["--endpoint-url", &stub.endpoint()])
        .args(crate::support::stub_aws::attachment_args())
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(out.status.code(), Some(3), "{report:#}");
    assert_eq!(check(&report, "aws.credentials")["status"], "fail");
    assert_eq!(report["summary"]["fail"], 1, "{report:#}");
}

// ---------------------------------------------------------------------------------------------
// The reports say how the run ends: `exit_code` and `outcome` are the process's exit code
// ---------------------------------------------------------------------------------------------

fn outcome_name(code: i32) -> &'static str {
    match code {
        0 => "pass",
        1 => "broken",
        2 => "usage",
        3 => "undetermined",
        _ => "?",
    }
}

#[test]
fn the_json_reports_exit_code_is_the_process_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    // Two attachments and no documents: a fleet that verified nothing (exit 3, status pass).
    let fleet = dir.path().join("fleet.toml");
    let attachment = |name: &str| {
        format!(
            "[[attachment]]\nname = \"{name}\"\nregion = \"us-east-1\"\nbucket = \"aspera-kms\"\nkms_key = \"{KEY}\"\nrole_arn = \"{ROLE}\"\n\n"
        )
    };
    std::fs::write(&fleet, attachment("a") + &attachment("b")).unwrap();
    let fleet = fleet.display().to_string();
    let only_values = [
        "--region",
        "us-east-1",
        "--bucket",
        "aspera-kms",
        "--kms-key",
        KEY,
        "--role-arn",
        ROLE,
    ];
    let (seed_config, broken_config) = (example("seed"), example("broken"));
    let scenarios: [(&str, Vec<&str>, i32); 5] = [
        ("seed", vec!["--config", &seed_config], 0),
        ("broken", vec!["--config", &broken_config], 1),
        ("only values", only_values.to_vec(), 3),
        ("fleet verifying nothing", vec!["--config", &fleet], 3),
        (
            "warning with --fail-on warn",
            vec![
                "--config",
                &seed_config,
                "--kms-key",
                ALIAS,
                "--fail-on",
                "warn",
            ],
            1,
        ),
    ];
    for (what, args, expected) in scenarios {
        let (code, report) = offline_json(&args);
        assert_eq!(code, expected, "{what}: {report:#}");
        assert_eq!(report["exit_code"], code, "{what}: {report:#}");
        assert_eq!(report["outcome"], outcome_name(code), "{what}");
        // The reports inside a fleet leave it to the fleet.
        for inner in report["reports"].as_array().into_iter().flatten() {
            assert!(inner.get("exit_code").is_none(), "{what}: {inner:#}");
        }
    }
    let (_, fleet_report) = offline_json(&["--config", &fleet]);
    assert_eq!(
        fleet_report["status"], "pass",
        "the verdicts alone would say pass"
    );

    // SARIF: the tool did its job when it found the attachment broken, not when it could
    // not look.
    for (args, successful, code) in [
        (vec!["--config".to_string(), example("broken")], true, 1),
        (vec!["--config".to_string(), fleet.clone()], false, 3),
    ] {
        let mut all = vec!["--format", "sarif"];
        all.extend(args.iter().map(String::as_str));
        let (exit, out, _) = offline(&all);
        assert_eq!(exit, code);
        let sarif: Value = serde_json::from_str(&out).expect("SARIF");
        let invocation = &sarif["runs"][0]["invocations"][0];
        assert_eq!(
            invocation["executionSuccessful"], successful,
            "{invocation:#}"
        );
        assert_eq!(invocation["exitCode"], code, "{invocation:#}");
        if !successful {
            assert_eq!(
                invocation["toolExecutionNotifications"][0]["level"], "error",
                "{invocation:#}"
            );
        }
    }
}

/// No credentials: the report's `status` is `fail` (aws.credentials), the run's outcome is
/// not; JUnit shows the check as an `<error>` (it could not run), SARIF as an unsuccessful
/// execution.
#[test]
fn no_credentials_is_undetermined_in_every_machine_format() {
    let stub = StubAws::start(StubWorld::default());
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "").unwrap();
    let run = |format: &str| {
        let out = bin()
            .env("AWS_CONFIG_FILE", &empty)
            .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .args(["check", "--format", format, "--timeout", "10"])
            .args(["--endpoint-url", &stub.endpoint()])
            .args(crate::support::stub_aws::attachment_args())
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .expect("runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, json) = run("json");
    let report: Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(code, 3, "{report:#}");
    assert_eq!(report["status"], "fail");
    assert_eq!(report["exit_code"], 3);
    assert_eq!(report["outcome"], "undetermined");

    let (code, xml) = run("junit");
    assert_eq!(code, 3);
    let doc = roxmltree::Document::parse(&xml).expect("XML");
    let case = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("aws.credentials"))
        .expect("aws.credentials test case");
    assert!(
        case.children().any(|c| c.has_tag_name("error"))
            && !case.children().any(|c| c.has_tag_name("failure")),
        "{xml}"
    );

    let (code, sarif) = run("sarif");
    assert_eq!(code, 3);
    let sarif: Value = serde_json::from_str(&sarif).expect("SARIF");
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"], false,
        "{sarif:#}"
    );
}

/// The issue's third hole: live, without AoC's values, was "12 passed, 3 skipped", exit 0,
/// the trust policy unchecked. Still 0 (the tool cannot compare a trust policy with nothing),
/// but `--require role.trust` is how a pipeline insists, and the run then fails saying what to
/// give.
#[test]
fn live_without_aoc_values_never_passes_the_gate_with_the_trust_unchecked() {
    let world = crate::support::world::World::builder("gate-no-aoc").build();
    let run = world.cmd_without_aoc_values().run();
    assert_eq!(run.status("role.trust"), "skip", "{}", run.pretty());
    // The issue's second hole: S3 and KMS verified, the trust not: exit 3, saying why.
    assert_eq!(run.code, 3, "{}", run.pretty());
    assert_eq!(run.report["access_verified"], true);
    assert!(
        run.report["gate_warnings"]
            .as_array()
            .is_some_and(|w| w.iter().any(|w| w["kind"] == "trust-not-verified")),
        "{}",
        run.pretty()
    );
    // Leaving the check out on purpose accepts the rest.
    let run = world
        .cmd_without_aoc_values()
        .args(["--skip", "role.trust"])
        .run();
    assert_eq!(run.code, 0, "{}", run.pretty());
    let run = world
        .cmd_without_aoc_values()
        .args(["--require", "role.trust"])
        .run();
    assert_eq!(run.status("role.trust"), "fail", "{}", run.pretty());
    assert!(
        run.text("role.trust").contains("--trust-policy"),
        "{}",
        run.pretty()
    );
    assert_eq!(run.code, 1, "{}", run.pretty());
}

/// Given AoC's principal and external ID, role.trust is required: offline without the role's
/// trust policy it fails saying so instead of passing the gate unchecked.
#[test]
fn aoc_values_given_make_role_trust_required() {
    let flags = seed_flags_without_aoc();
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    let trust = seed("aoc-trust-policy.json");
    args.extend(["--trust-policy", &trust]);
    let (code, report) = offline_json(&args);
    assert_eq!(code, 1, "{report:#}");
    let summary = check(&report, "role.trust")["summary"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        summary.contains("AoC's principal and external ID were given"),
        "{summary}"
    );
    assert!(summary.contains("--role-trust-policy"), "{summary}");
    // `--skip role.trust` is the way out, and then nothing requires it.
    args.extend(["--skip", "role.trust"]);
    let (code, report) = offline_json(&args);
    assert_eq!(code, 0, "{report:#}");
}

// ---------------------------------------------------------------------------------------------
// Suppressions: one valid, one expired, one unmatched, in every format
// ---------------------------------------------------------------------------------------------

fn write_config(dir: &Path, extra: &str) -> String {
    let path = dir.join("aoc.toml");
    let config = format!(
        r#"[[attachment]]
name = "seed-sample"
region = "us-east-1"
bucket = "aspera-kms"
kms_key = "{ALIAS}"
role_arn = "{ROLE}"
trust_policy = "{trust}"
identity_policies = ["{s3}", "{kms}"]
bucket_policy = "{bucket}"
key_policy = "{key}"
role_trust_policy = "{role_trust}"

{extra}"#,
        trust = seed("aoc-trust-policy.json"),
        s3 = seed("s3-access-policy.json"),
        kms = seed("kms-policy.json"),
        bucket = seed("bucket-policy.json"),
        key = seed("key-policy.json"),
        role_trust = seed("role-trust-policy.json"),
    );
    std::fs::write(&path, config).unwrap();
    path.display().to_string()
}

const VALID_REASON: &str = "IBM's procedure allows an alias ARN";
const THREE_SUPPRESSIONS: &str = r#"
[[suppress]]
check = "input.values"
finding = "alias-arn"
reason = "IBM's procedure allows an alias ARN"
expires = 2027-01-31

[[suppress]]
check = "role.kms-access"
attachment = "seed-sample"
reason = "accepted until the key ARN is entered"
expires = 2026-01-01

[[suppress]]
check = "bucket.policy"
finding = "denied"
reason = "an old exception"
"#;

/// Runs the three-suppression config in one format.
fn suppressed_run(format: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), THREE_SUPPRESSIONS);
    let (code, stdout, stderr) = offline(&["--config", &config, "--format", format]);
    assert!(stderr.is_empty(), "{stderr}");
    (code, stdout)
}

#[test]
fn suppressions_json() {
    let (code, stdout) = suppressed_run("json");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    // The valid one: the alias warning no longer counts, and is listed with its reason.
    assert_ne!(
        check(&report, "input.values")["status"],
        "warn",
        "{report:#}"
    );
    let suppressed = report["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), 1, "{report:#}");
    assert_eq!(suppressed[0]["check"], "input.values");
    assert_eq!(suppressed[0]["finding"], "alias-arn");
    assert_eq!(suppressed[0]["status"], "warn");
    assert_eq!(suppressed[0]["reason"], VALID_REASON);
    assert_eq!(suppressed[0]["expires"], "2027-01-31");
    // The expired one: the finding counts again, and the report says so.
    assert_eq!(check(&report, "role.kms-access")["status"], "warn");
    assert_eq!(
        warning_kinds(&report),
        ["suppression-expired", "suppression-unmatched"]
    );
    let messages = report["gate_warnings"].to_string();
    assert!(messages.contains("expired on 2026-01-01"), "{messages}");
    assert!(
        messages.contains("bucket.policy (finding denied)"),
        "{messages}"
    );
    assert_eq!(code, 0);
    // The expired finding counts: with --fail-on warn it fails the run; the suppressed one
    // would not.
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), THREE_SUPPRESSIONS);
    let (code, _, _) = offline(&["--config", &config, "--fail-on", "warn"]);
    assert_eq!(code, 1);
    let only_valid = THREE_SUPPRESSIONS.replace("expires = 2026-01-01", "expires = 2027-01-01");
    let config = write_config(dir.path(), &only_valid);
    let (code, stdout, _) = offline(&["--config", &config, "--fail-on", "warn"]);
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn suppressions_sarif() {
    let (_, stdout) = suppressed_run("sarif");
    let sarif: Value = serde_json::from_str(&stdout).unwrap();
    let run = &sarif["runs"][0];
    let results = run["results"].as_array().unwrap();
    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1, "{sarif:#}");
    assert_eq!(suppressed[0]["ruleId"], "input.values");
    assert_eq!(suppressed[0]["suppressions"][0]["kind"], "external");
    assert_eq!(
        suppressed[0]["suppressions"][0]["justification"],
        VALID_REASON
    );
    // The expired one is an ordinary, unsuppressed result again.
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "role.kms-access" && r.get("suppressions").is_none()),
        "{sarif:#}"
    );
    let notes = run["invocations"][0]["toolExecutionNotifications"].to_string();
    assert!(notes.contains("expired on 2026-01-01"), "{notes}");
    assert!(
        notes.contains("matched no failing or warning finding"),
        "{notes}"
    );
}

#[test]
fn suppressions_junit() {
    let (_, xml) = suppressed_run("junit");
    assert!(xml.contains("input.values [suppressed alias-arn]"), "{xml}");
    assert!(
        xml.contains(&format!(
            "<skipped message=\"Suppressed: {}",
            VALID_REASON.replace('\'', "&apos;")
        )),
        "{xml}"
    );
    assert!(xml.contains("expired on 2026-01-01"), "{xml}");
    assert!(
        xml.contains("matched no failing or warning finding"),
        "{xml}"
    );
}

#[test]
fn suppressions_text() {
    let (_, text) = suppressed_run("text");
    assert!(text.contains("Suppressed (not counted"), "{text}");
    assert!(
        text.contains(&format!("reason: {VALID_REASON}, until 2027-01-31")),
        "{text}"
    );
    assert!(
        text.contains("Warning: The suppression of role.kms-access"),
        "{text}"
    );
    assert!(text.contains("expired on 2026-01-01"), "{text}");
    assert!(
        text.contains("Warning: The suppression of bucket.policy (finding denied) matched no"),
        "{text}"
    );
}

#[test]
fn suppressions_markdown() {
    let (_, md) = suppressed_run("markdown");
    assert!(md.contains("**Suppressed**"), "{md}");
    assert!(md.contains(VALID_REASON), "{md}");
    assert!(md.contains("2027-01-31"), "{md}");
    assert!(md.contains("expired on 2026-01-01"), "{md}");
    assert!(md.contains("matched no failing or warning finding"), "{md}");
}
