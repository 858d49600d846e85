//! `explain` end to end, through the binary: each message family finds the right entry and
//! checks (also buried in noise, and on standard input), an unknown message is not an error, and
//! `--run` confirms the cause on the broken example.

use std::path::PathBuf;

use crate::support::bin;
use serde_json::Value;

fn broken_example() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples/broken/aoc.toml")
        .display()
        .to_string()
}

/// Runs `explain --format json` with the message as argument; the exit code and the output.
fn explain_json(args: &[&str]) -> (i32, Value) {
    let out = bin()
        .args(["explain", "--format", "json"])
        .args(args)
        .write_stdin("")
        .output()
        .expect("runs");
    parse(out)
}

fn parse(out: std::process::Output) -> (i32, Value) {
    let text = String::from_utf8_lossy(&out.stdout);
    let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), value)
}

fn top_id(report: &Value) -> &str {
    report["matched"][0]["id"].as_str().unwrap_or("")
}

/// The check IDs of the top entry's causes, in order, once each.
fn top_checks(report: &Value) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for cause in report["matched"][0]["causes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for id in cause["checks"].as_array().into_iter().flatten() {
            let id = id.as_str().unwrap_or("").to_string();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

fn first_cause_checks(report: &Value) -> Vec<&str> {
    report["matched"][0]["causes"][0]["checks"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// (message, top entry, the checks of its most likely cause)
const FAMILIES: &[(&str, &str, &[&str])] = &[
    (
        "Unable to create ATS access key and secret",
        "aoc.ats-access-key",
        &["bucket.region", "input.values"],
    ),
    (
        "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied",
        "s3.access-denied",
        &["role.s3-access"],
    ),
    (
        "User: arn:aws:sts::239600258224:assumed-role/aspera-kms-access/aoc is not authorized to \
         perform: s3:ListBucketMultipartUploads on resource: arn:aws:s3:::aspera-kms",
        "s3.access-denied",
        &["role.s3-access"],
    ),
    (
        "An error occurred (AccessDenied) when calling the PutObject operation: User: \
         arn:aws:sts::123:assumed-role/aoc/x is not authorized to perform: kms:GenerateDataKey on \
         resource: arn:aws:kms:us-east-1:123:key/1234abcd because no identity-based policy allows \
         the kms:GenerateDataKey action (Service: S3, Status Code: 403, Request ID: ABC)",
        "kms.generate-data-key-denied",
        &["role.kms-access"],
    ),
    (
        "AccessDeniedException: User: arn:aws:sts::123:assumed-role/aoc/x is not authorized to \
         perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:123:key/1234abcd",
        "kms.decrypt-denied",
        &["role.kms-access"],
    ),
    (
        "An error occurred (AccessDenied) when calling the AssumeRole operation: User: \
         arn:aws:sts::860559707280:assumed-role/atp-aws-us-east-1-ts-atc-node/s is not authorized \
         to perform: sts:AssumeRole on resource: arn:aws:iam::239600258224:role/aspera-kms-access",
        "sts.assume-role-denied",
        &["role.trust"],
    ),
    (
        "An error occurred (KMS.DisabledException) when calling the PutObject operation: \
         arn:aws:kms:us-east-1:123:key/1234abcd is disabled.",
        "kms.disabled",
        &["kms.key", "kms.alias"],
    ),
    (
        "DisabledException: arn:aws:kms:us-east-1:123:key/1234abcd is disabled.",
        "kms.disabled",
        &["kms.key", "kms.alias"],
    ),
    (
        "An error occurred (KMS.NotFoundException) when calling the PutObject operation: Invalid \
         arn us-east-1",
        "kms.not-found",
        &["input.values", "bucket.region", "kms.key"],
    ),
    (
        // "Alias ... is not found" is about the alias, not the key's region (issue 11, defect 12).
        "NotFoundException: Alias arn:aws:kms:us-east-1:123:alias/aspera-kms is not found.",
        "kms.not-found",
        &["kms.alias", "input.values"],
    ),
    (
        "An error occurred (KMS.KMSInvalidStateException) when calling the PutObject operation: \
         arn:aws:kms:us-east-1:123:key/1234abcd is pending deletion.",
        "kms.invalid-state",
        &["kms.key"],
    ),
    (
        "An error occurred (InvalidCiphertextException) when calling the GetObject operation: The \
         ciphertext refers to a customer master key that does not exist, does not exist in this \
         region, or you are not allowed to access.",
        "kms.ciphertext-unknown-key",
        &["role.kms-access", "kms.key-policy"],
    ),
    (
        "An error occurred (PermanentRedirect) when calling the ListObjects operation: The bucket \
         you are attempting to access must be addressed using the specified endpoint. Please send \
         all future requests to this endpoint.",
        "s3.permanent-redirect",
        &["bucket.region", "input.values"],
    ),
    (
        "An error occurred (AuthorizationHeaderMalformed) when calling the ListObjectsV2 \
         operation: The authorization header is malformed; the region 'us-east-1' is wrong; \
         expecting 'eu-west-1'",
        "s3.authorization-header-malformed",
        &["bucket.region", "input.values"],
    ),
    (
        "An error occurred (MalformedPolicyDocument) when calling the UpdateAssumeRolePolicy \
         operation: Invalid principal in policy: \"AWS\":\"arn:aws:iam::860559707280:role/atp-aws-us-east-1-ts-atc-nod\"",
        "iam.invalid-principal",
        &["role.trust", "input.values", "bucket.region"],
    ),
    (
        "An error occurred (NoSuchBucket) when calling the ListObjectsV2 operation: The specified \
         bucket does not exist",
        "s3.no-such-bucket",
        &["input.values", "bucket.reachable"],
    ),
    (
        "An error occurred (InvalidAccessKeyId) when calling the ListBuckets operation: The AWS \
         Access Key Id you provided does not exist in our records.",
        "aws.invalid-access-key-id",
        &["aws.credentials"],
    ),
    (
        "An error occurred (ExpiredToken) when calling the GetCallerIdentity operation: The \
         security token included in the request is expired",
        "aws.expired-token",
        &["aws.credentials"],
    ),
    (
        "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: s3:PutObject on \
         resource: arn:aws:s3:::aspera-kms/x with an explicit deny in a resource-based policy",
        "s3.access-denied",
        &["bucket.policy", "role.s3-access"],
    ),
];

#[test]
fn each_message_family_finds_its_entry_and_checks() {
    for (message, entry, first_checks) in FAMILIES {
        let (code, report) = explain_json(&[message]);
        assert_eq!(code, 0, "{message}");
        assert_eq!(top_id(&report), *entry, "{message}\n{report:#}");
        assert_eq!(first_cause_checks(&report), *first_checks, "{message}");
        // The next command runs exactly the entry's checks.
        let next = report["matched"][0]["next"].as_str().unwrap_or("");
        let expected = format!("--only {}", top_checks(&report).join(","));
        assert!(next.ends_with(&expected), "{next} vs {expected}");
        assert!(next.starts_with("aoc-preflight check "), "{next}");
        assert_eq!(report["next"], report["matched"][0]["next"]);
    }
}

#[test]
fn the_json_shape_is_the_documented_one() {
    let (_, report) = explain_json(&["NoSuchBucket"]);
    assert_eq!(report["message"], "NoSuchBucket");
    let entry = &report["matched"][0];
    for key in ["id", "title", "meaning", "causes", "next"] {
        assert!(!entry[key].is_null(), "no {key} in {entry}");
    }
    let cause = &entry["causes"][0];
    assert!(
        cause["cause"].is_string() && cause["checks"].is_array(),
        "{cause}"
    );
    // Without --run there is nothing about verdicts.
    assert!(cause.get("verdict").is_none() && entry.get("first_confirmed").is_none());
    assert!(report.get("run").is_none());
}

#[test]
fn noise_around_the_message_does_not_matter() {
    let noisy = [
        // A log line prefix, a request ID, a line break inside the phrase, other case.
        "2024-05-01T10:00:00Z ERROR [req 7f3a] unable to create ATS\n  ACCESS KEY and secret (request id: 8d9e-11)",
        // JSON-quoted, with an escaped line break.
        r#"{"error": "Unable to create ATS access\nkey and secret", "requestId": "ABC123"}"#,
        // Typographic quotes, as pasted from a chat or a document.
        "AoC says “Unable to create ATS access key and secret” after Save",
    ];
    for message in noisy {
        let (code, report) = explain_json(&[message]);
        assert_eq!(code, 0);
        assert_eq!(top_id(&report), "aoc.ats-access-key", "{message}");
    }
    let (_, report) = explain_json(&[
        "Error: \"An error occurred (AccessDenied) when calling the PutObject operation:\r\n User: \
         arn:aws:sts::123:assumed-role/aoc/x is not authorized to perform: \
         'kms:GenerateDataKey' on resource: arn:aws:kms:us-east-1:123:key/k\" (Service: Amazon \
         S3; Status Code: 403; Error Code: AccessDenied; Request ID: 5N2ZQ; S3 Extended Request \
         ID: abc=)",
    ]);
    assert_eq!(top_id(&report), "kms.generate-data-key-denied");
    // The generic S3 entry would only add noise to a KMS message.
    let ids: Vec<&str> = report["matched"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert!(!ids.contains(&"s3.access-denied"), "{ids:?}");
}

#[test]
fn several_matches_come_most_specific_first() {
    let (_, report) = explain_json(&[
        "Unable to create ATS access key and secret: User: arn:aws:sts::860559707280:assumed-role/atp/s is not authorized to perform: sts:AssumeRole",
    ]);
    let ids: Vec<&str> = report["matched"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(ids, ["sts.assume-role-denied", "aoc.ats-access-key"]);
}

#[test]
fn the_message_may_come_on_standard_input() {
    let message = "Request ID: Q1W2E3\nAn error occurred (AuthorizationHeaderMalformed) when calling the HeadBucket operation:\nthe region 'us-east-1' is wrong; expecting 'eu-west-1'\n";
    for args in [
        &["explain", "--format", "json"][..],
        &["explain", "--format", "json", "-"][..],
    ] {
        let out = bin()
            .args(args)
            .write_stdin(message)
            .output()
            .expect("runs");
        let (code, report) = parse(out);
        assert_eq!(code, 0);
        assert_eq!(top_id(&report), "s3.authorization-header-malformed");
        assert_eq!(report["message"], message.trim());
    }
}

#[test]
fn bytes_that_are_not_utf8_do_not_stop_it() {
    let mut input = b"\xff\xfe garbage \x00 ".to_vec();
    input.extend_from_slice(b"An error occurred (NoSuchBucket) \xc3\x28 when calling");
    let out = bin()
        .args(["explain", "--format", "json"])
        .write_stdin(input)
        .output()
        .expect("runs");
    let (code, report) = parse(out);
    assert_eq!(code, 0);
    assert_eq!(top_id(&report), "s3.no-such-bucket");
}

#[test]
fn an_unknown_message_is_not_an_error() {
    let (code, report) = explain_json(&["The printer is on fire (code 0xDEAD)"]);
    assert_eq!(code, 0);
    assert_eq!(report["matched"], Value::Array(Vec::new()));
    // Every check: no --only.
    assert_eq!(report["next"], "aoc-preflight check --config aoc.toml");

    let out = bin()
        .args(["explain", "The printer is on fire"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("not in the explain catalog"), "{text}");
    assert!(
        text.contains("aoc-preflight check --config aoc.toml\n"),
        "{text}"
    );
}

#[test]
fn text_output_names_the_causes_checks_and_next_command() {
    let config = broken_example();
    let out = bin()
        .args(["explain", "--offline", "--config", &config])
        .arg("not authorized to perform: sts:AssumeRole")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("AccessDenied for sts:AssumeRole"), "{text}");
    assert!(text.contains("1) The external ID"), "{text}");
    assert!(text.contains("checked by: role.trust"), "{text}");
    // The next command carries the attachment given, ready to paste.
    assert!(
        text.contains(&format!(
            "aoc-preflight check --config {config} --offline --only role.trust,bucket.region,input.values,role.exists"
        )),
        "{text}"
    );
    // No placeholder note when the attachment is known.
    assert!(!text.contains("stands for your attachment"), "{text}");
}

#[test]
fn run_confirms_the_trust_cause_on_the_broken_example() {
    let config = broken_example();
    let (code, report) = explain_json(&[
        "--run",
        "--offline",
        "--config",
        &config,
        "An error occurred (AccessDenied) when calling the AssumeRole operation: User: \
         arn:aws:sts::860559707280:assumed-role/atp-aws-us-east-1-ts-atc-node/s is not authorized \
         to perform: sts:AssumeRole on resource: arn:aws:iam::239600258224:role/aspera-kms-access",
    ]);
    // role.trust fails in the example: the exit code is that of the checks.
    assert_eq!(code, 1, "{report:#}");
    let entry = &report["matched"][0];
    assert_eq!(entry["id"], "sts.assume-role-denied");
    assert_eq!(entry["first_confirmed"], 0);
    let causes = entry["causes"].as_array().expect("causes");
    assert_eq!(causes[0]["verdict"], "confirmed", "{:#}", causes[0]);
    assert!(
        causes[0]["cause"]
            .as_str()
            .unwrap_or("")
            .contains("external ID"),
    );
    let trust = &causes[0]["results"][0];
    assert_eq!(trust["id"], "role.trust");
    assert_eq!(trust["status"], "fail");
    assert!(
        trust["summary"]
            .as_str()
            .unwrap_or("")
            .contains("external ID")
    );
    // role.trust fails for the external ID, not for a missing principal: that cause is not
    // confirmed by it.
    assert_eq!(causes[1]["verdict"], "not-confirmed", "{:#}", causes[1]);
    // role.exists is live-only: cannot tell offline.
    assert_eq!(causes[2]["verdict"], "unknown", "{:#}", causes[2]);
    assert_eq!(report["run"]["exit_code"], 1);
    assert_eq!(report["run"]["mode"], "offline");

    // The same in text.
    let out = bin()
        .args(["explain", "--run", "--offline", "--config", &config])
        .arg("not authorized to perform: sts:AssumeRole")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1) [CONFIRMED] The external ID"), "{text}");
    assert!(text.contains("First confirmed cause: 1)"), "{text}");
    assert!(text.contains("role.trust  FAIL"), "{text}");
}

#[test]
fn run_walks_the_ats_causes_and_points_at_the_first_failure() {
    let config = broken_example();
    let (code, report) = explain_json(&[
        "--run",
        "--offline",
        "--config",
        &config,
        "Unable to create ATS access key and secret",
    ]);
    assert_eq!(code, 1);
    let entry = &report["matched"][0];
    let verdicts: Vec<&str> = entry["causes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["verdict"].as_str())
        .collect();
    // region, role ARN, KMS, S3, trust: the example breaks the last three.
    assert_eq!(
        verdicts,
        [
            "not-confirmed",
            "unknown",
            "confirmed",
            "confirmed",
            "confirmed"
        ]
    );
    assert_eq!(entry["first_confirmed"], 2);
}

#[test]
fn run_on_a_passing_example_confirms_nothing() {
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples/seed/aoc.toml")
        .display()
        .to_string();
    let (code, report) = explain_json(&[
        "--run",
        "--offline",
        "--config",
        &config,
        "not authorized to perform: sts:AssumeRole",
    ]);
    assert_eq!(code, 0, "{report:#}");
    // Present, and null: the checks ran and confirmed nothing.
    assert_eq!(
        report["matched"][0].get("first_confirmed"),
        Some(&Value::Null)
    );
    assert_eq!(
        report["matched"][0]["causes"][0]["verdict"],
        "not-confirmed"
    );
}

#[test]
fn run_with_an_unknown_message_runs_nothing() {
    let (code, report) = explain_json(&[
        "--run",
        "--offline",
        "--config",
        &broken_example(),
        "something else entirely",
    ]);
    assert_eq!(code, 0);
    assert_eq!(report["matched"], Value::Array(Vec::new()));
    assert!(report.get("run").is_none());
}

#[test]
fn bad_usage_exits_2() {
    let cases: &[&[&str]] = &[
        // No attachment for --run.
        &["explain", "--run", "NoSuchBucket"],
        // Empty message.
        &["explain", "   "],
    ];
    for args in cases {
        let out = bin().args(*args).write_stdin("").output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("aoc-preflight: error:"), "{args:?}: {err}");
    }
    // The `check` flags explain has no use for do not exist for it: the command line's own
    // usage error, naming what it refused. The message on standard input is never explained.
    let refused: &[(&[&str], &str)] = &[
        // A format explain does not write.
        (
            &["explain", "--format", "junit", "NoSuchBucket"],
            "invalid value 'junit' for '--format",
        ),
        (
            &[
                "explain",
                "--format",
                "json",
                "--format",
                "text",
                "NoSuchBucket",
            ],
            "'--format <FORMAT>' cannot be used multiple times",
        ),
        // explain picks the checks.
        (
            &["explain", "NoSuchBucket", "--only", "role.trust"],
            "unexpected argument '--only'",
        ),
        (
            &["explain", "--only", "role.trust", "NoSuchBucket"],
            "unexpected argument 'role.trust'",
        ),
        // explain writes only its own output, to standard output.
        (
            &["explain", "NoSuchBucket", "--output", "out.txt"],
            "unexpected argument '--output'",
        ),
        (
            &["explain", "NoSuchBucket", "--save-facts", "facts.json"],
            "unexpected argument '--save-facts'",
        ),
        (
            &["explain", "NoSuchBucket", "--redact"],
            "unexpected argument '--redact'",
        ),
        // With the message on standard input, an option explain lacks is not taken for the
        // message.
        (
            &["explain", "--redact"],
            "invalid value '--redact' for '[MESSAGE]'",
        ),
        (
            &["explain", "--probe"],
            "invalid value '--probe' for '[MESSAGE]'",
        ),
    ];
    for (args, expected) in refused {
        let out = bin()
            .args(*args)
            .write_stdin("NoSuchBucket")
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("error: ") && err.contains(expected),
            "{args:?}: {err}"
        );
    }
    // The message and a document cannot both come from standard input.
    let out = bin()
        .args(["explain", "--trust-policy", "-"])
        .write_stdin("NoSuchBucket")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("standard input"));
}

/// A role allowed kms:GenerateDataKey but not kms:Decrypt: a GenerateDataKey denial is not
/// explained by it, a Decrypt denial is.
#[test]
fn run_tells_which_kms_action_the_role_lacks() {
    let seed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/seed");
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(&seed).expect("examples/seed") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).expect("copy");
    }
    let kms = std::fs::read_to_string(seed.join("kms-policy.json")).expect("kms policy");
    let without_decrypt = kms.replace("        \"kms:Decrypt\",\n", "");
    assert_ne!(
        kms, without_decrypt,
        "the seed's KMS policy lists kms:Decrypt"
    );
    std::fs::write(dir.path().join("kms-policy.json"), without_decrypt).expect("write");
    let config = dir.path().join("aoc.toml").display().to_string();
    let denied = |action: &str| {
        format!(
            "An error occurred (AccessDenied) when calling the PutObject operation: User: \
             arn:aws:sts::239600258224:assumed-role/aspera-kms-access/s is not authorized to \
             perform: {action} on resource: \
             arn:aws:kms:us-east-1:239600258224:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46 because \
             no identity-based policy allows the {action} action"
        )
    };
    let role_cause = |report: &Value, entry: &str| {
        let matched = report["matched"].as_array().expect("matched");
        let e = matched
            .iter()
            .find(|m| m["id"] == entry)
            .unwrap_or_else(|| panic!("{entry} not matched: {report:#}"));
        e["causes"]
            .as_array()
            .expect("causes")
            .iter()
            .find(|c| c["results"][0]["id"] == "role.kms-access")
            .cloned()
            .expect("a cause confirmed by role.kms-access")
    };

    let (code, report) = explain_json(&[
        "--run",
        "--offline",
        "--config",
        &config,
        &denied("kms:Decrypt"),
    ]);
    assert_eq!(code, 1, "{report:#}");
    let cause = role_cause(&report, "kms.decrypt-denied");
    assert_eq!(cause["verdict"], "confirmed", "{cause:#}");

    let (_, report) = explain_json(&[
        "--run",
        "--offline",
        "--config",
        &config,
        &denied("kms:GenerateDataKey"),
    ]);
    let cause = role_cause(&report, "kms.generate-data-key-denied");
    assert_eq!(cause["verdict"], "not-confirmed", "{cause:#}");
    let summary = cause["results"][0]["summary"].as_str().unwrap_or("");
    assert!(
        summary.starts_with("Fails, but for kms:Decrypt, not kms:GenerateDataKey"),
        "{summary}"
    );
}

/// One message of tests/fixtures/explain/wild.toml.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WildMessage {
    text: String,
    source: String,
    established: String,
    entry: String,
    first_check: String,
    #[serde(default)]
    cause_has: Option<String>,
    #[serde(default)]
    also_check: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WildFile {
    message: Vec<WildMessage>,
}

/// Issue 11, defect 12: real messages (aws-cli, boto3, SDK and CI threads, AWS's documented
/// wordings), each with the cause its thread established, must get that cause first.
#[test]
fn issue11_d12_messages_from_the_wild_get_the_established_cause_first() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/explain/wild.toml");
    let text = std::fs::read_to_string(&path).expect("wild.toml");
    let wild: WildFile = toml::from_str(&text).expect("wild.toml parses");
    assert!(
        wild.message.len() >= 20,
        "the set has {}",
        wild.message.len()
    );
    let mut wrong = Vec::new();
    for m in &wild.message {
        assert!(m.source.starts_with("https://"), "{}", m.source);
        assert!(!m.established.trim().is_empty(), "{}", m.source);
        // On standard input, as a log excerpt is given: a message that starts with "- " would
        // read as an option on the command line.
        let out = bin()
            .args(["explain", "--format", "json"])
            .write_stdin(m.text.as_str())
            .output()
            .expect("runs");
        let (code, report) = parse(out);
        assert_eq!(code, 0, "{}", m.source);
        let top = top_id(&report);
        let first = &report["matched"][0]["causes"][0];
        let first_check = first["checks"][0].as_str().unwrap_or("");
        let cause = first["cause"].as_str().unwrap_or("");
        let mut problems = Vec::new();
        if top != m.entry {
            problems.push(format!("entry {top:?}, expected {:?}", m.entry));
        }
        if first_check != m.first_check {
            problems.push(format!(
                "first check {first_check:?}, expected {:?}",
                m.first_check
            ));
        }
        // A cause no check confirms must say why, not leave the admin with nothing to run.
        if m.first_check.is_empty() && first["unchecked"].as_str().unwrap_or("").is_empty() {
            problems.push("first cause has no check and does not say why".to_string());
        }
        if let Some(words) = &m.cause_has
            && !cause.contains(words.as_str())
        {
            problems.push(format!("first cause lacks {words:?}: {cause}"));
        }
        if let Some(id) = &m.also_check
            && !top_checks(&report).contains(id)
        {
            problems.push(format!("{id} is not among the causes"));
        }
        if !problems.is_empty() {
            wrong.push(format!("{}\n    {}", m.source, problems.join("\n    ")));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Issue 12: an SCP or RCP clause points at the organization's policies and at `org.policies`,
/// which judges them: the next command runs only real checks, and a run without the policies
/// leaves that cause unknown rather than ruled out.
#[test]
fn issue12_an_organization_policy_points_at_org_policies() {
    let message = "User: arn:aws:sts::239600258224:assumed-role/aspera-kms-access/aoc is not \
                   authorized to perform: s3:PutObject on resource: \
                   \"arn:aws:s3:::aspera-kms/aspera/x\" with an explicit deny in a service control \
                   policy";
    let (_, report) = explain_json(&[message]);
    let first = &report["matched"][0]["causes"][0];
    assert_eq!(
        first["checks"],
        serde_json::json!(["org.policies"]),
        "{first:#}"
    );
    assert!(
        first.get("unchecked").is_none_or(Value::is_null),
        "{first:#}"
    );
    let next = report["next"].as_str().unwrap_or("");
    assert!(next.contains("org.policies"), "{next}");
    let only = next.split("--only ").nth(1).unwrap_or("");
    let listed = bin().arg("checks").output().expect("runs");
    let known = String::from_utf8_lossy(&listed.stdout).to_string();
    for id in only.split(',') {
        assert!(known.contains(id), "{id} is not a check: {next}");
    }

    let out = bin().args(["explain", message]).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1) A policy of AWS Organizations"), "{text}");

    let (_, report) = explain_json(&["--run", "--offline", "--config", &broken_example(), message]);
    let first = &report["matched"][0]["causes"][0];
    assert_eq!(first["verdict"], "unknown", "{first:#}");
}

/// Issue 12: AoC's AssumeRole refused by a resource control policy; `explain --run` with the
/// RCP given confirms the organization's policy, and with AoC's exception in it does not.
#[test]
fn issue12_explain_confirms_an_rcp_perimeter_on_assume_role() {
    let org = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/org");
    let seed = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples/seed/aoc.toml")
        .display()
        .to_string();
    let message = "An error occurred (AccessDenied) when calling the AssumeRole operation: User: \
                   arn:aws:iam::860559707280:role/atp-aws-us-east-1-ts-atc-node is not authorized \
                   to perform: sts:AssumeRole on resource: \
                   arn:aws:iam::239600258224:role/aspera-kms-access with an explicit deny in a \
                   resource control policy";
    let perimeter = format!("root={}", org.join("p-perim1234.json").display());
    let (code, report) = explain_json(&[
        "--run",
        "--offline",
        "--config",
        &seed,
        "--rcp",
        &perimeter,
        message,
    ]);
    assert_eq!(code, 1, "{report:#}");
    let entry = &report["matched"][0];
    assert_eq!(entry["id"], "sts.assume-role-denied", "{entry:#}");
    let first = &entry["causes"][0];
    assert_eq!(
        first["checks"],
        serde_json::json!(["org.policies"]),
        "{first:#}"
    );
    assert_eq!(first["verdict"], "confirmed", "{first:#}");
    let result = &first["results"][0];
    assert_eq!(result["id"], "org.policies");
    assert!(
        result["summary"]
            .as_str()
            .unwrap_or("")
            .contains("resource control policy p-perim1234"),
        "{result:#}"
    );

    let excepted = org.join("perimeter-with-aoc.json").display().to_string();
    let (code, report) = explain_json(&[
        "--run",
        "--offline",
        "--config",
        &seed,
        "--rcp",
        &excepted,
        message,
    ]);
    assert_eq!(code, 0, "{report:#}");
    let first = &report["matched"][0]["causes"][0];
    assert_eq!(first["verdict"], "not-confirmed", "{first:#}");
}

#[test]
fn issue11_d12_a_message_pasted_with_a_leading_dash_is_a_message_not_an_option() {
    // As ember-cli-deploy prints it: a list item.
    let out = crate::support::bin()
        .args([
            "explain",
            "- SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided.",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("aws.signature-does-not-match"));
}

/// Issue 12 review: `explain --run` confirms an organization-policy cause only with a finding
/// about the same action and the same kind of policy the message names.
#[test]
fn issue12_explain_confirms_org_causes_only_for_the_same_action_and_policy_kind() {
    let org = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/org");
    let seed = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples/seed/aoc.toml")
        .display()
        .to_string();
    let verdict = |policy_flag: &str, policy: String, message: &str| {
        let (_, report) = explain_json(&[
            "--run",
            "--offline",
            "--config",
            &seed,
            policy_flag,
            &policy,
            message,
        ]);
        let cause = report["matched"][0]["causes"]
            .as_array()
            .and_then(|causes| {
                causes
                    .iter()
                    .find(|c| c["checks"] == serde_json::json!(["org.policies"]))
            })
            .cloned()
            .unwrap_or_else(|| panic!("no org.policies cause: {report:#}"));
        cause["verdict"].as_str().unwrap_or("").to_string()
    };
    let no_kms = format!("ou:Sales/Prod={}", org.join("p-nokms123.json").display());
    let perimeter = format!("root={}", org.join("p-perim1234.json").display());
    let assume_rcp = "An error occurred (AccessDenied) when calling the AssumeRole operation: User: \
                      arn:aws:iam::860559707280:role/atp-aws-us-east-1-ts-atc-node is not authorized \
                      to perform: sts:AssumeRole on resource: \
                      arn:aws:iam::239600258224:role/aspera-kms-access with an explicit deny in a \
                      resource control policy";
    // An SCP that denies only KMS is not why AoC's AssumeRole was refused by an RCP.
    assert_ne!(verdict("--scp", no_kms.clone(), assume_rcp), "confirmed");
    // The RCP perimeter is.
    assert_eq!(verdict("--rcp", perimeter.clone(), assume_rcp), "confirmed");
    let kms_scp = "User: arn:aws:sts::239600258224:assumed-role/aspera-kms-access/s is not \
                   authorized to perform: kms:GenerateDataKey on resource: \
                   arn:aws:kms:us-east-1:239600258224:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46 \
                   with an explicit deny in a service control policy";
    assert_eq!(verdict("--scp", no_kms, kms_scp), "confirmed");
    // An RCP's refusal of AoC's AssumeRole does not confirm an SCP's refusal of kms.
    assert_ne!(verdict("--rcp", perimeter, kms_scp), "confirmed");
    // Nor does an RCP's refusal of the same kms action: the message names an SCP.
    let dir = tempfile::tempdir().expect("tempdir");
    let rcp_kms = dir.path().join("p-rcpkms01.json");
    std::fs::write(
        &rcp_kms,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*"}]}"#,
    )
    .unwrap();
    let rcp_kms = format!("root={}", rcp_kms.display());
    assert_ne!(verdict("--rcp", rcp_kms.clone(), kms_scp), "confirmed");
    let kms_rcp = kms_scp.replace("service control policy", "resource control policy");
    assert_eq!(verdict("--rcp", rcp_kms, &kms_rcp), "confirmed");
}
