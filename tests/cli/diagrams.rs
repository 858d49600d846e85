//! The access path as people see it: the top of the text report (snapshots of the seed, the
//! broken example and a dead endpoint), the Markdown report's Mermaid flowchart parsed by
//! Mermaid's own parser, `--format dot` rendered by Graphviz, and the text report in a real
//! terminal (tmux, 100 columns) in a UTF-8 and in the C locale.
//!
//! The tools are installed by `scripts/test.sh` (`scripts/setup-node-tools.sh` puts the
//! Mermaid parser in `.node/`; `scripts/setup-system-tools.sh` installs Graphviz and tmux).
//! A test whose tool is missing fails saying how to install it: it never passes unchecked.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;

use crate::support::assert_line_endings_as_snapshotted;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn example(name: &str) -> PathBuf {
    root().join("examples").join(name).join("aoc.toml")
}

/// The binary in the repository root, in a UTF-8 locale unless the test says otherwise.
fn bin() -> Command {
    let mut cmd = crate::support::bin();
    cmd.current_dir(root()).env("LC_ALL", "C.UTF-8");
    cmd
}

/// Live mode against an endpoint where nothing listens (port 9, connection refused at once),
/// dummy credentials, no profile files, no instance metadata.
fn dead_endpoint(cmd: &mut Command, dir: &Path) {
    let empty = dir.join("empty-aws-config");
    std::fs::write(&empty, "").expect("write empty AWS config");
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", &empty)
        .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args(["--endpoint-url", "http://127.0.0.1:9", "--timeout", "5"]);
}

/// The seed attachment's values as flags, for live mode (its config file names offline
/// documents, which live mode refuses).
const SEED_FLAGS: &[&str] = &[
    "--region",
    "us-east-1",
    "--bucket",
    "aspera-kms",
    "--kms-key",
    "arn:aws:kms:us-east-1:239600258224:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46",
    "--role-arn",
    "arn:aws:iam::239600258224:role/aspera-kms-access",
    "--trust-policy",
    "examples/seed/aoc-trust-policy.json",
];

/// The report's text with what differs between machines replaced.
fn normalized(stdout: &[u8]) -> String {
    String::from_utf8_lossy(stdout)
        .replace(&format!("{}/", root().display()), "")
        .replace(env!("CARGO_PKG_VERSION"), "VERSION")
}

/// The top of the text report: the attachment, the access path and "What to fix", up to the
/// check-by-check detail (its first area heading).
fn top(text: &str) -> String {
    const AREAS: &[&str] = &[
        "Input",
        "AWS access",
        "Bucket",
        "KMS key",
        "IAM role",
        "Probe",
        "Other",
    ];
    let mut out = String::new();
    for line in text.lines() {
        if AREAS.contains(&line) {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    format!("{}\n", out.trim_end())
}

fn offline_text(name: &str) -> String {
    let out = bin()
        .args(["check", "--offline", "--config"])
        .arg(example(name))
        .output()
        .unwrap();
    normalized(&out.stdout)
}

fn dead_endpoint_run(format: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = bin();
    cmd.arg("check").args(SEED_FLAGS).args(["--format", format]);
    dead_endpoint(&mut cmd, dir.path());
    let out = cmd
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), normalized(&out.stdout))
}

#[test]
fn top_of_the_seed_text_report_matches_its_snapshot() {
    let text = offline_text("seed");
    assert_line_endings_as_snapshotted(&text);
    insta::assert_snapshot!("seed_text_top", top(&text));
}

#[test]
fn top_of_the_broken_text_report_matches_its_snapshot() {
    let text = offline_text("broken");
    insta::assert_snapshot!("broken_text_top", top(&text));
}

#[test]
fn top_of_the_dead_endpoint_text_report_matches_its_snapshot() {
    let (code, text) = dead_endpoint_run("text");
    assert_eq!(code, 3, "{text}");
    // The request count and timings vary with the SDK's retries; the top does not show them.
    insta::assert_snapshot!("dead_endpoint_text_top", top(&text));
}

#[test]
fn markdown_of_the_seed_with_its_mermaid_block_matches_its_snapshot() {
    let out = bin()
        .args(["check", "--offline", "--format", "markdown", "--config"])
        .arg(example("seed"))
        .output()
        .unwrap();
    let md = normalized(&out.stdout);
    assert_line_endings_as_snapshotted(&md);
    insta::assert_snapshot!("seed_markdown_report", md);
}

/// A dead endpoint determines nothing: the flowchart draws those links purple and dashed,
/// not red like a failure, and the report says what the marks and colours mean.
#[test]
fn mermaid_draws_not_determined_apart_from_failed() {
    let (code, md) = dead_endpoint_run("markdown");
    assert_eq!(code, 3, "{md}");
    let blocks = mermaid_blocks(&md);
    let chart = blocks.first().expect("a mermaid block");
    let undetermined: Vec<&str> = chart
        .lines()
        .filter(|l| l.trim_start().starts_with("linkStyle") && l.contains("stroke-width:3px"))
        .collect();
    assert!(!undetermined.is_empty(), "{chart}");
    for line in undetermined {
        assert!(
            line.contains("#8250df") && line.contains("stroke-dasharray"),
            "{line}\n{chart}"
        );
    }
    assert!(md.contains("? not determined (purple, dashed)"), "{md}");
}

/// Every ```mermaid block of a Markdown text.
fn mermaid_blocks(md: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in md.lines() {
        match (&mut current, line) {
            (None, "```mermaid") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(current.is_none(), "a mermaid block is not closed:\n{md}");
    blocks
}

const MERMAID_MISSING: &str = "the Mermaid parser is not installed: run scripts/setup-node-tools.sh (needs node >= 20 and npm; it installs the pinned mermaid and jsdom into .node/), or scripts/test.sh";

/// Parses each diagram with Mermaid's own parser; panics with the parser's message on the
/// first that does not parse.
fn assert_mermaid_parses(diagrams: &[(String, String)]) {
    let validator = root().join(".node/validate-mermaid.mjs");
    assert!(
        validator.exists() && root().join(".node/node_modules/mermaid").exists(),
        "{MERMAID_MISSING}"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, (name, source)) in diagrams.iter().enumerate() {
        let file = dir.path().join(format!("{i}-{name}.mmd"));
        std::fs::write(&file, source).unwrap();
        files.push(file);
    }
    let out = Process::new("node")
        .arg(&validator)
        .args(&files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run node ({e}): {MERMAID_MISSING}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "Mermaid does not parse a diagram: {}\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr),
        diagrams
            .iter()
            .map(|(n, s)| format!("--- {n}\n{s}"))
            .collect::<String>()
    );
    assert_eq!(
        stdout.matches(": flowchart").count(),
        diagrams.len(),
        "{stdout}"
    );
}

/// The Markdown of the seed, the broken example, a dead endpoint, a fleet and hostile values
/// (quotes, pipes, backticks, markup and Mermaid's own entity syntax in every value): every
/// flowchart parses.
#[test]
fn every_mermaid_flowchart_parses_with_mermaid_itself() {
    let mut diagrams = Vec::new();
    for name in ["seed", "broken"] {
        let out = bin()
            .args(["check", "--offline", "--format", "markdown", "--config"])
            .arg(example(name))
            .output()
            .unwrap();
        let md = String::from_utf8_lossy(&out.stdout).into_owned();
        for block in mermaid_blocks(&md) {
            diagrams.push((name.to_string(), block));
        }
    }
    let (_, md) = dead_endpoint_run("markdown");
    diagrams.extend(
        mermaid_blocks(&md)
            .into_iter()
            .map(|b| ("dead-endpoint".to_string(), b)),
    );
    let hostile = "a\"b|c`d<e>f&g#quot;h]i)j{k}l;m%%n\\o-->p";
    let out = bin()
        .args(["check", "--offline", "--format", "markdown"])
        .args(["--region", "us-east-1", "--bucket", hostile, "--path"])
        .arg(format!("/{hostile}"))
        .args(["--kms-key", hostile, "--role-arn"])
        .arg(format!("arn:aws:iam::1:role/{hostile}"))
        .args(["--aoc-principal", hostile, "--external-id", "x"])
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&out.stdout).into_owned();
    diagrams.extend(
        mermaid_blocks(&md)
            .into_iter()
            .map(|b| ("hostile".to_string(), b)),
    );
    assert_eq!(diagrams.len(), 4, "one flowchart per report");
    assert!(
        diagrams[1].1.contains("role.trust"),
        "the broken link names its check:\n{}",
        diagrams[1].1
    );
    assert!(
        diagrams[1].1.contains("linkStyle 0 stroke:#cf222e"),
        "the broken trust link is red:\n{}",
        diagrams[1].1
    );
    assert_mermaid_parses(&diagrams);
}

/// Mermaid's parser is really run: a broken diagram is refused (so a validator that accepts
/// anything cannot pass the test above).
#[test]
fn the_mermaid_validator_refuses_a_broken_flowchart() {
    let validator = root().join(".node/validate-mermaid.mjs");
    assert!(validator.exists(), "{MERMAID_MISSING}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.mmd");
    std::fs::write(&file, "flowchart LR\n  a[\"x\" y] --> |\n").unwrap();
    let out = Process::new("node")
        .arg(&validator)
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Parse error"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const DOT_MISSING: &str =
    "Graphviz is not installed: apt-get install -y graphviz (scripts/test.sh does it when it can)";

/// `--format dot` of a fleet with every status renders with Graphviz, and the SVG names the
/// checks that broke the links.
#[test]
fn dot_renders_with_graphviz() {
    let out = bin()
        .args(["check", "--offline", "--format", "dot", "--config"])
        .arg(example("broken"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let dot = String::from_utf8(out.stdout).unwrap();
    assert!(dot.starts_with("digraph access_path {"), "{dot}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("path.dot");
    std::fs::write(&file, &dot).unwrap();
    let svg = Process::new("dot")
        .args(["-Tsvg"])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run dot ({e}): {DOT_MISSING}"));
    assert!(
        svg.status.success() && svg.stderr.is_empty(),
        "dot refused the graph: {}\n{dot}",
        String::from_utf8_lossy(&svg.stderr)
    );
    // SVG writes a hyphen as `&#45;`.
    let svg = String::from_utf8(svg.stdout).unwrap().replace("&#45;", "-");
    for check in ["role.trust", "role.s3-access", "role.kms-access"] {
        assert!(svg.contains(check), "{check} missing from the SVG:\n{svg}");
    }
}

/// A fleet and hostile names render too: one cluster per attachment, quotes escaped.
#[test]
fn dot_of_a_fleet_with_hostile_names_renders() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("fleet.toml");
    std::fs::write(
        &config,
        r#"
[[attachment]]
name = "quote\" back\\slash {brace} <tag>"
region = "us-east-1"
bucket = "b1"
kms_key = "arn:aws:kms:us-east-1:111122223333:alias/a"
role_arn = "arn:aws:iam::111122223333:role/r"
external_id = "x"
aoc_principal = "arn:aws:iam::860559707280:role/p"

[[attachment]]
name = "second"
region = "us-east-1"
bucket = "b2"
kms_key = "arn:aws:kms:us-east-1:111122223333:key/k"
role_arn = "arn:aws:iam::111122223333:role/r"
external_id = "x"
aoc_principal = "arn:aws:iam::860559707280:role/p"
"#,
    )
    .unwrap();
    let out = bin()
        .args(["check", "--offline", "--format", "dot", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let dot = String::from_utf8(out.stdout).unwrap();
    assert_eq!(dot.matches("subgraph cluster_").count(), 2, "{dot}");
    let file = dir.path().join("fleet.dot");
    std::fs::write(&file, &dot).unwrap();
    let svg = Process::new("dot")
        .args(["-Tsvg"])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run dot ({e}): {DOT_MISSING}"));
    assert!(
        svg.status.success() && svg.stderr.is_empty(),
        "dot refused the graph: {}\n{dot}",
        String::from_utf8_lossy(&svg.stderr)
    );
}

const TMUX_MISSING: &str =
    "tmux is not installed: apt-get install -y tmux (scripts/test.sh does it when it can)";

/// The text report of the broken example as a 100-column terminal shows it, with the given
/// `LC_ALL`: the pane's lines, wrapped lines joined (so a line too long shows as longer than
/// 100), with the colour escapes when `escapes`.
fn in_tmux(lc_all: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let socket = format!("aoc-preflight-test-{}-{lc_all}", std::process::id());
    let tmux = |args: &[&str]| {
        let out = Process::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run tmux ({e}): {TMUX_MISSING}"));
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let binary = assert_cmd::cargo::cargo_bin("aoc-preflight");
    let script = dir.path().join("run.sh");
    // `env -i` keeps the pane's run free of the test process's AWS and locale settings.
    std::fs::write(
        &script,
        format!(
            "cd '{}' && env -i PATH=/usr/bin:/bin TERM=xterm-256color LC_ALL={lc_all} '{}' check --offline --config examples/broken/aoc.toml\n\
             tmux -L '{socket}' wait-for -S done\nsleep 60\n",
            root().display(),
            binary.display()
        ),
    )
    .unwrap();
    tmux(&[
        "new-session",
        "-d",
        "-x",
        "100",
        "-y",
        "50",
        "sh",
        script.to_str().unwrap(),
    ]);
    tmux(&["set-option", "-g", "history-limit", "5000"]);
    tmux(&["wait-for", "done"]);
    let plain = tmux(&["capture-pane", "-p", "-J", "-S", "-"]);
    let styled = tmux(&["capture-pane", "-p", "-J", "-e", "-S", "-"]);
    let _ = Process::new("tmux")
        .args(["-L", &socket, "kill-server"])
        .output();
    (plain, styled)
}

/// The diagram's lines: from "Access path" to its legend.
fn diagram_lines(text: &str) -> Vec<&str> {
    text.lines()
        .skip_while(|l| !l.starts_with("Access path"))
        .take_while(|l| !l.trim().is_empty())
        .collect()
}

#[test]
fn the_text_report_in_a_real_terminal_fits_100_columns_and_falls_back_to_ascii_in_c() {
    let (utf8, styled) = in_tmux("C.UTF-8");
    let drawn = diagram_lines(&utf8);
    assert!(drawn.len() > 5, "no diagram in the pane:\n{utf8}");
    for line in &drawn {
        assert!(
            line.chars().count() <= 100,
            "wider than 100 columns: {line}"
        );
    }
    assert!(utf8.contains("──►"), "no box drawing in UTF-8:\n{utf8}");
    assert!(
        styled.contains("\u{1b}["),
        "the report is not coloured in a terminal"
    );

    let (c, _) = in_tmux("C");
    let drawn = diagram_lines(&c);
    assert!(drawn.len() > 5, "no diagram in the pane:\n{c}");
    for line in &drawn {
        assert!(line.is_ascii(), "not ASCII in the C locale: {line}");
        assert!(
            line.chars().count() <= 100,
            "wider than 100 columns: {line}"
        );
    }
    assert!(c.contains("-->"), "no ASCII arrows in C:\n{c}");
}
