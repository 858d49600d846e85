//! The Markdown sink (`--format markdown`), for a pull-request comment or a GitHub Actions
//! step summary: a status table first, then one `<details>` block per check that needs
//! attention, with its evidence and its fix (policies and commands in fenced code blocks).
//!
//! It owns the Markdown layout and its escaping (report text is free text: a `|` would split
//! a table cell, a `*` or `<` would turn into emphasis or HTML), and cutting a report to a size
//! with its markup closed ([`capped`]). Writing the step summary is the command's I/O
//! (`crate::step_summary`).

use std::io::{self, Write};

use super::Options;
use super::causes::{self, Cause};
use super::junit::attachment_label;
use crate::model::report::{CheckResult, FleetReport, Report, Summary};
use crate::model::verdict::Status;

/// One attachment alone, or an overall table and one section per attachment.
pub fn write_fleet(out: &mut dyn Write, fleet: &FleetReport, options: &Options) -> io::Result<()> {
    out.write_all(render(fleet, options).as_bytes())
}

/// The Markdown of the run as a string (the step summary needs its length before writing).
pub fn render(fleet: &FleetReport, options: &Options) -> String {
    let mut md = String::new();
    match fleet.reports.as_slice() {
        [one] => {
            md.push_str(&format!(
                "## {} {} {}: `{}`\n\n",
                icon(one.status),
                one.tool.name,
                one.tool.version,
                code_text(&attachment_label(one, 0)),
            ));
            report_body(&mut md, one, options);
        }
        reports => {
            md.push_str(&format!(
                "## {} {} {}: {} attachments\n\n",
                icon(fleet.status),
                fleet.tool.name,
                fleet.tool.version,
                reports.len(),
            ));
            md.push_str(&format!("{}\n\n", summary_line(&fleet.summary)));
            md.push_str(
                "| Attachment | Status | Failed | Not determined | Warnings | Passed | Skipped |\n",
            );
            md.push_str("|---|---|---:|---:|---:|---:|---:|\n");
            for (i, r) in reports.iter().enumerate() {
                let s = &r.summary;
                md.push_str(&format!(
                    "| `{}` | {} | {} | {} | {} | {} | {} |\n",
                    cell_code(&attachment_label(r, i)),
                    badge(r.status),
                    s.fail,
                    s.error,
                    s.warn,
                    s.pass,
                    s.skip,
                ));
            }
            for (i, r) in reports.iter().enumerate() {
                md.push_str(&format!(
                    "\n### {} `{}`\n\n",
                    icon(r.status),
                    code_text(&attachment_label(r, i))
                ));
                report_body(&mut md, r, options);
            }
            rollup(&mut md, fleet);
        }
    }
    md
}

/// The fleet's end: each attachment, its status and the checks that need attention.
fn rollup(md: &mut String, fleet: &FleetReport) {
    md.push_str(
        "\n### All attachments\n\n| Attachment | Status | Needs attention |\n|---|---|---|\n",
    );
    for a in &fleet.attachments {
        let checks: Vec<String> = a
            .checks
            .iter()
            .map(|c| format!("{} `{}`", icon(c.status), cell_code(&c.id)))
            .collect();
        md.push_str(&format!(
            "| `{}` | {} | {} |\n",
            cell_code(&a.name),
            badge(a.status),
            if checks.is_empty() {
                "none".to_string()
            } else {
                checks.join(", ")
            }
        ));
    }
}

/// What was checked, the counts, the access path, what to fix, the table, then the details.
fn report_body(md: &mut String, report: &Report, options: &Options) {
    let a = &report.attachment;
    md.push_str(&format!(
        "{} check of bucket {} (path {}, region {}), key {}, role {}.  \n{}\n\n",
        capitalized(report.mode),
        value(&a.bucket),
        value(&a.path),
        value(&a.region),
        value(&a.kms_key),
        value(&a.role_arn),
        summary_line(&report.summary),
    ));
    if let Some(replay) = &report.replay {
        md.push_str(&format!(
            "> Replay: {}.\n\n",
            escape_plain(&replay.describe(report.mode).replace('\n', " "))
        ));
    }
    for note in &report.notes {
        md.push_str(&format!(
            "> Note: {}.\n\n",
            escape_plain(&note.replace('\n', " "))
        ));
    }
    md.push_str("```mermaid\n");
    md.push_str(&super::mermaid::flowchart(&super::path::access_path(
        report,
    )));
    md.push_str("```\n\n");
    md.push_str(&format!("{}\n\n", super::mermaid::LEGEND));
    let causes = causes::causes(report);
    what_to_fix(md, &causes);
    md.push_str("| Check | Status | Summary |\n|---|---|---|\n");
    for c in report
        .checks
        .iter()
        .filter(|c| !(options.quiet && c.status == Status::Pass))
    {
        md.push_str(&format!(
            "| `{}` | {} | {} |\n",
            cell_code(&c.id),
            badge(c.status),
            cell(&c.summary)
        ));
    }
    for c in report.checks.iter().filter(|c| wants_details(c)) {
        md.push('\n');
        details(md, c, causes::entry_of(&causes, &c.id));
    }
    gate_section(md, report);
}

/// The gate's part of the report: a "Suppressed" table (each finding with the reason that
/// accepts it) and the gate's warnings as a quote.
fn gate_section(md: &mut String, report: &Report) {
    if !report.suppressed.is_empty() {
        md.push_str("\n**Suppressed** (not counted: the config file accepts them)\n\n");
        md.push_str("| Check | Would be | Finding | Reason | Until |\n|---|---|---|---|---|\n");
        for s in &report.suppressed {
            md.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                cell_code(&s.check),
                badge(s.status),
                cell(&s.summary),
                cell(&s.reason),
                s.expires.map(|d| d.to_string()).unwrap_or_default()
            ));
        }
    }
    if !report.gate_warnings.is_empty() {
        let quoted: Vec<String> = report
            .gate_warnings
            .iter()
            .map(|w| format!("> :warning: {}\n", inline(&w.message)))
            .collect();
        md.push('\n');
        md.push_str(&quoted.join(">\n"));
    }
}

/// "What to fix": one numbered entry per root cause, each with its fix. Bold paragraphs, not
/// headings: the report sits under a heading of its own in a fleet.
fn what_to_fix(md: &mut String, causes: &[Cause<'_>]) {
    if causes.is_empty() {
        md.push_str("**What to fix:** nothing, every check that ran passed.\n\n");
        return;
    }
    md.push_str("**What to fix**\n\n");
    for (i, cause) in causes.iter().enumerate() {
        match cause {
            Cause::Access {
                problem,
                messages,
                stopped,
            } => {
                md.push_str(&format!(
                    "**{}. {} {}**\n\nWhat AWS or the network said:\n\n",
                    i + 1,
                    icon(cause.status()),
                    inline(problem.headline())
                ));
                for m in messages {
                    md.push_str(&format!("- {}\n", inline(m).replace('\n', " ")));
                }
                md.push_str(&format!("\n{}\n\n", inline(problem.advice())));
                let ids: Vec<String> = stopped
                    .iter()
                    .map(|c| format!("`{}`", code_text(&c.id)))
                    .collect();
                md.push_str(&format!(
                    "Checks it stopped ({}): {}\n\n",
                    ids.len(),
                    ids.join(", ")
                ));
            }
            Cause::Check(c) => {
                md.push_str(&format!(
                    "**{}. {} `{}`**: {}\n\n",
                    i + 1,
                    icon(c.status),
                    code_text(&c.id),
                    inline(&c.summary).replace('\n', " ")
                ));
                write_fix(md, c);
            }
        }
    }
}

fn write_fix(md: &mut String, c: &CheckResult) {
    if !c.steps.is_empty() {
        fix_steps(md, &c.steps);
        blank_line(md);
    } else if let Some(fix) = &c.remediation {
        remediation(md, fix);
        blank_line(md);
    }
}

/// Every check that is not a pass gets details, except a skip with nothing more to say than
/// its summary, which the table already shows (most skips are "live mode only").
fn wants_details(c: &CheckResult) -> bool {
    match c.status {
        Status::Pass => false,
        Status::Skip => !c.evidence.is_empty() || c.remediation.is_some(),
        Status::Warn | Status::Fail | Status::Error => true,
    }
}

/// A check's details; its fix is given in "What to fix" entry `cause` when it has one.
fn details(md: &mut String, c: &CheckResult, cause: Option<usize>) {
    // The blank line after `<summary>` makes GitHub render the Markdown inside the block.
    md.push_str(&format!(
        "<details><summary>{} <code>{}</code>: {}</summary>\n\n",
        icon(c.status),
        html(&c.id),
        html_inline(&c.summary),
    ));
    md.push_str(&format!("**{}**\n\n", inline(&c.title)));
    if !c.evidence.is_empty() {
        md.push_str("Evidence:\n\n");
        for e in &c.evidence {
            md.push_str(&format!("- {}\n", inline(e).replace('\n', " ")));
        }
        md.push('\n');
    }
    let has_fix = !c.steps.is_empty() || c.remediation.is_some();
    match cause {
        Some(n) if has_fix => md.push_str(&format!("Fix: see What to fix, {n}.\n\n")),
        _ if has_fix => {
            md.push_str("Fix:\n\n");
            write_fix(md, c);
        }
        _ => {}
    }
    if !c.docs.is_empty() {
        let links: Vec<String> = c.docs.iter().map(|d| format!("<{d}>")).collect();
        md.push_str(&format!("Docs: {}\n\n", links.join(" · ")));
    }
    md.push_str("</details>\n");
}

/// The fix's steps, each as what it is: notes as prose, documents and examples as JSON blocks,
/// diffs as diff blocks, commands as shell blocks, so they copy as they are.
fn fix_steps(md: &mut String, steps: &[crate::model::verdict::FixStep]) {
    use crate::model::verdict::FixStep;
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let block = |md: &mut String, language: &str, text: &str| {
        let lines: Vec<&str> = text.lines().collect();
        let fence = fence_for(&lines);
        blank_line(md);
        md.push_str(&format!(
            "{fence}{language}\n{}\n{fence}\n\n",
            text.trim_end()
        ));
    };
    for step in steps {
        match step {
            FixStep::Note { text } => {
                for line in text.lines() {
                    md.push_str(&inline(line));
                    md.push('\n');
                }
                blank_line(md);
            }
            FixStep::Document {
                caption,
                file_name,
                document,
            } => {
                md.push_str(&format!("{} (`{file_name}`):\n", inline(caption)));
                block(md, "json", &pretty(&document.document));
            }
            FixStep::Example { caption, document } => {
                md.push_str(&format!("{}:\n", inline(caption)));
                block(md, "json", &pretty(document));
            }
            FixStep::Diff { caption, diff } => {
                md.push_str(&format!("{}:\n", inline(caption)));
                block(md, "diff", diff);
            }
            FixStep::Command { caption, command } => {
                md.push_str(&format!("{}:\n", inline(caption)));
                block(md, "sh", command);
            }
        }
    }
}

/// Remediation text mixes sentences with policy JSON, diffs and `aws` commands: runs of code
/// lines go into fenced blocks (so they copy as they are), sentences stay prose.
fn remediation(md: &mut String, text: &str) {
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if is_code_line(line) {
            let start = i;
            while i < lines.len() && is_code_line(lines[i]) {
                i += 1;
            }
            blank_line(md);
            code_block(md, &lines[start..i]);
            blank_line(md);
        } else {
            if line.trim().is_empty() {
                blank_line(md);
            } else {
                md.push_str(&inline(line));
                md.push('\n');
            }
            i += 1;
        }
    }
}

/// Ends the current paragraph unless it already ended: one blank line, never two.
fn blank_line(md: &mut String) {
    if !md.ends_with("\n\n") {
        md.push('\n');
    }
}

/// A line of a policy, a diff or a command, as the catalog and the checks write them: indented,
/// a JSON bracket, an `aws` command, or a diff line (`-`/`+` then at least two spaces; a
/// list item has one).
fn is_code_line(line: &str) -> bool {
    if line.trim().is_empty() {
        return false;
    }
    let mut chars = line.chars();
    let first = chars.next().unwrap_or(' ');
    if first == ' ' || first == '\t' || matches!(first, '{' | '}' | '[' | ']') {
        return true;
    }
    if line.starts_with("aws ") {
        return true;
    }
    matches!(first, '-' | '+') && chars.take(2).all(|c| c == ' ')
}

fn code_block(md: &mut String, lines: &[&str]) {
    let is_diff = lines
        .iter()
        .any(|l| (l.starts_with('-') || l.starts_with('+')) && is_code_line(l));
    let language = if is_diff {
        "diff"
    } else if lines
        .first()
        .is_some_and(|l| l.starts_with('{') || l.starts_with('['))
    {
        "json"
    } else if lines.iter().all(|l| l.trim_start().starts_with("aws ")) {
        "sh"
    } else {
        "text"
    };
    // A diff keeps its columns; other blocks lose the indentation the text sink uses.
    let indent = if is_diff {
        0
    } else {
        lines
            .iter()
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0)
    };
    let fence = fence_for(lines);
    md.push_str(&format!("{fence}{language}\n"));
    for l in lines {
        md.push_str(l.get(indent..).unwrap_or(l));
        md.push('\n');
    }
    md.push_str(&fence);
    md.push('\n');
}

/// A fence longer than any run of backticks in the block, so the block cannot close early.
fn fence_for(lines: &[&str]) -> String {
    let longest = lines
        .iter()
        .flat_map(|l| l.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

fn icon(status: Status) -> &'static str {
    match status {
        Status::Pass => "✅",
        Status::Warn => "⚠️",
        Status::Fail => "❌",
        Status::Error => "❓",
        Status::Skip => "⏭️",
    }
}

/// Icon and word: the word keeps the table readable as text and searchable.
fn badge(status: Status) -> String {
    let word = match status {
        Status::Error => "error (not determined)",
        other => other.as_str(),
    };
    format!("{} {word}", icon(status))
}

fn summary_line(s: &Summary) -> String {
    let mut parts = Vec::new();
    let mut part = |n: usize, text: &str| {
        if n > 0 {
            parts.push(format!("{n} {text}"));
        }
    };
    part(s.fail, "failed");
    part(s.error, "could not be determined");
    part(s.warn, if s.warn == 1 { "warning" } else { "warnings" });
    part(s.pass, "passed");
    part(s.skip, "skipped");
    if parts.is_empty() {
        "No checks ran.".to_string()
    } else {
        format!("**{}.**", parts.join(", "))
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Splits text at backticks into (is_code, segment) pairs, keeping the author's code spans.
/// With an odd number of backticks there is no safe pairing: all of it is plain text.
fn spans(text: &str) -> Vec<(bool, &str)> {
    if text.matches('`').count() % 2 == 1 {
        return vec![(false, text)];
    }
    text.split('`')
        .enumerate()
        .map(|(i, s)| (i % 2 == 1, s))
        .collect()
}

/// Escapes Markdown in plain text, outside code spans: `*`, `_`, `[`, `<` and their kin
/// would otherwise turn an ARN such as `arn:aws:s3:::bucket/*` into emphasis or HTML.
fn escape_plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Report text as inline Markdown: plain parts escaped, code spans kept.
fn inline(text: &str) -> String {
    spans(text)
        .into_iter()
        .map(|(code, s)| {
            if code {
                format!("`{s}`")
            } else {
                escape_plain(s)
            }
        })
        .collect()
}

/// Report text in a table cell: as [`inline`], and a `|` never ends the cell (GitHub reads
/// `\|` as a pipe even inside a code span in a table); a line break becomes `<br>`.
fn cell(text: &str) -> String {
    spans(text)
        .into_iter()
        .map(|(code, s)| {
            if code {
                format!("`{}`", s.replace('|', "\\|").replace('\n', " "))
            } else {
                escape_plain(s).replace('\n', "<br>")
            }
        })
        .collect()
}

/// Text placed inside a code span we write: a backtick would end it, so it becomes `'`.
fn code_text(s: &str) -> String {
    s.replace('`', "'").replace('\n', " ")
}

/// An attachment value as a code span; an empty code span would show its backticks.
fn value(s: &str) -> String {
    if s.trim().is_empty() {
        "(not given)".to_string()
    } else {
        format!("`{}`", code_text(s))
    }
}

/// [`code_text`] in a table cell.
fn cell_code(s: &str) -> String {
    code_text(s).replace('|', "\\|")
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Report text inside HTML (a `<summary>`), where Markdown code spans do not render: code
/// spans become `<code>`.
fn html_inline(text: &str) -> String {
    spans(text)
        .into_iter()
        .map(|(code, s)| {
            if code {
                format!("<code>{}</code>", html(s))
            } else {
                html(s).replace('\n', " ")
            }
        })
        .collect()
}

/// The Markdown cut to at most `cap` bytes (a blank line included) at a line boundary, with
/// any code fence or `<details>` left open closed, and a note saying it was cut.
pub fn capped(md: &str, cap: usize) -> String {
    // One byte goes to the blank line written before the summary.
    let cap = cap.saturating_sub(1);
    if md.len() <= cap {
        return md.to_string();
    }
    let note = format!(
        "\n> [!NOTE]\n> This summary was cut to stay under GitHub's 1 MiB step summary \
         limit (the full Markdown has {} bytes). Write the whole report to a file with \
         `--format json --output FILE` or `--format markdown --output FILE`.\n",
        md.len()
    );
    // Room for the note and for closing an open fence and a `<details>`.
    let closers = 40;
    let budget = cap.saturating_sub(note.len() + closers);
    let mut cut = budget.min(md.len());
    while !md.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = match md[..cut].rfind('\n') {
        Some(nl) => &md[..=nl],
        None => "",
    };
    let mut out = head.to_string();
    let mut fence: Option<String> = None;
    let mut open_details = 0usize;
    for line in head.lines() {
        let t = line.trim_start();
        match &fence {
            Some(f) if t.starts_with(f.as_str()) && t.trim_end().chars().all(|c| c == '`') => {
                fence = None;
            }
            Some(_) => {}
            None if t.starts_with("```") => {
                fence = Some(t.chars().take_while(|c| *c == '`').collect());
            }
            None => {
                open_details += t.matches("<details>").count();
                open_details = open_details.saturating_sub(t.matches("</details>").count());
            }
        }
    }
    if let Some(f) = fence {
        out.push_str(&f);
        out.push('\n');
    }
    for _ in 0..open_details {
        out.push_str("\n</details>\n");
    }
    out.push_str(&note);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::attachment::Attachment;
    use crate::model::report::{FindingResult, Report};

    fn check(id: &str, status: Status, summary: &str) -> CheckResult {
        CheckResult {
            id: id.to_string(),
            title: format!("Title of {id}"),
            status,
            summary: summary.to_string(),
            evidence: vec!["statement 1 of `p.json` allows s3:* on arn:aws:s3:::b/*".to_string()],
            remediation: Some(
                "Allow it (object actions need the `/*` ARN).\n\nPolicy to add (x.json):\n{\n  \"Version\": \"2012-10-17\"\n}\n\nAdd it to the role:\n  aws iam put-role-policy --role-name r\n\nDifferences:\n          \"StringEquals\": {\n-           \"sts:ExternalId\": \"a\"\n+           \"sts:ExternalId\": \"b\"\n          }\n  ..."
                    .to_string(),
            ),
            docs: vec!["https://example.com/a".to_string()],
            fixes: Vec::new(),
            steps: Vec::new(),
            findings: vec![FindingResult {
                status,
                reason: "r".to_string(),
                summary: summary.to_string(),
                evidence: Vec::new(),
                action: None,
                failure: None,
                locations: Vec::new(),
            }],
        }
    }

    fn report(name: &str, checks: Vec<CheckResult>) -> Report {
        Report::new(
            "offline",
            Attachment {
                name: Some(name.to_string()),
                region: "us-east-1".to_string(),
                bucket: "b".to_string(),
                path: "/".to_string(),
                ..Default::default()
            },
            checks,
        )
    }

    fn sample() -> FleetReport {
        FleetReport::new(vec![report(
            "one",
            vec![
                check("a.pass", Status::Pass, "fine | really"),
                check(
                    "a.fail",
                    Status::Fail,
                    "`s3:Get*` is | missing\nsecond line",
                ),
                CheckResult {
                    evidence: Vec::new(),
                    remediation: None,
                    ..check("a.skip", Status::Skip, "not checked")
                },
            ],
        )])
    }

    #[test]
    fn table_cells_escape_pipes_and_line_breaks() {
        let md = render(&sample(), &Options::default());
        assert!(
            md.contains("| `a.pass` | ✅ pass | fine \\| really |"),
            "{md}"
        );
        assert!(
            md.contains("| `a.fail` | ❌ fail | `s3:Get*` is \\| missing<br>second line |"),
            "{md}"
        );
        // Every table row has exactly three cells' worth of unescaped pipes.
        for line in md.lines().filter(|l| l.starts_with("| `a.")) {
            let unescaped = line.replace("\\|", "").matches('|').count();
            assert_eq!(unescaped, 4, "{line}");
        }
    }

    #[test]
    fn details_for_checks_needing_attention_with_fenced_fixes() {
        let md = render(&sample(), &Options::default());
        assert_eq!(md.matches("<details>").count(), 1, "{md}");
        assert!(md.contains(
            "<details><summary>❌ <code>a.fail</code>: <code>s3:Get*</code> is | missing second line</summary>"
        ), "{md}");
        assert!(
            md.contains("```json\n{\n  \"Version\": \"2012-10-17\"\n}\n```"),
            "{md}"
        );
        assert!(
            md.contains("```sh\naws iam put-role-policy --role-name r\n```"),
            "{md}"
        );
        assert!(
            md.contains("```diff\n          \"StringEquals\": {\n-  "),
            "{md}"
        );
        // Prose keeps its code spans and escapes the rest.
        assert!(md.contains("allows s3:\\* on arn:aws:s3:::b/\\*"), "{md}");
        assert!(md.contains("(object actions need the `/*` ARN)"), "{md}");
        assert_eq!(md.matches("</details>").count(), 1);
    }

    #[test]
    fn several_attachments_get_an_overall_table_and_a_section_each() {
        let fleet = FleetReport::new(vec![
            report("one", vec![check("a.fail", Status::Fail, "bad")]),
            report("two", vec![check("a.pass", Status::Pass, "good")]),
        ]);
        let md = render(&fleet, &Options::default());
        assert!(md.contains(": 2 attachments"), "{md}");
        assert!(
            md.contains("| `one` | ❌ fail | 1 | 0 | 0 | 0 | 0 |"),
            "{md}"
        );
        assert!(
            md.contains("| `two` | ✅ pass | 0 | 0 | 0 | 1 | 0 |"),
            "{md}"
        );
        assert!(md.contains("\n### ❌ `one`\n"), "{md}");
        assert!(md.contains("\n### ✅ `two`\n"), "{md}");
    }

    #[test]
    fn a_long_report_is_capped_with_a_note_and_closed_markup() {
        let checks = (0..200)
            .map(|i| check(&format!("c.{i}"), Status::Fail, "bad"))
            .collect();
        let fleet = FleetReport::new(vec![report("big", checks)]);
        let full = render(&fleet, &Options::default());
        let cap = 20_000;
        assert!(full.len() > cap);
        let text = capped(&full, cap);
        assert!(text.len() < cap, "{} >= {cap}", text.len());
        assert!(text.contains("This summary was cut"), "{text}");
        assert!(text.contains(&format!("the full Markdown has {} bytes", full.len())));
        assert_eq!(
            text.matches("<details>").count(),
            text.matches("</details>").count()
        );
        assert_eq!(text.matches("```").count() % 2, 0);
    }

    #[test]
    fn capping_closes_an_open_fence_at_any_cut() {
        let md = render(&sample(), &Options::default());
        // Below about 400 bytes only the note would fit.
        for cap in (400..md.len()).step_by(7) {
            let cut = capped(&md, cap);
            assert!(cut.len() < cap, "cap {cap}: {}", cut.len());
            assert_eq!(cut.matches("```").count() % 2, 0, "cap {cap}:\n{cut}");
            assert_eq!(
                cut.matches("<details>").count(),
                cut.matches("</details>").count(),
                "cap {cap}:\n{cut}"
            );
        }
    }
}
