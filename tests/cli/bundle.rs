//! Support bundles: `--save-facts` then `--facts` replays a live run offline into the same
//! report; `--redact` leaves no account ID, key ID or external ID in any output.

use serde_json::Value;

use crate::support::moto::LiveCmd;
use crate::support::world::{AOC_ACCOUNT, World};

/// The report without what may differ between runs: call durations.
fn without_durations(mut report: Value) -> Value {
    if let Some(calls) = report["aws"]["calls"].as_array_mut() {
        for c in calls {
            c.as_object_mut().map(|o| o.remove("millis"));
        }
    }
    report
}

#[test]
fn a_replayed_bundle_gives_the_live_report() {
    // A world with a failure, so the report has evidence and remediation to compare.
    let world = World::builder("bundle")
        .without_s3_action("s3:DeleteObject")
        .build();
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("facts.json");
    let live = world
        .cmd()
        .args(["--save-facts".into(), bundle.clone().into_os_string()])
        .run();
    assert_eq!(live.code, 1);
    assert_eq!(live.report["mode"], "live");

    let replay = LiveCmd::new("http://127.0.0.1:9")
        .args(["--facts".into(), bundle.clone().into_os_string()])
        .run();
    assert_eq!(replay.code, live.code);
    // The replay says where its facts come from; the rest is the live report.
    let mut replayed = replay.report.clone();
    let said = replayed
        .as_object_mut()
        .and_then(|o| o.remove("replay"))
        .expect("a replayed report says it is a replay");
    assert_eq!(said["bundle"], bundle.display().to_string());
    assert!(
        said["gathered_by"]
            .as_str()
            .is_some_and(|arn| arn.starts_with("arn:aws:")),
        "{said}"
    );
    assert!(
        said["gathered_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{said}"
    );
    assert!(live.report.get("replay").is_none());
    assert_eq!(
        without_durations(replayed),
        without_durations(live.report.clone())
    );
}

#[test]
fn redacted_outputs_hold_no_account_key_or_external_id() {
    let world = World::builder("redact").build();
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("facts.json");
    let text_out = dir.path().join("report.txt");
    let run = world
        .cmd()
        .args([
            "--redact".into(),
            "--verbose".into(),
            "--save-facts".into(),
            bundle.clone().into_os_string(),
        ])
        // With the harness's `--format json` (to standard output), a text report to a file.
        .args(["--format", "text", "--output"])
        .args([text_out.clone().into_os_string()])
        .run();
    assert_eq!(run.code, 0, "{}", run.pretty());

    let key_id = world.key_arn.rsplit('/').next().unwrap().to_string();
    let secrets = [
        crate::support::world::ACCOUNT.to_string(),
        AOC_ACCOUNT.to_string(),
        key_id,
        world.external_id.clone(),
        world.role_external_id.clone(),
    ];
    let outputs = [
        ("json report", run.report.to_string()),
        ("text report", std::fs::read_to_string(&text_out).unwrap()),
        ("bundle", std::fs::read_to_string(&bundle).unwrap()),
        ("stderr", run.stderr.clone()),
    ];
    // The --verbose trace names the key and the role: it must be redacted too.
    assert!(run.stderr.contains("kms:DescribeKey"), "{}", run.stderr);
    for (what, text) in &outputs {
        assert!(text.len() > 100, "{what} is empty");
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{what} contains {s}:\n{text}");
        }
    }
    // Placeholders are consistent: the role ARN reads the same in the report and the bundle.
    let role = run.report["attachment"]["role_arn"].as_str().unwrap();
    assert!(
        role.starts_with("arn:aws:iam::000000000001:role/"),
        "{role}"
    );
    assert!(outputs[2].1.contains(role));

    // A redacted bundle still replays: the ARNs keep their shape.
    let replay = LiveCmd::new("http://127.0.0.1:9")
        .args(["--facts".into(), bundle.into_os_string()])
        .run();
    assert_eq!(replay.code, 0, "{}", replay.pretty());
}

#[test]
fn a_bundle_that_is_not_json_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("facts.json");
    std::fs::write(&bundle, "{\n  \"schema_version\": 1,\n  oops\n}").unwrap();
    let out = crate::support::bin()
        .args(["check", "--facts"])
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("facts.json:3:"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}
