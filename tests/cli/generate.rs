//! `generate` end to end, through the binary. The key property (issue 4): every document it
//! writes passes `check --offline` for the same attachment, for several shapes of attachment
//! (paths, regions, partitions, the direct-access model, a key in another account, an alias
//! with --key-arn). Also: the JSON and Terraform formats, and bad input as one-line usage
//! errors with exit 2.

use std::path::{Path, PathBuf};

use crate::support::bin;
use serde_json::{Value, json};

const KEY_ID: &str = "65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46";
const ACCOUNT: &str = "239600258224";
const IBM_ACCOUNT: &str = "860559707280";
const EXTERNAL_ID: &str = "3b6f5a1c-9d2e-4f8a-b7c6-0e1d2c3b4a59";

/// The checks `check --offline` can decide from documents alone.
const OFFLINE_CHECKS: &[&str] = &[
    "input.values",
    "bucket.region",
    "bucket.policy",
    "kms.key-policy",
    "role.s3-access",
    "role.kms-access",
    "role.trust",
];

/// One attachment, as the admin would enter it in AoC.
#[derive(Clone)]
struct Spec {
    region: &'static str,
    partition: &'static str,
    bucket: &'static str,
    path: &'static str,
    role_account: &'static str,
    key_account: &'static str,
    /// Give the key as an alias ARN (and the key ARN with --key-arn).
    alias: bool,
    /// Give AoC's trust as the JSON file the AoC page shows, else as --external-id and
    /// --aoc-principal.
    trust_as_file: bool,
    direct: bool,
    extra: &'static [&'static str],
}

impl Spec {
    fn new(region: &'static str, partition: &'static str, path: &'static str) -> Spec {
        Spec {
            region,
            partition,
            bucket: "aspera-kms",
            path,
            role_account: ACCOUNT,
            key_account: ACCOUNT,
            alias: false,
            trust_as_file: false,
            direct: false,
            extra: &[],
        }
    }

    fn key_arn(&self) -> String {
        format!(
            "arn:{}:kms:{}:{}:key/{KEY_ID}",
            self.partition, self.region, self.key_account
        )
    }

    fn alias_arn(&self) -> String {
        format!(
            "arn:{}:kms:{}:{}:alias/aspera-kms",
            self.partition, self.region, self.key_account
        )
    }

    fn role_arn(&self) -> String {
        format!(
            "arn:{}:iam::{}:role/aspera-kms-access",
            self.partition, self.role_account
        )
    }

    /// IBM's transfer-node role carries the region in its name.
    fn aoc_principal(&self) -> String {
        format!(
            "arn:{}:iam::{IBM_ACCOUNT}:role/atp-aws-{}-ts-atc-node",
            self.partition, self.region
        )
    }

    /// The trust policy the AoC page shows (docs/aws-facts.md, "AoC's trust policy and external ID").
    fn aoc_trust_json(&self) -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": { "AWS": self.aoc_principal() },
                "Action": "sts:AssumeRole",
                "Condition": { "StringEquals": { "sts:ExternalId": EXTERNAL_ID } }
            }]
        })
    }

    /// The attachment flags, shared by `generate` and `check`. `check` gets the key ARN: with
    /// an alias, offline `check` cannot know the key behind it.
    fn attachment_args(&self, dir: &Path, for_check: bool) -> Vec<String> {
        let mut args = vec![
            "--region".to_string(),
            self.region.to_string(),
            "--bucket".into(),
            self.bucket.into(),
            "--path".into(),
            self.path.into(),
            "--role-arn".into(),
            self.role_arn(),
            "--kms-key".into(),
        ];
        if self.alias && !for_check {
            args.extend([self.alias_arn(), "--key-arn".into(), self.key_arn()]);
        } else {
            args.push(self.key_arn());
        }
        if self.trust_as_file {
            let file = dir.join("aoc-trust-from-the-aoc-page.json");
            write_json(&file, &self.aoc_trust_json());
            args.extend(["--trust-policy".into(), file.display().to_string()]);
        } else {
            args.extend([
                "--aoc-principal".into(),
                self.aoc_principal(),
                "--external-id".into(),
                EXTERNAL_ID.into(),
            ]);
        }
        args
    }
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Runs `generate --output-dir DIR/out` for the spec; returns the directory.
fn generate(spec: &Spec, dir: &Path) -> PathBuf {
    let out = dir.join("out");
    let mut cmd = bin();
    cmd.arg("generate")
        .args(spec.attachment_args(dir, false))
        .args(spec.extra)
        .arg("--output-dir")
        .arg(&out);
    if spec.direct {
        cmd.args(["--model", "direct"]);
    }
    let output = cmd.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "generate failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

/// `check --offline --format json` of the spec against the documents in `out`, with
/// `key_policy` as the key policy.
fn check(spec: &Spec, dir: &Path, out: &Path, key_policy: &Path) -> Value {
    let bucket_policy = if out.join("bucket-policy.json").exists() {
        out.join("bucket-policy.json")
    } else {
        // No bucket policy generated (assume-role, one account): judge the role's documents
        // with the policy most buckets have, which denies requests without TLS.
        let p = dir.join("existing-bucket-policy.json");
        let arn = format!("arn:{}:s3:::{}", spec.partition, spec.bucket);
        write_json(
            &p,
            &json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [arn.clone(), format!("{arn}/*")],
                    "Condition": { "Bool": { "aws:SecureTransport": "false" } }
                }]
            }),
        );
        p
    };
    let output = bin()
        .args(["check", "--offline", "--format", "json"])
        .args(spec.attachment_args(dir, true))
        .arg("--identity-policy")
        .arg(out.join("aoc-s3-access.json"))
        .arg("--identity-policy")
        .arg(out.join("aoc-kms-access.json"))
        .arg("--key-policy")
        .arg(key_policy)
        .arg("--role-trust-policy")
        .arg(out.join("aoc-trust.json"))
        .arg("--bucket-policy")
        .arg(bucket_policy)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "check did not print JSON ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn check_of<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no check {id} in {report}"))
}

/// The key policy made of the generated statements that grant the role (and AoC's
/// principal), without the default root statement: they alone must give the role the key.
fn statements_only_key_policy(out: &Path, dir: &Path) -> PathBuf {
    let mut kp = read_json(&out.join("key-policy.json"));
    let statements: Vec<Value> = kp["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|st| st["Sid"] != "Enable IAM User Permissions")
        .cloned()
        .collect();
    assert!(!statements.is_empty(), "{kp}");
    kp["Statement"] = Value::Array(statements);
    let path = dir.join("key-policy-statement-only.json");
    write_json(&path, &kp);
    path
}

/// Generates for the spec and asserts every offline-decidable check passes, with the
/// generated key policy and with only its statement for the role.
fn assert_generated_documents_pass(spec: &Spec) {
    let dir = tempfile::tempdir().unwrap();
    let out = generate(spec, dir.path());
    for key_policy in [
        out.join("key-policy.json"),
        statements_only_key_policy(&out, dir.path()),
    ] {
        let report = check(spec, dir.path(), &out, &key_policy);
        for id in OFFLINE_CHECKS {
            let c = check_of(&report, id);
            assert_eq!(
                c["status"],
                "pass",
                "{id} is not pass for region {} path {} (key policy {}):\n{}",
                spec.region,
                spec.path,
                key_policy.display(),
                serde_json::to_string_pretty(c).unwrap()
            );
        }
        assert_eq!(report["summary"]["fail"], 0, "{report}");
    }
}

#[test]
fn documents_pass_check_for_the_whole_bucket() {
    assert_generated_documents_pass(&Spec::new("us-east-1", "aws", "/"));
}

#[test]
fn documents_pass_check_for_a_path_with_the_trust_policy_pasted_from_aoc() {
    let spec = Spec {
        trust_as_file: true,
        ..Spec::new("us-east-1", "aws", "/data/in")
    };
    assert_generated_documents_pass(&spec);
}

#[test]
fn documents_pass_check_in_another_region() {
    assert_generated_documents_pass(&Spec::new("eu-west-1", "aws", "/data"));
}

#[test]
fn documents_pass_check_in_another_partition() {
    let spec = Spec {
        trust_as_file: true,
        ..Spec::new("us-gov-west-1", "aws-us-gov", "/data/in")
    };
    assert_generated_documents_pass(&spec);
}

#[test]
fn documents_pass_check_with_the_direct_model() {
    let spec = Spec {
        direct: true,
        ..Spec::new("us-east-1", "aws", "/data")
    };
    assert_generated_documents_pass(&spec);
}

#[test]
fn documents_pass_check_with_the_key_and_bucket_in_another_account_than_the_role() {
    let spec = Spec {
        key_account: "444455556666",
        ..Spec::new("us-east-1", "aws", "/")
    };
    assert_generated_documents_pass(&spec);
}

#[test]
fn documents_pass_check_for_an_alias_given_with_its_key_arn() {
    let spec = Spec {
        alias: true,
        ..Spec::new("eu-west-1", "aws", "/in")
    };
    assert_generated_documents_pass(&spec);
}

#[test]
fn data_path_kms_actions_leave_only_the_procedure_warning() {
    let spec = Spec {
        extra: &["--kms-actions", "data-path"],
        ..Spec::new("us-east-1", "aws", "/")
    };
    let dir = tempfile::tempdir().unwrap();
    let out = generate(&spec, dir.path());
    let report = check(&spec, dir.path(), &out, &out.join("key-policy.json"));
    let kms = check_of(&report, "role.kms-access");
    assert_eq!(kms["status"], "warn", "{kms}");
    assert!(
        kms["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["reason"] == "recommended-missing"),
        "{kms}"
    );
    assert_eq!(report["summary"]["fail"], 0, "{report}");
}

#[test]
fn json_output_is_one_object_of_valid_policy_documents_equal_to_the_files() {
    let spec = Spec {
        direct: true,
        ..Spec::new("us-east-1", "aws", "/data")
    };
    let dir = tempfile::tempdir().unwrap();
    let output = bin()
        .arg("generate")
        .args(spec.attachment_args(dir.path(), false))
        .args(["--model", "direct", "--format", "json", "--output-dir"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let all: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    let names: Vec<&str> = all
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        [
            "aoc-s3-access",
            "aoc-kms-access",
            "key-policy",
            "aoc-trust",
            "bucket-policy"
        ]
    );
    for (name, doc) in all.as_object().unwrap() {
        assert_eq!(doc["Version"], "2012-10-17", "{name}");
        aoc_preflight::policy::parse_policy(&doc.to_string())
            .unwrap_or_else(|e| panic!("{name} does not parse: {e:?}"));
        assert_eq!(
            &read_json(&dir.path().join("out").join(format!("{name}.json"))),
            doc,
            "{name}.json differs from the JSON output"
        );
    }
    // The KMS policy names the key ARN; the S3 policy scopes objects to the path.
    let kms = all["aoc-kms-access"].to_string();
    assert!(
        kms.contains(&spec.key_arn()) && !kms.contains("alias/"),
        "{kms}"
    );
    assert_eq!(
        all["aoc-s3-access"]["Statement"][0]["Resource"],
        "arn:aws:s3:::aspera-kms/data/*"
    );
    assert_eq!(
        all["bucket-policy"]["Statement"][0]["Principal"]["AWS"],
        spec.aoc_principal()
    );
    assert_eq!(
        all["key-policy"]["Statement"][1]["Condition"]["StringEquals"]["kms:ViaService"],
        "s3.us-east-1.amazonaws.com"
    );
}

#[test]
fn text_output_gives_each_document_with_the_command_that_applies_it() {
    let spec = Spec {
        direct: true,
        ..Spec::new("eu-west-1", "aws", "/")
    };
    let dir = tempfile::tempdir().unwrap();
    let output = bin()
        .arg("generate")
        .args(spec.attachment_args(dir.path(), false))
        .args(["--model", "direct"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    for expected in [
        "S3 access policy for the role (aoc-s3-access.json)",
        "aws iam put-role-policy --role-name aspera-kms-access --policy-name aoc-s3-access --policy-document file://aoc-s3-access.json",
        "aws iam put-role-policy --role-name aspera-kms-access --policy-name aoc-kms-access --policy-document file://aoc-kms-access.json",
        "aws kms put-key-policy --region eu-west-1 --key-id arn:aws:kms:eu-west-1:239600258224:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46 --policy-name default --policy file://key-policy.json",
        "replaces the WHOLE key policy",
        "default key policy",
        "aws iam update-assume-role-policy --role-name aspera-kms-access --policy-document file://aoc-trust.json",
        "aws s3api put-bucket-policy --region eu-west-1 --bucket aspera-kms --policy file://bucket-policy.json",
        "aoc-preflight check --offline",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
}

#[test]
fn assume_role_model_writes_no_bucket_policy() {
    let spec = Spec::new("us-east-1", "aws", "/");
    let dir = tempfile::tempdir().unwrap();
    let out = generate(&spec, dir.path());
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "aoc-kms-access.json",
            "aoc-s3-access.json",
            "aoc-trust.json",
            "key-policy.json"
        ]
    );
}

#[test]
fn terraform_output_has_a_policy_document_per_document() {
    let spec = Spec::new("us-east-1", "aws", "/data");
    let dir = tempfile::tempdir().unwrap();
    let output = bin()
        .arg("generate")
        .args(spec.attachment_args(dir.path(), false))
        .arg("--terraform")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let tf = String::from_utf8(output.stdout).unwrap();
    for expected in [
        "data \"aws_iam_policy_document\" \"aoc_s3_access\" {",
        "data \"aws_iam_policy_document\" \"aoc_kms_access\" {",
        "data \"aws_iam_policy_document\" \"key_policy\" {",
        "data \"aws_iam_policy_document\" \"aoc_trust\" {",
        "    resources = [\"arn:aws:s3:::aspera-kms/data/*\"]\n",
        "  statement {\n    sid    = \"AllowAocRoleUseOfTheKeyViaS3\"\n    effect = \"Allow\"\n",
        "    principals {\n      type        = \"AWS\"\n      identifiers = [\"arn:aws:iam::860559707280:role/atp-aws-us-east-1-ts-atc-node\"]\n    }\n",
        "    condition {\n      test     = \"StringEquals\"\n      variable = \"sts:ExternalId\"\n      values   = [\"3b6f5a1c-9d2e-4f8a-b7c6-0e1d2c3b4a59\"]\n    }\n",
        "policy = data.aws_iam_policy_document.aoc_s3_access.json",
    ] {
        assert!(tf.contains(expected), "missing `{expected}` in:\n{tf}");
    }
    assert!(!tf.contains("bucket_policy"), "{tf}");
    assert_eq!(tf.matches('{').count(), tf.matches('}').count(), "{tf}");
}

#[test]
fn config_file_attachment_is_picked_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("aoc.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[defaults]
region = "us-east-1"
kms_key = "arn:aws:kms:us-east-1:{ACCOUNT}:key/{KEY_ID}"
role_arn = "arn:aws:iam::{ACCOUNT}:role/aspera-kms-access"

[[attachment]]
name = "inbox"
bucket = "aspera-inbox"
path = "/in"

[[attachment]]
name = "outbox"
bucket = "aspera-outbox"
"#
        ),
    )
    .unwrap();
    let output = bin()
        .args(["generate", "--format", "json", "--config"])
        .arg(&config)
        .args(["--attachment", "inbox"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let all: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        all["aoc-s3-access"]["Statement"][0]["Resource"],
        "arn:aws:s3:::aspera-inbox/in/*"
    );
    // Without --attachment, which one is ambiguous.
    let output = bin()
        .args(["generate", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--attachment"), "{stderr}");
}

/// Runs `generate` with the arguments and asserts exit 2, nothing on stdout and exactly one
/// line on stderr; returns that line.
fn usage_error(args: &[&str]) -> String {
    let output = bin().arg("generate").args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(output.stdout.is_empty(), "{args:?}: stdout not empty");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    stderr
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let key = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{KEY_ID}");
    let role = format!("arn:aws:iam::{ACCOUNT}:role/aspera-kms-access");
    let base = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "--region",
            "us-east-1",
            "--bucket",
            "aspera-kms",
            "--kms-key",
            &key,
            "--role-arn",
            &role,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Later flags of the same name would be rejected by clap, so replace instead.
        for pair in extra.chunks(2) {
            match v.iter().position(|a| a == pair[0]) {
                Some(i) if pair.len() == 2 => v[i + 1] = pair[1].to_string(),
                _ => v.extend(pair.iter().map(|s| s.to_string())),
            }
        }
        v
    };
    let run = |extra: &[&str]| {
        let args = base(extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        usage_error(&refs)
    };

    let e = usage_error(&[
        "--region",
        "us-east-1",
        "--kms-key",
        &key,
        "--role-arn",
        &role,
    ]);
    assert!(e.contains("--bucket"), "{e}");
    let e = run(&["--role-arn", "arn:aws:iam::1234:user/bob"]);
    assert!(e.contains("user/bob"), "{e}");
    let e = run(&["--kms-key", "arn:aws:kms:us-east-1:239600258224:key/nope"]);
    assert!(e.contains("key/nope"), "{e}");
    let e = run(&["--region", "us-east-9"]);
    assert!(e.contains("us-east-9"), "{e}");
    let e = run(&["--bucket", "Bad_Bucket\nsecond line"]);
    assert!(e.contains("Bad_Bucket"), "{e}");
    let e = run(&[
        "--kms-key",
        "arn:aws:kms:us-east-1:239600258224:alias/aspera",
    ]);
    assert!(e.contains("--key-arn") && e.contains("alias"), "{e}");
    let e = run(&[
        "--key-arn",
        "arn:aws:kms:us-east-1:239600258224:alias/aspera",
    ]);
    assert!(e.contains("--key-arn"), "{e}");
    let e = run(&["--model", "direct"]);
    assert!(e.contains("--aoc-principal"), "{e}");
    let e = run(&["--external-id", EXTERNAL_ID]);
    assert!(e.contains("--aoc-principal"), "{e}");
    let e = run(&[
        "--aoc-principal",
        "arn:aws:iam::860559707280:role/atp-aws-eu-west-1-ts-atc-node",
        "--external-id",
        EXTERNAL_ID,
    ]);
    assert!(e.contains("eu-west-1"), "{e}");
    let e = run(&["--trust-policy", "/nonexistent/aoc-trust.json"]);
    assert!(e.contains("/nonexistent/aoc-trust.json"), "{e}");
}

/// Issue 11, defect 1: with AoC's principal but not its external ID, `generate` writes no
/// trust policy and `check` compares no external ID: both treat the ID as unknown, and
/// neither offers a trust policy without the `sts:ExternalId` condition.
#[test]
fn issue11_d1_generate_and_check_agree_on_a_principal_without_external_id() {
    let spec = Spec::new("us-east-1", "aws", "/");
    let dir = tempfile::tempdir().unwrap();
    let mut args = spec.attachment_args(dir.path(), false);
    let i = args.iter().position(|a| a == "--external-id").unwrap();
    args.drain(i..i + 2);

    let out = dir.path().join("out");
    let output = bin()
        .arg("generate")
        .args(&args)
        .arg("--output-dir")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("Trust policy for the role: not generated: AoC's external ID was not given"),
        "{text}"
    );
    assert!(!out.join("aoc-trust.json").exists());

    let run_check = |trust: &Value| -> Value {
        let file = dir.path().join("role-trust.json");
        write_json(&file, trust);
        let output = bin()
            .args([
                "check",
                "--offline",
                "--format",
                "json",
                "--only",
                "role.trust",
            ])
            .args(&args)
            .arg("--role-trust-policy")
            .arg(&file)
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        check_of(&report, "role.trust").clone()
    };

    // The role trusts AoC's principal under its own ExternalId condition: not compared.
    let c = run_check(&spec.aoc_trust_json());
    assert_eq!(c["status"], "warn", "{c:#}");
    assert_eq!(
        c["findings"][0]["reason"], "external-id-not-compared",
        "{c:#}"
    );
    assert!(
        c["summary"].as_str().unwrap().contains("not compared"),
        "{c:#}"
    );
    assert_eq!(c["fixes"], json!([]), "{c:#}");

    // Another principal: fails, and the fix keeps the condition and applies nothing.
    let mut other = spec.aoc_trust_json();
    other["Statement"][0]["Principal"]["AWS"] = json!("arn:aws:iam::999988887777:role/other");
    let c = run_check(&other);
    assert_eq!(c["status"], "fail", "{c:#}");
    assert_eq!(c["fixes"], json!([]), "{c:#}");
    let remediation = c["remediation"].as_str().unwrap();
    assert!(
        !remediation.contains("update-assume-role-policy"),
        "{remediation}"
    );
    assert!(remediation.contains("\"sts:ExternalId\""), "{remediation}");
    assert!(remediation.contains("--external-id"), "{remediation}");
}
