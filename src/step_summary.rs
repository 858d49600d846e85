//! The GitHub Actions step summary: the one place `check` writes a file nobody named on its
//! command line. On GitHub Actions (`GITHUB_ACTIONS=true` and `GITHUB_STEP_SUMMARY` set) the
//! Markdown report is appended to that file, cut below GitHub's 1 MiB limit; anywhere else
//! nothing is written. The rendering is the Markdown sink's (`crate::report::markdown`).

use std::io::{self, Write};
use std::path::Path;

/// What GitHub allows a step's summary: 1 MiB. We stay below it with room for what other
/// steps' tools may have written to the same file.
pub const LIMIT: usize = 1_000_000;

/// Appends `markdown` (as the caller rendered it, `--redact`ed where asked, so the summary shows
/// what the other outputs show) to the step summary when running on GitHub Actions. Returns
/// whether it wrote.
pub fn append(markdown: &str) -> io::Result<bool> {
    let on_actions = std::env::var("GITHUB_ACTIONS").ok();
    let path = std::env::var_os("GITHUB_STEP_SUMMARY");
    append_to(
        markdown,
        on_actions.as_deref(),
        path.as_deref().map(Path::new),
        LIMIT,
    )
}

/// [`append`] with the environment and the cap given, for tests: the process environment
/// cannot be changed safely while other tests run.
fn append_to(
    markdown: &str,
    github_actions: Option<&str>,
    path: Option<&Path>,
    cap: usize,
) -> io::Result<bool> {
    let Some(path) = path.filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(false);
    };
    if github_actions != Some("true") {
        return Ok(false);
    }
    let md = crate::report::markdown::capped(markdown, cap);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?;
    // A blank line first, so our heading does not run into what an earlier step wrote.
    file.write_all(b"\n")?;
    file.write_all(md.as_bytes())?;
    file.flush()?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_only_on_github_actions_and_capped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("summary.md");
        std::fs::write(&path, "earlier step\n").expect("write");
        let md = "## Report\n\n| a | b |\n";

        assert!(!append_to(md, None, Some(&path), 1000).expect("ok"));
        assert!(!append_to(md, Some("false"), Some(&path), 1000).expect("ok"));
        assert!(!append_to(md, Some("true"), None, 1000).expect("ok"));
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "earlier step\n"
        );

        assert!(append_to(md, Some("true"), Some(&path), LIMIT).expect("ok"));
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, format!("earlier step\n\n{md}"));

        let long = "line of a report\n".repeat(1000);
        let other = dir.path().join("other.md");
        assert!(append_to(&long, Some("true"), Some(&other), 2000).expect("ok"));
        let text = std::fs::read_to_string(&other).expect("read");
        assert!(text.len() <= 2000, "{}", text.len());
        assert!(text.contains("This summary was cut"), "{text}");
    }
}
