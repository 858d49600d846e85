//! The text sink: a report for a person at a terminal. Grouped by area, one line per check,
//! evidence and remediation under every check that is not a pass, a summary line last.
//!
//! It always writes styles; the caller wraps the output in `anstream::AutoStream`, which
//! strips them for a file, a pipe, `NO_COLOR` or `--color never`.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::Options;
use super::causes::{self, Cause};
use crate::model::report::{CheckResult, FleetReport, Report, Summary};
use crate::model::verdict::Status;

/// Text from values and documents, made safe for a terminal (see [`crate::text`]). Newlines
/// are kept: callers split on them.
fn clean(text: &str) -> String {
    crate::text::escape_controls(text, true)
}

/// One line of text: newlines escaped too.
fn clean_line(text: &str) -> String {
    clean(text).replace('\n', "\\n")
}

pub(super) fn style(status: Status) -> Style {
    match status {
        Status::Pass => AnsiColor::Green.on_default(),
        Status::Warn => AnsiColor::Yellow.on_default().bold(),
        Status::Fail => AnsiColor::Red.on_default().bold(),
        Status::Error => AnsiColor::Magenta.on_default().bold(),
        Status::Skip => Style::new().dimmed(),
    }
}

fn label(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass ",
        Status::Warn => "WARN ",
        Status::Fail => "FAIL ",
        Status::Error => "ERROR",
        Status::Skip => "skip ",
    }
}

fn area(id: &str) -> &'static str {
    match id.split('.').next() {
        Some("input") => "Input",
        Some("aws") => "AWS access",
        Some("bucket") => "Bucket",
        Some("kms") => "KMS key",
        Some("role") => "IAM role",
        Some("org") => "Organization",
        Some("probe") => "Probe",
        _ => "Other",
    }
}

pub fn write_report(out: &mut dyn Write, report: &Report, options: &Options) -> io::Result<()> {
    let bold = Style::new().bold();
    let a = &report.attachment;
    let name = a
        .name
        .as_ref()
        .map(|n| format!(" of attachment `{n}`"))
        .unwrap_or_default();
    writeln!(
        out,
        "{bold}aoc-preflight {}{bold:#}: {} check{}",
        report.tool.version,
        report.mode,
        clean_line(&name)
    )?;
    writeln!(
        out,
        "  bucket  {} (path {}, region {})",
        clean_line(&a.bucket),
        clean_line(&a.path),
        clean_line(&a.region)
    )?;
    writeln!(out, "  key     {}", clean_line(&a.kms_key))?;
    writeln!(out, "  role    {}", clean_line(&a.role_arn))?;
    if let Some(replay) = &report.replay {
        writeln!(
            out,
            "  replay  {}",
            clean_line(&replay.describe(report.mode))
        )?;
    }
    for note in &report.notes {
        writeln!(out, "  note    {}", clean_line(note))?;
    }
    writeln!(out)?;
    for line in super::diagram::lines(&super::path::access_path(report), options.unicode) {
        writeln!(out, "{line}")?;
    }
    let causes = causes::causes(report);
    writeln!(out)?;
    write_causes(out, &causes)?;

    let width = report.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
    let mut current = "";
    for check in &report.checks {
        if options.quiet && check.status == Status::Pass {
            continue;
        }
        let group = area(&check.id);
        if group != current {
            writeln!(out)?;
            writeln!(out, "{bold}{group}{bold:#}")?;
            current = group;
        }
        write_check(out, check, width, causes::entry_of(&causes, &check.id))?;
    }
    write_gate(out, report, width)?;
    writeln!(out)?;
    write_summary(out, &report.summary)?;
    if let Some(aws) = &report.aws {
        let dim = Style::new().dimmed();
        if aws.requests == 0 {
            return writeln!(
                out,
                "{dim}AWS: no request of its own: its facts were fetched for another attachment{dim:#}"
            );
        }
        writeln!(
            out,
            "{dim}AWS: {} {}, the longest chain {} round {} (--verbose lists them){dim:#}",
            aws.requests,
            if aws.requests == 1 {
                "request"
            } else {
                "requests"
            },
            aws.critical_path,
            if aws.critical_path == 1 {
                "trip"
            } else {
                "trips"
            },
        )?;
    }
    Ok(())
}

/// Every AWS request of the run, attachment by attachment, in the order of their chains
/// (`--verbose`, on standard error): what a slow or failing run asked and what AWS said.
pub fn aws_trace(fleet: &FleetReport) -> String {
    let mut out = String::new();
    for report in &fleet.reports {
        let Some(aws) = &report.aws else { continue };
        let name = report
            .attachment
            .name
            .as_deref()
            .map_or(String::new(), |n| format!(" `{}`", clean_line(n)));
        out.push_str(&format!(
            "aoc-preflight: AWS requests for attachment{name} ({}, the longest chain {}):\n",
            aws.requests, aws.critical_path
        ));
        if aws.calls.is_empty() {
            out.push_str("  none: every fact was already fetched for another attachment\n");
        }
        let mut calls: Vec<_> = aws.calls.iter().collect();
        calls.sort_by(|a, b| (a.depth, &a.operation).cmp(&(b.depth, &b.operation)));
        for c in calls {
            out.push_str(&format!(
                "  {:>6} ms  chain {}  {:<30} {}  {}\n",
                c.millis,
                c.depth,
                c.operation,
                clean_line(&c.target),
                clean_line(&c.outcome)
            ));
        }
    }
    out
}

/// How many different failure messages an access problem shows (one per AWS service is
/// typical).
const MESSAGES_SHOWN: usize = 6;

/// "What to fix": one entry per root cause, each with its fix, before the check-by-check
/// detail.
fn write_causes(out: &mut dyn Write, causes: &[Cause<'_>]) -> io::Result<()> {
    let bold = Style::new().bold();
    if causes.is_empty() {
        return writeln!(
            out,
            "{bold}What to fix:{bold:#} nothing, every check that ran passed."
        );
    }
    writeln!(out, "{bold}What to fix{bold:#}")?;
    let indent = "       ";
    for (i, cause) in causes.iter().enumerate() {
        let s = style(cause.status());
        if i > 0 {
            writeln!(out)?;
        }
        match cause {
            Cause::Access {
                problem,
                messages,
                stopped,
            } => {
                writeln!(
                    out,
                    "  {:>2}. {s}{}{s:#}  {}",
                    i + 1,
                    label(cause.status()).trim_end(),
                    problem.headline()
                )?;
                let dim = Style::new().dimmed();
                writeln!(out, "{indent}{dim}what AWS or the network said:{dim:#}")?;
                for m in messages.iter().take(MESSAGES_SHOWN) {
                    writeln!(out, "{indent}  - {}", clean_line(m))?;
                }
                if messages.len() > MESSAGES_SHOWN {
                    writeln!(
                        out,
                        "{indent}  - and {} more like these",
                        messages.len() - MESSAGES_SHOWN
                    )?;
                }
                writeln!(out, "{indent}{}", problem.advice())?;
                let ids: Vec<&str> = stopped.iter().map(|c| c.id.as_str()).collect();
                writeln!(
                    out,
                    "{indent}{dim}checks it stopped ({}):{dim:#} {}",
                    ids.len(),
                    ids.join(", ")
                )?;
            }
            Cause::Check(check) => {
                writeln!(
                    out,
                    "  {:>2}. {s}{}{s:#}  {}: {}",
                    i + 1,
                    label(check.status).trim_end(),
                    check.id,
                    clean_line(&check.summary)
                )?;
                let Some(fix) = &check.remediation else {
                    continue;
                };
                for line in clean(fix).lines() {
                    if line.is_empty() {
                        writeln!(out)?;
                    } else {
                        writeln!(out, "{indent}{line}")?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// One check's line and, when it is not a pass, its evidence, its fix (or where "What to fix"
/// gives it: entry `cause`) and its docs.
fn write_check(
    out: &mut dyn Write,
    check: &CheckResult,
    width: usize,
    cause: Option<usize>,
) -> io::Result<()> {
    let s = style(check.status);
    writeln!(
        out,
        "  {s}{}{s:#}  {:width$}  {}",
        label(check.status),
        check.id,
        clean_line(&check.summary)
    )?;
    if matches!(check.status, Status::Pass | Status::Skip) {
        return Ok(());
    }
    let indent = "           ";
    let dim = Style::new().dimmed();
    if !check.evidence.is_empty() {
        writeln!(out, "{indent}{dim}evidence:{dim:#}")?;
        for e in &check.evidence {
            writeln!(out, "{indent}  - {}", clean_line(e))?;
        }
    }
    if let (Some(n), Some(_)) = (cause, &check.remediation) {
        writeln!(out, "{indent}{dim}fix: see What to fix, {n}{dim:#}")?;
    } else if let Some(fix) = &check.remediation {
        writeln!(out, "{indent}{dim}fix:{dim:#}")?;
        for line in clean(fix).lines() {
            if line.is_empty() {
                writeln!(out)?;
            } else {
                writeln!(out, "{indent}  {line}")?;
            }
        }
    }
    if let Some(doc) = check.docs.first() {
        writeln!(out, "{indent}{dim}docs: {doc}{dim:#}")?;
    }
    Ok(())
}

/// The gate's part of the report: the findings suppressed, each with its reason, then the
/// gate's warnings (nothing verified, a suppression expired or unmatched).
fn write_gate(out: &mut dyn Write, report: &Report, width: usize) -> io::Result<()> {
    let bold = Style::new().bold();
    if !report.suppressed.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{bold}Suppressed{bold:#} (not counted: the config file accepts them)"
        )?;
        for s in &report.suppressed {
            let until = s
                .expires
                .map(|d| format!(", until {d}"))
                .unwrap_or_default();
            writeln!(
                out,
                "  {:<6} {:width$}  {}",
                s.status.as_str(),
                s.check,
                clean_line(&s.summary)
            )?;
            writeln!(
                out,
                "  {:<6} {:width$}  reason: {}{until}",
                "",
                "",
                clean_line(&s.reason)
            )?;
        }
    }
    if !report.gate_warnings.is_empty() {
        writeln!(out)?;
        let warn = style(Status::Warn);
        for w in &report.gate_warnings {
            writeln!(out, "{warn}Warning:{warn:#} {}", clean_line(&w.message))?;
        }
    }
    Ok(())
}

fn write_summary(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    let mut parts = Vec::new();
    let mut part = |n: usize, word: &str, status: Status| {
        if n > 0 {
            let st = style(status);
            parts.push(format!("{st}{n} {word}{st:#}"));
        }
    };
    part(s.fail, "failed", Status::Fail);
    part(s.error, "could not be determined", Status::Error);
    part(
        s.warn,
        if s.warn == 1 { "warning" } else { "warnings" },
        Status::Warn,
    );
    part(s.pass, "passed", Status::Pass);
    part(s.skip, "skipped", Status::Skip);
    writeln!(out, "Summary: {}", parts.join(", "))
}

pub fn write_fleet(out: &mut dyn Write, fleet: &FleetReport, options: &Options) -> io::Result<()> {
    for (i, r) in fleet.reports.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
            writeln!(out, "{}", "=".repeat(72))?;
        }
        write_report(out, r, options)?;
    }
    writeln!(out)?;
    write_rollup(out, fleet)?;
    write!(out, "All {} attachments: ", fleet.reports.len())?;
    write_summary(out, &fleet.summary)?;
    if let Some(n) = fleet.aws_requests {
        let dim = Style::new().dimmed();
        writeln!(
            out,
            "{dim}AWS: {n} {} in all, each fact fetched once{dim:#}",
            if n == 1 { "request" } else { "requests" }
        )?;
    }
    Ok(())
}

/// The fleet's roll-up: one line per attachment, its status and the checks that need
/// attention.
fn write_rollup(out: &mut dyn Write, fleet: &FleetReport) -> io::Result<()> {
    let bold = Style::new().bold();
    writeln!(out, "{bold}All attachments{bold:#}")?;
    let width = fleet
        .attachments
        .iter()
        .map(|a| clean_line(&a.name).chars().count())
        .max()
        .unwrap_or(0);
    for a in &fleet.attachments {
        let s = style(a.status);
        let checks: Vec<String> = a
            .checks
            .iter()
            .map(|c| {
                let cs = style(c.status);
                format!("{cs}{}{cs:#} {}", label(c.status).trim_end(), c.id)
            })
            .collect();
        let name = clean_line(&a.name);
        let pad = " ".repeat(width.saturating_sub(name.chars().count()));
        writeln!(
            out,
            "  {s}{}{s:#}  {name}{pad}  {}",
            label(a.status),
            checks.join(", ")
        )?;
    }
    writeln!(out)
}
