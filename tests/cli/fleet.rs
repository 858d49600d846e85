//! A fleet in live mode: many attachments in one config file, checked in one run against
//! moto, with the facts they share (role, key, bucket, caller) fetched once.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;

use crate::support::moto::{LiveCmd, shared};
use crate::support::world::World;

/// The value after `flag` in a world's arguments.
fn arg(world: &World, flag: &str) -> String {
    let args = world.args();
    let i = args
        .iter()
        .position(|a| a == &OsString::from(flag))
        .unwrap_or_else(|| panic!("{flag} not in {args:?}"));
    args[i + 1].to_string_lossy().into_owned()
}

fn attachment(out: &mut String, name: &str, world: &World, path: &str) {
    writeln!(
        out,
        "[[attachment]]\nname = \"{name}\"\nregion = \"{}\"\nbucket = \"{}\"\npath = \"{path}\"\nkms_key = \"{}\"\nrole_arn = \"{}\"\ntrust_policy = \"{}\"\n",
        world.region,
        world.bucket,
        world.kms_key,
        world.role_arn,
        arg(world, "--trust-policy")
    )
    .unwrap();
}

#[test]
fn twenty_attachments_one_run_shared_facts_fetched_once() {
    // Three correct worlds, each attached six times under different paths (AoC allows several
    // access keys per bucket): they share the role, the key and the bucket.
    let good: Vec<World> = (0..3)
        .map(|i| World::builder(&format!("fleet-ok{i}")).build())
        .collect();
    // Two broken ones.
    let no_role = World::builder("fleet-norole").no_role().build();
    let stale = World::builder("fleet-stale")
        .role_external_id("00000000-0000-4000-8000-000000000000")
        .build();

    let mut config = String::new();
    for (i, w) in good.iter().enumerate() {
        for p in 0..6 {
            attachment(&mut config, &format!("ok{i}-p{p}"), w, &format!("/team{p}"));
        }
    }
    attachment(&mut config, "broken-norole", &no_role, "/");
    attachment(&mut config, "broken-stale", &stale, "/");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.toml");
    std::fs::write(&file, &config).unwrap();

    let run = LiveCmd::new(&shared().endpoint())
        .args(["--config".into(), file.clone().into_os_string()])
        .args(["--jobs", "4"])
        .run();
    assert_eq!(run.code, 1, "two broken attachments fail the run");
    let reports = run.report["reports"].as_array().expect("a fleet report");
    assert_eq!(reports.len(), 20);

    // Per-attachment verdicts.
    for r in reports {
        let name = r["attachment"]["name"].as_str().unwrap();
        let failing: Vec<&str> = r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "fail")
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        match name {
            "broken-norole" => assert_eq!(failing, ["role.exists"], "{name}"),
            "broken-stale" => assert_eq!(failing, ["role.trust"], "{name}"),
            _ => {
                assert_eq!(r["status"], "pass", "{name}: {r:#}");
            }
        }
    }
    assert_eq!(run.report["status"], "fail");

    // Shared facts were fetched once: no (operation, target) twice in the whole run.
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut total = 0;
    for r in reports {
        for c in r["aws"]["calls"].as_array().unwrap() {
            total += 1;
            *seen
                .entry((
                    c["operation"].as_str().unwrap().to_string(),
                    c["target"].as_str().unwrap().to_string(),
                ))
                .or_default() += 1;
        }
    }
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "fetched more than once: {repeated:?}");
    assert_eq!(run.report["aws_requests"], total);
    // One caller identity for the whole run, whatever the number of attachments.
    assert_eq!(
        seen.keys()
            .filter(|(op, _)| op == "sts:GetCallerIdentity")
            .count(),
        1
    );

    // And the same as checking the five distinct worlds one by one, less their four
    // repeated caller-identity calls and four repeated organizations:DescribeOrganization
    // (the caller's organization, read once per set of credentials).
    let single: u64 = good
        .iter()
        .chain([&no_role, &stale])
        .map(|w| w.check().report["aws"]["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(total as u64, single - 8);
}

#[test]
fn the_report_gives_requests_and_the_critical_path() {
    let world = World::builder("fleet-path").build();
    let run = world.check();
    let aws = &run.report["aws"];
    // ListAttachedRolePolicies → GetPolicy → GetPolicyVersion; the lists start with GetRole,
    // not after it.
    assert_eq!(aws["critical_path"], 3, "{aws:#}");
    let calls = aws["calls"].as_array().unwrap();
    assert_eq!(aws["requests"].as_u64().unwrap() as usize, calls.len());
    let at_depth = |depth: u64| -> Vec<&str> {
        let mut ops: Vec<&str> = calls
            .iter()
            .filter(|c| c["depth"] == depth)
            .map(|c| c["operation"].as_str().unwrap())
            .collect();
        ops.sort();
        ops.dedup();
        ops
    };
    assert_eq!(at_depth(3), ["iam:GetPolicyVersion"]);
    for first in [
        "iam:GetRole",
        "iam:ListAttachedRolePolicies",
        "iam:ListRolePolicies",
        "kms:DescribeKey",
        "s3:HeadBucket",
    ] {
        assert!(
            at_depth(1).contains(&first),
            "{first} waits on nothing: {aws:#}"
        );
    }
}

#[test]
fn an_audit_role_named_in_defaults_is_assumed_to_read_the_account() {
    let world = World::builder("fleet-audit").build();
    let audit = format!("aoc-audit-{}", world.role_name);
    let clients = crate::support::moto::Clients::new(&shared().endpoint(), "us-east-1");
    let audit_arn = crate::support::moto::runtime().block_on(async {
        clients
            .iam
            .create_role()
            .role_name(&audit)
            .assume_role_policy_document(
                r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": "audit-ext-1"}}}]}"#,
            )
            .send()
            .await
            .expect("create the audit role")
            .role()
            .map(|r| r.arn().to_string())
            .expect("role ARN")
    });
    let mut config = format!(
        "[defaults]\nassume_role_arn = \"{audit_arn}\"\nassume_role_external_id = \"audit-ext-1\"\n\n"
    );
    attachment(&mut config, "audited", &world, "/");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.toml");
    std::fs::write(&file, &config).unwrap();

    let run = LiveCmd::new(&shared().endpoint())
        .args(["--config".into(), file.into_os_string()])
        .run();
    assert_eq!(run.code, 0, "{}", run.pretty());
    let creds = run.check("aws.credentials").to_string();
    assert!(
        creds.contains(&format!("assumed-role/{audit}/aoc-preflight")),
        "the checks ran as the audit role: {creds}"
    );
    assert!(
        creds.contains(&format!("role {audit_arn} assumed with")),
        "{creds}"
    );
}
