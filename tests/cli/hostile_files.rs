//! Hostile input files (issue 6): policy documents in every place one is read, config files
//! and facts bundles that are malformed, huge, deeply nested or not UTF-8 end in a one-line
//! usage error, never a panic or a hang; a byte-order mark is accepted.

use serde_json::{Value, json};

use crate::support::guarded::{Outcome, bin, head, read_config, repo, run, seed};

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
