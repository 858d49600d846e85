//! `explain`'s output: one model of what matched (and, with `--run`, the verdicts), serialized
//! as the JSON format and rendered as text for a person at a terminal.

use std::io::Write;

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use crate::exit::Exit;
use crate::model::report::Summary;
use crate::model::verdict::Status;

use super::matching::Match;
use super::verdict::{Asked, CheckOutcome, Verdict, judge_asked};
use super::{Invocation, PLACEHOLDER_CONFIG, Ran};

#[derive(Debug, Serialize)]
pub(super) struct Output {
    message: String,
    matched: Vec<MatchOut>,
    /// The command to run next: the top entry's checks, or every check when nothing matched.
    next: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<RunOut>,
}

#[derive(Debug, Serialize)]
struct MatchOut {
    id: String,
    title: String,
    meaning: String,
    causes: Vec<CauseOut>,
    next: String,
    /// With `--run`: the index in `causes` of the first confirmed cause (`null`: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    first_confirmed: Option<Option<usize>>,
}

#[derive(Debug, Serialize)]
struct CauseOut {
    cause: String,
    checks: Vec<String>,
    /// Why no check confirms this cause, when none does.
    #[serde(skip_serializing_if = "Option::is_none")]
    unchecked: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict: Option<Verdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    results: Option<Vec<CheckOutcome>>,
}

#[derive(Debug, Serialize)]
struct RunOut {
    command: String,
    mode: &'static str,
    status: Status,
    summary: Summary,
    exit_code: Exit,
}

pub(super) fn build(
    message: &str,
    matches: &[Match<'_>],
    invocation: &Invocation,
    ran: Option<&Ran>,
) -> Output {
    let matched: Vec<MatchOut> = matches
        .iter()
        .map(|m| {
            let causes: Vec<CauseOut> = m
                .causes
                .iter()
                .map(|c| {
                    let judged = ran.map(|r| judge_asked(c, &r.report, Asked::of(message)));
                    CauseOut {
                        cause: c.text.clone(),
                        checks: c.checks.clone(),
                        unchecked: c.unchecked.as_ref().map(|u| u.trim().to_string()),
                        verdict: judged.as_ref().map(|(v, _)| *v),
                        results: judged.map(|(_, o)| o),
                    }
                })
                .collect();
            let first_confirmed = ran.map(|_| {
                causes
                    .iter()
                    .position(|c| c.verdict == Some(Verdict::Confirmed))
            });
            MatchOut {
                id: m.entry.id.clone(),
                title: m.entry.title.clone(),
                meaning: m.entry.meaning.trim().to_string(),
                causes,
                next: invocation.only(&m.check_ids()),
                first_confirmed,
            }
        })
        .collect();
    Output {
        message: message.to_string(),
        next: matched
            .first()
            .map_or_else(|| invocation.only(&[]), |m| m.next.clone()),
        matched,
        run: ran.map(|r| RunOut {
            command: r.command.clone(),
            mode: r.report.mode,
            status: r.report.status,
            summary: r.report.summary,
            exit_code: r.exit_code,
        }),
    }
}

const WIDTH: usize = 96;

pub(super) fn write_text(
    out: &mut dyn Write,
    output: &Output,
    invocation: &Invocation,
    run_asked: bool,
) -> std::io::Result<()> {
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();
    writeln!(
        out,
        "{bold}Message:{bold:#} {}",
        excerpt(&output.message, 200)
    )?;
    writeln!(out)?;
    if output.matched.is_empty() {
        writeln!(
            out,
            "This message is not in the explain catalog, so there is no specific advice for it."
        )?;
        writeln!(
            out,
            "Run every check on the attachment; each failure says what to fix:"
        )?;
        writeln!(out, "  {}", output.next)?;
        if run_asked {
            writeln!(out, "(--run: nothing was run, as no entry matched.)")?;
        }
        placeholder_note(out, invocation)?;
        return Ok(());
    }
    if output.matched.len() > 1 {
        writeln!(
            out,
            "{} explanations match, the most specific first.",
            output.matched.len()
        )?;
        writeln!(out)?;
    }
    for (n, m) in output.matched.iter().enumerate() {
        let number = if output.matched.len() > 1 {
            format!("{}. ", n + 1)
        } else {
            String::new()
        };
        writeln!(
            out,
            "{bold}{number}{}{bold:#}  {dim}[{}]{dim:#}",
            m.title, m.id
        )?;
        wrap(out, &m.meaning, "  ", "  ")?;
        writeln!(out)?;
        writeln!(out, "  Causes, in the order to look at them:")?;
        for (i, c) in m.causes.iter().enumerate() {
            let first = format!("  {}) ", i + 1);
            let rest = " ".repeat(first.len());
            match c.verdict {
                Some(v) => {
                    let (style, label) = verdict_style(v);
                    let head = format!("{first}{style}[{label}]{style:#} ");
                    // The label's visible width, for wrapping: escape codes take none.
                    wrap_after(out, &head, first.len() + label.len() + 3, &c.cause, &rest)?;
                }
                None => wrap(out, &c.cause, &first, &rest)?,
            }
            if let Some(why) = &c.unchecked {
                // Styles take no width: wrap as if the label were plain.
                let label = "not checked by this tool:";
                let head = format!("{rest}{dim}{label}{dim:#} ");
                let width = rest.chars().count() + label.len() + 1;
                wrap_after(out, &head, width, why, &format!("{rest}  "))?;
                continue;
            }
            match &c.results {
                Some(results) => {
                    let width = results.iter().map(|r| r.id.len()).max().unwrap_or(0);
                    for r in results {
                        let head = format!("{rest}  {:width$}  {:<5}  ", r.id, status_label(r));
                        let hang = " ".repeat(head.chars().count());
                        wrap(out, &r.summary, &head, &hang)?;
                    }
                }
                None => writeln!(out, "{rest}{dim}checked by:{dim:#} {}", c.checks.join(", "))?,
            }
        }
        if let Some(first) = m.first_confirmed {
            writeln!(out)?;
            match first {
                Some(i) => writeln!(
                    out,
                    "  {bold}First confirmed cause: {}){bold:#} Start there: fix it, then run the checks again.",
                    i + 1,
                )?,
                None => writeln!(
                    out,
                    "  No cause is confirmed by the checks that could run (see `unknown` above)."
                )?,
            }
        }
        writeln!(out)?;
        // After a run, the command that ran is printed once at the end; with one entry it is
        // this one.
        if output.run.is_none() || output.matched.len() > 1 {
            writeln!(out, "  Next, the checks that confirm these causes:")?;
            writeln!(out, "    {}", m.next)?;
            writeln!(out)?;
        }
    }
    if let Some(r) = &output.run {
        let s = &r.summary;
        writeln!(
            out,
            "Ran ({} mode): {} failed, {} warnings, {} passed, {} skipped, {} errors.",
            r.mode, s.fail, s.warn, s.pass, s.skip, s.error
        )?;
        writeln!(out, "The fixes are in the full report of these checks:")?;
        writeln!(out, "  {}", r.command)?;
    }
    placeholder_note(out, invocation)
}

fn placeholder_note(out: &mut dyn Write, invocation: &Invocation) -> std::io::Result<()> {
    if !invocation.attachment_given {
        writeln!(
            out,
            "(`--config {PLACEHOLDER_CONFIG}` stands for your attachment: its config file, or the flags --region, --bucket, --kms-key, --role-arn, ...; add --offline with the policy documents to check them without AWS.)"
        )?;
    }
    Ok(())
}

/// A check status as the `check` text report writes it: problems in capitals.
fn status_label(outcome: &CheckOutcome) -> String {
    match outcome.status.as_str() {
        "fail" | "warn" | "error" => outcome.status.to_uppercase(),
        other => other.to_string(),
    }
}

fn verdict_style(v: Verdict) -> (Style, &'static str) {
    match v {
        Verdict::Confirmed => (AnsiColor::Red.on_default().bold(), "CONFIRMED"),
        Verdict::NotConfirmed => (AnsiColor::Green.on_default(), "not confirmed"),
        Verdict::Unknown => (AnsiColor::Yellow.on_default(), "unknown"),
    }
}

/// The message on one line, cut to `max` characters.
fn excerpt(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let cut: String = one_line.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// Writes `text` word-wrapped to [`WIDTH`], the first line after `first`, the others after
/// `rest`.
fn wrap(out: &mut dyn Write, text: &str, first: &str, rest: &str) -> std::io::Result<()> {
    wrap_after(out, first, first.chars().count(), text, rest)
}

/// Like [`wrap`], with a first-line prefix whose visible width is given (it may hold styles).
fn wrap_after(
    out: &mut dyn Write,
    first: &str,
    first_width: usize,
    text: &str,
    rest: &str,
) -> std::io::Result<()> {
    let mut line = String::new();
    let mut prefix = first;
    let mut used = first_width;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        // A word longer than the line (an ARN) gets a line of its own rather than a break.
        if !line.is_empty() && used + 1 + len > WIDTH {
            writeln!(out, "{prefix}{line}")?;
            line.clear();
            prefix = rest;
            used = rest.chars().count();
        }
        if !line.is_empty() {
            line.push(' ');
            used += 1;
        }
        line.push_str(word);
        used += len;
    }
    writeln!(out, "{prefix}{line}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_words_whole() {
        let mut out = Vec::new();
        let long = "word ".repeat(40);
        wrap(&mut out, &long, "  1) ", "     ").expect("writes");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.lines().all(|l| l.chars().count() <= WIDTH), "{text}");
        assert!(text.lines().skip(1).all(|l| l.starts_with("     word")));
        let mut out = Vec::new();
        wrap(&mut out, "", "x", "y").expect("writes");
        assert_eq!(out, b"x\n");
    }
}
