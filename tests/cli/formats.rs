//! The CI formats end to end, through the binary: JUnit, SARIF and Markdown parsed back and
//! compared with the JSON report of the same run, the JSON report validated against the
//! published schema (`docs/report.schema.json`), and several formats written by one run.
//!
//! A run with every status needs live mode (`error` is "could not be determined"): the
//! fleet in `tests/fixtures/formats/mixed.toml` is checked against an endpoint where nothing
//! listens, with dummy credentials and no profile files, so it never reaches AWS and ends
//! in about two seconds with pass, warn, fail, skip and error results.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use serde_json::Value;

use crate::support::assert_line_endings_as_snapshotted;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/formats").join(name)
}

/// The binary in the repository root (so evidence names files as `examples/...`, the same on
/// every machine), with none of the developer's AWS or tool settings.
fn bin() -> Command {
    let mut cmd = crate::support::bin();
    cmd.current_dir(root());
    cmd
}

/// Live mode that cannot reach anything: dummy credentials, empty profile files, no instance
/// metadata, and an endpoint on a port where nothing listens (connection refused at once).
fn offline_live(cmd: &mut Command, dir: &Path) {
    let empty = dir.join("empty-aws-config");
    std::fs::write(&empty, "").expect("write empty AWS config");
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", &empty)
        .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args(["--endpoint-url", "http://127.0.0.1:1", "--timeout", "5"]);
}

/// One run of the mixed fleet, every CI format written at once (JSON, JUnit and SARIF to
/// files, Markdown to standard output); shared by the tests that read it.
struct MixedRun {
    code: i32,
    json: Value,
    junit: String,
    sarif: Value,
    markdown: String,
}

fn mixed_run() -> &'static MixedRun {
    static RUN: OnceLock<MixedRun> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let (json, junit, sarif) = (
            dir.path().join("report.json"),
            dir.path().join("report.xml"),
            dir.path().join("report.sarif"),
        );
        let mut cmd = bin();
        cmd.arg("check")
            .arg("--config")
            .arg(fixture("mixed.toml"))
            .args(["--format", "json", "--output"])
            .arg(&json)
            .args(["--format", "junit", "--output"])
            .arg(&junit)
            .args(["--format", "sarif", "--output"])
            .arg(&sarif)
            .args(["--format", "markdown"])
            .timeout(std::time::Duration::from_secs(60));
        offline_live(&mut cmd, dir.path());
        let out = cmd.output().expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let read = |p: &Path| {
            std::fs::read_to_string(p)
                .unwrap_or_else(|e| panic!("{} not written ({e}); stderr: {stderr}", p.display()))
        };
        let parse = |p: &Path| -> Value {
            serde_json::from_str(&read(p))
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()))
        };
        MixedRun {
            code: out.status.code().unwrap_or(-1),
            json: parse(&json),
            junit: read(&junit),
            sarif: parse(&sarif),
            markdown: String::from_utf8_lossy(&out.stdout).into_owned(),
        }
    })
}

fn count(summary: &Value, key: &str) -> usize {
    summary[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no count {key} in {summary}")) as usize
}

fn checks(report: &Value) -> &[Value] {
    report["checks"].as_array().map_or(&[], Vec::as_slice)
}

#[test]
fn the_mixed_run_has_every_status() {
    let run = mixed_run();
    let s = &run.json["summary"];
    for status in ["pass", "warn", "fail", "skip", "error"] {
        assert!(count(s, status) > 0, "no {status} in the run: {s}");
    }
    assert_eq!(run.json["reports"].as_array().map(Vec::len), Some(3));
    // A failure outranks an undetermined check (docs/contract.md, "Statuses and exit codes").
    assert_eq!(run.code, 1, "{s}");
}

/// An element's numeric attribute.
fn attr(node: roxmltree::Node, name: &str) -> usize {
    node.attribute(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("<{}> has no number {name}", node.tag_name().name()))
}

#[test]
fn junit_parses_and_its_counts_match_the_json_report() {
    let run = mixed_run();
    let doc = roxmltree::Document::parse(&run.junit)
        .unwrap_or_else(|e| panic!("JUnit is not XML: {e}\n{}", run.junit));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let s = &run.json["summary"];
    assert_eq!(attr(root, "tests"), count(s, "total"));
    assert_eq!(attr(root, "failures"), count(s, "fail"));
    assert_eq!(attr(root, "errors"), count(s, "error"));
    assert_eq!(attr(root, "skipped"), count(s, "skip"));

    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    let reports = run.json["reports"].as_array().expect("fleet report");
    assert_eq!(suites.len(), reports.len());
    for (suite, report) in suites.iter().zip(reports) {
        let name = report["attachment"]["name"].as_str().expect("named");
        assert_eq!(suite.attribute("name"), Some(name));
        let s = &report["summary"];
        assert_eq!(attr(*suite, "tests"), count(s, "total"), "{name}");
        assert_eq!(attr(*suite, "failures"), count(s, "fail"), "{name}");
        assert_eq!(attr(*suite, "errors"), count(s, "error"), "{name}");
        assert_eq!(attr(*suite, "skipped"), count(s, "skip"), "{name}");

        let cases: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), checks(report).len(), "{name}");
        for (case, check) in cases.iter().zip(checks(report)) {
            let id = check["id"].as_str().expect("id");
            assert_eq!(case.attribute("name"), Some(id));
            assert_eq!(
                case.attribute("classname"),
                Some(format!("aoc-preflight.{name}").as_str())
            );
            let child = |tag: &str| case.children().find(|n| n.has_tag_name(tag));
            let summary = check["summary"].as_str().expect("summary");
            match check["status"].as_str().expect("status") {
                "pass" => assert!(case.children().all(|n| !n.is_element()), "{id}"),
                "warn" => {
                    let out = child("system-out").and_then(|n| n.text()).unwrap_or("");
                    assert!(
                        out.contains("WARNING") && out.contains(summary),
                        "{id}: {out}"
                    );
                    assert!(child("failure").is_none() && child("error").is_none());
                }
                status @ ("fail" | "error") => {
                    let tag = if status == "fail" { "failure" } else { "error" };
                    let el = child(tag).unwrap_or_else(|| panic!("{id}: no <{tag}>"));
                    assert_eq!(el.attribute("message"), Some(summary), "{id}");
                    let text = el.text().unwrap_or("");
                    for e in check["evidence"].as_array().into_iter().flatten() {
                        let e = e.as_str().unwrap_or("");
                        assert!(text.contains(e), "{id}: evidence {e} not in {text}");
                    }
                }
                "skip" => {
                    let el = child("skipped").unwrap_or_else(|| panic!("{id}: no <skipped>"));
                    assert_eq!(el.attribute("message"), Some(summary), "{id}");
                }
                other => panic!("unknown status {other}"),
            }
        }
    }
}

#[test]
fn sarif_has_what_github_code_scanning_requires() {
    let run = mixed_run();
    let log = &run.sarif;
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(
        log["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "aoc-preflight");
    assert!(driver["version"].is_string());

    let rules = driver["rules"].as_array().expect("rules");
    let rule_ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(rule_ids.len(), rules.len(), "every rule has an id");
    assert_eq!(
        rule_ids.iter().collect::<BTreeSet<_>>().len(),
        rule_ids.len(),
        "rule ids are unique"
    );
    for rule in rules {
        let id = rule["id"].as_str().unwrap_or("");
        assert!(rule["shortDescription"]["text"].is_string(), "{id}");
        assert!(rule["fullDescription"]["text"].is_string(), "{id}");
        assert!(rule["help"]["text"].is_string(), "{id}");
        assert!(rule["help"]["markdown"].is_string(), "{id}");
        assert!(
            rule["helpUri"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://")),
            "{id}"
        );
    }
    // Every check of the run has its rule.
    for report in run.json["reports"].as_array().into_iter().flatten() {
        for check in checks(report) {
            let id = check["id"].as_str().unwrap_or("");
            assert!(rule_ids.contains(&id), "no rule for {id}");
        }
    }

    let results = runs[0]["results"].as_array().expect("results");
    let s = &run.json["summary"];
    assert_eq!(
        results.len(),
        count(s, "fail") + count(s, "warn") + count(s, "error"),
        "one result per fail, warn and error"
    );
    let mut fingerprints = BTreeSet::new();
    for r in results {
        let id = r["ruleId"].as_str().expect("ruleId");
        assert!(rule_ids.contains(&id), "ruleId {id} has no rule");
        if let Some(i) = r["ruleIndex"].as_u64() {
            assert_eq!(rule_ids[i as usize], id, "ruleIndex of {id}");
        }
        assert!(
            ["error", "warning", "note"].contains(&r["level"].as_str().unwrap_or("")),
            "{r}"
        );
        assert!(
            r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()),
            "{r}"
        );
        let locations = r["locations"].as_array().expect("locations");
        assert!(!locations.is_empty(), "{r}");
        for l in locations {
            let uri = l["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .expect("uri");
            // GitHub resolves relative URIs against the repository; no scheme, no root.
            assert!(!uri.is_empty() && !uri.starts_with('/') && !uri.contains("://"));
            assert!(
                l["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .is_some_and(|n| n >= 1),
                "{r}"
            );
        }
        let fp = r["partialFingerprints"]
            .as_object()
            .expect("partialFingerprints");
        assert!(!fp.is_empty());
        assert!(
            fingerprints.insert(Value::Object(fp.clone()).to_string()),
            "duplicate {fp:?}"
        );
    }
    // The levels follow the statuses: fail → error, warn → warning, error → note.
    let levels = |level: &str| results.iter().filter(|r| r["level"] == level).count();
    assert_eq!(levels("error"), count(s, "fail"));
    assert_eq!(levels("warning"), count(s, "warn"));
    assert_eq!(levels("note"), count(s, "error"));
    let note = results
        .iter()
        .find(|r| r["level"] == "note")
        .expect("a note");
    assert!(
        note["message"]["text"]
            .as_str()
            .unwrap_or("")
            .contains("Could not be determined"),
        "{note}"
    );
}

#[test]
fn sarif_is_the_same_on_every_run_so_github_keeps_its_alerts() {
    let run = || {
        let out = bin()
            .args(["check", "--offline", "--config", "examples/broken/aoc.toml"])
            .args(["--format", "sarif"])
            .output()
            .expect("runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = run();
    let log: Value = serde_json::from_str(&first).expect("SARIF is JSON");
    assert_eq!(
        log["runs"][0]["results"].as_array().map(Vec::len),
        Some(3),
        "{first}"
    );
    assert_eq!(first, run());
}

#[test]
fn markdown_of_a_fleet_has_an_overall_table_and_a_section_per_attachment() {
    let run = mixed_run();
    let md = &run.markdown;
    assert!(md.starts_with("## ❌ aoc-preflight "), "{md}");
    assert!(md.contains(": 3 attachments\n"), "{md}");
    for report in run.json["reports"].as_array().into_iter().flatten() {
        let name = report["attachment"]["name"].as_str().unwrap_or("");
        let s = &report["summary"];
        let row = md
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("no overall row for {name}:\n{md}"));
        let numbers: Vec<&str> = row.split('|').map(str::trim).skip(3).take(5).collect();
        let expected: Vec<String> = ["fail", "error", "warn", "pass", "skip"]
            .iter()
            .map(|k| count(s, k).to_string())
            .collect();
        assert_eq!(numbers, expected, "{row}");
        assert!(
            md.lines()
                .any(|l| l.starts_with("### ") && l.ends_with(&format!(" `{name}`"))),
            "no section for {name}:\n{md}"
        );
    }
    let s = &run.json["summary"];
    let needing_details = count(s, "fail") + count(s, "warn") + count(s, "error");
    assert!(md.matches("<details>").count() >= needing_details, "{md}");
    assert_eq!(
        md.matches("<details>").count(),
        md.matches("</details>").count()
    );
}

/// The offline broken example as Markdown, the tool version replaced by `VERSION`.
fn broken_markdown() -> String {
    let out = bin()
        .args(["check", "--offline", "--config", "examples/broken/aoc.toml"])
        .args(["--format", "markdown"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    String::from_utf8_lossy(&out.stdout).replace(
        &format!("aoc-preflight {}:", env!("CARGO_PKG_VERSION")),
        "aoc-preflight VERSION:",
    )
}

/// Compares the broken example's Markdown with its snapshot
/// (`snapshots/cli__formats__broken_markdown_report.snap`). When the wording of a check
/// changes on purpose, accept the new text as the crate doc in `main.rs` says.
#[test]
fn markdown_snapshot_of_the_broken_example() {
    let md = broken_markdown();
    assert_line_endings_as_snapshotted(&md);
    insta::assert_snapshot!("broken_markdown_report", md);
}

#[test]
fn markdown_of_the_broken_example_has_the_table_then_details() {
    let md = broken_markdown();
    let json: Value = {
        let out = bin()
            .args(["check", "--offline", "--config", "examples/broken/aoc.toml"])
            .args(["--format", "json"])
            .output()
            .expect("runs");
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    let table_at = md.find("| Check | Status | Summary |").expect("table");
    let details_at = md.find("<details>").expect("details");
    assert!(table_at < details_at, "the table comes first");
    for check in checks(&json) {
        let id = check["id"].as_str().unwrap_or("");
        let status = check["status"].as_str().unwrap_or("");
        let row = md
            .lines()
            .find(|l| l.starts_with(&format!("| `{id}` |")))
            .unwrap_or_else(|| panic!("no row for {id}"));
        assert!(row.contains(&format!(" {status} |")), "{row}");
        let has_details = md.contains(&format!("<code>{id}</code>:"));
        assert_eq!(has_details, status == "fail", "{id} is {status}");
    }
    // Policies and commands of the fixes are fenced, so they copy as they are.
    assert!(
        md.contains("```json\n{\n  \"Version\": \"2012-10-17\""),
        "{md}"
    );
    assert!(
        md.contains("```sh\naws iam update-assume-role-policy "),
        "{md}"
    );
}

#[test]
fn several_formats_in_one_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.xml");
    let out = bin()
        .args(["check", "--offline", "--config", "examples/broken/aoc.toml"])
        .args(["--format", "json", "--output"])
        .arg(&a)
        .args(["--format", "junit", "--output"])
        .arg(&b)
        .args(["--format", "markdown"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(&a).expect("a.json written")).expect("JSON");
    assert_eq!(json["status"], "fail");
    let xml = std::fs::read_to_string(&b).expect("b.xml written");
    let doc = roxmltree::Document::parse(&xml).expect("XML");
    assert_eq!(
        attr(doc.root_element(), "failures"),
        count(&json["summary"], "fail")
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("## ❌ aoc-preflight "), "{stdout}");
    assert!(stdout.contains("| Check | Status | Summary |"), "{stdout}");
    assert!(
        !stdout.contains("\"schema_version\""),
        "JSON went to its file only"
    );
}

// ---- The JSON report against docs/report.schema.json ----

fn schema() -> Value {
    let text = std::fs::read_to_string(root().join("docs/report.schema.json")).expect("schema");
    serde_json::from_str(&text).expect("the schema is JSON")
}

/// Validates `value` against the subset of JSON Schema 2020-12 that `docs/report.schema.json`
/// uses. A keyword it does not implement fails the test rather than being ignored, so the
/// schema cannot promise more than is checked here. (A full validator crate pulls in about
/// forty crates; this is what the schema needs.)
fn validate(root: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => return errors.push(format!("{at}: not allowed")),
        Value::Object(o) => o,
        other => panic!("schema at {at} is not an object: {other}"),
    };
    for (keyword, arg) in schema {
        match keyword.as_str() {
            "$schema" | "$id" | "title" | "description" | "$comment" | "$defs" => {}
            "$ref" => {
                let pointer = arg
                    .as_str()
                    .and_then(|r| r.strip_prefix('#'))
                    .expect("local $ref");
                let target = root
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("no {pointer}"));
                validate(root, target, value, at, errors);
            }
            "type" => {
                let types: Vec<&str> = match arg {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                    other => panic!("bad type {other}"),
                };
                if !types.iter().any(|t| has_type(value, t)) {
                    errors.push(format!("{at}: {value} is not of type {types:?}"));
                }
            }
            "enum" => {
                if !arg.as_array().is_some_and(|a| a.contains(value)) {
                    errors.push(format!("{at}: {value} is not one of {arg}"));
                }
            }
            "const" => {
                if arg != value {
                    errors.push(format!("{at}: {value} is not {arg}"));
                }
            }
            "minimum" => {
                if let (Some(v), Some(min)) = (value.as_f64(), arg.as_f64())
                    && v < min
                {
                    errors.push(format!("{at}: {v} < {min}"));
                }
            }
            "properties" => {
                if let (Some(obj), Some(props)) = (value.as_object(), arg.as_object()) {
                    for (name, sub) in props {
                        if let Some(v) = obj.get(name) {
                            validate(root, sub, v, &format!("{at}/{name}"), errors);
                        }
                    }
                }
            }
            "required" => {
                if let Some(obj) = value.as_object() {
                    for name in arg
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                    {
                        if !obj.contains_key(name) {
                            errors.push(format!("{at}: missing {name}"));
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(obj) = value.as_object() {
                    let known = schema.get("properties").and_then(Value::as_object);
                    for (name, v) in obj {
                        if !known.is_some_and(|k| k.contains_key(name)) {
                            validate(root, arg, v, &format!("{at}/{name}"), errors);
                        }
                    }
                }
            }
            "items" => {
                if let Some(items) = value.as_array() {
                    for (i, v) in items.iter().enumerate() {
                        validate(root, arg, v, &format!("{at}/{i}"), errors);
                    }
                }
            }
            "allOf" => {
                for b in arg.as_array().expect("allOf array") {
                    validate(root, b, value, at, errors);
                }
            }
            "oneOf" => {
                let branches = arg.as_array().expect("oneOf array");
                let mut failures = Vec::new();
                let mut matched = 0;
                for (i, b) in branches.iter().enumerate() {
                    let mut e = Vec::new();
                    validate(root, b, value, at, &mut e);
                    if e.is_empty() {
                        matched += 1;
                    } else {
                        failures.push(format!("branch {i}: {}", e.join("; ")));
                    }
                }
                if matched != 1 {
                    errors.push(format!(
                        "{at}: matches {matched} of oneOf, not 1 ({})",
                        failures.join(" | ")
                    ));
                }
            }
            other => panic!("the test's validator does not implement `{other}` (at {at})"),
        }
    }
}

fn has_type(value: &Value, t: &str) -> bool {
    match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        other => panic!("unknown type {other}"),
    }
}

pub(crate) fn schema_errors(value: &Value) -> Vec<String> {
    let schema = schema();
    let mut errors = Vec::new();
    validate(&schema, &schema, value, "", &mut errors);
    errors
}

fn offline_json(config: &str) -> Value {
    let out = bin()
        .args(["check", "--offline", "--config", config, "--format", "json"])
        .output()
        .expect("runs");
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn json_reports_validate_against_the_published_schema() {
    for config in ["examples/seed/aoc.toml", "examples/broken/aoc.toml"] {
        let report = offline_json(config);
        assert!(report.get("checks").is_some(), "single form");
        let errors = schema_errors(&report);
        assert!(errors.is_empty(), "{config}:\n{}", errors.join("\n"));
    }
    // The fleet form, live, with the AWS requests and `error` checks.
    let fleet = &mixed_run().json;
    assert!(fleet.get("reports").is_some(), "fleet form");
    let errors = schema_errors(fleet);
    assert!(errors.is_empty(), "mixed fleet:\n{}", errors.join("\n"));
}

#[test]
fn the_schema_rejects_what_the_tool_does_not_write() {
    let report = offline_json("examples/broken/aoc.toml");
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut r = report.clone();
        f(&mut r);
        schema_errors(&r)
    };
    assert!(!broken(&|r| r["checks"][0]["status"] = "maybe".into()).is_empty());
    assert!(!broken(&|r| r["checks"][0]["remediation"] = 3.into()).is_empty());
    assert!(!broken(&|r| r["unexpected"] = true.into()).is_empty());
    assert!(
        !broken(&|r| {
            r.as_object_mut().map(|o| o.remove("summary"));
        })
        .is_empty()
    );
    // A single report says how the run ends, by number and by name.
    assert!(
        !broken(&|r| {
            r.as_object_mut().map(|o| o.remove("exit_code"));
        })
        .is_empty()
    );
    assert!(!broken(&|r| r["outcome"] = "green".into()).is_empty());
    // A single report is not also a fleet, and a fleet without reports is neither.
    assert!(!broken(&|r| r["reports"] = Value::Array(Vec::new())).is_empty());
}
