//! `check` in live mode end to end: the real binary against moto, seeded as IBM's procedure
//! says (every check passes) and broken in one way per test (exactly the checks that should
//! fail do). Needs moto: `./scripts/setup-moto.sh`.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_sdk_kms::types::KeySpec;
use serde_json::json;

use crate::support::all_checks;
use crate::support::moto::MotoServer;
use crate::support::world::{
    BUCKET_ACTIONS, KMS_ACTIONS, KeyEntry, KeyState, OBJECT_ACTIONS, World, external_id,
};

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

/// The report's checks, pass and skip as a correct world entered with a key ARN has them.
fn assert_all_pass_but(run: &crate::support::moto::Run, skipped: &[&str]) {
    let ids: BTreeSet<String> = run.report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter_map(|c| c["id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(ids, set(&all_checks()), "check IDs\n{}", run.pretty());
    let passing: Vec<&str> = all_checks()
        .iter()
        .copied()
        .filter(|id| !skipped.contains(id))
        .collect();
    assert_eq!(run.with_status("pass"), set(&passing), "{}", run.pretty());
    assert_eq!(run.with_status("skip"), set(skipped), "{}", run.pretty());
}

// ---------------------------------------------------------------------------------------------
// Correct worlds
// ---------------------------------------------------------------------------------------------

#[test]
fn correct_world_passes_every_check() {
    let world = World::builder("ok").build();
    let run = world.check();
    assert_eq!(run.code, 0, "{}", run.pretty());
    assert_eq!(run.report["schema_version"], 1);
    assert_eq!(run.report["mode"], "live", "{}", run.pretty());
    assert_eq!(run.report["status"], "pass", "{}", run.pretty());
    assert_all_pass_but(&run, &["kms.alias", "org.policies", "probe.write"]);
    let summary = &run.report["summary"];
    assert_eq!(summary["total"], 16, "{}", run.pretty());
    assert_eq!(summary["pass"], 13, "{}", run.pretty());
    assert_eq!(summary["skip"], 3, "{}", run.pretty());
    assert_eq!(summary["fail"], 0, "{}", run.pretty());
    assert_eq!(summary["error"], 0, "{}", run.pretty());
    // The caller is moto's default account, read live.
    assert!(
        run.text("aws.credentials").contains("123456789012"),
        "{}",
        run.pretty()
    );
}

#[test]
fn correct_world_in_another_region_passes() {
    let world = World::builder("ok-euc1").region("eu-central-1").build();
    let run = world.check();
    assert_eq!(run.code, 0, "{}", run.pretty());
    assert_all_pass_but(&run, &["kms.alias", "org.policies", "probe.write"]);
    assert!(
        run.text("bucket.region").contains("eu-central-1"),
        "{}",
        run.pretty()
    );
}

#[test]
fn correct_world_with_the_key_entered_as_alias_arn() {
    let world = World::builder("ok-alias")
        .enter_key_as(KeyEntry::AliasArn)
        .build();
    let run = world.check();
    run.assert_fails_exactly(&[]);
    assert_eq!(run.status("kms.alias"), "pass", "{}", run.pretty());
    // An alias resolves in the caller's account only: a warning, not a failure.
    assert_eq!(run.status("input.values"), "warn", "{}", run.pretty());
    assert_eq!(
        run.with_status("warn"),
        set(&["input.values"]),
        "{}",
        run.pretty()
    );
    assert_eq!(run.status("probe.write"), "skip", "{}", run.pretty());
    // The alias was resolved to the key, and the checks that need the key ARN ran on it.
    for id in [
        "kms.key",
        "kms.key-policy",
        "role.kms-access",
        "bucket.encryption",
    ] {
        assert_eq!(run.status(id), "pass", "{id}\n{}", run.pretty());
    }
}

// ---------------------------------------------------------------------------------------------
// Broken worlds: exactly the checks that should fail, fail
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_bucket_fails_bucket_reachable() {
    let world = World::builder("no-bucket").no_bucket().build();
    let run = world.check();
    run.assert_fails_exactly(&["bucket.reachable"]);
    run.assert_says("bucket.reachable", "fail", &world.bucket);
}

#[test]
fn issue11_d2_bucket_typo_suggests_the_name_and_skips_the_bucket_checks() {
    let world = World::builder("typo-bucket").build();
    // Two letters swapped, as typed in AoC.
    let typo = world.bucket.replace("bucket", "bukcet");
    assert_ne!(typo, world.bucket);
    let run = world.cmd_with(&[("--bucket", &typo)]).run();
    run.assert_says(
        "bucket.reachable",
        "fail",
        &format!(
            "did you mean {} (named in the role's inline policy aoc-s3-access)",
            world.bucket
        ),
    );
    for id in ["bucket.region", "bucket.encryption", "bucket.policy"] {
        run.assert_says(id, "skip", "does not exist (bucket.reachable)");
    }
}

#[test]
fn issue11_d3_owner_is_established_not_taken_from_the_keys_account() {
    let world = World::builder("owner").build();
    // The key entered is in another account (a documented setup); the bucket is the role's.
    let foreign_key = world.key_arn.replace(":123456789012:", ":444455556666:");
    let run = world.cmd_with(&[("--kms-key", &foreign_key)]).run();
    run.assert_says(
        "bucket.policy",
        "pass",
        "bucket owner: 123456789012 (established with HeadBucket ExpectedBucketOwner)",
    );
}

#[test]
fn issue11_d6_bucket_key_with_an_object_only_context_condition_fails() {
    // The key policy lets the role use the key only for object ARNs as encryption context;
    // the world's bucket has S3 Bucket Keys on, so S3 sends the bucket ARN instead.
    let key_policy = r#"{"Version": "2012-10-17", "Statement": [
      {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::${ACCOUNT}:root"},
       "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:Put*", "kms:Create*",
                  "kms:Enable*", "kms:Disable*", "kms:ScheduleKeyDeletion"], "Resource": "*"},
      {"Sid": "AocObjectsOnly", "Effect": "Allow", "Principal": {"AWS": "${ROLE_ARN}"},
       "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*",
       "Condition": {"StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::*/*"}}}]}"#;
    let world = World::builder("bucket-key-ctx")
        .key_policy(key_policy)
        .build();
    let run = world.check();
    run.assert_says("bucket.encryption", "fail", "S3 Bucket Keys are on");
    run.assert_says("bucket.encryption", "fail", "AocObjectsOnly");
}

#[test]
fn issue11_d9_key_arn_with_a_trailing_space_is_trimmed_and_said() {
    let world = World::builder("key-space").build();
    let run = world
        .cmd_with(&[("--kms-key", &format!("{} ", world.key_arn))])
        .run();
    run.assert_says("input.values", "warn", "removed them");
    for id in [
        "bucket.encryption",
        "kms.key",
        "kms.key-policy",
        "role.kms-access",
    ] {
        assert_eq!(run.status(id), "pass", "{id}\n{}", run.pretty());
    }
}

#[test]
fn issue11_d9_alias_that_does_not_exist_never_passes_bucket_encryption() {
    let world = World::builder("no-such-alias").build();
    let alias = world.alias_arn.replace("alias/", "alias/typo-");
    let run = world.cmd_with(&[("--kms-key", &alias)]).run();
    assert_ne!(run.status("bucket.encryption"), "pass", "{}", run.pretty());
    assert!(
        run.text("bucket.encryption").contains("does not resolve"),
        "{}",
        run.pretty()
    );
}

#[test]
fn bucket_in_another_region_than_aoc_fails_bucket_region() {
    let world = World::builder("bucket-euw1")
        .bucket_region("eu-west-1")
        .build();
    let run = world.check();
    run.assert_fails_exactly(&["bucket.region"]);
    run.assert_says("bucket.region", "fail", "eu-west-1");
}

#[test]
fn key_in_another_region_fails_input_values_and_bucket_region() {
    let world = World::builder("key-usw2").key_region("us-west-2").build();
    assert!(world.kms_key.contains(":us-west-2:"), "{}", world.kms_key);
    let run = world.check();
    run.assert_fails_exactly(&["input.values", "bucket.region"]);
    run.assert_says("input.values", "fail", "us-west-2");
    run.assert_says("bucket.region", "fail", "us-west-2");
}

#[test]
fn disabled_key_fails_kms_key() {
    let world = World::builder("key-disabled")
        .key_state(KeyState::Disabled)
        .build();
    let run = world.check();
    run.assert_fails_exactly(&["kms.key"]);
    run.assert_says("kms.key", "fail", "Disabled");
}

#[test]
fn key_pending_deletion_fails_kms_key() {
    let world = World::builder("key-deleting")
        .key_state(KeyState::PendingDeletion)
        .build();
    let run = world.check();
    run.assert_fails_exactly(&["kms.key"]);
    run.assert_says("kms.key", "fail", "PendingDeletion");
}

#[test]
fn asymmetric_key_fails_kms_key() {
    let world = World::builder("key-rsa").key_spec(KeySpec::Rsa2048).build();
    let run = world.check();
    run.assert_fails_exactly(&["kms.key"]);
    run.assert_says("kms.key", "fail", "RSA_2048");
}

#[test]
fn missing_alias_fails_kms_alias() {
    let world = World::builder("no-alias")
        .no_alias()
        .enter_key_as(KeyEntry::AliasArn)
        .build();
    let run = world.check();
    run.assert_fails_exactly(&["kms.alias"]);
    let alias_name = world.alias_arn.rsplit(':').next().expect("alias/NAME");
    run.assert_says("kms.alias", "fail", alias_name);
}

#[test]
fn key_policy_without_root_delegation_or_grant_fails_kms_key_policy() {
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "KeyAdminsOnly",
            "Effect": "Allow",
            "Principal": { "AWS": "arn:aws:iam::${ACCOUNT}:user/key-admin" },
            "Action": "kms:*",
            "Resource": "*"
        }]
    });
    let world = World::builder("keypol-nogrant")
        .key_policy(&policy.to_string())
        .build();
    let run = world.check();
    run.assert_fails_exactly(&["kms.key-policy"]);
    run.assert_says("kms.key-policy", "fail", &world.role_arn);
}

#[test]
fn key_policy_denying_the_role_fails_kms_key_policy() {
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": { "AWS": "arn:aws:iam::${ACCOUNT}:root" },
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "NoDecryptForAoc",
                "Effect": "Deny",
                "Principal": { "AWS": "${ROLE_ARN}" },
                "Action": "kms:Decrypt",
                "Resource": "*"
            }
        ]
    });
    let world = World::builder("keypol-deny")
        .key_policy(&policy.to_string())
        .build();
    let run = world.check();
    run.assert_fails_exactly(&["kms.key-policy"]);
    run.assert_says("kms.key-policy", "fail", "NoDecryptForAoc");
}

#[test]
fn missing_role_fails_role_exists() {
    let world = World::builder("no-role").no_role().build();
    let run = world.check();
    run.assert_fails_exactly(&["role.exists"]);
    run.assert_says("role.exists", "fail", &world.role_name);
}

#[test]
fn role_missing_one_s3_action_fails_role_s3_access() {
    let world = World::builder("s3-missing")
        .without_s3_action("s3:ListBucketMultipartUploads")
        .build();
    let run = world.check();
    run.assert_fails_exactly(&["role.s3-access"]);
    run.assert_says("role.s3-access", "fail", "s3:ListBucketMultipartUploads");
    run.assert_says(
        "role.s3-access",
        "fail",
        &format!("arn:aws:s3:::{}", world.bucket),
    );
}

#[test]
fn role_missing_an_object_action_fails_role_s3_access() {
    let world = World::builder("s3-missing-obj")
        .without_s3_action("s3:AbortMultipartUpload")
        .build();
    let run = world.check();
    run.assert_fails_exactly(&["role.s3-access"]);
    run.assert_says("role.s3-access", "fail", "s3:AbortMultipartUpload");
}

#[test]
fn inline_deny_on_delete_fails_role_s3_access() {
    let world = World::builder("s3-deny")
        .inline_statement(
            r#"{"Sid": "NoDeletes", "Effect": "Deny", "Action": "s3:DeleteObject",
                "Resource": "arn:aws:s3:::${BUCKET}/*"}"#,
        )
        .build();
    let run = world.check();
    run.assert_fails_exactly(&["role.s3-access"]);
    run.assert_says("role.s3-access", "fail", "s3:DeleteObject");
    run.assert_says("role.s3-access", "fail", "NoDeletes");
}

#[test]
fn permissions_boundary_without_delete_fails_role_s3_access() {
    let allowed: Vec<&str> = OBJECT_ACTIONS
        .iter()
        .chain(BUCKET_ACTIONS.iter())
        .copied()
        .filter(|a| *a != "s3:DeleteObject")
        .collect();
    let boundary = json!({
        "Version": "2012-10-17",
        "Statement": [
            { "Sid": "BoundaryS3", "Effect": "Allow", "Action": allowed, "Resource": "*" },
            { "Sid": "BoundaryKms", "Effect": "Allow", "Action": "kms:*", "Resource": "*" }
        ]
    });
    let world = World::builder("s3-boundary")
        .permissions_boundary(&boundary.to_string())
        .build();
    let run = world.check();
    run.assert_fails_exactly(&["role.s3-access"]);
    run.assert_says("role.s3-access", "fail", "s3:DeleteObject");
}

#[test]
fn kms_permissions_on_the_alias_only_fail_role_kms_access() {
    let world = World::builder("kms-on-alias").kms_resource_alias().build();
    let run = world.check();
    run.assert_fails_exactly(&["role.kms-access"]);
    run.assert_says("role.kms-access", "fail", "kms:GenerateDataKey");
    run.assert_says("role.kms-access", "fail", &world.alias_arn);
}

#[test]
fn kms_policy_without_decrypt_fails_role_kms_access() {
    assert!(KMS_ACTIONS.contains(&"kms:Decrypt"));
    let world = World::builder("kms-no-decrypt")
        .without_kms_action("kms:Decrypt")
        .build();
    let run = world.check();
    run.assert_fails_exactly(&["role.kms-access"]);
    run.assert_says("role.kms-access", "fail", "kms:Decrypt");
    run.assert_says("role.kms-access", "fail", &world.key_arn);
}

#[test]
fn stale_external_id_fails_role_trust() {
    let stale = external_id(0xdead);
    let world = World::builder("trust-stale")
        .role_external_id(&stale)
        .build();
    assert_ne!(world.role_external_id, world.external_id);
    let run = world.check();
    run.assert_fails_exactly(&["role.trust"]);
    run.assert_says("role.trust", "fail", &stale);
    run.assert_says("role.trust", "fail", &world.external_id);
}

#[test]
fn bucket_policy_requiring_another_key_fails_bucket_policy() {
    let world = World::builder("bpol-otherkey")
        .bucket_policy_statement(
            r#"{
                "Sid": "RequireOtherKey",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::${BUCKET}/*",
                "Condition": {
                    "StringNotEquals": {
                        "s3:x-amz-server-side-encryption-aws-kms-key-id": "${OTHER_KEY_ARN}"
                    }
                }
            }"#,
        )
        .build();
    let run = world.check();
    run.assert_fails_exactly(&["bucket.policy"]);
    run.assert_says("bucket.policy", "fail", "RequireOtherKey");
    run.assert_says("bucket.policy", "fail", "s3:PutObject");
}

// ---------------------------------------------------------------------------------------------
// AWS that does not answer, and credentials that may not read everything
// ---------------------------------------------------------------------------------------------

/// A TCP server on 127.0.0.1 that accepts connections and never answers; stops when dropped.
struct Silent {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Silent {
    fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => held.push(conn),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Silent {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn endpoint_that_never_answers_gives_errors_and_exit_3() {
    let silent = Silent::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let trust = dir.path().join("aoc-trust-policy.json");
    let id = external_id(1);
    std::fs::write(
        &trust,
        crate::support::world::trust_policy("us-east-1", &id).to_string(),
    )
    .expect("write trust JSON");
    let run = crate::support::moto::LiveCmd::new(&format!("http://127.0.0.1:{}", silent.port))
        .args([
            "--region",
            "us-east-1",
            "--bucket",
            "aoc-silent-bucket",
            "--kms-key",
            "arn:aws:kms:us-east-1:123456789012:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46",
            "--role-arn",
            "arn:aws:iam::123456789012:role/aoc/aoc-silent-role",
            "--timeout",
            "3",
        ])
        .args([std::ffi::OsString::from("--trust-policy"), trust.into()])
        .guard(Duration::from_secs(30))
        .run();
    drop(silent);
    assert_eq!(run.code, 3, "{}", run.pretty());
    assert_eq!(run.status("input.values"), "pass", "{}", run.pretty());
    assert!(run.with_status("fail").is_empty(), "{}", run.pretty());
    assert!(run.with_status("pass").len() == 1, "{}", run.pretty());
    for id in all_checks().iter().filter(|id| **id != "input.values") {
        let status = run.status(id);
        assert!(
            status == "error" || status == "skip",
            "{id} is {status}\n{}",
            run.pretty()
        );
    }
    // The AWS checks are undetermined, not skipped, and say why.
    for id in [
        "aws.credentials",
        "bucket.reachable",
        "kms.key",
        "role.exists",
    ] {
        assert_eq!(run.status(id), "error", "{id}\n{}", run.pretty());
    }
    let text = run.text("aws.credentials").to_lowercase();
    assert!(
        text.contains("time") || text.contains("did not answer"),
        "aws.credentials does not say it timed out: {text}"
    );
}

/// Every read the tool makes, by AWS's IAM action names, and the names moto checks instead
/// where they differ (moto authorizes HeadBucket as s3:HeadBucket, GetPublicAccessBlock as
/// s3:GetPublicAccessBlock and GetBucketEncryption as s3:ListBucket).
const TOOL_READS_BUT_GET_KEY_POLICY: [&str; 16] = [
    "sts:GetCallerIdentity",
    "s3:ListBucket",
    "s3:GetBucketLocation",
    "s3:GetEncryptionConfiguration",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "kms:DescribeKey",
    "kms:ListAliases",
    "iam:GetRole",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    // moto's names
    "s3:HeadBucket",
    "s3:GetPublicAccessBlock",
];

#[test]
fn credentials_without_get_key_policy_give_an_error_naming_it() {
    // IAM enforcement is global to a server: this test has its own.
    let server = MotoServer::start(&[]);
    let world = World::builder("enforced").build_on(&server);

    let user = "aoc-preflight-reader";
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AocPreflightReadsButGetKeyPolicy",
            "Effect": "Allow",
            "Action": TOOL_READS_BUT_GET_KEY_POLICY,
            "Resource": "*"
        }]
    });
    let key = server.enforced_user(user, &[("aoc-preflight-read", &policy)]);

    let run = world
        .cmd()
        .credentials(&key.access_key_id, &key.secret_access_key)
        .run();
    assert_eq!(run.status("kms.key-policy"), "error", "{}", run.pretty());
    assert!(
        run.text("kms.key-policy").contains("kms:GetKeyPolicy"),
        "kms.key-policy does not name kms:GetKeyPolicy\n{}",
        run.pretty()
    );
    // The other checks finish as in the correct world.
    assert_eq!(
        run.with_status("error"),
        set(&["kms.key-policy"]),
        "{}",
        run.pretty()
    );
    assert!(run.with_status("fail").is_empty(), "{}", run.pretty());
    assert_eq!(
        run.with_status("skip"),
        set(&["kms.alias", "org.policies", "probe.write"]),
        "{}",
        run.pretty()
    );
    assert_eq!(run.code, 3, "{}", run.pretty());
    // The tool read as the user, not as moto's root.
    assert!(
        run.text("aws.credentials").contains(user),
        "{}",
        run.pretty()
    );
}

#[test]
fn verbose_lists_every_request_and_the_text_report_counts_them() {
    let world = World::builder("verbose").build();
    let dir = tempfile::tempdir().unwrap();
    let text_out = dir.path().join("report.txt");
    // With the harness's `--format json` (to standard output), a text report to a file.
    let run = world
        .cmd()
        .args(["--verbose", "--format", "text", "--output"])
        .args([text_out.clone().into_os_string()])
        .run();
    assert_eq!(run.code, 0, "{}", run.pretty());
    let aws = &run.report["aws"];
    let (requests, chain) = (
        aws["requests"].as_u64().unwrap(),
        aws["critical_path"].as_u64().unwrap(),
    );
    assert!(
        run.stderr.contains(&format!(
            "AWS requests for attachment ({requests}, the longest chain {chain})"
        )),
        "{}",
        run.stderr
    );
    let traced: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains(" ms  chain "))
        .collect();
    assert_eq!(traced.len() as u64, requests, "{}", run.stderr);
    for call in aws["calls"].as_array().unwrap() {
        let (op, target) = (
            call["operation"].as_str().unwrap(),
            call["target"].as_str().unwrap(),
        );
        assert!(
            traced.iter().any(|l| l.contains(op)
                && l.contains(target)
                && l.ends_with(call["outcome"].as_str().unwrap())),
            "{op} {target} not traced:\n{}",
            run.stderr
        );
    }
    let text = std::fs::read_to_string(&text_out).unwrap();
    assert!(
        text.contains(&format!(
            "AWS: {requests} requests, the longest chain {chain} round trips"
        )),
        "{text}"
    );
}
