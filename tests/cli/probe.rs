//! `--probe`, the only writing mode, against moto: a correct world passes every step and is
//! left as it was; a step that fails midway still leaves nothing behind; a disabled key fails
//! the first write.

use crate::support::moto::{Clients, LiveCmd, runtime, shared};
use crate::support::proxy::{Proxy, Recorded, Response};
use crate::support::world::{KeyState, World};

/// Every object key and in-progress upload in the bucket.
fn contents(bucket: &str) -> (Vec<String>, usize) {
    let clients = Clients::new(&shared().endpoint(), "us-east-1");
    runtime().block_on(async {
        let objects = clients
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .send()
            .await
            .expect("list objects");
        let uploads = clients
            .s3
            .list_multipart_uploads()
            .bucket(bucket)
            .send()
            .await
            .expect("list uploads");
        (
            objects
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string))
                .collect(),
            uploads.uploads().len(),
        )
    })
}

#[test]
fn a_correct_world_passes_every_step_and_is_left_as_it_was() {
    let world = World::builder("probe-ok").without_tls_statement().build();
    let before = contents(&world.bucket);
    let run = world.cmd().args(["--probe", "--path", "/incoming"]).run();
    assert_eq!(run.code, 0, "{}", run.pretty());
    let probe = run.check("probe.write");
    assert_eq!(probe["status"], "pass", "{probe:#}");
    let evidence = probe["evidence"].to_string();
    for step in [
        "PutObject (SSE-KMS)",
        "GetObject",
        "CreateMultipartUpload (SSE-KMS)",
        "UploadPart",
        "ListMultipartUploads",
        "AbortMultipartUpload",
        "DeleteObject",
    ] {
        assert!(
            evidence.contains(&format!("ok {step}")),
            "{step}: {evidence}"
        );
    }
    // Under the path, with a recognisable name.
    assert!(
        probe["summary"]
            .as_str()
            .unwrap()
            .contains("incoming/.aoc-preflight-probe-"),
        "{probe:#}"
    );
    assert_eq!(contents(&world.bucket), before);
}

#[test]
fn a_step_failing_midway_still_cleans_up() {
    // moto applies bucket policies to object requests: reads are denied, writes are not.
    let world = World::builder("probe-deny")
        .without_tls_statement()
        .bucket_policy_statement(
            r#"{"Sid": "NoReads", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::${BUCKET}/*"}"#,
        )
        .build();
    let before = contents(&world.bucket);
    let run = world.cmd().args(["--probe"]).run();
    let probe = run.check("probe.write");
    assert_eq!(probe["status"], "fail", "{probe:#}");
    assert!(
        probe["summary"].as_str().unwrap().contains("GetObject"),
        "{probe:#}"
    );
    let evidence = probe["evidence"].to_string();
    assert!(evidence.contains("ok PutObject"), "{evidence}");
    assert!(
        !evidence.contains("CreateMultipartUpload"),
        "stopped at the failure: {evidence}"
    );
    // The object written before the failure was deleted.
    assert_eq!(contents(&world.bucket), before);
    // And the rest of the report is unaffected by the probe.
    assert_eq!(run.status("role.s3-access"), "pass");
}

#[test]
fn without_probe_nothing_is_written() {
    let world = World::builder("probe-off").build();
    let run = world.check();
    assert_eq!(run.status("probe.write"), "skip");
    let calls = run.report["aws"]["calls"].to_string();
    for write in ["PutObject", "DeleteObject", "MultipartUpload", "UploadPart"] {
        assert!(!calls.contains(write), "{write} without --probe: {calls}");
    }
}

/// S3's answer to a write naming a disabled key, which moto does not give (moto 5.2.5 encrypts
/// under a disabled key as under an enabled one): S3 asks KMS for a data key, KMS refuses
/// with DisabledException, and S3 passes it on as `400 KMS.DisabledException`. Only SSE-KMS
/// writes (PutObject, CreateMultipartUpload) are answered here; every other request, the
/// key's own state included, is moto's.
fn s3_refusing_disabled_key_writes(r: &Recorded) -> Option<Response> {
    let sse_kms = r
        .header("x-amz-server-side-encryption")
        .is_some_and(|v| v == "aws:kms");
    let write = r.method == "PUT" && !r.query().contains("partNumber")
        || r.method == "POST" && r.query().contains("uploads");
    if !(sse_kms && write) {
        return None;
    }
    let key = r
        .header("x-amz-server-side-encryption-aws-kms-key-id")
        .unwrap_or("the key");
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>KMS.DisabledException</Code>\
         <Message>{key} is disabled.</Message><RequestId>probe-test</RequestId></Error>"
    );
    Some(Response {
        status: 400,
        headers: vec![("Content-Type".into(), "application/xml".into())],
        body: body.into_bytes(),
    })
}

#[test]
fn a_disabled_key_fails_the_first_write_and_leaves_nothing() {
    let world = World::builder("probe-disabled")
        .without_tls_statement()
        .key_state(KeyState::Disabled)
        .build();
    let before = contents(&world.bucket);
    let proxy = Proxy::start_answering(&shared().endpoint(), s3_refusing_disabled_key_writes);
    let run = LiveCmd::new(&proxy.endpoint())
        .args(world.args())
        .args(["--probe"])
        .run();
    assert!(proxy.problems().is_empty(), "{:?}", proxy.problems());
    assert_eq!(run.code, 1, "{}", run.pretty());
    // The read checks see the key's state; the probe sees what S3 does with it.
    run.assert_says("kms.key", "fail", "Disabled");
    let probe = run.check("probe.write");
    assert_eq!(probe["status"], "fail", "{probe:#}");
    let summary = probe["summary"].as_str().unwrap();
    assert!(summary.contains("PutObject"), "{probe:#}");
    let evidence = probe["evidence"].to_string();
    assert!(evidence.contains("KMS.DisabledException"), "{evidence}");
    assert!(!evidence.contains("ok PutObject"), "{evidence}");
    assert!(
        !evidence.contains("GetObject"),
        "stopped at the failure: {evidence}"
    );
    // The refused write was answered by the stand-in, so it reached nothing; the tool still
    // tried to delete what it might have left, under its own name only.
    let deletes: Vec<String> = proxy
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.target.clone())
        .collect();
    assert!(
        deletes.iter().all(|t| t.contains(".aoc-preflight-probe-")),
        "{deletes:?}"
    );
    assert_eq!(contents(&world.bucket), before);
}
