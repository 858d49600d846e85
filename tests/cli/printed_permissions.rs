//! The policy `aoc-preflight permissions` prints is enough to run `check` (issue 6): moto with
//! IAM enforced, a user holding only that policy. Needs moto: `./scripts/setup-moto.sh`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::moto::{LiveCmd, MotoServer};
use crate::support::world::World;

/// `aoc-preflight permissions` for the world's attachment.
fn printed_permissions(world: &World) -> Value {
    let out = crate::support::bin()
        .arg("permissions")
        .args(world.args())
        .timeout(Duration::from_secs(30))
        .output()
        .expect("run permissions");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("permissions prints JSON")
}

/// The printed policy's grants as moto checks them (a moto quirk, not AWS), derived from the
/// printed policy alone so that nothing it lacks is added:
/// - moto authorizes HeadBucket as `s3:HeadBucket` and GetPublicAccessBlock as
///   `s3:GetPublicAccessBlock`, where AWS uses `s3:ListBucket` and
///   `s3:GetBucketPublicAccessBlock` (GetBucketEncryption it checks as `s3:ListBucket`, which
///   the printed policy grants already);
/// - moto authorizes KMS actions and iam:GetPolicy/GetPolicyVersion against the resource `*`
///   (it does not resolve their ARNs), so a statement scoped to the key or to policy ARNs never
///   matches there: the same actions are repeated on `*`.
fn moto_translation(printed: &Value) -> Value {
    let mut statements = Vec::new();
    for st in printed["Statement"].as_array().expect("Statement array") {
        let actions: Vec<String> = match &st["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(list) => list
                .iter()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect(),
            other => panic!("unexpected Action {other}"),
        };
        let renamed: Vec<&str> = actions
            .iter()
            .filter_map(|a| match a.as_str() {
                "s3:ListBucket" => Some("s3:HeadBucket"),
                "s3:GetBucketPublicAccessBlock" => Some("s3:GetPublicAccessBlock"),
                _ => None,
            })
            .collect();
        if !renamed.is_empty() {
            statements.push(json!({
                "Effect": "Allow", "Action": renamed, "Resource": st["Resource"].clone()
            }));
        }
        let unscoped: Vec<&String> = actions
            .iter()
            .filter(|a| {
                a.starts_with("kms:") || *a == "iam:GetPolicy" || *a == "iam:GetPolicyVersion"
            })
            .collect();
        if !unscoped.is_empty() {
            statements.push(json!({ "Effect": "Allow", "Action": unscoped, "Resource": "*" }));
        }
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

#[test]
fn the_printed_permissions_are_enough_with_iam_enforced() {
    let server = MotoServer::start(&[]);
    let world = World::builder("perm-enforced").build_on(&server);
    let policy = printed_permissions(&world);
    let text = policy.to_string();
    // It is scoped to this attachment.
    assert!(
        text.contains(&format!("arn:aws:s3:::{}\"", world.bucket)),
        "{text}"
    );
    assert!(text.contains(&world.key_arn), "{text}");
    assert!(text.contains(&world.role_arn), "{text}");

    let moto_quirks = moto_translation(&policy);

    let user = "aoc-preflight-printed";
    let key = server.enforced_user(user, &[("printed", &policy), ("moto-quirks", &moto_quirks)]);

    let run = LiveCmd::new(&server.endpoint())
        .args(world.args())
        .credentials(&key.access_key_id, &key.secret_access_key)
        .run();
    assert!(run.with_status("error").is_empty(), "{}", run.pretty());
    run.assert_fails_exactly(&[]);
    assert!(
        run.text("aws.credentials").contains(user),
        "{}",
        run.pretty()
    );
}
