//! `simulate` end to end, through the real binary: the policy-evaluation corpus in
//! `tests/fixtures/simulate/cases.json` (each case names its policy files, the request and the
//! decision AWS's documented rules give, with the rule in one line), the text output, and
//! bad input (exit 2, one line on stderr, never a panic).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::bin;

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

/// `--requests`: the whole corpus again, one process per set of policies, every request of
/// the set as one line; each answer must be the case's decision, in the file's order.
#[test]
fn the_corpus_in_batches_gives_the_same_decisions() {
    let text = std::fs::read_to_string(dir().join("cases.json")).expect("cases.json readable");
    let data: Value = serde_json::from_str(&text).expect("cases.json is JSON");
    let cases = data["cases"].as_array().expect("a cases array");
    // Cases grouped by the policies they are evaluated against, in first-seen order.
    let mut groups: Vec<(String, Vec<&Value>)> = Vec::new();
    for case in cases {
        let key = format!(
            "{}|{}|{}",
            case["policies"], case["boundary"], case["resource_policy"]
        );
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(case),
            None => groups.push((key, vec![case])),
        }
    }
    assert!(
        groups.iter().any(|(_, m)| m.len() > 3),
        "some policy sets serve several requests"
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut failures = Vec::new();
    for (n, (_, members)) in groups.iter().enumerate() {
        let lines: Vec<String> = members
            .iter()
            .map(|c| {
                let mut line = serde_json::json!({
                    "principal": c["principal"],
                    "action": c["action"],
                    "resource": c["resource"],
                });
                if let Some(a) = c["resource_account"].as_str() {
                    line["resourceAccount"] = a.into();
                }
                if c["context"].is_object() {
                    line["context"] = c["context"].clone();
                }
                line.to_string()
            })
            .collect();
        let file = tmp.path().join(format!("group-{n}.jsonl"));
        std::fs::write(&file, lines.join("\n") + "\n").expect("write requests");
        // The policy flags of the group's first case; the request flags are replaced.
        let mut args: Vec<String> = case_args(members[0]).expect("a well-formed case");
        let cut = args
            .iter()
            .position(|a| a == "--principal")
            .expect("a --principal flag");
        args.truncate(cut);
        args.extend([
            "--requests".to_string(),
            file.display().to_string(),
            "--format".to_string(),
            "json".to_string(),
        ]);
        let out = bin().args(&args).output().expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let answers: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is one JSON answer"))
            .collect();
        assert_eq!(answers.len(), members.len(), "one answer per request");
        for (case, answer) in members.iter().zip(&answers) {
            assert_eq!(answer["action"], case["action"], "answers keep the order");
            if answer["decision"] != case["expected"] {
                failures.push(format!(
                    "{}: expected {}, got {} ({})",
                    case["name"], case["expected"], answer["decision"], answer["explanation"]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn batch_text_is_a_table_with_one_row_per_request() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("requests.jsonl");
    std::fs::write(
        &file,
        format!(
            "{{\"principal\": \"{ROLE}\", \"action\": \"s3:GetObject\", \"resource\": \"{OBJECT}\"}}\n\n\
             {{\"principal\": \"{ROLE}\", \"action\": \"s3:DeleteBucket\", \"resource\": \"arn:aws:s3:::aoc-bucket\", \
             \"context\": {{\"aws:SecureTransport\": true, \"s3:prefix\": [\"a/\", \"b/\"]}}}}\n"
        ),
    )
    .expect("write");
    let out = bin()
        .args(["simulate", "--policy"])
        .arg(policy("id-s3-star.json"))
        .arg("--requests")
        .arg(&file)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(
        rows.len(),
        3,
        "a header and two rows (blank line skipped): {text}"
    );
    assert_eq!(
        rows[0],
        ["decision", "principal", "action", "resource", "why"]
    );
    assert_eq!(rows[1][..3], ["allowed", ROLE, "s3:GetObject"]);
    assert_eq!(rows[2][0], "allowed", "s3:* covers DeleteBucket: {text}");
    assert!(rows.iter().all(|r| r.len() == 5), "{text}");
}

#[test]
fn batch_errors_name_the_line_and_print_nothing_else() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let good = format!(
        "{{\"principal\": \"{ROLE}\", \"action\": \"s3:GetObject\", \"resource\": \"{OBJECT}\"}}"
    );
    let cases: [(&str, String, &str); 6] = [
        (
            "truncated",
            format!("{good}\n\n{{\"principal\": \"{ROLE}\",\n"),
            ":3:",
        ),
        (
            "unknown-field",
            format!(
                "{good}\n{{\"principal\": \"{ROLE}\", \"action\": \"s3:GetObject\", \"resource\": \"{OBJECT}\", \"Context\": {{}}}}\n"
            ),
            ":2:",
        ),
        (
            "bad-action",
            format!(
                "{good}\n{{\"principal\": \"{ROLE}\", \"action\": \"s3:*\", \"resource\": \"{OBJECT}\"}}\n"
            ),
            ":2:1: action: ",
        ),
        (
            "object-context",
            format!(
                "{{\"principal\": \"{ROLE}\", \"action\": \"s3:GetObject\", \"resource\": \"{OBJECT}\", \"context\": {{\"k\": {{}}}}}}\n"
            ),
            ":1:1: context key `k`",
        ),
        (
            "bad-account",
            format!(
                "{{\"principal\": \"{ROLE}\", \"action\": \"s3:GetObject\", \"resource\": \"{OBJECT}\", \"resourceAccount\": \"12\"}}\n"
            ),
            ":1:1: resourceAccount: ",
        ),
        ("empty", "\n\n".to_string(), "no request in the file"),
    ];
    for (name, body, expected) in cases {
        let file = tmp.path().join(format!("{name}.jsonl"));
        std::fs::write(&file, body).expect("write");
        let stderr = usage_error(&[
            "simulate",
            "--policy",
            policy("id-s3-star.json").to_str().expect("utf-8 path"),
            "--requests",
            file.to_str().expect("utf-8 path"),
        ]);
        assert!(
            stderr.contains(&format!("{name}.jsonl")) && stderr.contains(expected),
            "{name}: {stderr}"
        );
    }
    // The flags of a single request do not mix with a batch.
    bin()
        .args(["simulate", "--policy"])
        .arg(policy("id-s3-star.json"))
        .args(["--requests", "-", "--principal", ROLE])
        .assert()
        .code(2);
}

const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// `simulate` with these arguments, which must succeed: its standard output.
fn simulate_ok(args: &[&str]) -> String {
    let out = bin().arg("simulate").args(args).assert().success();
    String::from_utf8_lossy(&out.get_output().stdout).into_owned()
}

#[test]
fn issue11_d8a_kms_without_key_policy_is_denied_and_says_what_was_missing() {
    let id = policy("id-kms-key.json").display().to_string();
    let args = |format: &str| {
        simulate_ok(&[
            "--policy",
            &id,
            "--principal",
            ROLE,
            "--action",
            "kms:Decrypt",
            "--resource",
            KEY,
            "--format",
            format,
        ])
    };
    let v: Value = serde_json::from_str(&args("json")).expect("JSON");
    assert_eq!(v["decision"], "implicitDeny", "{v}");
    assert_eq!(
        v["missingPolicies"],
        serde_json::json!(["key policy"]),
        "{v}"
    );
    let why = v["explanation"].as_str().expect("explanation");
    assert!(
        why.contains("no key policy given")
            && why.contains("KMS allows nothing unless the key policy allows it")
            && why.contains("identity side: allowed by identity policy"),
        "{why}"
    );
    assert!(!why.contains("which was not checked"), "{why}");
    let text = args("text");
    assert!(text.starts_with("Decision:  implicitDeny\n"), "{text}");
    assert!(
        text.contains("\nMissing:   key policy (not given"),
        "{text}"
    );
}

#[test]
fn issue11_d8a_cross_account_without_resource_policy_names_it_missing() {
    let v: Value = serde_json::from_str(&simulate_ok(&[
        "--policy",
        &policy("id-s3-star.json").display().to_string(),
        "--principal",
        "arn:aws:iam::444455556666:role/partner",
        "--action",
        "s3:GetObject",
        "--resource",
        OBJECT,
        "--resource-account",
        "111122223333",
        "--format",
        "json",
    ]))
    .expect("JSON");
    assert_eq!(v["decision"], "implicitDeny");
    assert_eq!(v["missingPolicies"], serde_json::json!(["resource policy"]));
    // Given everything it needs, nothing is missing.
    let v: Value = serde_json::from_str(&simulate_ok(&[
        "--policy",
        &policy("id-kms-key.json").display().to_string(),
        "--resource-policy",
        &policy("kp-default-root.json").display().to_string(),
        "--principal",
        ROLE,
        "--action",
        "kms:Decrypt",
        "--resource",
        KEY,
        "--format",
        "json",
    ]))
    .expect("JSON");
    assert_eq!(v["decision"], "allowed");
    assert_eq!(v["missingPolicies"], serde_json::json!([]));
}

#[test]
fn issue11_d8c_star_resource_only_for_actions_without_a_resource() {
    let id = policy("id-list-resourceless.json").display().to_string();
    let text = simulate_ok(&[
        "--policy",
        &id,
        "--principal",
        ROLE,
        "--action",
        "kms:ListKeys",
        "--resource",
        "*",
    ]);
    assert!(text.starts_with("Decision:  allowed\n"), "{text}");
    // An action that acts on a resource still needs its ARN.
    let e = usage_error(&[
        "simulate",
        "--policy",
        &id,
        "--principal",
        ROLE,
        "--action",
        "s3:GetObject",
        "--resource",
        "*",
    ]);
    assert!(
        e.contains("--resource: `*` is only for actions that take no resource")
            && e.contains("s3:ListAllMyBuckets")
            && e.contains("s3:GetObject"),
        "{e}"
    );
}

#[test]
fn issue11_d8d_policy_is_optional_with_a_resource_policy_or_boundary() {
    let text = simulate_ok(&[
        "--resource-policy",
        &policy("bp-allow-role.json").display().to_string(),
        "--principal",
        ROLE,
        "--action",
        "s3:GetObject",
        "--resource",
        OBJECT,
    ]);
    assert!(text.starts_with("Decision:  allowed\n"), "{text}");
    // With none of the three, there is nothing to evaluate: still a usage error.
    let out = bin()
        .args([
            "simulate",
            "--principal",
            ROLE,
            "--action",
            "s3:GetObject",
            "--resource",
            OBJECT,
        ])
        .assert()
        .code(2);
    assert!(out.get_output().stdout.is_empty());
}
