//! `simulate` end to end, through the real binary: the policy-evaluation corpus in
//! `tests/fixtures/simulate/cases.json` (each case names its policy files, the request and the
//! decision AWS's documented rules give, with the rule in one line), the text output, and
//! bad input (exit 2, one line on stderr, never a panic).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn bin() -> Command {
    let mut cmd = Command::cargo_bin("aoc-preflight").expect("binary builds");
    cmd.env_remove("NO_COLOR");
    cmd
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/simulate")
}

fn policy(name: &str) -> PathBuf {
    dir().join("policies").join(name)
}

/// The command line for one case.
fn case_args(case: &Value) -> Result<Vec<String>, String> {
    let s = |key: &str| -> Result<String, String> {
        case[key]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("missing string field {key:?}"))
    };
    let mut args = vec!["simulate".to_string()];
    let policies = case["policies"]
        .as_array()
        .ok_or("missing array field \"policies\"")?;
    for p in policies {
        let name = p.as_str().ok_or("policies must be strings")?;
        args.push("--policy".into());
        args.push(policy(name).display().to_string());
    }
    if let Some(b) = case["boundary"].as_str() {
        args.push("--permissions-boundary".into());
        args.push(policy(b).display().to_string());
    }
    if let Some(r) = case["resource_policy"].as_str() {
        args.push("--resource-policy".into());
        args.push(policy(r).display().to_string());
    }
    for (flag, key) in [
        ("--principal", "principal"),
        ("--action", "action"),
        ("--resource", "resource"),
    ] {
        args.push(flag.into());
        args.push(s(key)?);
    }
    if let Some(a) = case["resource_account"].as_str() {
        args.push("--resource-account".into());
        args.push(a.to_string());
    }
    if let Some(ctx) = case["context"].as_object() {
        for (key, value) in ctx {
            // An array is a multi-valued key: the flag is repeated.
            let values: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for v in values {
                let v = v.as_str().ok_or("context values must be strings")?;
                args.push("--context".into());
                args.push(format!("{key}={v}"));
            }
        }
    }
    args.extend(["--format".to_string(), "json".to_string()]);
    Ok(args)
}

/// Runs one case; `Err` describes the mismatch.
fn run_case(case: &Value) -> Result<(), String> {
    let name = case["name"].as_str().unwrap_or("<unnamed>");
    let why = case["why"].as_str().unwrap_or("");
    let expected = case["expected"].as_str().unwrap_or("<missing>");
    let args = case_args(case).map_err(|e| format!("{name}: bad case: {e}"))?;
    let output = bin()
        .args(&args)
        .output()
        .map_err(|e| format!("{name}: cannot run: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{name}: exit {:?}, stderr: {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let report: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("{name}: stdout is not JSON: {e}"))?;
    let got = report["decision"].as_str().unwrap_or("<missing>");
    if got == expected {
        Ok(())
    } else {
        Err(format!(
            "{name}: expected {expected}, got {got}\n    rule: {why}\n    explanation: {}",
            report["explanation"].as_str().unwrap_or("")
        ))
    }
}

#[test]
fn corpus_matches_aws_rules() {
    let text = std::fs::read_to_string(dir().join("cases.json")).expect("cases.json readable");
    let data: Value = serde_json::from_str(&text).expect("cases.json is JSON");
    let cases = data["cases"].as_array().expect("a cases array");
    assert!(
        cases.len() >= 110,
        "the corpus shrank to {} cases",
        cases.len()
    );

    let mut names: Vec<&str> = cases.iter().filter_map(|c| c["name"].as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(
        names.len(),
        cases.len(),
        "case names must be present and unique"
    );
    for case in cases {
        assert!(
            matches!(
                case["expected"].as_str(),
                Some("allowed" | "implicitDeny" | "explicitDeny")
            ),
            "{}: expected must be allowed, implicitDeny or explicitDeny",
            case["name"]
        );
        assert!(
            case["why"].as_str().is_some_and(|w| !w.is_empty()),
            "{}: every case says which AWS rule it checks",
            case["name"]
        );
    }

    // One process per case; run them on a few threads, and report every mismatch at once.
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(4)
        .min(8);
    let chunk = cases.len().div_ceil(threads);
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .filter_map(|c| run_case(c).err())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker thread"))
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} simulate cases disagree with AWS's rules:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_policy_fixture_is_used_and_parses() {
    let text = std::fs::read_to_string(dir().join("cases.json")).expect("cases.json readable");
    let used = text;
    for entry in std::fs::read_dir(dir().join("policies")).expect("policies dir") {
        let path = entry.expect("dir entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        assert!(
            used.contains(&format!("\"{name}\"")),
            "{name} is not used by any case"
        );
        let body = std::fs::read_to_string(&path).expect("readable");
        aoc_preflight::policy::parse_policy(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn text_output_names_decision_and_statements() {
    let out = bin()
        .args([
            "simulate",
            "--policy",
            &policy("id-s3-star.json").display().to_string(),
            "--resource-policy",
            &policy("bp-allow-partner.json").display().to_string(),
            "--principal",
            "arn:aws:iam::444455556666:role/partner",
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::aoc-bucket/data/file.txt",
            "--resource-account",
            "111122223333",
        ])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.starts_with("Decision:  allowed\n"), "{text}");
    assert!(text.contains("111122223333 (cross-account)"), "{text}");
    assert!(
        text.contains("id-s3-star.json statement 0 (Sid \"S3AllOnBucket\"): Allow"),
        "{text}"
    );
    assert!(
        text.contains("bp-allow-partner.json statement 0 (Sid \"Partner\"): Allow"),
        "{text}"
    );
    assert!(
        text.contains("Why:       cross-account: allowed by identity policy"),
        "{text}"
    );
}

#[test]
fn json_output_has_the_contract_fields() {
    let out = bin()
        .args([
            "simulate",
            "--policy",
            &policy("id-kms-key.json").display().to_string(),
            "--resource-policy",
            &policy("kp-default-root.json").display().to_string(),
            "--principal",
            "arn:aws:iam::111122223333:role/aoc-access",
            "--action",
            "kms:Decrypt",
            "--resource",
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "--format",
            "json",
        ])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON");
    assert_eq!(v["decision"], "allowed");
    assert_eq!(v["principal"], "arn:aws:iam::111122223333:role/aoc-access");
    assert_eq!(v["action"], "kms:Decrypt");
    assert_eq!(v["resourceAccount"], "111122223333");
    assert_eq!(v["crossAccount"], false);
    let explanation = v["explanation"].as_str().expect("explanation");
    assert!(explanation.contains("delegates to IAM"), "{explanation}");
    let matched = v["matchedStatements"].as_array().expect("array");
    assert_eq!(matched.len(), 2);
    assert_eq!(matched[0]["sid"], "UseKey");
    assert_eq!(matched[0]["index"], 0);
    assert_eq!(matched[0]["effect"], "Allow");
    assert_eq!(matched[1]["sid"], "Enable IAM User Permissions");
    assert!(
        matched[1]["policy"]
            .as_str()
            .is_some_and(|p| p.ends_with("kp-default-root.json"))
    );
}

/// Runs simulate with bad input: exit 2, a one-line message on stderr, nothing on stdout.
fn usage_error(args: &[&str]) -> String {
    let out = bin().args(args).assert().code(2);
    let output = out.get_output();
    assert!(
        output.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("aoc-preflight: error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

const ROLE: &str = "arn:aws:iam::111122223333:role/aoc-access";
const OBJECT: &str = "arn:aws:s3:::aoc-bucket/data/file.txt";

#[test]
fn policy_that_is_not_json_names_file_line_and_column() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bad = tmp.path().join("broken.json");
    std::fs::write(
        &bad,
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\" \"Action\": \"s3:*\"}\n  ]\n}\n",
    )
    .expect("write");
    let bad = bad.display().to_string();
    let stderr = usage_error(&[
        "simulate",
        "--policy",
        &bad,
        "--principal",
        ROLE,
        "--action",
        "s3:GetObject",
        "--resource",
        OBJECT,
    ]);
    assert!(stderr.contains(&format!("{bad}:4:")), "{stderr}");
    assert!(stderr.contains("invalid JSON"), "{stderr}");
}

#[test]
fn structurally_invalid_policy_names_the_element() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bad = tmp.path().join("typo.json");
    std::fs::write(
        &bad,
        "{\"Version\": \"2012-10-17\", \"Statement\": [\n  {\"Effect\": \"Alow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}\n]}\n",
    )
    .expect("write");
    let bad = bad.display().to_string();
    let stderr = usage_error(&[
        "simulate",
        "--permissions-boundary",
        &bad,
        "--policy",
        &policy("id-none.json").display().to_string(),
        "--principal",
        ROLE,
        "--action",
        "s3:GetObject",
        "--resource",
        OBJECT,
    ]);
    assert!(
        stderr.contains(&format!(
            "{bad}:2:14: Statement[0].Effect: expected \"Allow\" or \"Deny\", found \"Alow\""
        )),
        "{stderr}"
    );
}

#[test]
fn missing_policy_file() {
    let stderr = usage_error(&[
        "simulate",
        "--policy",
        "/nonexistent/policy.json",
        "--principal",
        ROLE,
        "--action",
        "s3:GetObject",
        "--resource",
        OBJECT,
    ]);
    assert!(stderr.contains("/nonexistent/policy.json"), "{stderr}");
    assert!(stderr.contains("no such file"), "{stderr}");
}

#[test]
fn malformed_principal_arn() {
    let stderr = usage_error(&[
        "simulate",
        "--policy",
        &policy("id-none.json").display().to_string(),
        "--principal",
        "aoc-access",
        "--action",
        "s3:GetObject",
        "--resource",
        OBJECT,
    ]);
    assert_eq!(
        stderr.trim_end(),
        "aoc-preflight: error: --principal: `aoc-access` is not an ARN (expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)"
    );
}

#[test]
fn malformed_resource_action_and_context() {
    let p = policy("id-none.json").display().to_string();
    let base = ["simulate", "--policy", &p, "--principal", ROLE];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        usage_error(&args)
    };
    let e = run(&["--action", "s3:GetObject", "--resource", "aoc-bucket/x"]);
    assert!(
        e.contains("--resource: `aoc-bucket/x` is not an ARN"),
        "{e}"
    );
    let e = run(&["--action", "GetObject", "--resource", OBJECT]);
    assert!(e.contains("--action: `GetObject` is not an action"), "{e}");
    let e = run(&[
        "--action",
        "s3:GetObject",
        "--resource",
        OBJECT,
        "--context",
        "sts:ExternalId",
    ]);
    assert!(
        e.contains("--context: `sts:ExternalId` is not KEY=VALUE"),
        "{e}"
    );
    let e = run(&[
        "--action",
        "s3:GetObject",
        "--resource",
        OBJECT,
        "--resource-account",
        "1234",
    ]);
    assert!(e.contains("--resource-account"), "{e}");
}

#[test]
fn url_encoded_policy_file_is_accepted() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let encoded = tmp.path().join("encoded.json");
    // As GetRolePolicy returns it (RFC 3986).
    std::fs::write(
        &encoded,
        "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D\n",
    )
    .expect("write");
    let out = bin()
        .args([
            "simulate",
            "--policy",
            &encoded.display().to_string(),
            "--principal",
            ROLE,
            "--action",
            "s3:GetObject",
            "--resource",
            OBJECT,
            "--format",
            "json",
        ])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON");
    assert_eq!(v["decision"], "allowed");
}
