//! `check --offline --terraform-plan`: the plans in `tests/fixtures/terraform/` (written to
//! Terraform's documented JSON format, see its README) give the verdicts the same documents
//! give as files, say which values are known only after apply, and lose to a document given
//! as a file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::support::bin;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn path(relative: &str) -> String {
    root().join(relative).to_string_lossy().into_owned()
}

/// The checks that only a plan feeds offline: files give no bucket encryption nor key.
const PLAN_ONLY: [&str; 3] = ["bucket.encryption", "kms.key", "kms.alias"];

/// Runs `check --offline --format json`; returns the exit code and the report.
fn report(args: &[&str]) -> (i32, Value) {
    let out = bin()
        .args(["check", "--offline", "--format", "json"])
        .args(args)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let report = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

fn plan_report(plan: &str) -> (i32, Value) {
    report(&[
        "--config",
        &path("tests/fixtures/terraform/aoc.toml"),
        "--terraform-plan",
        &path(&format!("tests/fixtures/terraform/{plan}.json")),
    ])
}

fn example_report(example: &str) -> (i32, Value) {
    report(&["--config", &path(&format!("examples/{example}/aoc.toml"))])
}

/// Each check's status and its findings' reasons.
fn verdicts(report: &Value) -> BTreeMap<String, (String, Vec<String>)> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            let mut reasons: Vec<String> = c["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| f["reason"].as_str().unwrap_or_default().to_string())
                .collect();
            reasons.sort();
            (
                c["id"].as_str().expect("id").to_string(),
                (c["status"].as_str().expect("status").to_string(), reasons),
            )
        })
        .collect()
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

#[test]
fn plan_fixtures_give_the_verdicts_of_the_same_documents_given_as_files() {
    for (plan, example, code) in [("correct", "seed", 0), ("broken", "broken", 1)] {
        let (plan_code, from_plan) = plan_report(plan);
        let (files_code, from_files) = example_report(example);
        assert_eq!(plan_code, code, "{plan}: {from_plan:#}");
        assert_eq!(files_code, code, "{example}: {from_files:#}");

        let mut planned = verdicts(&from_plan);
        let mut given = verdicts(&from_files);
        assert_eq!(planned.len(), given.len());
        for id in PLAN_ONLY {
            planned.remove(id);
            given.remove(id);
        }
        assert_eq!(planned, given, "{plan}.json against examples/{example}");

        // What only the plan tells: the bucket's default encryption and the key.
        assert_eq!(check(&from_plan, "bucket.encryption")["status"], "pass");
        assert_eq!(check(&from_plan, "kms.key")["status"], "pass");
        assert_eq!(check(&from_files, "bucket.encryption")["status"], "skip");
    }
}

#[test]
fn the_broken_plan_fails_for_the_broken_examples_reasons() {
    let (_, from_plan) = plan_report("broken");
    for id in ["role.s3-access", "role.kms-access", "role.trust"] {
        assert_eq!(check(&from_plan, id)["status"], "fail", "{id}");
    }
    let text = serde_json::to_string(check(&from_plan, "role.s3-access")).expect("json");
    assert!(text.contains("s3:ListBucketMultipartUploads"), "{text}");
}

#[test]
fn values_known_only_after_apply_skip_the_checks_that_need_them() {
    let (code, from_plan) = plan_report("after-apply");
    let (_, from_files) = example_report("seed");
    assert_eq!(code, 0, "{from_plan:#}");

    let after_apply = [
        (
            "kms.key-policy",
            "known only after terraform apply: module.kms.aws_kms_key_policy.this.policy",
        ),
        (
            "kms.key",
            "known only after terraform apply: module.kms.aws_kms_key.this.arn",
        ),
        (
            "bucket.encryption",
            "known only after terraform apply: aws_s3_bucket_server_side_encryption_configuration.aoc.rule[0]",
        ),
    ];
    for (id, why) in after_apply {
        let c = check(&from_plan, id);
        assert_eq!(c["status"], "skip", "{id}: {c:#}");
        let summary = c["summary"].as_str().expect("summary");
        assert!(summary.contains(why), "{id}: {summary}");
    }

    // Everything else is judged as the same documents given as files are.
    let mut planned = verdicts(&from_plan);
    let mut given = verdicts(&from_files);
    for id in PLAN_ONLY.iter().chain(&["kms.key-policy"]) {
        planned.remove(*id);
        given.remove(*id);
    }
    assert_eq!(planned, given);
    // The identity policies were found through the configuration's references: the role
    // policy's role and the attachment's policy ARN are not known before apply.
    assert_eq!(check(&from_plan, "role.s3-access")["status"], "pass");
    assert_eq!(check(&from_plan, "role.kms-access")["status"], "pass");
}

#[test]
fn the_config_files_terraform_plan_key_is_read() {
    let (code, from_key) = report(&["--config", &path("tests/fixtures/terraform/aoc.toml")]);
    let (_, from_flag) = plan_report("correct");
    assert_eq!(code, 0);
    assert_eq!(verdicts(&from_key), verdicts(&from_flag));
}

#[test]
fn a_document_given_as_a_file_wins_over_the_plans() {
    // The correct plan, with the broken example's identity policies and trust policy as files.
    // Identity policies are a set: a file stands in for the plan's policy of its name
    // (`aoc-s3-access`, `aspera-kms-key-access`) and for that one only.
    let dir = tempfile::tempdir().expect("temp dir");
    let s3 = dir.path().join("aoc-s3-access.json");
    let kms = dir.path().join("aspera-kms-key-access.json");
    std::fs::copy(root().join("examples/broken/s3-access-policy.json"), &s3).expect("copy");
    std::fs::copy(root().join("examples/broken/kms-policy.json"), &kms).expect("copy");
    let (code, mixed) = report(&[
        "--config",
        &path("tests/fixtures/terraform/aoc.toml"),
        "--identity-policy",
        &s3.to_string_lossy(),
        "--identity-policy",
        &kms.to_string_lossy(),
        "--role-trust-policy",
        &path("examples/broken/role-trust-policy.json"),
    ]);
    assert_eq!(code, 1, "{mixed:#}");
    for id in ["role.s3-access", "role.kms-access", "role.trust"] {
        assert_eq!(check(&mixed, id)["status"], "fail", "{id}");
    }
    // The rest still comes from the plan.
    assert_eq!(check(&mixed, "kms.key-policy")["status"], "pass");
    assert_eq!(check(&mixed, "bucket.encryption")["status"], "pass");
}

/// The correct plan with the role also given an AWS managed policy, which the plan cannot hold.
fn plan_with_aws_managed_policy(dir: &std::path::Path) -> PathBuf {
    let mut plan: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/terraform/correct.json"))
            .expect("fixture"),
    )
    .expect("JSON");
    let attachment = serde_json::json!({
        "address": "aws_iam_role_policy_attachment.cw",
        "mode": "managed",
        "type": "aws_iam_role_policy_attachment",
        "name": "cw",
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "schema_version": 0,
        "values": {
            "role": "aspera-kms-access",
            "policy_arn": "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"
        }
    });
    plan["planned_values"]["root_module"]["resources"]
        .as_array_mut()
        .expect("resources")
        .push(attachment);
    let file = dir.join("plan.json");
    std::fs::write(&file, plan.to_string()).expect("write");
    file
}

#[test]
fn identity_policy_files_add_to_the_plans_policies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = plan_with_aws_managed_policy(dir.path());
    let args = |extra: &[String]| {
        let mut args = vec![
            "--config".to_string(),
            path("tests/fixtures/terraform/aoc.toml"),
            "--terraform-plan".to_string(),
            plan.to_string_lossy().into_owned(),
        ];
        args.extend_from_slice(extra);
        args
    };
    let run = |extra: &[String]| {
        let args = args(extra);
        report(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    // Without it, the role's access is not judged, and the skip says how to give it: the key
    // and bucket policies' verdicts alone do not make a green gate.
    let (code, without) = run(&[]);
    assert_eq!(code, 3, "{without:#}");
    assert!(
        without["gate_warnings"]
            .as_array()
            .is_some_and(|w| w.iter().any(|w| w["kind"] == "role-access-not-verified")),
        "{without:#}"
    );
    let s3 = check(&without, "role.s3-access");
    assert_eq!(s3["status"], "skip", "{s3:#}");
    assert!(
        s3["summary"]
            .as_str()
            .is_some_and(|s| s.contains("--identity-policy FILE")),
        "{s3:#}"
    );

    // Given as a file of any name, it joins the plan's own inline and managed policies.
    let cw = dir.path().join("cw.json");
    std::fs::write(
        &cw,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudwatch:PutMetricData","Resource":"*"}]}"#,
    )
    .expect("write");
    let (code, with) = run(&[
        "--identity-policy".into(),
        cw.to_string_lossy().into_owned(),
    ]);
    assert_eq!(code, 0, "{with:#}");
    let (_, correct) = plan_report("correct");
    for id in ["role.s3-access", "role.kms-access"] {
        assert_eq!(
            check(&with, id)["status"],
            check(&correct, id)["status"],
            "{id}: {:#}",
            check(&with, id)
        );
        assert_eq!(check(&with, id)["status"], "pass", "{id}");
    }

    // Two policies missing from the plan and one file: still not judged, saying so.
    let cw2 = serde_json::json!({
        "address": "aws_iam_role_policy_attachment.ro",
        "type": "aws_iam_role_policy_attachment",
        "values": {"role": "aspera-kms-access", "policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}
    });
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&plan).expect("read")).expect("JSON");
    doc["planned_values"]["root_module"]["resources"]
        .as_array_mut()
        .expect("resources")
        .push(cw2);
    std::fs::write(&plan, doc.to_string()).expect("write");
    let (_, short) = run(&[
        "--identity-policy".into(),
        cw.to_string_lossy().into_owned(),
    ]);
    let s3 = check(&short, "role.s3-access");
    assert_eq!(s3["status"], "skip", "{s3:#}");
    assert!(
        s3["summary"]
            .as_str()
            .is_some_and(|s| s.contains("1 given with --identity-policy, for 2")),
        "{s3:#}"
    );
}

#[test]
fn a_policy_in_the_plan_that_does_not_parse_names_its_resource() {
    let mut plan: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/terraform/correct.json"))
            .expect("fixture"),
    )
    .expect("JSON");
    let kms_module = &mut plan["planned_values"]["root_module"]["child_modules"][0];
    let key_policy = kms_module["resources"]
        .as_array_mut()
        .expect("resources")
        .iter_mut()
        .find(|r| r["address"] == "module.kms.aws_kms_key_policy.this")
        .expect("the key policy resource");
    key_policy["values"]["policy"] = Value::String("{\"Version\": \"2012-10-17\",".into());
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("plan.json");
    std::fs::write(&file, plan.to_string()).expect("write");

    let out = bin()
        .args(["check", "--offline", "--config"])
        .arg(root().join("tests/fixtures/terraform/aoc.toml"))
        .arg("--terraform-plan")
        .arg(&file)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("module.kms.aws_kms_key_policy.this.policy:1:"),
        "{stderr}"
    );
}

#[test]
fn a_terraform_plan_is_for_offline_mode_and_must_be_a_plan() {
    let out = bin()
        .args(["check", "--config"])
        .arg(root().join("tests/fixtures/terraform/aoc.toml"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--terraform-plan (terraform_plan) is for offline mode"),
        "{stderr}"
    );

    // A state file (`terraform show -json` without a plan) has no planned values.
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state.json");
    std::fs::write(
        &state,
        r#"{"format_version": "1.0", "terraform_version": "1.9.8", "values": {"root_module": {}}}"#,
    )
    .expect("write");
    let out = bin()
        .args(["check", "--offline", "--config"])
        .arg(root().join("tests/fixtures/terraform/aoc.toml"))
        .arg("--terraform-plan")
        .arg(&state)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a Terraform plan"), "{stderr}");
}
