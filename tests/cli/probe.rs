//! `--probe`, the only writing mode, against moto: a correct world passes every step and is
//! left as it was; a step that fails midway still leaves nothing behind.

use crate::support::moto::{Clients, runtime, shared};
use crate::support::world::World;

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
