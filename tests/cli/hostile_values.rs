//! Hostile values (issue 6): a malformed attachment value is an `input.values` finding that
//! names the expected format, a malformed `simulate` argument a one-line usage error, and
//! control characters in a value or a policy never add a line to the text report.

use std::ffi::OsString;

use serde_json::{Value, json};

use crate::support::guarded::{Outcome, bin, head, read_config, run, seed};

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
        // A warning would be a finding: these values pass outright.
        let status = input_values(&o)["status"].clone();
        assert_eq!(
            status,
            "pass",
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
    let check = input_values(&o);
    assert_eq!(check["status"], "fail", "{}", o.what);
    // Failed for its length, not for something else about it.
    let text = check.to_string();
    assert!(
        text.contains("bad-path") && text.contains("shorter than an S3 key (1024 bytes)"),
        "{}: {}",
        o.what,
        head(&text)
    );
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
    // One run each: a malformed path fails input.values, which skips bucket.policy, so in a
    // run with both the policy's Sid would never be shown.
    let hostile_path = OsString::from("--path=/data\n  pass   input.values          forged");
    let hostile_policy = vec![OsString::from("--bucket-policy"), bucket_policy.into()];
    for (what, hostile) in [
        ("a value", vec![hostile_path]),
        ("a policy's Sid", hostile_policy),
    ] {
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
            .args(&hostile);
        let o = run(&mut cmd, &format!("check --format text with {what}"));
        assert!(o.code == 1, "exit {}\n{}", o.code, head(&o.stderr));
        // The report shows the hostile text, so the lines below are checked with it in them.
        assert!(
            o.stdout.contains("forged"),
            "{what} is not in the report:\n{}",
            head(&o.stdout)
        );
        assert_text_report_lines_are_the_tools_own(&o.stdout);
    }
}

/// No line reads like a check result forged by a value, and no control character but the
/// tool's own colour codes reaches the terminal.
fn assert_text_report_lines_are_the_tools_own(report: &str) {
    for line in report.lines() {
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
