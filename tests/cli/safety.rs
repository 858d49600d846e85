//! Safety (issue 6): the tool only reads AWS, whatever state the account is in; the policy
//! `aoc-preflight permissions` prints is enough to run it; no credential or signature ever
//! reaches an output; and hostile input files and values end in a one-line message, never a
//! panic or a hang. Needs moto: `./scripts/setup-moto.sh`.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::moto::{Clients, LiveCmd, MotoServer, Run};
use crate::support::proxy::{Operation, Proxy, Recorded};
use crate::support::world::{KeyEntry, KeyState, World, external_id};

// ---------------------------------------------------------------------------------------------
// Read-only by construction
// ---------------------------------------------------------------------------------------------

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
/// `Get*`; IAM and STS `Get*`, `List*`.
fn is_read_by_convention(r: &Recorded, name: &str) -> bool {
    let (service, action) = name.split_once(':').unwrap_or(("", name));
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| action.starts_with(p));
    match service {
        "s3" => r.method == "GET" || r.method == "HEAD",
        "kms" => starts(&["Describe", "List", "Get"]),
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
    // comes with HeadBucket, so GetBucketLocation is not needed).
    let expected = set(&[
        "sts:GetCallerIdentity",
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
    assert_read_only(&requests, &run.pretty());
}

// ---------------------------------------------------------------------------------------------
// The printed policy is enough
// ---------------------------------------------------------------------------------------------

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

    let clients = Clients::new(&server.endpoint(), "us-east-1");
    let user = "aoc-preflight-printed";
    let key = crate::support::moto::runtime().block_on(async {
        clients
            .iam
            .create_user()
            .user_name(user)
            .send()
            .await
            .expect("iam:CreateUser");
        for (name, doc) in [("printed", &policy), ("moto-quirks", &moto_quirks)] {
            clients
                .iam
                .put_user_policy()
                .user_name(user)
                .policy_name(name)
                .policy_document(doc.to_string())
                .send()
                .await
                .expect("iam:PutUserPolicy");
        }
        clients
            .iam
            .create_access_key()
            .user_name(user)
            .send()
            .await
            .expect("iam:CreateAccessKey")
            .access_key
            .expect("access key")
    });
    server.enforce_iam();

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

// ---------------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------------

/// Longest a run may take before it counts as a hang.
const GUARD: Duration = Duration::from_secs(60);

/// The binary with an empty environment (nothing of the developer's shell) and no colour.
fn bin() -> assert_cmd::Command {
    let mut cmd = crate::support::bin();
    cmd.env_clear().env("NO_COLOR", "1");
    cmd
}

/// What one guarded run gave.
#[derive(Debug)]
struct Outcome {
    what: String,
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `cmd` under [`GUARD`]; panics on a hang, a signal or a panic of the tool.
fn run(cmd: &mut assert_cmd::Command, what: &str) -> Outcome {
    let started = std::time::Instant::now();
    let out = cmd
        .timeout(GUARD)
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run aoc-preflight: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let Some(code) = out.status.code() else {
        panic!(
            "{what}: killed after {:?} ({}): a hang or a crash\nstderr: {}",
            started.elapsed(),
            out.status,
            head(&stderr)
        );
    };
    assert!(
        !stderr.contains("panicked") && code != 101,
        "{what}: the tool panicked\n{}",
        head(&stderr)
    );
    Outcome {
        what: what.to_string(),
        code,
        stdout,
        stderr,
    }
}

/// The start of a long text, for assertion messages.
fn head(text: &str) -> String {
    let mut end = text.len().min(2000);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

impl Outcome {
    /// Exit 2, nothing on standard output, and one line on standard error that starts like
    /// every usage error, names `names` and says each of `problem`, without dumping the input.
    fn assert_usage_error(&self, names: &str, problem: &[&str]) {
        let ctx = format!(
            "{}\nexit {}\nstderr: {}",
            self.what,
            self.code,
            head(&self.stderr)
        );
        assert_eq!(self.code, 2, "{ctx}");
        assert!(
            self.stdout.is_empty(),
            "a report after a usage error: {ctx}"
        );
        assert!(self.stderr.ends_with('\n'), "{ctx}");
        assert_eq!(self.stderr.lines().count(), 1, "not one line: {ctx}");
        assert!(self.stderr.starts_with("aoc-preflight: error: "), "{ctx}");
        assert!(
            self.stderr.contains(names),
            "does not name `{names}`: {ctx}"
        );
        for p in problem {
            assert!(self.stderr.contains(p), "does not say `{p}`: {ctx}");
        }
        assert!(
            self.stderr.len() < 1000 + names.len(),
            "the message dumps the input ({} bytes): {ctx}",
            self.stderr.len()
        );
    }

    fn report(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "{}: stdout is not a JSON report ({e}), exit {}\nstderr: {}",
                self.what,
                self.code,
                head(&self.stderr)
            )
        })
    }
}

/// Credentials for a live run.
struct Credentials {
    access_key: &'static str,
    secret_key: &'static str,
    session_token: Option<&'static str>,
}

impl Credentials {
    fn moto() -> Credentials {
        Credentials {
            access_key: crate::support::moto::ACCESS_KEY,
            secret_key: crate::support::moto::SECRET_KEY,
            session_token: None,
        }
    }
}

/// A clean live-mode environment: the given credentials, empty AWS config and credentials
/// files in `dir`, no instance metadata.
fn live_env<'a>(
    cmd: &'a mut assert_cmd::Command,
    dir: &std::path::Path,
    creds: &Credentials,
) -> &'a mut assert_cmd::Command {
    let config = dir.join("aws-config");
    let credentials = dir.join("aws-credentials");
    std::fs::write(&config, "").expect("write empty AWS config");
    std::fs::write(&credentials, "").expect("write empty AWS credentials");
    cmd.env("AWS_ACCESS_KEY_ID", creds.access_key)
        .env("AWS_SECRET_ACCESS_KEY", creds.secret_key)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .env("AWS_EC2_METADATA_DISABLED", "true");
    if let Some(token) = creds.session_token {
        cmd.env("AWS_SESSION_TOKEN", token);
    }
    cmd
}

// ---------------------------------------------------------------------------------------------
// Secrets never reach an output
// ---------------------------------------------------------------------------------------------

const CANARY_ACCESS_KEY: &str = "AKIACANARY0KEYID4242";
const CANARY_SECRET: &str = "SeCrEtKeY-canary-5f2a9c71e8d04b36a1c9e7f0d2b4c6a8e1f3";
const CANARY_TOKEN: &str = "SeSsIoN-canary-IQoJb3JpZ2luX2VjEHaaCXVzLWVhc3QtMSJHMEUCIQ-canary-end";

fn canaries() -> Credentials {
    Credentials {
        access_key: CANARY_ACCESS_KEY,
        secret_key: CANARY_SECRET,
        session_token: Some(CANARY_TOKEN),
    }
}

/// What must never appear in any output: the credentials and any distinctive part of them
/// (compared exactly: their mixed case is what makes them distinctive, `session` is a word)...
const SECRETS: [&str; 7] = [
    CANARY_ACCESS_KEY,
    CANARY_SECRET,
    CANARY_TOKEN,
    "-canary-",
    "SeCrEtKeY",
    "SeSsIoN",
    "IQoJb3JpZ2luX2Vj",
];

/// ... and signed-header material (compared case-insensitively).
const HEADER_MATERIAL: [&str; 5] = [
    "authorization:",
    "x-amz-security-token",
    "signature=",
    "aws4-hmac-sha256",
    "credential=",
];

const FORMATS: [&str; 5] = ["text", "json", "junit", "sarif", "markdown"];

/// Every file under `dir`, recursively, as text.
fn files_under(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    out
}

fn assert_no_secret(what: &str, text: &str) {
    let lower = text.to_lowercase();
    let exact = SECRETS
        .iter()
        .find_map(|n| text.find(n).map(|at| (*n, at, text)));
    let found = exact.or_else(|| {
        HEADER_MATERIAL
            .iter()
            .find_map(|n| lower.find(n).map(|at| (*n, at, lower.as_str())))
    });
    if let Some((needle, at, searched)) = found {
        let from = searched[..at]
            .char_indices()
            .rev()
            .nth(80)
            .map_or(0, |(i, _)| i);
        let context: String = searched[from..].chars().take(240).collect();
        panic!("`{needle}` leaked into {what}: …{context}…");
    }
}

/// A stub format (another engineer's work in progress) answers exit 2 "not available".
fn is_stub_format(o: &Outcome) -> bool {
    o.code == 2 && o.stderr.contains("not available")
}

/// Runs `check` against `endpoint` with the canary credentials, `RUST_LOG=trace`, `--verbose`
/// and `--save-facts`, once per format to standard output and once with every format written to
/// files; searches every output for the secrets. Returns the JSON run's outcome and the
/// formats that are still stubs.
fn run_with_canaries(endpoint: &str, attachment: &[OsString]) -> (Outcome, Vec<&'static str>) {
    let mut json_run = None;
    let mut stubs = Vec::new();
    let mut runs = Vec::new();
    for format in FORMATS {
        runs.push((
            format!("--format {format}"),
            vec![format!("--format={format}")],
        ));
    }
    runs.push((
        "every format to files".to_string(),
        [
            "--format=json",
            "--format=text",
            "--output=report.txt",
            "--format=junit",
            "--output=report.xml",
            "--format=sarif",
            "--output=report.sarif",
            "--format=markdown",
            "--output=report.md",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    ));
    for (label, format_args) in runs {
        let env_dir = tempfile::tempdir().expect("temp dir");
        let out_dir = tempfile::tempdir().expect("temp dir");
        let mut cmd = bin();
        live_env(&mut cmd, env_dir.path(), &canaries())
            .env("RUST_LOG", "trace")
            .env("RUST_BACKTRACE", "full")
            .env("AWS_LOG_LEVEL", "trace")
            .current_dir(out_dir.path())
            .arg("check")
            .args(attachment)
            .args(["--endpoint-url", endpoint, "--timeout", "10"])
            .args(["--save-facts", "facts.json", "--verbose"])
            .args(&format_args);
        let o = run(&mut cmd, &format!("check {label} against {endpoint}"));
        assert_no_secret(&format!("stdout of {}", o.what), &o.stdout);
        assert_no_secret(&format!("stderr of {}", o.what), &o.stderr);
        let files = files_under(out_dir.path());
        assert!(
            files.iter().any(|(p, _)| p.ends_with("facts.json")),
            "{}: no --save-facts file: {files:?}",
            o.what
        );
        for (path, text) in &files {
            assert_no_secret(&format!("{path} ({})", o.what), text);
        }
        if is_stub_format(&o) {
            if FORMATS.contains(&label.trim_start_matches("--format ")) {
                stubs.push(FORMATS[FORMATS.iter().position(|f| label.ends_with(f)).unwrap_or(0)]);
            }
        } else {
            assert!(
                [0, 1, 3].contains(&o.code),
                "{}: exit {}\n{}",
                o.what,
                o.code,
                head(&o.stderr)
            );
            assert!(!o.stdout.is_empty(), "{}: no report", o.what);
        }
        if label == "--format json" {
            json_run = Some(o);
        }
    }
    (json_run.expect("the JSON run"), stubs)
}

/// The attachment of a world that need not exist (for endpoints that are not moto).
fn fixed_attachment(dir: &std::path::Path) -> Vec<OsString> {
    let trust = dir.join("aoc-trust-policy.json");
    std::fs::write(
        &trust,
        crate::support::world::trust_policy("us-east-1", &external_id(7)).to_string(),
    )
    .expect("write AoC trust JSON");
    let mut args: Vec<OsString> = [
        "--region",
        "us-east-1",
        "--bucket",
        "aoc-secrets-bucket",
        "--kms-key",
        "arn:aws:kms:us-east-1:123456789012:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46",
        "--role-arn",
        "arn:aws:iam::123456789012:role/aoc/aoc-secrets-role",
        "--trust-policy",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    args.push(trust.into_os_string());
    args
}

#[test]
fn secrets_never_reach_an_output_when_aws_answers() {
    let world = World::builder("secrets").build();
    let (json, stubs) =
        run_with_canaries(&crate::support::moto::shared().endpoint(), &world.args());
    // The run really read AWS with the canary credentials (moto accepts any).
    let report = json.report();
    assert_eq!(json.code, 0, "{}", head(&json.stdout));
    assert_eq!(report["status"], "pass", "{report:#}");
    assert!(
        report
            .to_string()
            .contains("environment variables (AWS_ACCESS_KEY_ID)"),
        "the run did not use the canary credentials: {report:#}"
    );
    eprintln!("report formats still stubs: {stubs:?}");
}

#[test]
fn secrets_never_reach_an_output_when_the_endpoint_is_dead() {
    // A port that was just free: connection refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind")
        .port();
    let dir = tempfile::tempdir().expect("temp dir");
    let (json, _) = run_with_canaries(
        &format!("http://127.0.0.1:{port}"),
        &fixed_attachment(dir.path()),
    );
    // Errors were printed, saying what went wrong.
    assert_eq!(json.code, 3, "{}", head(&json.stdout));
    assert!(
        json.report()["checks"]
            .to_string()
            .contains("could not be sent"),
        "{}",
        head(&json.stdout)
    );
}

/// An AWS error answer that echoes the request's credentials outside its `Message`, as S3's
/// `SignatureDoesNotMatch` does (AWSAccessKeyId, StringToSign, SignatureProvided,
/// CanonicalRequest with every signed header).
fn echoing_auth_error(r: &Recorded) -> crate::support::proxy::Response {
    let auth = r.header("authorization").unwrap_or_default();
    let token = r.header("x-amz-security-token").unwrap_or_default();
    let signature = auth.rsplit("Signature=").next().unwrap_or_default();
    let canonical = format!(
        "{}\n{}\n{}\nauthorization:{auth}\nx-amz-security-token:{token}\n",
        r.method,
        r.path(),
        r.query()
    );
    let xml_escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let (status, content_type, body) = match r.operation() {
        Operation::Json { .. } => (
            400,
            "application/x-amz-json-1.1",
            json!({
                "__type": "UnrecognizedClientException",
                "message": "The security token included in the request is invalid.",
                "Authorization": auth,
                "X-Amz-Security-Token": token,
                "CanonicalRequest": canonical,
            })
            .to_string(),
        ),
        Operation::S3 { .. } => (
            403,
            "application/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>\
                 <Message>The request signature we calculated does not match the signature you \
                 provided. Check your key and signing method.</Message>\
                 <AWSAccessKeyId>{}</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256\n{}</StringToSign>\
                 <SignatureProvided>{}</SignatureProvided><CanonicalRequest>{}</CanonicalRequest>\
                 <RequestId>0000</RequestId></Error>",
                CANARY_ACCESS_KEY,
                xml_escape(auth),
                xml_escape(signature),
                xml_escape(&canonical)
            ),
        ),
        _ => (
            403,
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>\
                 <Message>The request signature we calculated does not match the signature you \
                 provided.</Message><CanonicalRequest>{}</CanonicalRequest></Error>\
                 <RequestId>0000</RequestId></ErrorResponse>",
                xml_escape(&canonical)
            ),
        ),
    };
    crate::support::proxy::Response {
        status,
        headers: vec![
            ("Content-Type".to_string(), content_type.to_string()),
            ("x-amz-request-id".to_string(), "0000".to_string()),
        ],
        body: body.into_bytes(),
    }
}

/// Not AWS at all: a wrong `--endpoint-url` (a debugging echo service, a proxy's error page)
/// that dumps the request it got, headers and all, as plain text.
fn dumping_error_page(r: &Recorded) -> crate::support::proxy::Response {
    let mut body = format!("400 Bad Request\n\n{} {} HTTP/1.1\n", r.method, r.target);
    for (k, v) in &r.headers {
        body.push_str(&format!("{k}: {v}\n"));
    }
    crate::support::proxy::Response {
        status: 400,
        headers: vec![("Content-Type".to_string(), "text/plain".to_string())],
        body: body.into_bytes(),
    }
}

/// The stub saw the canary credentials: the secrets were really in the tool's hands.
fn assert_canaries_were_sent(stub: &Proxy) {
    let requests = stub.requests();
    assert!(!requests.is_empty(), "the stub saw no request");
    for r in &requests {
        let auth = r.header("authorization").unwrap_or_default();
        assert!(
            auth.contains(&format!("Credential={CANARY_ACCESS_KEY}/")),
            "{} {} not signed with the canary key: {auth}",
            r.method,
            r.target
        );
        assert_eq!(r.header("x-amz-security-token"), Some(CANARY_TOKEN));
    }
}

#[test]
fn secrets_never_reach_an_output_when_aws_echoes_them_in_an_error() {
    let stub = Proxy::stub(echoing_auth_error);
    let dir = tempfile::tempdir().expect("temp dir");
    let (json, _) = run_with_canaries(&stub.endpoint(), &fixed_attachment(dir.path()));
    assert_canaries_were_sent(&stub);
    // The tool said the credentials are the problem (exit 1: aws.credentials fails).
    let report = json.report();
    assert_eq!(json.code, 1, "{report:#}");
    assert!(
        report.to_string().contains("signature"),
        "the error is not reported: {report:#}"
    );
}

#[test]
fn secrets_never_reach_an_output_when_the_endpoint_dumps_the_request() {
    let stub = Proxy::stub(dumping_error_page);
    let dir = tempfile::tempdir().expect("temp dir");
    let (json, _) = run_with_canaries(&stub.endpoint(), &fixed_attachment(dir.path()));
    assert_canaries_were_sent(&stub);
    assert!(
        [1, 3].contains(&json.code),
        "exit {}\n{}",
        json.code,
        head(&json.stdout)
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile input files
// ---------------------------------------------------------------------------------------------

fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn seed(name: &str) -> std::path::PathBuf {
    repo().join("examples/seed").join(name)
}

fn hostile(name: &str) -> std::path::PathBuf {
    repo().join("tests/fixtures/hostile").join(name)
}

/// Every place a policy document is read from a file.
const POLICY_SLOTS: [&str; 9] = [
    "--identity-policy",
    "--bucket-policy",
    "--key-policy",
    "--role-trust-policy",
    "--permissions-boundary",
    "--trust-policy",
    "simulate --policy",
    "simulate --resource-policy",
    "simulate --permissions-boundary",
];

/// Runs the command that reads `file` in `slot` (the other inputs are the seed example's).
fn read_policy_in(slot: &str, file: &std::path::Path) -> Outcome {
    let mut cmd = bin();
    match slot.strip_prefix("simulate ") {
        Some(flag) => {
            cmd.args(["simulate", "--format", "json"]);
            if flag != "--policy" {
                cmd.arg("--policy").arg(seed("s3-access-policy.json"));
            }
            cmd.arg(flag).arg(file).args([
                "--principal",
                "arn:aws:iam::239600258224:role/aspera-kms-access",
                "--action",
                "s3:GetObject",
                "--resource",
                "arn:aws:s3:::aspera-kms/data/file",
            ]);
        }
        None => {
            cmd.args(["check", "--offline", "--format", "json", "--config"])
                .arg(seed("aoc.toml"))
                .arg(slot)
                .arg(file);
        }
    }
    run(&mut cmd, &format!("{slot} {}", file.display()))
}

fn read_config(file: &std::path::Path) -> Outcome {
    let mut cmd = bin();
    cmd.args(["check", "--offline", "--format", "json", "--config"])
        .arg(file);
    run(&mut cmd, &format!("--config {}", file.display()))
}

fn read_facts(file: &std::path::Path) -> Outcome {
    let mut cmd = bin();
    cmd.args(["check", "--format", "json", "--facts"]).arg(file);
    run(&mut cmd, &format!("--facts {}", file.display()))
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Big and binary inputs, generated: (file name, bytes).
fn generated_inputs(dir: &std::path::Path) -> Vec<(std::path::PathBuf, &'static str)> {
    let ten_mb = 10 * 1024 * 1024;
    let mut files = Vec::new();
    let mut write = |name: &str, bytes: Vec<u8>, kind: &'static str| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write a generated input");
        files.push((path, kind));
    };
    // 10 MB of a policy that never ends.
    let mut huge = b"{\"Version\": \"2012-10-17\", \"Statement\": [".to_vec();
    while huge.len() < ten_mb {
        huge.extend_from_slice(
            b"{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"},\n",
        );
    }
    write("huge-unterminated.json", huge, "json");
    // 10,000 levels of nesting inside a statement.
    let deep = format!(
        "{{\"Version\": \"2012-10-17\", \"Statement\": [{{\"Effect\": \"Allow\", \"Action\": {}{}, \"Resource\": \"*\"}}]}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    write("deep-nesting.json", deep.into_bytes(), "json");
    // Latin-1 text (a policy saved by an old editor), and plain binary.
    write(
        "latin1.json",
        b"{\"Statement\": [{\"Sid\": \"Caf\xe9\", \"Effect\": \"Allow\", \"Action\": \"s3:*\"}]}"
            .to_vec(),
        "json",
    );
    write(
        "binary.json",
        vec![0xff, 0xfe, 0x00, 0x7b, 0x00, 0x7d, 0x80, 0x81],
        "json",
    );
    // The same for the config file.
    let mut huge_toml = Vec::new();
    while huge_toml.len() < ten_mb {
        huge_toml.extend_from_slice(b"# padding padding padding padding padding padding\n");
    }
    huge_toml.extend_from_slice(b"[[attachment]]\nkms_kye = \"typo\"\n");
    write("huge-typo.toml", huge_toml, "toml");
    let mut huge_string = b"[[attachment]]\nregion = \"".to_vec();
    huge_string.resize(ten_mb, b'a');
    write("huge-unterminated.toml", huge_string, "toml");
    let deep_toml = format!(
        "[[attachment]]\nname = {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    write("deep-nesting.toml", deep_toml.into_bytes(), "toml");
    write(
        "latin1.toml",
        b"[[attachment]]\nname = \"Caf\xe9\"\n".to_vec(),
        "toml",
    );
    files
}

/// What a generated file's message must say, by the reader.
fn generated_problem(name: &str, reader: &str) -> &'static [&'static str] {
    match (name, reader) {
        // Refused for its size before it is parsed: no policy is 10 MB.
        ("huge-unterminated.json", "policy") => &["is not a policy document"],
        ("huge-unterminated.json", "facts") => &["not a facts bundle"],
        ("deep-nesting.json", "policy") => &["recursion limit"],
        ("deep-nesting.json", "facts") => &["not a facts bundle"],
        ("latin1.json" | "binary.json" | "latin1.toml", _) => &["UTF-8"],
        ("huge-typo.toml", _) => &["kms_kye"],
        ("huge-unterminated.toml", _) => &["string"],
        ("deep-nesting.toml", _) => &["recursion"],
        _ => &[],
    }
}

#[test]
fn hostile_policy_files_are_one_line_usage_errors_in_every_slot() {
    let cases: [(&str, &[&str]); 17] = [
        ("empty.json", &["1:1", "invalid JSON", "EOF"]),
        ("whitespace.json", &["invalid JSON", "EOF"]),
        ("null.json", &["expected a policy object, found null"]),
        ("array.json", &["expected a policy object, found an array"]),
        ("string.json", &["expected a policy object"]),
        ("statement-number.json", &["Statement", "found 42"]),
        ("effect-bool.json", &["Statement[0].Effect", "found true"]),
        (
            "action-object.json",
            &["Statement[0].Action", "found an object"],
        ),
        ("version-number.json", &["Version", "found 2012"]),
        (
            "condition-array.json",
            &["Statement[0].Condition", "found an array"],
        ),
        ("truncated.json", &[":4:", "invalid JSON", "EOF"]),
        (
            "trailing-garbage.json",
            &["invalid JSON", "trailing characters"],
        ),
        (
            "control-character.json",
            &["invalid JSON", "control character"],
        ),
        ("url-encoded-garbage.json", &["invalid JSON"]),
        ("url-encoded-not-utf8.json", &["URL-encoded", "UTF-8"]),
        ("unknown-element.json", &["Statment", "unknown element"]),
        ("lower-case-elements.json", &["unknown element"]),
    ];
    for (name, problem) in cases {
        let path = hostile(&format!("policy/{name}"));
        for slot in POLICY_SLOTS {
            read_policy_in(slot, &path).assert_usage_error(name, problem);
        }
    }
}

#[test]
fn big_deep_and_binary_policy_files_are_one_line_usage_errors_in_every_slot() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, kind) in generated_inputs(dir.path()) {
        if kind != "json" {
            continue;
        }
        let name = file_name(&path);
        for slot in POLICY_SLOTS {
            read_policy_in(slot, &path)
                .assert_usage_error(&name, generated_problem(&name, "policy"));
        }
        read_facts(&path).assert_usage_error(&name, generated_problem(&name, "facts"));
    }
}

#[test]
fn hostile_config_files_are_one_line_usage_errors() {
    let cases: [(&str, &str, &[&str]); 10] = [
        (
            "json-not-toml.toml",
            "json-not-toml.toml:1:1",
            &["expected key"],
        ),
        (
            "duplicate-key.toml",
            "duplicate-key.toml:3:1",
            &["duplicate key"],
        ),
        (
            "wrong-type-region.toml",
            "wrong-type-region.toml:2:",
            &["invalid type", "expected a string"],
        ),
        (
            "wrong-type-attachment.toml",
            "wrong-type-attachment.toml:1:",
            &["invalid type", "expected a sequence"],
        ),
        (
            "wrong-type-identity-policies.toml",
            "wrong-type-identity-policies.toml:2:",
            &["invalid type", "expected a sequence"],
        ),
        (
            "unknown-table.toml",
            "unknown-table.toml:1:",
            &["unknown field `attachments`"],
        ),
        (
            "control-character.toml",
            "control-character.toml:2:",
            &["invalid basic string"],
        ),
        (
            "unterminated-string.toml",
            "unterminated-string.toml:2:",
            &["invalid basic string"],
        ),
        (
            "bad-table-header.toml",
            "bad-table-header.toml:3:",
            &["unclosed array table"],
        ),
        // The config is fine; the policy it names is not: the message names the policy.
        (
            "hostile-document.toml",
            "truncated.json:4:",
            &["invalid JSON"],
        ),
    ];
    for (name, names, problem) in cases {
        read_config(&hostile(&format!("config/{name}"))).assert_usage_error(names, problem);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, kind) in generated_inputs(dir.path()) {
        if kind != "toml" {
            continue;
        }
        let name = file_name(&path);
        read_config(&path).assert_usage_error(&name, generated_problem(&name, "config"));
    }
    // A directory where a file is expected.
    read_config(&repo().join("tests/fixtures/hostile"))
        .assert_usage_error("hostile", &["directory"]);
}

/// A config file without a single value: the message says what is missing.
#[test]
fn an_empty_config_file_names_the_missing_value() {
    read_config(&hostile("config/empty.toml"))
        .assert_usage_error("missing required value `region`", &["--region"]);
}

#[test]
fn an_empty_config_file_is_named_in_the_message() {
    read_config(&hostile("config/empty.toml")).assert_usage_error("empty.toml", &["region"]);
}

/// A support bundle saved from the seed example, offline.
fn saved_bundle(dir: &std::path::Path) -> (std::path::PathBuf, Value) {
    let path = dir.join("facts.json");
    let mut cmd = bin();
    cmd.args(["check", "--offline", "--format", "json", "--config"])
        .arg(seed("aoc.toml"))
        .arg("--save-facts")
        .arg(&path);
    let o = run(&mut cmd, "--save-facts");
    assert_eq!(o.code, 0, "{}", head(&o.stderr));
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("bundle"))
        .expect("the bundle is JSON");
    (path, bundle)
}

#[test]
fn hostile_facts_bundles_are_one_line_usage_errors() {
    let fixtures: [(&str, &[&str]); 5] = [
        (
            "missing-entries.json",
            &["not a facts bundle", "missing field `entries`"],
        ),
        (
            "wrong-type-schema-version.json",
            &["not a facts bundle", "invalid type"],
        ),
        (
            "wrong-type-entries.json",
            &["not a facts bundle", "invalid type"],
        ),
        (
            "incomplete-entry.json",
            &["not a facts bundle", "missing field"],
        ),
        (
            "duplicate-field.json",
            &["not a facts bundle", "duplicate field `schema_version`"],
        ),
    ];
    for (name, problem) in fixtures {
        read_facts(&hostile(&format!("facts/{name}"))).assert_usage_error(name, problem);
    }
    // Real bundles, mangled.
    let dir = tempfile::tempdir().expect("temp dir");
    let (saved, bundle) = saved_bundle(dir.path());
    let text = std::fs::read_to_string(&saved).expect("bundle text");
    let write = |name: &str, content: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, content).expect("write a bundle");
        path
    };
    let mut newer = bundle.clone();
    newer["schema_version"] = json!(99);
    let mut deep = bundle.clone();
    deep["entries"][0]["facts"]["caller"]["value"] = json!("PLACEHOLDER");
    let deep = deep.to_string().replace(
        "\"PLACEHOLDER\"",
        &format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
    );
    let mut policy_as_fact = bundle.clone();
    policy_as_fact["entries"][0]["facts"]["key_policy"]["value"] =
        json!({"Version": "2012-10-17", "Statement": []});
    let cases: Vec<(std::path::PathBuf, &[&str])> = vec![
        (
            write("empty.json", String::new()),
            &["not a facts bundle", "EOF"],
        ),
        (
            write("truncated.json", text[..text.len() / 2].to_string()),
            &["not a facts bundle", "EOF"],
        ),
        (
            write("newer.json", newer.to_string()),
            &["schema_version 99 is not supported"],
        ),
        // Typed fields stop the nesting before serde's recursion limit does.
        (
            write("deep.json", deep),
            &["not a facts bundle", "invalid type"],
        ),
        (
            write("policy-as-fact.json", policy_as_fact.to_string()),
            &["not a facts bundle", "missing field"],
        ),
        (
            seed("bucket-policy.json"),
            &["not a facts bundle", "unknown field `Version`"],
        ),
    ];
    for (path, problem) in cases {
        read_facts(&path).assert_usage_error(&file_name(&path), problem);
    }
}

#[test]
fn a_facts_bundle_without_attachments_is_a_usage_error() {
    read_facts(&hostile("facts/no-attachment.json"))
        .assert_usage_error("no-attachment.json", &["attachment"]);
}

/// BOM-prefixed copies of the seed example's files (Windows editors add one).
fn with_bom(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend(std::fs::read(seed(name)).expect("read a seed file"));
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write a BOM copy");
    path
}

/// A byte-order mark is an editor's artefact, not content: a policy or config file with one
/// is read as without it.
#[test]
fn a_byte_order_mark_is_accepted_in_policies_and_config() {
    let plain = read_policy_in("--bucket-policy", &seed("bucket-policy.json"));
    assert_eq!(plain.code, 0, "{}", head(&plain.stderr));
    let dir = tempfile::tempdir().expect("temp dir");
    for name in [
        "s3-access-policy.json",
        "kms-policy.json",
        "bucket-policy.json",
        "key-policy.json",
        "role-trust-policy.json",
        "aoc-trust-policy.json",
    ] {
        with_bom(dir.path(), name);
    }
    let config = with_bom(dir.path(), "aoc.toml");
    let o = read_config(&config);
    assert_eq!(o.code, 0, "{}\n{}", o.what, head(&o.stderr));
    assert_eq!(
        o.report()["summary"],
        plain.report()["summary"],
        "{}",
        head(&o.stdout)
    );
    for slot in POLICY_SLOTS {
        let file = match slot {
            "--trust-policy" => "aoc-trust-policy.json",
            "--role-trust-policy" => "role-trust-policy.json",
            "--key-policy" => "key-policy.json",
            "--bucket-policy" | "simulate --resource-policy" => "bucket-policy.json",
            _ => "s3-access-policy.json",
        };
        let o = read_policy_in(slot, &dir.path().join(file));
        let without = read_policy_in(slot, &seed(file));
        assert_eq!(o.code, without.code, "{}\n{}", o.what, head(&o.stderr));
        assert_eq!(
            o.report()["status"],
            without.report()["status"],
            "{}",
            o.what
        );
        assert_eq!(
            o.report()["decision"],
            without.report()["decision"],
            "{}",
            o.what
        );
    }
}

#[test]
fn a_byte_order_mark_is_accepted_in_a_facts_bundle() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (saved, _) = saved_bundle(dir.path());
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend(std::fs::read(&saved).expect("bundle"));
    let bom = dir.path().join("bom-facts.json");
    std::fs::write(&bom, bytes).expect("write");
    let o = read_facts(&bom);
    assert_eq!(o.code, 0, "{}", head(&o.stderr));
}

/// Duplicate keys make a document ambiguous: IAM rejects them, and whichever value the tool
/// kept, its verdict could be about another policy than the one AWS has. A careful tool
/// refuses the file and names the key.
#[test]
fn duplicate_keys_in_a_policy_file_are_usage_errors() {
    for (name, key) in [
        ("duplicate-effect.json", "Effect"),
        ("duplicate-statement.json", "Statement"),
        ("duplicate-condition-key.json", "StringEquals"),
    ] {
        let path = hostile(&format!("policy/{name}"));
        for slot in POLICY_SLOTS {
            read_policy_in(slot, &path).assert_usage_error(name, &["duplicate", key]);
        }
    }
}

/// AWS's largest policy is a 32 KB key policy (bucket policies 20 KB, managed policies 6 KB):
/// a 10 MB document cannot be one AWS has, and judging it takes long and gives tens of MB of
/// report. A careful tool refuses it up front.
#[test]
fn a_policy_file_far_beyond_aws_limits_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let statement = json!({
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::239600258224:root"},
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": "arn:aws:s3:::other-bucket/*"
    });
    let statements: Vec<Value> = (0..75_000).map(|_| statement.clone()).collect();
    let path = dir.path().join("huge-valid.json");
    std::fs::write(
        &path,
        json!({"Version": "2012-10-17", "Statement": statements}).to_string(),
    )
    .expect("write");
    assert!(std::fs::metadata(&path).expect("size").len() > 9 * 1024 * 1024);
    for slot in POLICY_SLOTS {
        read_policy_in(slot, &path).assert_usage_error("huge-valid.json", &[]);
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile values
// ---------------------------------------------------------------------------------------------

/// `check --offline` on the seed example with one value replaced.
fn check_with(flag: &str, value: &str) -> Outcome {
    let mut cmd = bin();
    cmd.args(["check", "--offline", "--format", "json", "--config"])
        .arg(seed("aoc.toml"))
        .arg(format!("{flag}={value}"));
    run(&mut cmd, &format!("check {flag}={}", head(value)))
}

fn input_values(o: &Outcome) -> Value {
    let report = o.report();
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == "input.values"))
        .cloned()
        .unwrap_or_else(|| panic!("{}: no input.values in {}", o.what, head(&o.stdout)))
}

const KEY_ID: &str = "65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46";

/// Surrounding whitespace is not a malformed value: it is trimmed and said (issue 11, d9),
/// and the trimmed value is judged.
#[test]
fn issue11_d9_region_with_a_leading_space_is_trimmed_with_a_warning() {
    let o = check_with("--region", " us-east-1");
    let ctx = format!("{}\nexit {}\nstderr: {}", o.what, o.code, head(&o.stderr));
    assert_eq!(o.code, 0, "{ctx}");
    let check = input_values(&o);
    assert_eq!(check["status"], "warn", "{ctx}\n{check}");
    assert!(check.to_string().contains("trimmed"), "{ctx}\n{check}");
}

/// A malformed value entered in AoC is a finding, not a usage error (docs/contract.md, "Statuses and exit codes"):
/// `input.values` fails with the reason and says the expected format; exit 1.
#[test]
fn malformed_attachment_values_fail_input_values_and_name_the_format() {
    let region_format = "written like `us-east-1`";
    let bucket_rules = "bucket's exact name";
    let path_format = "like `/` or `/data/incoming`";
    let key_format = "arn:aws:kms:REGION:ACCOUNT:key/KEY_ID";
    let role_format = "arn:aws:iam::ACCOUNT:role/PATH/NAME";
    let partition = "one AWS partition";
    let huge = "a".repeat(100_000);
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("--region", String::new(), "unknown-region", region_format),
        (
            "--region",
            "US-EAST-1".into(),
            "unknown-region",
            region_format,
        ),
        ("--region", "moon-1".into(), "unknown-region", region_format),
        ("--region", huge.clone(), "unknown-region", region_format),
        // The other partitions' regions, with the seed's `aws` ARNs.
        (
            "--region",
            "cn-north-1".into(),
            "partition-mismatch",
            partition,
        ),
        (
            "--region",
            "us-gov-west-1".into(),
            "partition-mismatch",
            partition,
        ),
        (
            "--bucket",
            String::new(),
            "bad-bucket-name",
            "3 to 63 characters",
        ),
        (
            "--bucket",
            "ab".into(),
            "bad-bucket-name",
            "3 to 63 characters",
        ),
        (
            "--bucket",
            "My.Bucket".into(),
            "bad-bucket-name",
            "lower-case",
        ),
        (
            "--bucket",
            "ASPERA-KMS".into(),
            "bad-bucket-name",
            "lower-case",
        ),
        (
            "--bucket",
            "aspera_kms".into(),
            "bad-bucket-name",
            bucket_rules,
        ),
        (
            "--bucket",
            "s3://aspera-kms".into(),
            "bad-bucket-name",
            "without `s3://`",
        ),
        (
            "--bucket",
            "aspera-kms/data".into(),
            "bad-bucket-name",
            bucket_rules,
        ),
        (
            "--bucket",
            "192.168.0.1".into(),
            "bad-bucket-name",
            "IP address",
        ),
        (
            "--bucket",
            "aspera..kms".into(),
            "bad-bucket-name",
            "adjacent dots",
        ),
        (
            "--bucket",
            ".aspera-kms".into(),
            "bad-bucket-name",
            "begin and end",
        ),
        (
            "--bucket",
            huge.clone(),
            "bad-bucket-name",
            "3 to 63 characters",
        ),
        ("--path", "//".into(), "bad-path", path_format),
        ("--path", "/data//in".into(), "bad-path", path_format),
        ("--path", "/data/*".into(), "bad-path", path_format),
        ("--path", "C:\\data".into(), "bad-path", path_format),
        ("--kms-key", String::new(), "bad-kms-key", key_format),
        ("--kms-key", "not-an-arn".into(), "bad-kms-key", key_format),
        (
            "--kms-key",
            format!("ARN:AWS:KMS:US-EAST-1:239600258224:KEY/{KEY_ID}"),
            "bad-kms-key",
            key_format,
        ),
        (
            "--kms-key",
            format!("arn:aws:kms:us-east-1:2396:key/{KEY_ID}"),
            "bad-kms-key",
            key_format,
        ),
        (
            "--kms-key",
            "arn:aws:kms:us-east-1:239600258224:key/".into(),
            "bad-kms-key",
            key_format,
        ),
        (
            "--kms-key",
            "arn:aws:kms:us-east-1:239600258224:alias/".into(),
            "bad-kms-key",
            key_format,
        ),
        (
            "--kms-key",
            "arn:aws:s3:::aspera-kms".into(),
            "bad-kms-key",
            key_format,
        ),
        (
            "--kms-key",
            format!("arn:aws:kms:us-east-1:239600258224:key/{huge}"),
            "bad-kms-key",
            key_format,
        ),
        (
            "--kms-key",
            format!("arn:aws-us-gov:kms:us-east-1:239600258224:key/{KEY_ID}"),
            "partition-mismatch",
            partition,
        ),
        (
            "--kms-key",
            format!("arn:aws-cn:kms:cn-north-1:239600258224:key/{KEY_ID}"),
            "partition-mismatch",
            partition,
        ),
        ("--role-arn", String::new(), "bad-role-arn", role_format),
        (
            "--role-arn",
            "aspera-kms-access".into(),
            "bad-role-arn",
            role_format,
        ),
        (
            "--role-arn",
            "arn:aws:iam::239600258224:user/bob".into(),
            "bad-role-arn",
            role_format,
        ),
        (
            "--role-arn",
            "arn:aws:iam:us-east-1:239600258224:role/x".into(),
            "bad-role-arn",
            role_format,
        ),
        (
            "--role-arn",
            "arn:aws:iam::2396002582:role/x".into(),
            "bad-role-arn",
            role_format,
        ),
        (
            "--role-arn",
            "arn:aws:iam::239600258224:role/".into(),
            "bad-role-arn",
            role_format,
        ),
        (
            "--role-arn",
            "arn:aws:sts::239600258224:assumed-role/x/s".into(),
            "bad-role-arn",
            role_format,
        ),
        (
            "--role-arn",
            format!("arn:aws:iam::239600258224:user/{huge}"),
            "bad-role-arn",
            role_format,
        ),
        (
            "--role-arn",
            "arn:aws-cn:iam::239600258224:role/x".into(),
            "partition-mismatch",
            partition,
        ),
        (
            "--role-arn",
            "arn:aws-us-gov:iam::239600258224:role/x".into(),
            "partition-mismatch",
            partition,
        ),
    ];
    for (flag, value, reason, format) in cases {
        let o = check_with(flag, &value);
        let ctx = format!("{}\nexit {}\nstderr: {}", o.what, o.code, head(&o.stderr));
        assert_eq!(o.code, 1, "{ctx}");
        assert!(o.stderr.is_empty(), "{ctx}");
        let check = input_values(&o);
        assert_eq!(
            check["status"],
            "fail",
            "{ctx}\n{}",
            head(&check.to_string())
        );
        let reasons: Vec<&str> = check["findings"]
            .as_array()
            .map(|f| f.iter().filter_map(|f| f["reason"].as_str()).collect())
            .unwrap_or_default();
        assert!(reasons.contains(&reason), "{ctx}\nreasons {reasons:?}");
        let text = check.to_string();
        assert!(
            text.contains(format),
            "{ctx}\ndoes not say `{format}`: {}",
            head(&text)
        );
        if !value.is_empty() && value.len() < 1000 && reason != "partition-mismatch" {
            let shown = serde_json::to_string(&value).expect("JSON string");
            assert!(
                text.contains(shown.trim_matches('"')),
                "{ctx}\ndoes not name the value: {}",
                head(&text)
            );
        }
    }
}

/// Valid names that look unusual are not findings: dots are allowed in bucket names, and an
/// empty path or one without a leading slash is AoC's root or a folder.
#[test]
fn unusual_but_valid_values_pass() {
    for (flag, value) in [
        ("--bucket", "aspera.kms.example"),
        ("--bucket", "a-b"),
        ("--path", ""),
        ("--path", "data/incoming"),
        (
            "--kms-key",
            "arn:aws:kms:us-east-1:239600258224:key/mrk-0123456789abcdef0123456789abcdef",
        ),
    ] {
        let o = check_with(flag, value);
        let status = input_values(&o)["status"].clone();
        assert!(
            status == "pass" || status == "warn",
            "{}: input.values is {status}\n{}",
            o.what,
            head(&o.stdout)
        );
        assert!(o.code == 0 || o.code == 1, "{}: exit {}", o.what, o.code);
    }
}

/// An object key is at most 1024 bytes, so a path longer than that cannot hold a file.
#[test]
fn a_path_longer_than_an_s3_key_fails_input_values() {
    let o = check_with("--path", &format!("/{}", "a".repeat(100_000)));
    assert_eq!(o.code, 1, "{}", o.what);
    assert_eq!(input_values(&o)["status"], "fail", "{}", o.what);
}

/// A 10 MB value (here in the config file) is a finding like any malformed value, and the
/// report shows it shortened rather than five times in full.
#[test]
fn a_huge_value_is_reported_shortened() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = format!(
        "[[attachment]]\nregion = \"us-east-1\"\nbucket = \"{}\"\n\
         kms_key = \"arn:aws:kms:us-east-1:239600258224:key/{KEY_ID}\"\n\
         role_arn = \"arn:aws:iam::239600258224:role/aspera-kms-access\"\n\
         trust_policy = {:?}\n",
        "b".repeat(10 << 20),
        seed("aoc-trust-policy.json")
    );
    let path = dir.path().join("aoc.toml");
    std::fs::write(&path, config).expect("write");
    let o = read_config(&path);
    // A malformed value entered in AoC is a finding (input.values fails), not a usage error.
    assert_eq!(o.code, 1, "{}", head(&o.stderr));
    assert_eq!(input_values(&o)["status"], "fail");
    assert!(
        o.stdout.len() < 1 << 20,
        "the report is {} bytes",
        o.stdout.len()
    );
}

/// `simulate`'s arguments are not AoC entries: a malformed one is a usage error naming the
/// flag and the expected format.
#[test]
fn malformed_simulate_arguments_are_one_line_usage_errors() {
    let principal = "arn:aws:iam::239600258224:role/aspera-kms-access";
    let action = "s3:GetObject";
    let resource = "arn:aws:s3:::aspera-kms/data/file";
    let huge = "a".repeat(100_000);
    let arn_format = "expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE";
    let action_format = "expected SERVICE:ACTION";
    let cases: Vec<([String; 3], &str, &str)> = vec![
        (
            [String::new(), action.into(), resource.into()],
            "--principal",
            arn_format,
        ),
        (
            ["aspera-kms-access".into(), action.into(), resource.into()],
            "--principal",
            arn_format,
        ),
        (
            ["arn:aws".into(), action.into(), resource.into()],
            "--principal",
            arn_format,
        ),
        (
            [principal.into(), action.into(), String::new()],
            "--resource",
            arn_format,
        ),
        (
            [
                principal.into(),
                action.into(),
                "aspera-kms/data/file".into(),
            ],
            "--resource",
            arn_format,
        ),
        (
            [
                principal.into(),
                action.into(),
                "s3://aspera-kms/file".into(),
            ],
            "--resource",
            arn_format,
        ),
        (
            [principal.into(), String::new(), resource.into()],
            "--action",
            action_format,
        ),
        (
            [principal.into(), "GetObject".into(), resource.into()],
            "--action",
            action_format,
        ),
        (
            [principal.into(), "s3:".into(), resource.into()],
            "--action",
            action_format,
        ),
        (
            [principal.into(), ":GetObject".into(), resource.into()],
            "--action",
            action_format,
        ),
        (
            [principal.into(), "s3:Get*".into(), resource.into()],
            "--action",
            action_format,
        ),
        (
            [principal.into(), "s3:Get Object".into(), resource.into()],
            "--action",
            action_format,
        ),
        (
            [principal.into(), "s3:Get:Object".into(), resource.into()],
            "--action",
            action_format,
        ),
    ];
    for ([p, a, r], flag, format) in cases {
        let mut cmd = bin();
        cmd.args(["simulate", "--policy"])
            .arg(seed("s3-access-policy.json"))
            .args([
                format!("--principal={p}"),
                format!("--action={a}"),
                format!("--resource={r}"),
            ]);
        run(&mut cmd, &format!("simulate {p} {a} {r}")).assert_usage_error(flag, &[format]);
    }
    // Huge values: still one line (the value itself may be quoted in full).
    for flag in ["--principal", "--action", "--resource"] {
        let value = |f: &str, normal: &str| {
            if f == flag {
                format!("{f}={huge}")
            } else {
                format!("{f}={normal}")
            }
        };
        let mut cmd = bin();
        cmd.args(["simulate", "--policy"])
            .arg(seed("s3-access-policy.json"))
            .args([
                value("--principal", principal),
                value("--action", action),
                value("--resource", resource),
            ]);
        let o = run(&mut cmd, &format!("simulate {flag}=<100,000 characters>"));
        assert_eq!(o.code, 2, "{}", head(&o.stderr));
        assert_eq!(o.stderr.lines().count(), 1, "{}", head(&o.stderr));
        assert!(o.stderr.contains(flag), "{}", head(&o.stderr));
    }
}

/// Control characters in a value are malformed input too: the value is refused, and the
/// one-line message stays one line.
#[test]
fn values_with_control_characters_give_one_line_messages() {
    let principal = "arn:aws:iam::239600258224:role/aspera-kms-access";
    let resource = "arn:aws:s3:::aspera-kms/data/file";
    let cases: [(&str, [&str; 3]); 4] = [
        ("--resource", [principal, "s3:GetObject", "bad\nvalue"]),
        ("--action", [principal, "s3\nGetObject", resource]),
        (
            "--principal",
            [
                "arn:aws:iam::239600258224:role/x\nsecond line",
                "s3:GetObject",
                resource,
            ],
        ),
        ("--action", [principal, "s3:GetObject\u{1b}[2K", resource]),
    ];
    for (flag, [p, a, r]) in cases {
        let mut cmd = bin();
        cmd.args(["simulate", "--policy"])
            .arg(seed("s3-access-policy.json"))
            .args([
                format!("--principal={p}"),
                format!("--action={a}"),
                format!("--resource={r}"),
            ]);
        run(&mut cmd, &format!("simulate {p:?} {a:?} {r:?}")).assert_usage_error(flag, &[]);
    }
    let mut cmd = bin();
    cmd.args(["check", "--offline", "--config"])
        .arg(seed("aoc.toml"))
        .arg("--attachment=prod\nstaging");
    run(&mut cmd, "check --attachment with a newline").assert_usage_error("--attachment", &[]);
}

/// The text report is line-oriented: a value (from a flag, a file or AWS) must not add lines
/// or send escape sequences to the terminal. Only the tool's own colour codes may appear.
#[test]
fn control_characters_in_values_and_policies_stay_out_of_the_text_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut policy: Value = serde_json::from_str(
        &std::fs::read_to_string(seed("bucket-policy.json")).expect("seed bucket policy"),
    )
    .expect("JSON");
    policy["Statement"]
        .as_array_mut()
        .expect("statements")
        .push(json!({
            "Sid": "Evil\u{1b}]0;pwned\u{7}\n  pass   role.trust            forged line",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::aspera-kms/*"
        }));
    let bucket_policy = dir.path().join("bucket-policy.json");
    std::fs::write(&bucket_policy, policy.to_string()).expect("write");
    let mut cmd = bin();
    cmd.env_remove("NO_COLOR")
        .args([
            "--color",
            "always",
            "check",
            "--offline",
            "--format",
            "text",
            "--config",
        ])
        .arg(seed("aoc.toml"))
        .arg("--bucket-policy")
        .arg(&bucket_policy)
        .arg("--path=/data\n  pass   input.values          forged");
    let o = run(&mut cmd, "check --format text with control characters");
    assert!(o.code == 1, "exit {}\n{}", o.code, head(&o.stderr));
    for line in o.stdout.lines() {
        // The values may be shown (escaped, on their own line of the report); they must not
        // start a line of their own that reads like a check result.
        assert!(
            !(line.trim_start().starts_with("pass") && line.contains("forged")),
            "a value added a line to the report: {line:?}"
        );
        // Remove the tool's own SGR colour sequences; nothing else may be a control character.
        let mut rest = line.to_string();
        while let Some(at) = rest.find("\u{1b}[") {
            let end = rest[at + 2..]
                .find('m')
                .map(|e| at + 2 + e + 1)
                .filter(|&e| {
                    rest[at + 2..e - 1]
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b == b';')
                });
            match end {
                Some(e) => rest.replace_range(at..e, ""),
                None => break,
            }
        }
        assert!(
            !rest.chars().any(|c| c.is_control() && c != '\t'),
            "a control character reached the text report: {line:?}"
        );
    }
}
