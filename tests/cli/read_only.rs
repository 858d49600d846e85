//! Read-only by construction (issue 6): whatever state the account is in, `check` sends AWS
//! only reads that `permissions.rs` declares, seen through a recording proxy in front of moto;
//! `--probe`, the one writing mode, writes only its own object and leaves nothing behind; and
//! the allow-list itself catches writes. Needs moto: `./scripts/setup-moto.sh`.

use std::collections::BTreeSet;

use crate::support::guarded::{Credentials, bin, live_env, run};
use crate::support::moto::{Clients, LiveCmd, Run};
use crate::support::proxy::{Operation, Proxy, Recorded};
use crate::support::world::{KeyEntry, KeyState, World, external_id};

/// The AWS operation a request performs, by its API name (`s3:HeadBucket`,
/// `kms:DescribeKey`, `iam:GetRole`), or why the request cannot be named.
fn operation_name(r: &Recorded) -> Result<String, String> {
    match r.operation() {
        Operation::S3 {
            method,
            path,
            query,
        } => {
            // Path-style: `/bucket` for bucket operations, `/bucket/key` for objects.
            let bucket_level = !path.trim_matches('/').contains('/');
            let keys: BTreeSet<String> = query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| p.split_once('=').map_or(p, |(k, _)| k).to_string())
                .filter(|k| k != "x-id")
                .collect();
            let sub: Vec<&str> = keys.iter().map(String::as_str).collect();
            // `GET /` lists the caller's buckets (asked only for a bucket that does not exist).
            let service_level = path.trim_matches('/').is_empty();
            let name = match (method.as_str(), bucket_level, sub.as_slice()) {
                ("GET", true, []) if service_level => "ListBuckets",
                ("HEAD", true, []) => "HeadBucket",
                ("GET", true, ["location"]) => "GetBucketLocation",
                ("GET", true, ["encryption"]) => "GetBucketEncryption",
                ("GET", true, ["policy"]) => "GetBucketPolicy",
                ("GET", true, ["publicAccessBlock"]) => "GetPublicAccessBlock",
                _ => return Err(format!("unexpected S3 request {method} {path}?{query}")),
            };
            Ok(format!("s3:{name}"))
        }
        Operation::Json { service, target } => match target.split_once('.') {
            Some(("TrentService", action)) if service == "kms" => Ok(format!("kms:{action}")),
            Some(("AWSOrganizationsV20161128", action)) if service == "organizations" => {
                Ok(format!("organizations:{action}"))
            }
            _ => Err(format!(
                "unexpected JSON-protocol request {service} {target}"
            )),
        },
        Operation::Query { service, action } if service == "iam" || service == "sts" => {
            Ok(format!("{service}:{action}"))
        }
        other => Err(format!("unexpected request {other}")),
    }
}

/// A read by the service's naming rules: S3 only `GET`/`HEAD`; KMS `Describe*`, `List*`,
/// `Get*`; Organizations `Describe*`, `List*`; IAM and STS `Get*`, `List*`.
fn is_read_by_convention(r: &Recorded, name: &str) -> bool {
    let (service, action) = name.split_once(':').unwrap_or(("", name));
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| action.starts_with(p));
    match service {
        "s3" => r.method == "GET" || r.method == "HEAD",
        "kms" => starts(&["Describe", "List", "Get"]),
        "organizations" => starts(&["Describe", "List"]),
        "iam" | "sts" => starts(&["Get", "List"]),
        _ => false,
    }
}

/// The operations `permissions.rs` lists as the ones live mode calls.
fn declared_operations() -> BTreeSet<String> {
    aoc_preflight::permissions::OPERATIONS
        .iter()
        .map(|(operation, _)| operation.to_string())
        .collect()
}

/// Every request is a declared read; returns the operations seen.
fn assert_read_only(requests: &[Recorded], context: &str) -> BTreeSet<String> {
    assert!(
        !requests.is_empty(),
        "the proxy saw no request: the test would pass vacuously\n{context}"
    );
    let declared = declared_operations();
    let mut seen = BTreeSet::new();
    let mut wrong = Vec::new();
    for r in requests {
        let line = format!("{} {} ({})", r.method, r.target, r.operation());
        match operation_name(r) {
            Ok(name) => {
                if !declared.contains(&name) {
                    wrong.push(format!("{name} is not in permissions::OPERATIONS: {line}"));
                }
                if !is_read_by_convention(r, &name) {
                    wrong.push(format!("{name} is not a read: {line}"));
                }
                seen.insert(name);
            }
            Err(why) => wrong.push(why),
        }
    }
    assert!(
        wrong.is_empty(),
        "the tool sent requests outside the read allow-list:\n{}\n{context}",
        wrong.join("\n")
    );
    seen
}

/// `check` against `world` through a recording proxy in front of its moto server.
fn check_through_proxy(world: &World, extra: &[&str]) -> (Run, Vec<Recorded>) {
    let proxy = Proxy::start(&crate::support::moto::shared().endpoint());
    let run = LiveCmd::new(&proxy.endpoint())
        .args(world.args())
        .args(extra)
        .run();
    let requests = proxy.requests();
    assert!(
        proxy.problems().is_empty(),
        "the proxy was not transparent: {:?}",
        proxy.problems()
    );
    (run, requests)
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_correct_world_is_read_with_declared_reads_only() {
    let world = World::builder("ro-ok").build();
    let (run, requests) = check_through_proxy(&world, &[]);
    // The proxy is transparent: the run is the same as without it.
    run.assert_fails_exactly(&[]);
    assert!(run.with_status("error").is_empty(), "{}", run.pretty());
    let seen = assert_read_only(&requests, &run.pretty());
    // What a correct world takes to read: every service, every fact (the bucket's region
    // comes with HeadBucket, so GetBucketLocation is not needed; the account is in no
    // organization, so DescribeOrganization is the only Organizations read).
    let expected = set(&[
        "sts:GetCallerIdentity",
        "organizations:DescribeOrganization",
        "s3:HeadBucket",
        "s3:GetBucketEncryption",
        "s3:GetBucketPolicy",
        "s3:GetPublicAccessBlock",
        "kms:DescribeKey",
        "kms:ListAliases",
        "kms:GetKeyPolicy",
        "iam:GetRole",
        "iam:ListRolePolicies",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
    ]);
    assert_eq!(seen, expected, "operations seen");
    // Every request reached moto and was answered.
    for r in &requests {
        assert!(
            r.status.is_some_and(|s| s < 500),
            "{} {} got {:?}",
            r.method,
            r.target,
            r.status
        );
    }
}

#[test]
fn broken_worlds_are_read_with_declared_reads_only() {
    let worlds = [
        (
            World::builder("ro-nobucket").no_bucket().build(),
            "bucket.reachable",
        ),
        (
            World::builder("ro-disabled")
                .key_state(KeyState::Disabled)
                .build(),
            "kms.key",
        ),
        (World::builder("ro-norole").no_role().build(), "role.exists"),
        (
            World::builder("ro-noalias")
                .no_alias()
                .enter_key_as(KeyEntry::AliasArn)
                .build(),
            "kms.alias",
        ),
        (
            World::builder("ro-stale")
                .role_external_id(&external_id(0xbeef))
                .build(),
            "role.trust",
        ),
        (
            World::builder("ro-euw1").bucket_region("eu-west-1").build(),
            "bucket.region",
        ),
        (
            World::builder("ro-boundary")
                .permissions_boundary(
                    r#"{"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}"#,
                )
                .build(),
            "role.s3-access",
        ),
    ];
    for (world, failing) in &worlds {
        let (run, requests) = check_through_proxy(world, &[]);
        assert_read_only(&requests, &run.pretty());
        run.assert_fails_exactly(&[failing]);
    }
}

#[test]
fn selecting_saving_and_redacting_still_only_read() {
    let world = World::builder("ro-opts").build();
    let dir = tempfile::tempdir().expect("temp dir");
    let facts = dir.path().join("facts.json");
    let facts = facts.to_string_lossy().into_owned();
    let (run, requests) = check_through_proxy(
        &world,
        &[
            "--only",
            "bucket.encryption,kms.key",
            "--save-facts",
            &facts,
            "--redact",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.pretty());
    // The options took effect, so what is read-only is a run that selects, saves and redacts.
    let reported: Vec<&str> = run.report["checks"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        reported,
        ["bucket.encryption", "kms.key"],
        "{}",
        run.pretty()
    );
    assert!(
        std::path::Path::new(&facts).is_file(),
        "--save-facts wrote nothing"
    );
    assert!(
        !run.report
            .to_string()
            .contains(crate::support::world::ACCOUNT),
        "--redact left the account ID in the report\n{}",
        run.pretty()
    );
    assert_read_only(&requests, &run.pretty());
}

/// `--probe`, the only writing mode, writes only its own object under the attachment's path
/// and leaves nothing behind; where it is refused (exit 2), it sends nothing at all.
#[test]
fn probe_writes_only_its_own_object_and_leaves_nothing() {
    let world = World::builder("ro-probe").build();
    let clients = Clients::new(&crate::support::moto::shared().endpoint(), "us-east-1");
    // The world's TLS-only bucket policy would stop every write to moto, which speaks plain
    // HTTP: without it the probe goes through all its steps.
    crate::support::moto::runtime()
        .block_on(
            clients
                .s3
                .delete_bucket_policy()
                .bucket(&world.bucket)
                .send(),
        )
        .expect("s3:DeleteBucketPolicy");
    let proxy = Proxy::start(&crate::support::moto::shared().endpoint());
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = bin();
    live_env(&mut cmd, dir.path(), &Credentials::moto())
        .arg("check")
        .args(world.args())
        .args([
            "--path",
            "/aoc/in",
            "--probe",
            "--format",
            "json",
            "--endpoint-url",
        ])
        .arg(proxy.endpoint());
    let out = run(&mut cmd, "check --probe");
    let requests = proxy.requests();
    // Live mode runs the probe: a refusal here would leave the subject untested.
    assert_ne!(out.code, 2, "--probe was refused: {}", out.stderr);
    let prefix = format!("/{}/aoc/in/.aoc-preflight-probe-", world.bucket);
    let mut writes = 0;
    for r in &requests {
        let declared_read = operation_name(r)
            .is_ok_and(|n| is_read_by_convention(r, &n) && declared_operations().contains(&n));
        if declared_read {
            continue;
        }
        // A listing of the bucket limited to the probe's own key (ListMultipartUploads).
        let own_listing = r.method == "GET"
            && r.path().trim_end_matches('/') == format!("/{}", world.bucket)
            && r.form_param("prefix")
                .is_some_and(|p| p.starts_with("aoc/in/.aoc-preflight-probe-"));
        assert!(
            own_listing || r.path().starts_with(&prefix),
            "--probe sent {} {} outside its own object {prefix}...",
            r.method,
            r.target
        );
        if r.method != "GET" && r.method != "HEAD" {
            writes += 1;
        }
    }
    assert!(
        writes > 0,
        "--probe ran (exit {}) but wrote nothing",
        out.code
    );
    crate::support::moto::runtime().block_on(async {
        let objects = clients
            .s3
            .list_objects_v2()
            .bucket(&world.bucket)
            .send()
            .await
            .expect("s3:ListObjectsV2");
        assert!(
            objects.contents().is_empty(),
            "left behind: {:?}",
            objects.contents()
        );
        let uploads = clients
            .s3
            .list_multipart_uploads()
            .bucket(&world.bucket)
            .send()
            .await
            .expect("s3:ListMultipartUploads");
        assert!(
            uploads.uploads().is_empty(),
            "left behind: {:?}",
            uploads.uploads()
        );
    });
}

/// The allow-list itself: writes sent through the proxy are caught, reads are named as the
/// tool's declared operations (so the read-only tests above cannot pass by misreading).
#[test]
fn the_allow_list_catches_writes_and_names_reads() {
    let proxy = Proxy::start(&crate::support::moto::shared().endpoint());
    let clients = Clients::new(&proxy.endpoint(), "us-east-1");
    let bucket = format!("aoc-allowlist-{}", std::process::id());
    crate::support::moto::runtime().block_on(async {
        // Writes (their outcome does not matter, only that they are seen).
        let _ = clients.s3.create_bucket().bucket(&bucket).send().await;
        let _ = clients
            .s3
            .put_object()
            .bucket(&bucket)
            .key("x")
            .body(b"x".to_vec().into())
            .send()
            .await;
        let _ = clients
            .s3
            .delete_bucket_policy()
            .bucket(&bucket)
            .send()
            .await;
        let _ = clients.kms.create_key().send().await;
        let _ = clients.iam.create_user().user_name(&bucket).send().await;
    });
    let writes = proxy.requests();
    assert_eq!(writes.len(), 5, "{writes:?}");
    for r in &writes {
        let caught = operation_name(r).map_or(true, |n| {
            !is_read_by_convention(r, &n) || !declared_operations().contains(&n)
        });
        assert!(caught, "a write passed the allow-list: {}", r.operation());
    }
    crate::support::moto::runtime().block_on(async {
        let _ = clients.s3.head_bucket().bucket(&bucket).send().await;
        let _ = clients
            .s3
            .get_bucket_encryption()
            .bucket(&bucket)
            .send()
            .await;
        let _ = clients.kms.list_aliases().send().await;
        let _ = clients.iam.get_user().user_name(&bucket).send().await;
        let _ = clients.sts.get_caller_identity().send().await;
    });
    let reads: Vec<String> = proxy.requests()[5..]
        .iter()
        .map(|r| operation_name(r).unwrap_or_else(|e| e))
        .collect();
    assert_eq!(
        reads,
        [
            "s3:HeadBucket",
            "s3:GetBucketEncryption",
            "kms:ListAliases",
            "iam:GetUser",
            "sts:GetCallerIdentity"
        ]
    );
}
