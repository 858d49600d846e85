//! The repository stands alone: every document the code, the data and the docs refer to is in
//! it (`docs/...`, with the section headings cited), and no file names a directory of one
//! machine or a document outside the repository.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The text files the repository is made of (what git tracks, less data too large to matter),
/// each as (its path in the repository, its text).
fn tracked_texts() -> Vec<(String, String)> {
    let out = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root())
        .output()
        .expect("git ls-files runs (the tests run in a git checkout)");
    assert!(out.status.success(), "git ls-files failed");
    out.stdout
        .split(|b| *b == 0)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        // This file shows the forms it looks for.
        .filter(|p| !p.is_empty() && p != "tests/cli/docs.rs")
        .filter(|p| {
            Path::new(p)
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| {
                    ["rs", "md", "toml", "sh", "py", "json", "yml", "yaml"].contains(&e)
                })
        })
        .filter_map(|p| {
            let text = std::fs::read_to_string(root().join(&p)).ok()?;
            Some((p, text))
        })
        .collect()
}

/// `docs/NAME.md, "Heading"` references in `text`: (file, heading).
fn doc_references(text: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("docs/") {
        // The repository's docs/, not the tail of a URL or another path (`awsdocs/...`).
        if rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
        {
            rest = &rest[at + "docs/".len()..];
            continue;
        }
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || "/._-".contains(c)))
            .unwrap_or(tail.len());
        let file = tail[..end].trim_end_matches('.').to_string();
        let after = &tail[end..];
        let heading = after
            .strip_prefix(", \"")
            .or_else(|| after.strip_prefix(", \\\""))
            .and_then(|h| h.split(['"', '\\']).next())
            .map(str::to_string);
        if file.ends_with(".md") || file.ends_with(".json") {
            out.push((file, heading));
        }
        rest = &tail[end..];
    }
    out
}

fn headings(markdown: &str) -> Vec<String> {
    markdown
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| l.trim_start_matches('#').trim().to_string())
        .collect()
}

#[test]
fn every_document_the_repository_cites_is_in_it_with_the_cited_section() {
    let mut problems = Vec::new();
    let mut cited = 0;
    for (here, text) in tracked_texts() {
        for (doc, heading) in doc_references(&text) {
            cited += 1;
            let path = root().join(&doc);
            if !path.is_file() {
                problems.push(format!(
                    "{here} cites {doc}, which is not in the repository"
                ));
                continue;
            }
            if let Some(h) = heading {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if !headings(&text).contains(&h) {
                    problems.push(format!("{here} cites {doc}, \"{h}\": no such section"));
                }
            }
        }
    }
    assert!(
        cited >= 10,
        "only {cited} citations found: is the scan broken?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn nothing_names_a_machine_directory_or_a_document_outside_the_repository() {
    // The machine directories are written in two pieces so that this file does not name them.
    let outside = [
        "DESIGN.md".to_string(),
        "DOMAIN-NOTES".to_string(),
        "ARCHITECTURE.md".to_string(),
        "../shared/".to_string(),
        ["/", "work/"].concat(),
        ["/", "home/"].concat(),
    ];
    let mut problems = Vec::new();
    for (here, text) in tracked_texts() {
        for (n, line) in text.lines().enumerate() {
            for o in &outside {
                if names(line, o) {
                    problems.push(format!("{here}:{}: `{o}`", n + 1));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Whether `line` names `what` as a path of its own: an absolute directory starts the path
/// (a home directory, say), it is not the tail of another one (a folder of that name in an S3
/// object ARN).
fn names(line: &str, what: &str) -> bool {
    line.match_indices(what).any(|(at, _)| {
        !what.starts_with('/')
            || line[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || "._-:/$}".contains(c)))
    })
}

#[test]
fn the_citation_scan_reads_both_forms() {
    assert!(names("bin=/home/me/x", &["/", "home/"].concat()));
    assert!(!names(
        "arn:aws:s3:::b/home/alice",
        &["/", "home/"].concat()
    ));
    let refs =
        doc_references(r#"see docs/contract.md, "Check catalog" and docs/report.schema.json."#);
    assert_eq!(
        refs,
        vec![
            (
                "docs/contract.md".to_string(),
                Some("Check catalog".to_string())
            ),
            ("docs/report.schema.json".to_string(), None),
        ]
    );
    assert!(Path::new("docs").is_relative());
}
