//! Input that forgives, and says what it did (issue 13, item 4); `init` (item 5); shell
//! completions and the man page (item 7). Each case runs the real binary.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::guarded::{Outcome, bin, run};

fn seed(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples/seed")
        .join(name)
}

fn seed_config() -> String {
    seed("aoc.toml").display().to_string()
}

fn check(args: &[&str]) -> Outcome {
    let mut cmd = bin();
    cmd.arg("check").args(args);
    run(&mut cmd, &format!("check {}", args.join(" ")))
}

fn json(o: &Outcome) -> Value {
    serde_json::from_str(&o.stdout)
        .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {}\n{}", o.what, o.stdout, o.stderr))
}

fn check_of<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no check {id} in {report}"))
}

#[test]
fn every_missing_value_is_named_in_one_usage_error() {
    check(&["--offline", "--bucket", "b"]).assert_usage_error(
        "missing required value",
        &[
            "`region` (--region)",
            "`kms_key` (--kms-key)",
            "`role_arn` (--role-arn)",
        ],
    );
}

#[test]
fn every_attachment_of_a_fleet_file_names_its_missing_values_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("fleet.toml");
    std::fs::write(
        &config,
        "[[attachment]]\nname = \"a\"\nbucket = \"b\"\nregion = \"us-east-1\"\n\n\
         [[attachment]]\nname = \"z\"\nkms_key = \"k\"\n",
    )
    .unwrap();
    check(&["--offline", "--config", &config.display().to_string()]).assert_usage_error(
        "attachment `a`",
        &[
            "attachment `z`",
            "`kms_key`",
            "`bucket`",
            "`region` (--region)",
        ],
    );
}

/// The trust policy as copied from the AoC page with the words around it.
fn pasted_trust_policy(dir: &Path, before: &str, after: &str) -> PathBuf {
    let json = std::fs::read_to_string(seed("aoc-trust-policy.json")).unwrap();
    let path = dir.join("pasted.txt");
    std::fs::write(&path, format!("{before}{json}{after}")).unwrap();
    path
}

#[test]
fn a_trust_policy_pasted_with_words_around_it_is_taken_and_the_report_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let pasted = pasted_trust_policy(
        dir.path(),
        "Trust relationship\nCopy the following {policy} into your role:\n\n",
        "\nThen click Save.\n",
    );
    let pasted = pasted.display().to_string();
    let clean = check(&["--offline", "--format", "json", "--config", &seed_config()]);
    let o = check(&[
        "--offline",
        "--format",
        "json",
        "--config",
        &seed_config(),
        "--trust-policy",
        &pasted,
    ]);
    assert_eq!(o.code, clean.code, "{}", o.stderr);
    let report = json(&o);
    let errors = crate::formats::schema_errors(&report);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("took the JSON object on lines 4-"),
        "{notes}"
    );
    assert!(notes.contains("pasted.txt"), "{notes}");
    assert_eq!(
        check_of(&report, "role.trust")["status"],
        check_of(&json(&clean), "role.trust")["status"]
    );
    // The JSON alone says nothing.
    assert!(json(&clean).get("notes").is_none());
    // Text and Markdown say it too.
    for format in ["text", "markdown"] {
        let o = check(&[
            "--offline",
            "--format",
            format,
            "--config",
            &seed_config(),
            "--trust-policy",
            &pasted,
        ]);
        assert!(
            o.stdout.contains("took the JSON object"),
            "{format}: {}",
            o.stdout
        );
    }
}

#[test]
fn two_json_objects_in_the_pasted_trust_policy_are_a_usage_error_naming_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    let pasted = pasted_trust_policy(dir.path(), "Policy:\n", "\nor this one:\n{\"a\": 1}\n");
    let lines = std::fs::read_to_string(&pasted).unwrap().lines().count();
    check(&[
        "--offline",
        "--config",
        &seed_config(),
        "--trust-policy",
        &pasted.display().to_string(),
    ])
    .assert_usage_error(
        "pasted.txt",
        &["2 JSON objects", &format!("lines 2, {}", lines)],
    );
}

#[test]
fn a_json_error_in_pasted_text_gives_the_line_and_column_of_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pasted.txt");
    std::fs::write(
        &path,
        "Words first.\nMore words.\n{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [ oops ]\n}\nAfter.\n",
    )
    .unwrap();
    check(&[
        "--offline",
        "--config",
        &seed_config(),
        "--trust-policy",
        &path.display().to_string(),
    ])
    .assert_usage_error("pasted.txt:5:", &[]);
}

#[test]
fn a_format_name_given_to_output_is_a_usage_error_suggesting_format() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["json", "sarif", "Markdown"] {
        let mut cmd = bin();
        cmd.current_dir(dir.path()).args([
            "check",
            "--offline",
            "--config",
            &seed_config(),
            "--output",
            name,
        ]);
        run(&mut cmd, name).assert_usage_error(
            &format!("--output {}", name.to_ascii_lowercase()),
            &[&format!("--format {}", name.to_ascii_lowercase())],
        );
        assert!(!dir.path().join(name).exists());
    }
    // A file name with an extension, or a path, is a file.
    for file in ["report.json", "./json"] {
        let mut cmd = bin();
        cmd.current_dir(dir.path()).args([
            "check",
            "--offline",
            "--format",
            "json",
            "--config",
            &seed_config(),
            "--output",
            file,
        ]);
        let o = run(&mut cmd, file);
        assert_eq!(o.code, 0, "{file}: {}", o.stderr);
        let written = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(written.contains("\"schema_version\""), "{file}");
    }
}

#[test]
fn a_region_typo_fails_input_values_with_did_you_mean() {
    let o = check(&[
        "--offline",
        "--format",
        "json",
        "--config",
        &seed_config(),
        "--region",
        "us-eats-1",
    ]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let input = check_of(&json(&o), "input.values").clone();
    assert_eq!(input["status"], "fail");
    assert!(
        input["summary"]
            .as_str()
            .is_some_and(|s| s.contains("(did you mean `us-east-1`?)")),
        "{input}"
    );
    // Nothing near: no suggestion.
    let o = check(&[
        "--offline",
        "--format",
        "json",
        "--config",
        &seed_config(),
        "--region",
        "moon-1",
    ]);
    let input = check_of(&json(&o), "input.values").clone();
    assert!(!input.to_string().contains("did you mean"), "{input}");
}

#[test]
fn a_check_id_typo_gets_did_you_mean() {
    check(&[
        "--offline",
        "--config",
        &seed_config(),
        "--skip",
        "role.trst",
    ])
    .assert_usage_error("`role.trst`", &["did you mean `role.trust`?"]);
    check(&[
        "--offline",
        "--config",
        &seed_config(),
        "--only",
        "kms.keypolicy",
    ])
    .assert_usage_error("`kms.keypolicy`", &["did you mean `kms.key-policy`?"]);
}

#[test]
fn jobs_zero_is_refused() {
    let o = check(&["--offline", "--config", &seed_config(), "--jobs", "0"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("--jobs"), "{}", o.stderr);
    assert!(o.stdout.is_empty());
}

/// An endpoint without its scheme is a usage error naming the fix, not the SDK's request dump
/// at the first call.
#[test]
fn an_endpoint_url_without_a_scheme_is_a_usage_error() {
    let o = check(&[
        "--config",
        &seed_config(),
        "--endpoint-url",
        "127.0.0.1:5123",
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("https://127.0.0.1:5123"), "{}", o.stderr);
    assert!(!o.stderr.contains("SdkBody"), "{}", o.stderr);
    assert!(o.stdout.is_empty());
}

/// A bundle saved from the seed example, offline.
fn saved_bundle(dir: &Path) -> PathBuf {
    let path = dir.join("facts.json");
    let o = check(&[
        "--offline",
        "--config",
        &seed_config(),
        "--save-facts",
        &path.display().to_string(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    path
}

#[test]
fn attachment_flags_with_facts_are_refused_and_attachment_picks_one() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = saved_bundle(dir.path()).display().to_string();
    check(&["--facts", &bundle, "--bucket", "other"])
        .assert_usage_error("--bucket", &["--facts replays", "AOC_PREFLIGHT_BUCKET"]);
    check(&[
        "--facts",
        &bundle,
        "--key-policy",
        "k.json",
        "--region",
        "us-east-1",
    ])
    .assert_usage_error("--key-policy", &["--region"]);
    // The environment fills the flag: refused just the same, and said so.
    let mut cmd = bin();
    cmd.env("AOC_PREFLIGHT_ROLE_ARN", "arn:aws:iam::111122223333:role/x")
        .args(["check", "--facts", &bundle]);
    run(&mut cmd, "env").assert_usage_error("AOC_PREFLIGHT_ROLE_ARN", &[]);
    // --attachment picks the bundle's attachment by name.
    let o = check(&[
        "--facts",
        &bundle,
        "--format",
        "json",
        "--attachment",
        "seed-sample",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(json(&o)["attachment"]["name"], "seed-sample");
    check(&["--facts", &bundle, "--attachment", "prod"])
        .assert_usage_error("`prod`", &["seed-sample"]);
}

#[test]
fn a_replayed_bundle_says_when_and_by_whom_the_facts_were_gathered() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = saved_bundle(dir.path());
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    let at = saved["gathered_at"]
        .as_str()
        .expect("the bundle records when")
        .to_string();
    assert!(at.parse::<jiff::Timestamp>().is_ok(), "{at}");

    let path = bundle.display().to_string();
    let o = check(&["--facts", &path, "--format", "json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let report = json(&o);
    let errors = crate::formats::schema_errors(&report);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let replay = &report["replay"];
    assert_eq!(replay["bundle"], path);
    assert_eq!(replay["gathered_at"], at.as_str());
    // Offline: nobody's credentials were used.
    assert_eq!(replay["gathered_by"], Value::Null);
    let text = check(&["--facts", &path]);
    assert!(
        text.stdout.contains(&format!(
            "replay  facts gathered offline at {at} by an unknown identity"
        )),
        "{}",
        text.stdout
    );

    // A bundle saved before bundles recorded the time still loads, and says it is unknown.
    let mut old = saved.clone();
    old.as_object_mut().unwrap().remove("gathered_at");
    let old_path = dir.path().join("old.json");
    std::fs::write(&old_path, old.to_string()).unwrap();
    let o = check(&[
        "--facts",
        &old_path.display().to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let report = json(&o);
    assert_eq!(report["replay"]["gathered_at"], Value::Null);
    assert!(crate::formats::schema_errors(&report).is_empty());
    let text = check(&["--facts", &old_path.display().to_string()]);
    assert!(
        text.stdout.contains("at an unknown time"),
        "{}",
        text.stdout
    );
}

#[test]
fn permissions_with_a_config_file_is_scoped_to_its_attachment() {
    let mut cmd = bin();
    cmd.args(["permissions", "--config", &seed_config()]);
    let o = run(&mut cmd, "permissions --config");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("arn:aws:s3:::aspera-kms"), "{}", o.stdout);
    assert!(o.stdout.contains("role/aspera-kms-access"), "{}", o.stdout);
    assert!(!o.stdout.contains("arn:aws:s3:::*\""), "{}", o.stdout);
    // Flags still override the file's values.
    let mut cmd = bin();
    cmd.args([
        "permissions",
        "--config",
        &seed_config(),
        "--bucket",
        "other-bucket",
    ]);
    let o = run(&mut cmd, "permissions --config --bucket");
    assert!(
        o.stdout.contains("arn:aws:s3:::other-bucket"),
        "{}",
        o.stdout
    );
}

fn init(dir: &Path, args: &[&str]) -> Outcome {
    let mut cmd = bin();
    cmd.current_dir(dir).arg("init").args(args);
    run(&mut cmd, &format!("init {}", args.join(" ")))
}

/// `init --output sub/aoc.toml --trust-policy FILE`: the config file names the trust policy so
/// that `check` (which reads paths relative to the config file) finds the same file.
#[test]
fn init_into_another_directory_keeps_a_relative_trust_policy_findable() {
    let dir = tempfile::tempdir().unwrap();
    let trust = "aoc-trust-policy.json";
    std::fs::copy(seed(trust), dir.path().join(trust)).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let o = init(
        dir.path(),
        &[
            "--region",
            "us-east-1",
            "--bucket",
            "aspera-kms",
            "--kms-key",
            "arn:aws:kms:us-east-1:239600258224:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46",
            "--role-arn",
            "arn:aws:iam::239600258224:role/aspera-kms-access",
            "--trust-policy",
            trust,
            "--output",
            "sub/aoc.toml",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let config = dir.path().join("sub/aoc.toml").display().to_string();
    let o = check(&["--offline", "--format", "json", "--config", &config]);
    assert!(
        !o.stderr.contains("cannot read"),
        "the trust policy was not found: {}",
        o.stderr
    );
    let report = json(&o);
    assert_ne!(
        check_of(&report, "role.trust")["status"],
        "error",
        "{report:#}"
    );
}

#[test]
fn init_writes_a_config_that_once_filled_in_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let o = init(
        dir.path(),
        &[
            "--region",
            "us-east-1",
            "--bucket",
            "aspera-kms",
            "--name",
            "prod",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr.contains("fill in kms_key, role_arn"),
        "{}",
        o.stderr
    );
    let path = dir.path().join("aoc.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\nregion = \"us-east-1\"\n"), "{text}");

    // Unfilled, it is a usage error naming what is left, not a broken attachment.
    let config = path.display().to_string();
    let o = check(&["--offline", "--format", "json", "--config", &config]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("still FILL-IN in the config file: fill in kms_key, role_arn"),
        "{}",
        o.stderr
    );
    assert!(o.stdout.is_empty());

    // Filled in (and pointed at the seed's documents), it is checked like the seed.
    let filled = text
        .replacen(
            "kms_key = \"FILL-IN\"",
            "kms_key = \"arn:aws:kms:us-east-1:239600258224:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46\"",
            1,
        )
        .replacen(
            "role_arn = \"FILL-IN\"",
            "role_arn = \"arn:aws:iam::239600258224:role/aspera-kms-access\"",
            1,
        )
        .replace("# trust_policy = \"aoc-trust-policy.json\"", "trust_policy = \"aoc-trust-policy.json\"");
    assert!(!filled.contains("\"FILL-IN\""), "{filled}");
    std::fs::write(&path, filled).unwrap();
    let trust = "aoc-trust-policy.json";
    std::fs::copy(seed(trust), dir.path().join(trust)).unwrap();
    let o = check(&["--offline", "--format", "json", "--config", &config]);
    assert_ne!(o.code, 2, "{}", o.stderr);
    let report = json(&o);
    assert_eq!(report["attachment"]["name"], "prod");
    assert_eq!(check_of(&report, "input.values")["status"], "pass");
}

#[test]
fn init_refuses_to_overwrite_unless_forced_and_prints_with_a_dash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aoc.toml");
    std::fs::write(&path, "# mine\n").unwrap();
    init(dir.path(), &[]).assert_usage_error("aoc.toml", &["exists", "--force"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
    let o = init(dir.path(), &["--force"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("[[attachment]]")
    );

    let o = init(
        dir.path(),
        &["--output", "-", "--role-arn", "arn:aws:iam::1:role/\"q\""],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let parsed: toml::Table = toml::from_str(&o.stdout).expect("the printed file is TOML");
    assert_eq!(
        parsed["attachment"][0]["role_arn"].as_str(),
        Some("arn:aws:iam::1:role/\"q\"")
    );
    let o = init(dir.path(), &["--output", "other.toml"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(dir.path().join("other.toml").exists());
}

fn stdout_of(args: &[&str]) -> String {
    let mut cmd = bin();
    cmd.args(args);
    let o = run(&mut cmd, &args.join(" "));
    assert_eq!(o.code, 0, "{}", o.stderr);
    o.stdout
}

#[test]
fn the_bash_completion_script_is_valid_and_knows_the_commands() {
    let script = stdout_of(&["completions", "bash"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aoc-preflight.bash");
    std::fs::write(&path, &script).unwrap();
    let syntax = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("bash runs");
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    for command in [
        "check",
        "simulate",
        "checks",
        "explain",
        "generate",
        "permissions",
        "init",
        "completions",
        "man",
    ] {
        assert!(script.contains(command), "no {command} in the script");
    }
    assert!(script.contains("--trust-policy"));
    for shell in ["zsh", "fish", "powershell"] {
        let script = stdout_of(&["completions", shell]);
        assert!(script.contains("trust-policy"), "{shell}");
    }
}

#[test]
fn the_man_page_is_roff_that_renders() {
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH aoc-preflight"), "{page}");
    assert!(page.contains(".SH NAME"), "{page}");
    assert!(page.contains("init"), "{page}");
    let groff = std::process::Command::new("groff")
        .args(["-man", "-Tutf8"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    // Where groff is installed, the page must render without a warning.
    if let Ok(mut child) = groff {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(page.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let rendered = String::from_utf8_lossy(&out.stdout);
        assert!(rendered.contains("aoc-preflight"), "{rendered}");
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
