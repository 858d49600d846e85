//! Issue 12: the organization's SCPs and RCPs, offline, through the binary: `check --scp/--rcp`
//! at their levels, the management account's exemption, the fixes, bad input, and `simulate`
//! with the same flags. Fixtures in `tests/fixtures/org/`.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::bin;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn seed() -> String {
    root().join("examples/seed/aoc.toml").display().to_string()
}

fn org(name: &str) -> String {
    root()
        .join("tests/fixtures/org")
        .join(name)
        .display()
        .to_string()
}

const ROLE: &str = "arn:aws:iam::239600258224:role/aspera-kms-access";
const SESSION: &str = "arn:aws:sts::239600258224:assumed-role/aspera-kms-access/s";
const KEY: &str = "arn:aws:kms:us-east-1:239600258224:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46";
const AOC: &str = "arn:aws:iam::860559707280:role/atp-aws-us-east-1-ts-atc-node";

/// `check --offline` of the seed example with these extra flags: exit code and the
/// `org.policies` entry of the JSON report.
fn org_check(extra: &[&str]) -> (i32, Value) {
    let out = bin()
        .args([
            "check",
            "--offline",
            "--format",
            "json",
            "--config",
            &seed(),
        ])
        .args(extra)
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let check = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["id"] == "org.policies")
        .cloned()
        .expect("org.policies reported");
    (out.status.code().unwrap_or(-1), check)
}

fn text(check: &Value) -> String {
    serde_json::to_string_pretty(check).unwrap_or_default()
}

#[test]
fn without_policies_it_is_skip_and_says_how_to_give_them() {
    let (code, check) = org_check(&[]);
    assert_eq!(code, 0);
    assert_eq!(check["status"], "skip", "{}", text(&check));
    let summary = check["summary"].as_str().unwrap_or("");
    assert!(summary.contains("--scp [LEVEL=]FILE"), "{summary}");
    assert!(summary.contains("ou:PATH"), "{summary}");
}

#[test]
fn full_aws_access_alone_passes() {
    let (code, check) = org_check(&["--scp", "FullAWSAccess"]);
    assert_eq!(code, 0, "{}", text(&check));
    assert_eq!(check["status"], "pass", "{}", text(&check));
}

#[test]
fn a_region_deny_without_the_buckets_region_fails_and_exempts_the_role() {
    let (code, check) = org_check(&["--scp", &org("deny-regions.json")]);
    assert_eq!(code, 1);
    assert_eq!(check["status"], "fail", "{}", text(&check));
    let all = text(&check);
    assert!(all.contains("DenyAllOutsideEU"), "{all}");
    assert!(all.contains("root Root"), "{all}");
    assert!(all.contains("s3:PutObject"), "{all}");
    assert!(all.contains("kms:GenerateDataKey"), "{all}");
    let fix = &check["fixes"][0]["document"];
    // The region list stays the organization's; only AoC's role is exempted from the Deny.
    assert_eq!(
        fix["Statement"][0]["Condition"]["StringNotEquals"]["aws:RequestedRegion"],
        serde_json::json!(["eu-central-1", "eu-west-1"]),
        "{all}"
    );
    assert_eq!(
        fix["Statement"][0]["Condition"]["ArnNotLike"]["aws:PrincipalArn"], ROLE,
        "{all}"
    );
    // The Deny stays a Deny.
    assert_eq!(fix["Statement"][0]["Effect"], "Deny");
    // Adding the region is a note, the wider alternative.
    assert!(all.contains("Alternative, wider: add us-east-1"), "{all}");
}

#[test]
fn a_kms_deny_at_an_ou_fails_and_names_the_ou_and_the_policy_id() {
    let scp = format!("ou:Sales/Prod={}", org("p-nokms123.json"));
    let (code, check) = org_check(&["--scp", &scp]);
    assert_eq!(code, 1);
    assert_eq!(check["status"], "fail", "{}", text(&check));
    let summary = check["summary"].as_str().unwrap_or("");
    assert!(summary.contains("OU Sales/Prod"), "{summary}");
    assert!(summary.contains("(p-nokms123)"), "{summary}");
    assert!(summary.contains("kms:Decrypt"), "{summary}");
    assert!(!summary.contains("s3:PutObject"), "{summary}");
}

#[test]
fn an_ou_whose_scps_do_not_allow_kms_denies() {
    let scp = format!("ou:Sales={}", org("allow-s3-ec2.json"));
    let (code, check) = org_check(&["--scp", &scp]);
    assert_eq!(code, 1);
    assert_eq!(check["status"], "fail", "{}", text(&check));
    let summary = check["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains("No service control policy at OU Sales allows"),
        "{summary}"
    );
    // With FullAWSAccess kept next to the allow-list, it passes.
    let (code, check) = org_check(&["--scp", &scp, "--scp", "ou:Sales=FullAWSAccess"]);
    assert_eq!(
        (code, check["status"].as_str()),
        (0, Some("pass")),
        "{}",
        text(&check)
    );
}

#[test]
fn an_rcp_perimeter_without_aocs_exception_fails_and_the_fix_passes() {
    let (code, check) = org_check(&["--rcp", &org("p-perim1234.json")]);
    assert_eq!(code, 1);
    assert_eq!(check["status"], "fail", "{}", text(&check));
    let summary = check["summary"].as_str().unwrap_or("");
    assert!(summary.contains("resource control policy"), "{summary}");
    assert!(summary.contains("AoC's sts:AssumeRole"), "{summary}");
    let all = text(&check);
    assert!(
        all.contains(
            "aws organizations update-policy --policy-id p-perim1234 --content file://p-perim1234.json"
        ),
        "{all}"
    );
    // Apply the proposed policy: it passes, and the perimeter is still there.
    let fixed = &check["fixes"][0]["document"];
    assert_eq!(fixed["Statement"][0]["Effect"], "Deny");
    assert_eq!(fixed["Statement"][0]["Principal"], "*");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p-perim1234.json");
    std::fs::write(&path, serde_json::to_string_pretty(fixed).unwrap()).unwrap();
    let (code, check) = org_check(&["--rcp", &path.display().to_string()]);
    assert_eq!(
        (code, check["status"].as_str()),
        (0, Some("pass")),
        "{}",
        text(&check)
    );
    // The exception written by hand passes too.
    let (code, check) = org_check(&["--rcp", &org("perimeter-with-aoc.json")]);
    assert_eq!(
        (code, check["status"].as_str()),
        (0, Some("pass")),
        "{}",
        text(&check)
    );
}

#[test]
fn the_management_account_is_exempt_and_a_member_is_said_to_be_assumed() {
    let scp = format!("ou:Sales/Prod={}", org("p-nokms123.json"));
    let (code, check) = org_check(&["--scp", &scp, "--org-management-account", "239600258224"]);
    assert_eq!(code, 0, "{}", text(&check));
    assert_eq!(check["status"], "pass", "{}", text(&check));
    assert!(
        text(&check).contains("management account"),
        "{}",
        text(&check)
    );
    let (_, check) = org_check(&["--scp", "FullAWSAccess"]);
    assert!(
        text(&check).contains("taken to be a member"),
        "{}",
        text(&check)
    );
}

#[test]
fn an_undecidable_condition_warns() {
    let (code, check) = org_check(&["--scp", &org("only-office-ip.json")]);
    assert_eq!(code, 0, "{}", text(&check));
    assert_eq!(check["status"], "warn", "{}", text(&check));
    assert!(text(&check).contains("aws:SourceIp"), "{}", text(&check));
}

#[test]
fn bad_input_is_a_usage_error_naming_the_place() {
    let out = bin()
        .args(["check", "--offline", "--config", &seed(), "--scp"])
        .arg(org("broken.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.json:4:"), "{err}");

    let out = bin()
        .args(["check", "--offline", "--config", &seed()])
        .args(["--scp", "ou:=x.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    // A mistyped level is not taken for part of a file name.
    let out = bin()
        .args(["check", "--offline", "--config", &seed()])
        .args(["--scp", &format!("OU:Sales={}", org("p-nokms123.json"))])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ou:Name/Path"), "{err}");
    assert!(!err.contains("no such file"), "{err}");

    // An SCP given as an RCP: AWS would reject it; the file and statement are named.
    let out = bin()
        .args(["check", "--offline", "--config", &seed()])
        .args(["--rcp", &org("p-nokms123.json")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("p-nokms123.json (--rcp)"), "{err}");
    assert!(err.contains("statement 0 (Sid \"NoKms\")"), "{err}");

    let a = format!("ou:Sales={}", org("p-nokms123.json"));
    let b = format!("ou:Marketing={}", org("p-nokms123.json"));
    let out = bin()
        .args([
            "check",
            "--offline",
            "--config",
            &seed(),
            "--scp",
            &a,
            "--scp",
            &b,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("one path"));

    // Live mode reads them from AWS: files are for offline mode.
    let out = bin()
        .args(["check", "--region", "us-east-1", "--bucket", "aspera-kms"])
        .args([
            "--kms-key",
            KEY,
            "--role-arn",
            ROLE,
            "--scp",
            "FullAWSAccess",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--scp/--rcp"));
}

#[test]
fn the_config_file_takes_scps_and_rcps_relative_to_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(org("p-nokms123.json"), dir.path().join("p-nokms123.json")).unwrap();
    let seed_dir = root().join("examples/seed");
    let config = format!(
        r#"[[attachment]]
region = "us-east-1"
bucket = "aspera-kms"
kms_key = "{KEY}"
role_arn = "{ROLE}"
trust_policy = "{trust}"
scps = ["ou:Sales=p-nokms123.json"]
org_management_account = "999988887777"
"#,
        trust = seed_dir.join("aoc-trust-policy.json").display()
    );
    let path = dir.path().join("aoc.toml");
    std::fs::write(&path, config).unwrap();
    let out = bin()
        .args([
            "check",
            "--offline",
            "--format",
            "json",
            "--only",
            "org.policies",
            "--config",
        ])
        .arg(&path)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let check = &report["checks"][0];
    assert_eq!(check["status"], "fail", "{}", text(check));
    assert!(text(check).contains("OU Sales"), "{}", text(check));
}

fn simulate(args: &[&str]) -> (i32, Value) {
    let out = bin()
        .args(["simulate", "--format", "json"])
        .args(args)
        .output()
        .expect("runs");
    let value: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), value)
}

#[test]
fn simulate_with_an_scp_at_an_ou() {
    let identity = root()
        .join("examples/seed/kms-policy.json")
        .display()
        .to_string();
    let key_policy = root()
        .join("examples/seed/key-policy.json")
        .display()
        .to_string();
    let base = [
        "--policy",
        &identity,
        "--resource-policy",
        &key_policy,
        "--principal",
        SESSION,
        "--action",
        "kms:Decrypt",
        "--resource",
        KEY,
    ];
    let (_, without) = simulate(&base);
    let scp = format!("ou:Sales/Prod={}", org("p-nokms123.json"));
    let mut with = base.to_vec();
    with.extend(["--scp", &scp]);
    let (code, answer) = simulate(&with);
    assert_eq!(code, 0);
    assert_eq!(answer["decision"], "explicitDeny", "{answer:#}");
    let why = answer["explanation"].as_str().unwrap_or("");
    assert!(why.contains("service control policy"), "{why}");
    assert!(why.contains("OU Sales/Prod"), "{why}");
    // The same request without the SCP: the organization changed the answer.
    assert_ne!(without["decision"], "explicitDeny", "{without:#}");
    // The management account's principals are not limited by it.
    with.extend(["--org-management-account", "239600258224"]);
    let (_, answer) = simulate(&with);
    assert_eq!(answer["decision"], without["decision"], "{answer:#}");
}

#[test]
fn simulate_with_an_rcp_perimeter_on_assume_role() {
    let trust = root()
        .join("examples/seed/role-trust-policy.json")
        .display()
        .to_string();
    let external_id = std::fs::read_to_string(root().join("examples/seed/role-trust-policy.json"))
        .unwrap()
        .split("sts:ExternalId\": \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string();
    let context = format!("sts:ExternalId={external_id}");
    // AoC's own identity policy, in IBM's account, allows it: only the customer's side decides.
    let aoc_identity = org("aoc-identity.json");
    let base = [
        "--policy",
        &aoc_identity,
        "--resource-policy",
        &trust,
        "--principal",
        AOC,
        "--action",
        "sts:AssumeRole",
        "--resource",
        ROLE,
        "--context",
        &context,
        "--context",
        "aws:PrincipalIsAWSService=false",
    ];
    let (_, without) = simulate(&base);
    assert_eq!(without["decision"], "allowed", "{without:#}");
    let rcp = org("p-perim1234.json");
    let mut with = base.to_vec();
    with.extend(["--rcp", &rcp]);
    let (_, answer) = simulate(&with);
    assert_eq!(answer["decision"], "explicitDeny", "{answer:#}");
    assert!(
        answer["explanation"]
            .as_str()
            .unwrap_or("")
            .contains("resource control policy p-perim1234"),
        "{answer:#}"
    );
    let excepted = org("perimeter-with-aoc.json");
    let mut with = base.to_vec();
    with.extend(["--rcp", &excepted]);
    let (_, answer) = simulate(&with);
    assert_eq!(answer["decision"], "allowed", "{answer:#}");
}

#[test]
fn generate_prints_the_rcp_exception_and_merged_it_passes() {
    let out = bin()
        .args([
            "generate",
            "--format",
            "json",
            "--rcp-exception",
            "--config",
            &seed(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    // AoC's principal only, not IBM's whole shared account.
    let condition = &answer["document"]["Condition"]["ArnNotLike"];
    assert_eq!(
        condition["aws:PrincipalArn"],
        serde_json::json!(["arn:aws:iam::860559707280:role/atp-aws-us-east-1-ts-atc-node"])
    );
    assert!(!answer.to_string().contains("aws:PrincipalAccount"));
    // Merged into the perimeter's Deny statement, AoC passes and the Deny is still there.
    let mut policy: Value =
        serde_json::from_str(&std::fs::read_to_string(org("p-perim1234.json")).unwrap()).unwrap();
    policy["Statement"][0]["Condition"]["ArnNotLike"] = condition.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p-perim1234.json");
    std::fs::write(&path, policy.to_string()).unwrap();
    let (code, check) = org_check(&["--rcp", &path.display().to_string()]);
    assert_eq!(
        (code, check["status"].as_str()),
        (0, Some("pass")),
        "{}",
        text(&check)
    );

    // Without AoC's principal there is no account to except.
    let out = bin()
        .args([
            "generate",
            "--rcp-exception",
            "--region",
            "us-east-1",
            "--bucket",
            "b",
        ])
        .args(["--kms-key", KEY, "--role-arn", ROLE])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--aoc-principal"));
}

#[test]
fn generate_rcp_exception_text_is_valid_json_on_stdout_and_needs_only_aocs_principal() {
    let out = bin()
        .args([
            "generate",
            "--rcp-exception",
            "--aoc-principal",
            "arn:aws:iam::860559707280:role/atp-aws-us-east-1-ts-atc-node",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON alone");
    assert!(doc["Condition"]["ArnNotLike"]["aws:PrincipalArn"].is_array());
    assert!(String::from_utf8_lossy(&out.stderr).contains("# The exception"));
}
