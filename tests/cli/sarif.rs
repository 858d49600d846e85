//! SARIF on real lines (issue 14, item 4): offline results point at the policy file and the
//! statement at fault, the log is valid against the SARIF 2.1.0 JSON schema (vendored in
//! `tests/fixtures/sarif/`, see its README), and fingerprints stay the same when unrelated
//! lines and statements are added above the statement at fault.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `check --offline --config CONFIG --format sarif`, run in `dir`.
fn sarif_in(dir: &Path, config: &str) -> Value {
    let out = crate::support::bin()
        .current_dir(dir)
        .args([
            "check",
            "--offline",
            "--config",
            config,
            "--format",
            "sarif",
        ])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Line and column (1-based) of the `{` of the innermost object around the first `needle` in
/// `text`: the statement that holds it, when the needle sits directly in a statement or in
/// one of its arrays. The fixtures have no braces inside strings.
fn statement_at(text: &str, needle: &str) -> (u64, u64) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in {text}"));
    let mut depth = 0i32;
    let brace = text[..at]
        .char_indices()
        .rev()
        .find(|&(_, c)| {
            match c {
                '}' => depth += 1,
                '{' if depth == 0 => return true,
                '{' => depth -= 1,
                _ => {}
            }
            false
        })
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("no object around {needle}"));
    let before = &text[..brace];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line as u64, column as u64)
}

/// Per rule ID: the first location's URI, line and column, and the fingerprints.
type Placed = BTreeMap<String, (String, u64, u64, Value)>;

fn placed(log: &Value) -> Placed {
    log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let physical = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().expect("ruleId").to_string(),
                (
                    physical["artifactLocation"]["uri"]
                        .as_str()
                        .expect("uri")
                        .to_string(),
                    physical["region"]["startLine"].as_u64().expect("startLine"),
                    physical["region"]["startColumn"]
                        .as_u64()
                        .expect("startColumn"),
                    r["partialFingerprints"].clone(),
                ),
            )
        })
        .collect()
}

/// Where the broken example's three mistakes are, found in the files under `dir`.
fn expected_places(dir: &Path) -> BTreeMap<&'static str, (String, u64, u64)> {
    let read = |rel: &str| std::fs::read_to_string(dir.join(rel)).expect("fixture");
    let at = |rel: &'static str, needle: &str| {
        let (line, column) = statement_at(&read(rel), needle);
        (rel.to_string(), line, column)
    };
    BTreeMap::from([
        // The statement that lists the misspelled action (not the one with `...Uploads`).
        (
            "role.s3-access",
            at(
                "examples/broken/s3-access-policy.json",
                "\"s3:ListBucketMultipartUpload\"",
            ),
        ),
        // The grant on the alias ARN.
        (
            "role.kms-access",
            at("examples/broken/kms-policy.json", "alias/aspera-kms"),
        ),
        // The trust statement whose external ID is stale.
        (
            "role.trust",
            at(
                "examples/broken/role-trust-policy.json",
                "\"Action\": \"sts:AssumeRole\"",
            ),
        ),
    ])
}

#[test]
fn sarif_of_the_broken_example_points_at_the_statements_at_fault() {
    let log = sarif_in(&root(), "examples/broken/aoc.toml");
    let got = placed(&log);
    let expected = expected_places(&root());
    assert_eq!(
        got.keys().map(String::as_str).collect::<Vec<_>>(),
        expected.keys().copied().collect::<Vec<_>>(),
        "{log:#}"
    );
    for (id, (file, line, column)) in &expected {
        let (uri, got_line, got_column, _) = &got[*id];
        assert_eq!(
            (uri, got_line, got_column),
            (file, line, column),
            "{id}: {log:#}"
        );
    }
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let schema_text =
        std::fs::read_to_string(root().join("tests/fixtures/sarif/sarif-schema-2.1.0.json"))
            .expect("vendored schema");
    let schema: Value = serde_json::from_str(&schema_text).expect("schema is JSON");
    let validator = jsonschema::draft4::new(&schema).expect("the schema compiles");
    // The validator itself must catch a broken log, or this test proves nothing.
    let broken = serde_json::json!({"version": "2.1.0", "runs": [{"results": []}]});
    assert!(!validator.is_valid(&broken), "a run without a tool passed");

    let mut logs = vec![(
        "broken example",
        sarif_in(&root(), "examples/broken/aoc.toml"),
    )];
    // Without a config file: results at the stable pseudo path.
    let flags = crate::support::bin()
        .current_dir(root())
        .args(["check", "--offline", "--format", "sarif"])
        .args(["--region", "us-east-1", "--bucket", "aspera-kms"])
        .args([
            "--kms-key",
            "arn:aws:kms:us-east-1:239600258224:alias/aspera-kms",
        ])
        .args([
            "--role-arn",
            "arn:aws:iam::239600258224:role/aspera-kms-access",
        ])
        .args(["--identity-policy", "examples/broken/s3-access-policy.json"])
        .output()
        .expect("runs");
    logs.push((
        "flags only",
        serde_json::from_slice(&flags.stdout).expect("SARIF is JSON"),
    ));
    for (what, log) in &logs {
        let results = log["runs"][0]["results"].as_array().map_or(0, Vec::len);
        assert!(results > 0, "{what}: no result to validate: {log:#}");
        let errors: Vec<String> = validator
            .iter_errors(log)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{what}: {errors:#?}");
    }
}

/// Copies `examples/broken` and `examples/seed` (the config refers to both) under `dir`.
fn copy_examples(dir: &Path) {
    for sub in ["broken", "seed"] {
        let from = root().join("examples").join(sub);
        let to = dir.join("examples").join(sub);
        std::fs::create_dir_all(&to).expect("mkdir");
        for entry in std::fs::read_dir(&from).expect("read examples") {
            let entry = entry.expect("entry");
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    }
}

/// Inserts `insert` before the first occurrence of `before` in the file.
fn insert_before(file: &Path, before: &str, insert: &str) {
    let text = std::fs::read_to_string(file).expect("read");
    let at = text
        .find(before)
        .unwrap_or_else(|| panic!("{before} not in {}", file.display()));
    std::fs::write(file, format!("{}{insert}{}", &text[..at], &text[at..])).expect("write");
}

#[test]
fn fingerprints_stay_when_unrelated_lines_move_the_statement_at_fault() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_examples(dir.path());
    let before = placed(&sarif_in(dir.path(), "examples/broken/aoc.toml"));
    assert_eq!(before.len(), 3, "{before:#?}");

    let broken = dir.path().join("examples/broken");
    // Blank lines and a statement unrelated to AoC above the statement without a Sid (its
    // index goes from 1 to 2: the fingerprint must not depend on it).
    insert_before(
        &broken.join("s3-access-policy.json"),
        "    {\n      \"Effect\": \"Allow\",\n      \"Action\": [\n        \"s3:GetBucketLocation\"",
        "\n\n    {\"Sid\": \"Unrelated\", \"Effect\": \"Allow\", \"Action\": \"sns:Publish\", \"Resource\": \"*\"},\n\n",
    );
    // A statement above the grant on the alias, and blank lines.
    insert_before(
        &broken.join("kms-policy.json"),
        "    {\n      \"Sid\": \"Stmt1464034295000\"",
        "\n    {\"Sid\": \"Logs\", \"Effect\": \"Allow\", \"Action\": \"logs:PutLogEvents\", \"Resource\": \"*\"},\n\n\n",
    );
    insert_before(
        &broken.join("role-trust-policy.json"),
        "  \"Statement\"",
        "\n\n\n",
    );
    insert_before(
        &broken.join("aoc.toml"),
        "[[attachment]]",
        "# moved down\n\n",
    );

    let after = placed(&sarif_in(dir.path(), "examples/broken/aoc.toml"));
    let expected = expected_places(dir.path());
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (id, (uri, line, column, fingerprints)) in &after {
        let (old_uri, old_line, _, old_fingerprints) = &before[id];
        let (file, want_line, want_column) = &expected[id.as_str()];
        assert_eq!((uri, line, column), (file, want_line, want_column), "{id}");
        assert_eq!(uri, old_uri, "{id}");
        assert!(
            line > old_line,
            "{id}: the statement did not move ({old_line} → {line})"
        );
        assert_eq!(fingerprints, old_fingerprints, "{id}: fingerprint changed");
    }
}

#[test]
fn a_finding_no_policy_file_holds_points_at_its_attachment_table() {
    // Live facts replayed would carry no file; here the attachment's own value is wrong (a
    // key ARN of another region), which no policy statement holds.
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("aoc.toml");
    std::fs::write(
        &config,
        "# two attachments\n\n[[attachment]]\nname = \"first\"\nregion = \"us-east-1\"\nbucket = \"b-1\"\nkms_key = \"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"\nrole_arn = \"arn:aws:iam::111122223333:role/aoc\"\n\n[[attachment]]\nname = \"second\"\nregion = \"us-east-1\"\nbucket = \"b-2\"\nkms_key = \"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"\nrole_arn = \"arn:aws:iam::111122223333:role/aoc\"\n",
    )
    .expect("write");
    let log = sarif_in(dir.path(), "aoc.toml");
    let text = std::fs::read_to_string(&config).expect("read");
    let second_table = text
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "[[attachment]]")
        .nth(1)
        .map(|(i, _)| i as u64 + 1)
        .expect("two tables");
    let results = log["runs"][0]["results"].as_array().expect("results");
    let second: Vec<&Value> = results
        .iter()
        .filter(|r| r["properties"]["attachment"] == "second")
        .collect();
    assert!(!second.is_empty(), "{log:#}");
    for r in second {
        let physical = &r["locations"][0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], "aoc.toml", "{r:#}");
        assert_eq!(physical["region"]["startLine"], second_table, "{r:#}");
    }
}
