//! No credential or signature ever reaches an output (issue 6): canary credentials, every
//! report format, trace logging and saved facts, against moto, a dead endpoint, an AWS error
//! that echoes the request's signature and a page that dumps the request. Needs moto:
//! `./scripts/setup-moto.sh`.

use std::ffi::OsString;

use serde_json::json;

use crate::support::guarded::{Credentials, Outcome, bin, head, live_env, run};
use crate::support::proxy::{Operation, Proxy, Recorded};
use crate::support::world::{World, external_id};

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

/// Runs `check` against `endpoint` with the canary credentials, `RUST_LOG=trace`, `--verbose`
/// and `--save-facts`, once per format to standard output and once with every format written to
/// files; searches every output for the secrets. Returns the JSON run's outcome.
fn run_with_canaries(endpoint: &str, attachment: &[OsString]) -> Outcome {
    let mut json_run = None;
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
        // Every file asked for was written, so each is searched below.
        let asked = format_args
            .iter()
            .filter_map(|a| a.strip_prefix("--output="))
            .chain(["facts.json"]);
        for name in asked {
            assert!(
                files.iter().any(|(p, _)| p.ends_with(name)),
                "{}: {name} was not written: {files:?}",
                o.what
            );
        }
        for (path, text) in &files {
            assert_no_secret(&format!("{path} ({})", o.what), text);
        }
        // Every format gives its report: an empty output has nothing to leak.
        assert!(
            [0, 1, 3].contains(&o.code),
            "{}: exit {}\n{}",
            o.what,
            o.code,
            head(&o.stderr)
        );
        assert!(!o.stdout.is_empty(), "{}: no report", o.what);
        if label == "--format json" {
            json_run = Some(o);
        }
    }
    json_run.expect("the JSON run")
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
    let json = run_with_canaries(&crate::support::moto::shared().endpoint(), &world.args());
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
}

#[test]
fn secrets_never_reach_an_output_when_the_endpoint_is_dead() {
    // A port that was just free: connection refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind")
        .port();
    let dir = tempfile::tempdir().expect("temp dir");
    let json = run_with_canaries(
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
    let json = run_with_canaries(&stub.endpoint(), &fixed_attachment(dir.path()));
    assert_canaries_were_sent(&stub);
    // The tool said the credentials are the problem (aws.credentials fails; exit 3: with
    // credentials that do not work nothing about the attachment was determined).
    let report = json.report();
    assert_eq!(json.code, 3, "{report:#}");
    assert_eq!(report["checks"][1]["id"], "aws.credentials", "{report:#}");
    assert_eq!(report["checks"][1]["status"], "fail", "{report:#}");
    assert!(
        report.to_string().contains("signature"),
        "the error is not reported: {report:#}"
    );
}

#[test]
fn secrets_never_reach_an_output_when_the_endpoint_dumps_the_request() {
    let stub = Proxy::stub(dumping_error_page);
    let dir = tempfile::tempdir().expect("temp dir");
    let json = run_with_canaries(&stub.endpoint(), &fixed_attachment(dir.path()));
    assert_canaries_were_sent(&stub);
    assert!(
        [1, 3].contains(&json.code),
        "exit {}\n{}",
        json.code,
        head(&json.stdout)
    );
}
