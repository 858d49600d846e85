//! The admin's first screen: "What to fix" before the detail, one cause when the tool itself
//! cannot read AWS (a dead endpoint, no credentials, an expired token, its reads refused) with
//! advice for that cause and exit 3, `--quiet`, and the fleet's closing roll-up.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

use crate::support::stub_aws::{Op, StubAws, StubWorld, access_denied, attachment_args, error};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary in the repository root, live mode settings cleared: empty AWS config files, no
/// instance metadata.
fn bin(dir: &Path) -> Command {
    let empty = dir.join("empty-aws-config");
    std::fs::write(&empty, "").unwrap();
    let mut cmd = crate::support::bin();
    cmd.current_dir(root())
        .env("AWS_CONFIG_FILE", &empty)
        .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .timeout(std::time::Duration::from_secs(60));
    cmd
}

fn with_dummy_credentials(cmd: &mut Command) -> &mut Command {
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
}

fn run(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The "What to fix" section of a text report.
fn what_to_fix(text: &str) -> String {
    text.lines()
        .skip_while(|l| !l.starts_with("What to fix"))
        .take_while(|l| !["Input", "AWS access"].contains(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Exactly one numbered entry, saying `headline`, advising `advice`, listing the checks it
/// stopped; and no check repeats the generic advice.
fn assert_one_cause(text: &str, headline: &str, advice: &str) {
    assert!(
        !what_to_fix(text).contains("   2. "),
        "more than one cause:\n{text}"
    );
    assert_first_cause(text, headline, advice);
}

/// The first entry says `headline`, advises `advice` and lists the checks it stopped; no
/// check repeats the generic advice.
fn assert_first_cause(text: &str, headline: &str, advice: &str) {
    let fix = what_to_fix(text);
    let fix = fix.split("\n   2. ").next().unwrap_or_default();
    assert!(fix.contains("   1. "), "no entry:\n{text}");
    assert!(fix.contains(headline), "not {headline:?}:\n{fix}");
    assert!(fix.contains(advice), "no advice {advice:?}:\n{fix}");
    assert!(fix.contains("checks it stopped ("), "{fix}");
    for id in ["role.exists", "kms.key", "bucket.policy"] {
        assert!(fix.contains(id), "{id} not listed as stopped:\n{fix}");
    }
    assert!(
        !text.contains("Grant the tool the read permission named above"),
        "the generic advice is repeated:\n{text}"
    );
}

const SEED_FLAGS: &[&str] = &[
    "--region",
    "us-east-1",
    "--bucket",
    "aspera-kms",
    "--kms-key",
    "arn:aws:kms:us-east-1:239600258224:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46",
    "--role-arn",
    "arn:aws:iam::239600258224:role/aspera-kms-access",
    "--trust-policy",
    "examples/seed/aoc-trust-policy.json",
];

#[test]
fn a_dead_endpoint_is_one_cause_with_network_advice_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = bin(dir.path());
    with_dummy_credentials(&mut cmd)
        .arg("check")
        .args(SEED_FLAGS)
        .args(["--endpoint-url", "http://127.0.0.1:9", "--timeout", "5"]);
    let (code, text) = run(&mut cmd);
    assert_eq!(code, 3, "{text}");
    assert_one_cause(
        &text,
        "The tool could not reach AWS",
        "Check the endpoint (`--endpoint-url`",
    );
    assert!(text.contains("Connection refused"), "{text}");
    // The organization's policies were not reached either: not a member account's refusal,
    // so no advice to read them with other credentials.
    assert!(!text.contains("org_profile"), "{text}");
}

/// `--endpoint-url` with a wrong path: whatever listens there answers every request with a
/// bare 404, not AWS's error document. That is one endpoint cause, not six refusals to the
/// tool, and the HEAD's 404 is not taken for "there is no bucket".
#[test]
fn a_wrong_endpoint_path_is_one_endpoint_cause_not_a_missing_bucket_and_exit_3() {
    let stub = StubAws::start(StubWorld::default());
    stub.mount(
        wiremock::Mock::given(wiremock::matchers::path_regex("^/s3"))
            .respond_with(wiremock::ResponseTemplate::new(404))
            .with_priority(1),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = bin(dir.path());
    with_dummy_credentials(&mut cmd)
        .arg("check")
        .args(attachment_args())
        .args([
            "--endpoint-url",
            &format!("{}/s3", stub.endpoint()),
            "--timeout",
            "10",
        ]);
    let (code, text) = run(&mut cmd);
    assert_eq!(code, 3, "{text}");
    assert_one_cause(
        &text,
        "but not as AWS does: the endpoint is wrong",
        "Check the endpoint URL (`--endpoint-url`",
    );
    assert!(!text.contains("There is no bucket named"), "{text}");
    assert!(!text.contains("the tool needs"), "{text}");
    for id in ["bucket.reachable", "aws.credentials"] {
        assert!(what_to_fix(&text).contains(id), "{id} not stopped:\n{text}");
    }
}

#[test]
fn no_credentials_is_one_cause_with_credential_advice_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = bin(dir.path());
    cmd.arg("check").args(SEED_FLAGS).args([
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--timeout",
        "5",
    ]);
    let (code, text) = run(&mut cmd);
    assert_eq!(code, 3, "{text}");
    assert_one_cause(
        &text,
        "The tool's AWS credentials do not work",
        "`aws sts get-caller-identity` with the same settings",
    );
    assert!(!text.contains("org_profile"), "{text}");
}

/// Every operation answers as AWS does to an expired session token: `ExpiredToken` (KMS:
/// `ExpiredTokenException`); S3 answers a HEAD with the bare status.
#[test]
fn an_expired_token_is_one_cause_with_renewal_advice_and_exit_3() {
    let stub = StubAws::start(StubWorld::default());
    for op in Op::ALL {
        let code = if op == Op::DescribeKey || op == Op::ListAliases || op == Op::GetKeyPolicy {
            "ExpiredTokenException"
        } else {
            "ExpiredToken"
        };
        let status = if op == Op::HeadBucket { 400 } else { 403 };
        stub.fail_always(
            op,
            error(
                op,
                status,
                code,
                "The security token included in the request is expired",
            )
            .template(),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = bin(dir.path());
    with_dummy_credentials(&mut cmd)
        .env("AWS_SESSION_TOKEN", "expired")
        .arg("check")
        .args(attachment_args())
        .args(["--endpoint-url", &stub.endpoint(), "--timeout", "10"]);
    let (code, text) = run(&mut cmd);
    assert_eq!(code, 3, "{text}");
    assert_one_cause(
        &text,
        "The tool's AWS credentials have expired.",
        "aws sso login --profile NAME",
    );
    // An expired token is not a missing permission, whatever the status.
    assert!(!text.contains("the tool needs"), "{text}");
    assert!(!text.contains("prints the policy"), "{text}");
}

/// Every operation answers as AWS does to an access key it does not know, S3's HEAD with a
/// bare 403: with credentials AWS rejects, that 403 says nothing about the bucket, so
/// `bucket.reachable` is stopped by the credentials too, and nothing advises a permission.
#[test]
fn rejected_credentials_stop_bucket_reachable_too_and_advise_no_permission() {
    let stub = StubAws::start(StubWorld::default());
    for op in Op::ALL {
        let (status, code) = match op {
            Op::DescribeKey | Op::ListAliases | Op::GetKeyPolicy => {
                (400, "UnrecognizedClientException")
            }
            Op::HeadBucket
            | Op::GetBucketLocation
            | Op::GetBucketEncryption
            | Op::GetBucketPolicy
            | Op::GetPublicAccessBlock => (403, "InvalidAccessKeyId"),
            _ => (403, "InvalidClientTokenId"),
        };
        stub.fail_always(
            op,
            error(
                op,
                status,
                code,
                "The security token included in the request is invalid.",
            )
            .template(),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = bin(dir.path());
    with_dummy_credentials(&mut cmd)
        .arg("check")
        .args(attachment_args())
        .args(["--endpoint-url", &stub.endpoint(), "--timeout", "10"]);
    let (code, text) = run(&mut cmd);
    assert_eq!(code, 3, "{text}");
    assert_one_cause(
        &text,
        "The tool's AWS credentials do not work",
        "`aws sts get-caller-identity` with the same settings",
    );
    assert!(what_to_fix(&text).contains("bucket.reachable"), "{text}");
    for advice in ["may not read it", "the tool needs", "prints the policy"] {
        assert!(!text.contains(advice), "{advice:?} advised:\n{text}");
    }
}

/// sts:GetCallerIdentity needs no permission and ignores an explicit Deny: refused, it says the
/// credentials are not accepted, not that the tool needs a permission.
#[test]
fn access_denied_to_get_caller_identity_is_a_credentials_problem() {
    let stub = StubAws::start(StubWorld::default());
    stub.fail_always(
        Op::GetCallerIdentity,
        access_denied(Op::GetCallerIdentity).template(),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = bin(dir.path());
    with_dummy_credentials(&mut cmd)
        .arg("check")
        .args(attachment_args())
        .args(["--endpoint-url", &stub.endpoint(), "--timeout", "10"]);
    let (code, text) = run(&mut cmd);
    assert_eq!(code, 3, "{text}");
    let fix = what_to_fix(&text);
    assert!(
        fix.contains("The tool's AWS credentials do not work"),
        "{text}"
    );
    assert!(
        !text.contains("the tool needs sts:GetCallerIdentity"),
        "{text}"
    );
}

/// The tool's identity may call sts:GetCallerIdentity but nothing else: one cause first, naming
/// the permissions it lacks and pointing to `aoc-preflight permissions` (`bucket.reachable`
/// judges the refused HEAD itself: a warning of its own).
#[test]
fn reads_refused_to_the_tool_are_one_cause_naming_the_permissions_and_exit_3() {
    let stub = StubAws::start(StubWorld::default());
    for op in Op::ALL
        .into_iter()
        .filter(|op| *op != Op::GetCallerIdentity)
    {
        stub.fail_always(op, access_denied(op).template());
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = bin(dir.path());
    with_dummy_credentials(&mut cmd)
        .arg("check")
        .args(attachment_args())
        .args(["--endpoint-url", &stub.endpoint(), "--timeout", "10"]);
    let (code, text) = run(&mut cmd);
    assert_eq!(code, 3, "{text}");
    assert_first_cause(
        &text,
        "AWS refused the tool's own reads",
        "`aoc-preflight permissions`",
    );
    let fix = what_to_fix(&text);
    for permission in ["iam:GetRole", "kms:DescribeKey"] {
        assert!(fix.contains(permission), "{permission} not named:\n{fix}");
    }
}

#[test]
fn what_to_fix_comes_first_in_the_order_aoc_meets_the_causes() {
    let dir = tempfile::tempdir().unwrap();
    let (code, text) = run(bin(dir.path())
        .args(["check", "--offline", "--config"])
        .arg(root().join("examples/broken/aoc.toml")));
    assert_eq!(code, 1);
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing:\n{text}"))
    };
    // Trust before the role's S3 grant before its KMS grant, and all before the detail.
    assert!(at("   1. FAIL  role.trust:") < at("   2. FAIL  role.s3-access:"));
    assert!(at("   2. FAIL  role.s3-access:") < at("   3. FAIL  role.kms-access:"));
    assert!(at("   3. FAIL  role.kms-access:") < at("\nInput\n"));
    // The detail points back instead of repeating the fix.
    assert!(text.contains("fix: see What to fix, 1"), "{text}");
    assert_eq!(
        text.matches("aws iam update-assume-role-policy").count(),
        1,
        "{text}"
    );
}

#[test]
fn quiet_leaves_out_the_checks_that_passed() {
    let dir = tempfile::tempdir().unwrap();
    let config = root().join("examples/broken/aoc.toml");
    let (_, full) = run(bin(dir.path())
        .args(["check", "--offline", "--config"])
        .arg(&config));
    let (code, quiet) = run(bin(dir.path())
        .args(["check", "--offline", "--quiet", "--config"])
        .arg(&config));
    assert_eq!(code, 1);
    assert!(full.contains("\n  pass   input.values"), "{full}");
    assert!(!quiet.contains("  pass   "), "{quiet}");
    for kept in [
        "Access path",
        "What to fix",
        "FAIL   role.trust",
        "skip   probe.write",
        "Summary: 3 failed",
    ] {
        assert!(quiet.contains(kept), "{kept} missing:\n{quiet}");
    }
    let (_, md) = run(bin(dir.path())
        .args([
            "check",
            "--offline",
            "--quiet",
            "--format",
            "markdown",
            "--config",
        ])
        .arg(&config));
    assert!(!md.contains("| ✅ pass |"), "{md}");
    assert!(md.contains("| `role.trust` | ❌ fail |"), "{md}");
}

/// A fleet of a broken and a sound attachment: every human format ends with the roll-up, and
/// the JSON report carries it as `attachments`.
#[test]
fn a_fleet_ends_with_a_roll_up_of_each_attachment() {
    let dir = tempfile::tempdir().unwrap();
    // The examples name their files relative to themselves: made absolute for a fleet file
    // elsewhere.
    let absolute = |name: &str| {
        let dir = root().join("examples").join(name);
        std::fs::read_to_string(dir.join("aoc.toml"))
            .unwrap()
            .lines()
            .map(|line| {
                let mut line = line.to_string();
                for file in [
                    "aoc-trust-policy.json",
                    "s3-access-policy.json",
                    "kms-policy.json",
                    "bucket-policy.json",
                    "key-policy.json",
                    "role-trust-policy.json",
                ] {
                    for form in [format!("\"../seed/{file}\""), format!("\"{file}\"")] {
                        let target = if form.contains("../seed/") {
                            root().join("examples/seed").join(file)
                        } else {
                            dir.join(file)
                        };
                        line = line.replace(&form, &format!("'{}'", target.display()));
                    }
                }
                line + "\n"
            })
            .collect::<String>()
    };
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), absolute("seed") + &absolute("broken")).unwrap();
    let (code, text) = run(bin(dir.path())
        .args(["check", "--offline", "--config"])
        .arg(file.path()));
    assert_eq!(code, 1, "{text}");
    let tail = &text[text.rfind("All attachments\n").expect("roll-up")..];
    assert!(tail.contains("pass   seed-sample"), "{tail}");
    assert!(
        tail.contains(
            "FAIL   broken-sample  FAIL role.s3-access, FAIL role.kms-access, FAIL role.trust"
        ),
        "{tail}"
    );
    assert!(tail.contains("All 2 attachments: "), "{tail}");

    let (_, md) = run(bin(dir.path())
        .args(["check", "--offline", "--format", "markdown", "--config"])
        .arg(file.path()));
    let tail = &md[md.rfind("### All attachments").expect("roll-up")..];
    assert!(
        tail.contains("| `seed-sample` | ✅ pass | none |"),
        "{tail}"
    );
    assert!(
        tail.contains("| `broken-sample` | ❌ fail | ❌ `role.s3-access`, ❌ `role.kms-access`, ❌ `role.trust` |"),
        "{tail}"
    );

    let (_, json) = run(bin(dir.path())
        .args(["check", "--offline", "--format", "json", "--config"])
        .arg(file.path()));
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        json["attachments"],
        serde_json::json!([
            {"name": "seed-sample", "status": "pass", "checks": []},
            {"name": "broken-sample", "status": "fail", "checks": [
                {"id": "role.s3-access", "status": "fail"},
                {"id": "role.kms-access", "status": "fail"},
                {"id": "role.trust", "status": "fail"}
            ]}
        ])
    );
}
