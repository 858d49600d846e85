//! The `explain` command (README.md, "Start from an error message: `explain`"): from an error message an admin saw, say what it
//! means, what usually causes it (most likely first), which checks confirm each cause, and the
//! `check` command to run next; with `--run`, run those checks and say which cause they confirm.
//!
//! Owns the explain catalog (`checks/explain.toml`, embedded: the messages and their causes are
//! data, so a non-programmer can improve them), the matching of a message against it, and the
//! text/JSON rendering. Running the checks is [`crate::run::check`]'s; this module only picks
//! which ones and reads their results. It reads standard input (the message) and writes only to
//! the `out` it is handed.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::sync::LazyLock;

use anstyle::{AnsiColor, Style};
use serde::{Deserialize, Serialize};

use crate::cli::{CheckArgs, FailOn, ReportFormat};
use crate::error::{CommandError, UsageError};
use crate::exit::Exit;
use crate::model::report::{CheckResult, Report, Summary};
use crate::model::verdict::Status;

#[derive(Debug, Clone, clap::Args)]
pub struct ExplainArgs {
    /// The error message as you saw it, in quotes (standard input when absent or `-`).
    #[arg(value_name = "MESSAGE", allow_hyphen_values = true)]
    pub message: Option<String>,
    /// Run the checks that confirm the causes on the attachment given (as for `check`), and
    /// say which cause they confirm. The exit code is then that of the checks.
    #[arg(long)]
    pub run: bool,
    /// The attachment, as for `check` (used by --run, and to fill in the next command).
    /// `--format` takes `text` or `json`.
    #[command(flatten)]
    pub check: CheckArgs,
}

// ---------------------------------------------------------------------------------------------
// The catalog (data)

const DATA: &str = include_str!("../checks/explain.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    entry: Vec<Entry>,
}

/// One message the catalog recognises.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub id: String,
    pub title: String,
    /// Higher is more specific, shown first.
    pub priority: i64,
    /// The message must contain at least one of these...
    pub any: Vec<String>,
    /// ...and all of these...
    #[serde(default)]
    pub all: Vec<String>,
    /// ...and none of these.
    #[serde(default)]
    pub none: Vec<String>,
    pub meaning: String,
    /// Most likely first. Defaulted so that an entry without causes reaches the lint with a
    /// clear message instead of a serde "missing field".
    #[serde(default, rename = "cause")]
    pub causes: Vec<Cause>,
}

/// A likely cause of a message, and the checks that confirm it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cause {
    pub text: String,
    /// Empty only with `unchecked` (the lint holds it to that).
    #[serde(default)]
    pub checks: Vec<String>,
    /// `check-id:reason` keys: only failing findings with these reasons confirm the cause for
    /// that check (a check that fails for another reason points at another cause).
    #[serde(default)]
    pub reasons: Vec<String>,
    /// When the message contains one of these, the cause is listed first; among several such
    /// causes, the one named by the longest (most specific) pattern leads.
    #[serde(default)]
    pub first_if: Vec<String>,
    /// Why no check of this tool can confirm the cause (a policy it cannot read, such as an
    /// organization's SCP): said instead of naming checks, so that an empty `checks` is a
    /// statement, not an omission.
    #[serde(default)]
    pub unchecked: Option<String>,
}

impl Cause {
    /// The reasons that confirm this cause for `check`, or `None` when any failure does.
    fn reasons_for(&self, check: &str) -> Option<Vec<&str>> {
        let reasons: Vec<&str> = self
            .reasons
            .iter()
            .filter_map(|r| r.split_once(':'))
            .filter(|(id, _)| *id == check)
            .map(|(_, reason)| reason)
            .collect();
        (!reasons.is_empty()).then_some(reasons)
    }
}

/// The parsed explain catalog.
#[derive(Debug)]
pub struct Catalog {
    pub entries: Vec<Entry>,
}

/// Parses and validates catalog text. Errors name the problem (and the entry), so a broken
/// data file says what to fix rather than panicking the tool.
pub fn parse(text: &str) -> Result<Catalog, String> {
    let file: CatalogFile =
        toml::from_str(text).map_err(|e| format!("checks/explain.toml: {}", e.message()))?;
    let catalog = Catalog {
        entries: file.entry,
    };
    let problems = lint(&catalog);
    if problems.is_empty() {
        Ok(catalog)
    } else {
        Err(format!("checks/explain.toml: {}", problems.join("; ")))
    }
}

/// Everything wrong with a catalog: unknown check IDs or reasons, entries without causes,
/// empty patterns, duplicate IDs. Empty when it is sound.
pub fn lint(catalog: &Catalog) -> Vec<String> {
    let mut problems = Vec::new();
    let mut ids = BTreeSet::new();
    let common: Vec<&str> = crate::catalog::get()
        .map(|c| c.common.keys().map(String::as_str).collect())
        .unwrap_or_default();
    if catalog.entries.is_empty() {
        problems.push("no entries".to_string());
    }
    for e in &catalog.entries {
        let at = format!("entry `{}`", e.id);
        if e.id.trim().is_empty() || e.title.trim().is_empty() || e.meaning.trim().is_empty() {
            problems.push(format!("{at}: id, title and meaning must not be empty"));
        }
        if !ids.insert(e.id.as_str()) {
            problems.push(format!("{at}: duplicate id"));
        }
        if e.any.is_empty() {
            problems.push(format!("{at}: `any` needs at least one pattern"));
        }
        // An empty pattern is contained in every message: it would match everything (in
        // `any`/`all`) or nothing (in `none`).
        for p in e.any.iter().chain(&e.all).chain(&e.none) {
            if normalize(p).is_empty() {
                problems.push(format!("{at}: empty pattern"));
            }
        }
        if e.causes.is_empty() {
            problems.push(format!("{at}: no cause"));
        }
        for (i, c) in e.causes.iter().enumerate() {
            let at = format!("{at}, cause {}", i + 1);
            if c.text.trim().is_empty() {
                problems.push(format!("{at}: empty text"));
            }
            let unchecked = c.unchecked.as_deref().is_some_and(|u| !u.trim().is_empty());
            if c.checks.is_empty() && !unchecked {
                problems.push(format!(
                    "{at}: no check confirms it (name `checks`, or say in `unchecked` why none can)"
                ));
            }
            if !c.checks.is_empty() && c.unchecked.is_some() {
                problems.push(format!(
                    "{at}: `unchecked` with `checks`: say one or the other"
                ));
            }
            for id in &c.checks {
                if crate::checks::find(id).is_none() {
                    problems.push(format!("{at}: unknown check ID `{id}`"));
                }
            }
            for key in &c.reasons {
                let Some((id, reason)) = key.split_once(':') else {
                    problems.push(format!("{at}: reason `{key}` is not `check-id:reason`"));
                    continue;
                };
                if !c.checks.iter().any(|c| c == id) {
                    problems.push(format!(
                        "{at}: reason `{key}` is for a check not in `checks`"
                    ));
                }
                let known = crate::checks::find(id)
                    .is_some_and(|d| d.reasons.contains(&reason) || common.contains(&reason));
                if !known {
                    problems.push(format!("{at}: `{id}` has no reason `{reason}`"));
                }
            }
            if c.first_if.iter().any(|p| normalize(p).is_empty()) {
                problems.push(format!("{at}: empty first_if pattern"));
            }
        }
    }
    problems
}

static CATALOG: LazyLock<Result<Catalog, String>> = LazyLock::new(|| parse(DATA));

/// The embedded catalog, or why it is broken (a build defect the unit tests catch).
pub fn catalog() -> Result<&'static Catalog, UsageError> {
    CATALOG.as_ref().map_err(|e| UsageError(e.clone()))
}

// ---------------------------------------------------------------------------------------------
// Matching

/// The form both the message and the patterns are compared in: lower case, quotes and
/// backslashes dropped, escaped and real line breaks and every run of white space made one
/// space. A message copied from a console, a log line or a JSON string then matches the same
/// pattern.
pub fn normalize(text: &str) -> String {
    // Escapes first, while the backslash still says they are escapes (JSON-quoted log lines).
    let unescaped = text
        .replace("\\n", " ")
        .replace("\\r", " ")
        .replace("\\t", " ");
    let mut out = String::with_capacity(unescaped.len());
    let mut space = false;
    for c in unescaped.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if matches!(
            c,
            '"' | '\'' | '`' | '\\' | '“' | '”' | '‘' | '’' | '«' | '»'
        ) {
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// An entry that matched, with its causes in the order to show them.
#[derive(Debug, Clone)]
pub struct Match<'a> {
    pub entry: &'a Entry,
    pub causes: Vec<&'a Cause>,
}

impl Match<'_> {
    /// The check IDs of every cause, in cause order, once each.
    pub fn check_ids(&self) -> Vec<&str> {
        unique_ids(self.causes.iter().flat_map(|c| &c.checks))
    }
}

fn unique_ids<'a>(ids: impl IntoIterator<Item = &'a String>) -> Vec<&'a str> {
    let mut seen = BTreeSet::new();
    ids.into_iter()
        .map(String::as_str)
        .filter(|id| seen.insert(*id))
        .collect()
}

/// Whether the (normalized) message contains the pattern.
fn contains(message: &str, pattern: &str) -> bool {
    let p = normalize(pattern);
    !p.is_empty() && message.contains(&p)
}

/// How specifically the message names this cause: the length of the longest `first_if` pattern
/// it contains, 0 for none. AWS's reason clauses nest ("explicit deny" is part of "explicit deny
/// in a permissions boundary"), and the longer clause is the one that says which layer decided.
fn first_if_weight(cause: &Cause, message: &str) -> usize {
    cause
        .first_if
        .iter()
        .map(|p| normalize(p))
        .filter(|p| !p.is_empty() && message.contains(p.as_str()))
        .map(|p| p.chars().count())
        .max()
        .unwrap_or(0)
}

/// The entries the message matches, most specific (highest priority) first; ties keep the
/// catalog's order. Within each, causes named by a `first_if` pattern come first, the most
/// specifically named leading; the others keep the catalog's order.
pub fn find<'a>(catalog: &'a Catalog, message: &str) -> Vec<Match<'a>> {
    let text = normalize(message);
    let mut matches: Vec<Match<'a>> = catalog
        .entries
        .iter()
        .filter(|e| {
            e.any.iter().any(|p| contains(&text, p))
                && e.all.iter().all(|p| contains(&text, p))
                && !e.none.iter().any(|p| contains(&text, p))
        })
        .map(|entry| {
            let mut causes: Vec<&Cause> = entry.causes.iter().collect();
            // Stable: causes named equally keep the catalog's order.
            causes.sort_by_key(|c| std::cmp::Reverse(first_if_weight(c, &text)));
            Match { entry, causes }
        })
        .collect();
    // Stable: equal priorities stay in file order.
    matches.sort_by_key(|m| std::cmp::Reverse(m.entry.priority));
    matches
}

// ---------------------------------------------------------------------------------------------
// Confirming causes with a check run

/// What a check run says about one cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// One of its checks fails for this cause.
    Confirmed,
    /// Every one of its checks passed (or failed for another cause).
    NotConfirmed,
    /// No failure, but a check was skipped, errored, warned or did not run.
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Confirmed => "confirmed",
            Verdict::NotConfirmed => "not-confirmed",
            Verdict::Unknown => "unknown",
        }
    }
}

/// One check's part in a cause's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct CheckOutcome {
    pub id: String,
    /// The check's status, as `check` reports it (`not-run` when it was not in the report).
    pub status: String,
    /// The finding that bears on the cause, else the check's own summary.
    pub summary: String,
    pub verdict: Verdict,
}

/// The AWS action an error message names (`... not authorized to perform: kms:Decrypt on
/// ...`), as `service:Action`; `None` when it names none.
pub fn message_action(message: &str) -> Option<&str> {
    let services = ["s3:", "kms:", "sts:", "iam:"];
    message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
        .find(|word| {
            services.iter().any(|s| {
                word.len() > s.len()
                    && word[..s.len()].eq_ignore_ascii_case(s)
                    && word[s.len()..].bytes().all(|b| b.is_ascii_alphabetic())
            })
        })
}

/// Judges one cause on a report: the most telling verdict among its checks. `action`: the
/// action the message names, if any; a finding about another action does not confirm the
/// cause (a role refused kms:Decrypt is not why kms:GenerateDataKey failed).
pub fn judge(cause: &Cause, report: &Report, action: Option<&str>) -> (Verdict, Vec<CheckOutcome>) {
    // No check can confirm it (an organization policy the tool does not read): a run that finds
    // nothing has not ruled it out.
    if cause.checks.is_empty() {
        return (Verdict::Unknown, Vec::new());
    }
    let outcomes: Vec<CheckOutcome> = cause
        .checks
        .iter()
        .map(|id| match report.checks.iter().find(|c| &c.id == id) {
            Some(result) => judge_check(cause, result, action),
            None => CheckOutcome {
                id: id.clone(),
                status: "not-run".to_string(),
                summary: "Not run (--skip).".to_string(),
                verdict: Verdict::Unknown,
            },
        })
        .collect();
    let verdict = if outcomes.iter().any(|o| o.verdict == Verdict::Confirmed) {
        Verdict::Confirmed
    } else if outcomes.iter().any(|o| o.verdict == Verdict::Unknown) {
        Verdict::Unknown
    } else {
        Verdict::NotConfirmed
    };
    (verdict, outcomes)
}

fn judge_check(cause: &Cause, result: &CheckResult, action: Option<&str>) -> CheckOutcome {
    let outcome = |verdict, summary: &str| CheckOutcome {
        id: result.id.clone(),
        status: result.status.as_str().to_string(),
        summary: summary.to_string(),
        verdict,
    };
    // A check that does not apply to this attachment (kms.alias when a key ARN was entered)
    // rules its cause out: there is no alias to be wrong.
    if result.status == Status::Skip && result.findings.iter().any(|f| f.reason == "not-applicable")
    {
        return outcome(Verdict::NotConfirmed, &result.summary);
    }
    // Otherwise a skipped or undetermined check says nothing either way.
    if matches!(result.status, Status::Skip | Status::Error) {
        return outcome(Verdict::Unknown, &result.summary);
    }
    let wanted = cause.reasons_for(&result.id);
    let same_action = |f: &crate::model::report::FindingResult| match (action, f.action.as_deref())
    {
        (Some(asked), Some(about)) => asked.eq_ignore_ascii_case(about),
        _ => true,
    };
    let relevant = |status: Status| {
        result.findings.iter().find(|f| {
            f.status == status
                && wanted
                    .as_ref()
                    .is_none_or(|w| w.contains(&f.reason.as_str()))
                && same_action(f)
        })
    };
    if let Some(f) = relevant(Status::Fail) {
        return outcome(Verdict::Confirmed, &f.summary);
    }
    // A warning is the check saying it cannot settle the question (a condition it cannot
    // evaluate, ...): not a confirmation, not a clearance.
    if let Some(f) = relevant(Status::Warn) {
        return outcome(Verdict::Unknown, &f.summary);
    }
    if let Some(asked) = action
        && let Some(f) = result.findings.iter().find(|f| {
            f.status == Status::Fail
                && wanted
                    .as_ref()
                    .is_none_or(|w| w.contains(&f.reason.as_str()))
        })
        && let Some(about) = &f.action
    {
        return outcome(
            Verdict::NotConfirmed,
            &format!("Fails, but for {about}, not {asked}: {}", f.summary),
        );
    }
    if result.status == Status::Fail {
        return outcome(
            Verdict::NotConfirmed,
            &format!("Fails, but for another problem: {}", result.summary),
        );
    }
    outcome(Verdict::NotConfirmed, &result.summary)
}

// ---------------------------------------------------------------------------------------------
// The command

/// How much of standard input is read: enough for any error message or log excerpt, and a
/// bound on the memory a mistaken `explain < huge.log` takes.
const MAX_INPUT: u64 = 16 * 1024 * 1024;

/// Where the placeholder `--config` stands when no attachment was given.
const PLACEHOLDER_CONFIG: &str = "aoc.toml";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

pub fn run(args: &ExplainArgs, out: &mut dyn Write) -> Result<Exit, CommandError> {
    let format = validate(args)?;
    let message = read_message(args)?;
    let catalog = catalog()?;
    let matches = find(catalog, &message);
    let invocation = Invocation::of(&args.check);

    let ran = if args.run && !matches.is_empty() {
        Some(run_checks(args, &matches, &invocation)?)
    } else {
        None
    };
    let output = build(&message, &matches, &invocation, ran.as_ref());
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &output).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        Format::Text => write_text(out, &output, &invocation, args.run)?,
    }
    out.flush()?;
    Ok(ran.map_or(Exit::Success, |r| r.exit_code))
}

/// Rejects the `check` flags that make no sense for `explain`, and picks the format.
fn validate(args: &ExplainArgs) -> Result<Format, UsageError> {
    let a = &args.check;
    let refuse = |flag: &str, why: &str| Err(UsageError(format!("explain: {flag} {why}")));
    if !a.only.is_empty() {
        return refuse(
            "--only",
            "is not for explain: it picks the checks from the message (use `check --only` to pick them yourself)",
        );
    }
    if !a.output.is_empty() {
        return refuse(
            "--output",
            "is not supported: explain writes to standard output",
        );
    }
    if a.save_facts.is_some() {
        return refuse(
            "--save-facts",
            "is not supported: use `check --save-facts` with the checks explain names",
        );
    }
    if a.redact {
        return refuse(
            "--redact",
            "is not supported: use `check --redact` with the checks explain names",
        );
    }
    match a.format.as_slice() {
        [] | [ReportFormat::Text] => Ok(Format::Text),
        [ReportFormat::Json] => Ok(Format::Json),
        [_] => refuse("--format", "takes `text` or `json`"),
        _ => refuse("--format", "is given once for explain"),
    }
}

/// The message: the argument, else standard input (also for `-`).
fn read_message(args: &ExplainArgs) -> Result<String, UsageError> {
    let text = match args.message.as_deref() {
        Some(m) if m != "-" => m.to_string(),
        given => {
            // Waiting silently on a terminal for a message the user thought they gave would
            // look like a hang; an explicit `-` means they will type it.
            if given.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                return Err(UsageError::new(
                    "explain: give the error message as an argument (in quotes), or on standard input",
                ));
            }
            if let Some(flag) = stdin_flag(&args.check) {
                return Err(UsageError(format!(
                    "explain: the message and {flag} cannot both come from standard input; give the message as an argument"
                )));
            }
            let mut bytes = Vec::new();
            std::io::stdin()
                .take(MAX_INPUT)
                .read_to_end(&mut bytes)
                .map_err(|e| UsageError(format!("cannot read standard input: {e}")))?;
            // A log excerpt may carry bytes that are not UTF-8; the words around them still count.
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(UsageError::new(
            "explain: the error message is empty; give it as an argument or on standard input",
        ));
    }
    Ok(text)
}

/// The `check` flag that would also read standard input, if any.
fn stdin_flag(a: &CheckArgs) -> Option<&'static str> {
    let dash = |p: &std::path::Path| p.as_os_str() == "-";
    if a.attachment_args.trust_policy.as_deref() == Some("-") {
        return Some("--trust-policy");
    }
    if a.identity_policies.iter().any(|p| dash(p)) {
        return Some("--identity-policy");
    }
    let single = [
        ("--permissions-boundary", &a.permissions_boundary),
        ("--bucket-policy", &a.bucket_policy),
        ("--key-policy", &a.key_policy),
        ("--role-trust-policy", &a.role_trust_policy),
        ("--config", &a.config),
        ("--facts", &a.facts),
    ];
    single
        .into_iter()
        .find(|(_, p)| p.as_deref().is_some_and(dash))
        .map(|(flag, _)| flag)
}

/// The `aoc-preflight check ...` prefix that selects the same attachment as this invocation.
struct Invocation {
    command: String,
    /// False when no attachment was given: the command holds a placeholder `--config`.
    attachment_given: bool,
}

impl Invocation {
    fn of(a: &CheckArgs) -> Self {
        let mut words: Vec<String> = Vec::new();
        let push = |words: &mut Vec<String>, flag: &str, value: &str| {
            words.push(flag.to_string());
            words.push(shell_word(value));
        };
        let path = |p: &std::path::Path| p.display().to_string();
        if let Some(p) = &a.facts {
            push(&mut words, "--facts", &path(p));
        }
        if let Some(p) = &a.config {
            push(&mut words, "--config", &path(p));
        }
        if let Some(n) = &a.attachment {
            push(&mut words, "--attachment", n);
        }
        let v = &a.attachment_args;
        for (flag, value) in [
            ("--region", &v.region),
            ("--bucket", &v.bucket),
            ("--path", &v.path),
            ("--kms-key", &v.kms_key),
            ("--role-arn", &v.role_arn),
            ("--trust-policy", &v.trust_policy),
            ("--external-id", &v.external_id),
            ("--aoc-principal", &v.aoc_principal),
        ] {
            if let Some(value) = value {
                push(&mut words, flag, value);
            }
        }
        for p in &a.identity_policies {
            push(&mut words, "--identity-policy", &path(p));
        }
        for (flag, value) in [
            ("--permissions-boundary", &a.permissions_boundary),
            ("--bucket-policy", &a.bucket_policy),
            ("--key-policy", &a.key_policy),
            ("--role-trust-policy", &a.role_trust_policy),
        ] {
            if let Some(p) = value {
                push(&mut words, flag, &path(p));
            }
        }
        let attachment_given = !words.is_empty();
        if !attachment_given {
            push(&mut words, "--config", PLACEHOLDER_CONFIG);
        }
        if a.offline {
            words.push("--offline".into());
        }
        Invocation {
            command: format!("aoc-preflight check {}", words.join(" ")),
            attachment_given,
        }
    }

    /// The command that runs only `ids` (all checks when empty).
    fn only(&self, ids: &[&str]) -> String {
        if ids.is_empty() {
            self.command.clone()
        } else {
            format!("{} --only {}", self.command, ids.join(","))
        }
    }
}

/// A value as one shell word: as is when it holds only safe characters, else single-quoted.
fn shell_word(value: &str) -> String {
    let safe = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if safe {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// The result of `--run`.
struct Ran {
    report: Report,
    command: String,
    exit_code: Exit,
}

/// Runs the checks of every matched entry (once each) on the one attachment given.
fn run_checks(
    args: &ExplainArgs,
    matches: &[Match<'_>],
    invocation: &Invocation,
) -> Result<Ran, UsageError> {
    if !invocation.attachment_given {
        return Err(UsageError::new(
            "explain --run needs the attachment, as for `check`: --config FILE, or the flags --region, --bucket, --kms-key, --role-arn, ... (add --offline with the policy documents)",
        ));
    }
    let ids = unique_ids(
        matches
            .iter()
            .flat_map(|m| m.causes.iter().flat_map(|c| &c.checks)),
    );
    let mut check_args = args.check.clone();
    check_args.only = ids.iter().map(|s| s.to_string()).collect();
    let run = crate::run::check(&check_args, false)
        .map_err(|e| UsageError(format!("explain --run: {e}")))?;
    let count = run.reports.len();
    let Some(report) = run.reports.into_iter().next().filter(|_| count == 1) else {
        return Err(UsageError(format!(
            "explain --run judges one attachment, and the config file has {count}: choose one with --attachment NAME"
        )));
    };
    let exit_code = crate::report::exit_code(&report.summary, args.check.fail_on == FailOn::Warn);
    Ok(Ran {
        command: invocation.only(&ids),
        report,
        exit_code,
    })
}

// ---------------------------------------------------------------------------------------------
// Output: one model, serialized as the JSON format and rendered as text

#[derive(Debug, Serialize)]
struct Output {
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

fn build(
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
                    let judged = ran.map(|r| judge(c, &r.report, message_action(message)));
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

fn write_text(
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
    fn the_message_names_its_action() {
        let m = "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: \
                 kms:GenerateDataKey on resource: arn:aws:kms:us-east-1:1:key/k";
        assert_eq!(message_action(m), Some("kms:GenerateDataKey"));
        assert_eq!(
            message_action("when calling the PutObject operation: Access Denied"),
            None
        );
        assert_eq!(message_action("(s3:ListBucket)"), Some("s3:ListBucket"));
        assert_eq!(message_action("arn:aws:s3:::bucket"), None);
    }

    fn top(message: &str) -> String {
        let catalog = catalog().expect("catalog loads");
        find(catalog, message)
            .first()
            .map(|m| m.entry.id.clone())
            .unwrap_or_default()
    }

    fn ids(message: &str) -> Vec<String> {
        let catalog = catalog().expect("catalog loads");
        find(catalog, message)
            .iter()
            .map(|m| m.entry.id.clone())
            .collect()
    }

    #[test]
    fn the_embedded_catalog_is_sound() {
        // parse() runs the lint; a problem fails here with the list of them.
        let catalog = parse(DATA).unwrap_or_else(|e| panic!("{e}"));
        assert!(lint(&catalog).is_empty());
        for e in &catalog.entries {
            assert!(!e.causes.is_empty(), "{} has no cause", e.id);
            assert!(!e.any.is_empty(), "{} has no pattern", e.id);
            for c in &e.causes {
                for id in &c.checks {
                    assert!(crate::checks::find(id).is_some(), "{}: {id}", e.id);
                }
            }
            for p in e.any.iter().chain(&e.all).chain(&e.none) {
                assert!(!normalize(p).is_empty(), "{}: empty pattern", e.id);
            }
        }
    }

    #[test]
    fn the_lint_catches_unknown_ids_empty_patterns_and_causeless_entries() {
        let bad = r#"
            [[entry]]
            id = "x"
            title = "X"
            priority = 1
            any = ["  "]
            meaning = "m"

            [[entry]]
            id = "y"
            title = "Y"
            priority = 1
            any = ["y"]
            meaning = "m"
            [[entry.cause]]
            text = "t"
            checks = ["role.trusts"]
            reasons = ["role.trust:nope", "kms.key:disabled"]
        "#;
        let err = parse(bad).expect_err("lint fails");
        for expected in [
            "entry `x`: empty pattern",
            "entry `x`: no cause",
            "unknown check ID `role.trusts`",
            "reason `role.trust:nope` is for a check not in `checks`",
            "`role.trust` has no reason `nope`",
            "reason `kms.key:disabled` is for a check not in `checks`",
        ] {
            assert!(err.contains(expected), "{expected} not in {err}");
        }
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = parse("[[entry]]\nid = \"x\"\ntitel = \"X\"\n").expect_err("typo");
        assert!(err.contains("titel"), "{err}");
    }

    #[test]
    fn normalize_drops_case_quotes_and_line_breaks() {
        assert_eq!(
            normalize("  Not authorized to\n\tperform: \"kms:GenerateDataKey\"\\nnext  "),
            "not authorized to perform: kms:generatedatakey next"
        );
        assert_eq!(
            normalize("the region ‘us-east-1’ is wrong"),
            "the region us-east-1 is wrong"
        );
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn a_kms_action_wins_over_the_generic_s3_access_denied() {
        let m = "An error occurred (AccessDenied) when calling the PutObject operation: User: \
                 arn:aws:sts::123:assumed-role/aoc/x is not authorized to perform: \
                 kms:GenerateDataKey on resource: arn:aws:kms:us-east-1:123:key/k because no \
                 identity-based policy allows the kms:GenerateDataKey action (Service: S3, \
                 Status Code: 403, Request ID: ABC)";
        let found = ids(m);
        assert_eq!(
            found.first().map(String::as_str),
            Some("kms.generate-data-key-denied")
        );
        assert!(
            !found.contains(&"s3.access-denied".to_string()),
            "{found:?}"
        );
        let catalog = catalog().expect("catalog loads");
        let top = &find(catalog, m)[0];
        assert_eq!(top.check_ids().first(), Some(&"role.kms-access"));
    }

    #[test]
    fn a_plain_s3_access_denied_is_the_s3_entry() {
        assert_eq!(
            top(
                "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied"
            ),
            "s3.access-denied"
        );
        assert_eq!(
            top(
                "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::b"
            ),
            "s3.access-denied"
        );
    }

    #[test]
    fn assume_role_is_the_sts_entry_not_s3() {
        let found = ids(
            "AccessDenied: User: arn:aws:sts::860559707280:assumed-role/atp/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::1:role/r",
        );
        assert_eq!(found, vec!["sts.assume-role-denied"]);
    }

    #[test]
    fn an_aws_detail_beats_aocs_generic_message() {
        let found = ids(
            "Unable to create ATS access key and secret: not authorized to perform: sts:AssumeRole",
        );
        assert_eq!(found, vec!["sts.assume-role-denied", "aoc.ats-access-key"]);
        assert_eq!(
            top("Error: \"Unable to create ATS access key and secret\""),
            "aoc.ats-access-key"
        );
    }

    #[test]
    fn first_if_moves_the_named_cause_first() {
        let catalog = catalog().expect("catalog loads");
        let plain = find(catalog, "not authorized to perform: kms:Decrypt");
        let deny = find(
            catalog,
            "not authorized to perform: kms:Decrypt with an explicit deny in a resource-based policy",
        );
        assert!(plain[0].causes[0].text.contains("do not allow kms:Decrypt"));
        assert!(deny[0].causes[0].text.contains("explicit Deny"));
        // Everything else keeps its order.
        assert_eq!(deny[0].causes.len(), plain[0].causes.len());
    }

    #[test]
    fn none_patterns_exclude() {
        assert_eq!(
            top("An error occurred (ResourceNotFoundException) when calling X"),
            ""
        );
        assert_eq!(top("(KMS.NotFoundException) Invalid arn"), "kms.not-found");
    }

    /// The first cause's first check, for a message.
    fn first_check(message: &str) -> String {
        let catalog = catalog().expect("catalog loads");
        find(catalog, message)
            .first()
            .and_then(|m| m.causes.first())
            .and_then(|c| c.checks.first())
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn issue11_d12_the_reason_clause_names_the_layer_that_decided() {
        let denied = |action: &str, clause: &str| {
            format!(
                "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: {action} on \
                 resource: arn:aws:kms:us-east-1:1:key/k {clause}"
            )
        };
        for action in ["kms:GenerateDataKey", "kms:Decrypt"] {
            for (clause, check) in [
                (
                    "because no resource-based policy allows the action",
                    "kms.key-policy",
                ),
                (
                    "because no identity-based policy allows the action",
                    "role.kms-access",
                ),
                (
                    "with an explicit deny in a resource-based policy",
                    "kms.key-policy",
                ),
                (
                    "with an explicit deny in an identity-based policy",
                    "role.kms-access",
                ),
                (
                    "with an explicit deny in a permissions boundary",
                    "role.kms-access",
                ),
                (
                    "because no permissions boundary allows the action",
                    "role.kms-access",
                ),
            ] {
                let m = denied(action, clause);
                assert_eq!(first_check(&m), check, "{m}");
            }
            // The boundary is named as the layer to fix, not the role's policies.
            let catalog = catalog().expect("catalog loads");
            let m = denied(action, "with an explicit deny in a permissions boundary");
            assert!(
                find(catalog, &m)[0].causes[0]
                    .text
                    .contains("permissions boundary")
            );
            // Organization policies: said plainly, with no check made up for them.
            for clause in [
                "with an explicit deny in a service control policy",
                "with an explicit deny in a resource control policy",
            ] {
                let m = denied(action, clause);
                let first = find(catalog, &m)[0].causes[0];
                assert!(first.checks.is_empty(), "{m}");
                assert!(first.text.contains("AWS Organizations"), "{m}");
                assert!(first.unchecked.as_deref().is_some_and(|u| !u.is_empty()));
            }
        }
    }

    #[test]
    fn issue11_d12_a_longer_first_if_pattern_wins_and_ties_keep_file_order() {
        let text = r#"
            [[entry]]
            id = "x"
            title = "X"
            priority = 1
            any = ["x"]
            meaning = "m"
            [[entry.cause]]
            text = "plain"
            checks = ["role.trust"]
            [[entry.cause]]
            text = "generic"
            checks = ["role.trust"]
            first_if = ["explicit deny"]
            [[entry.cause]]
            text = "specific"
            checks = ["role.trust"]
            first_if = ["explicit deny in a permissions boundary"]
            [[entry.cause]]
            text = "generic too"
            checks = ["role.trust"]
            first_if = ["explicit deny"]
        "#;
        let catalog = parse(text).expect("parses");
        let order = |m: &str| -> Vec<String> {
            find(&catalog, m)[0]
                .causes
                .iter()
                .map(|c| c.text.clone())
                .collect()
        };
        assert_eq!(
            order("x with an explicit deny in a permissions boundary"),
            ["specific", "generic", "generic too", "plain"]
        );
        assert_eq!(
            order("x with an explicit deny"),
            ["generic", "generic too", "plain", "specific"]
        );
        assert_eq!(order("x"), ["plain", "generic", "specific", "generic too"]);
    }

    #[test]
    fn issue11_d12_a_cause_without_checks_must_say_why() {
        let entry = |cause: &str| {
            format!(
                "[[entry]]\nid = \"x\"\ntitle = \"X\"\npriority = 1\nany = [\"x\"]\nmeaning = \"m\"\n[[entry.cause]]\ntext = \"t\"\n{cause}"
            )
        };
        let err = parse(&entry("")).expect_err("no checks, no reason");
        assert!(err.contains("no check confirms it"), "{err}");
        let err =
            parse(&entry("checks = [\"role.trust\"]\nunchecked = \"why\"")).expect_err("both");
        assert!(err.contains("`unchecked` with `checks`"), "{err}");
        let catalog = parse(&entry("unchecked = \"no check reads SCPs\"")).expect("says why");
        // A run cannot rule such a cause out.
        let r = report(vec![result("role.trust", Status::Pass, &[])]);
        let (verdict, outcomes) = judge(&catalog.entries[0].causes[0], &r, None);
        assert_eq!(verdict, Verdict::Unknown);
        assert!(outcomes.is_empty());
    }

    #[test]
    fn issue11_d12_kms_not_found_wordings_point_at_different_causes() {
        let catalog = catalog().expect("catalog loads");
        let first = |m: &str| find(catalog, m)[0].causes[0].text.clone();
        assert!(
            first(
                "(KMS.NotFoundException) when calling the PutObject operation: Invalid keyId aws/s3"
            )
            .contains("aws/s3")
        );
        assert!(first("(KMS.NotFoundException): Invalid keyId 'alias/aws/s3'").contains("aws/s3"));
        assert!(
            first("NotFoundException: Key 'arn:aws:kms:us-east-1:1:key/k' does not exist")
                .contains("typo")
        );
        assert!(
            first("NotFoundException: Alias arn:aws:kms:us-east-1:1:alias/a is not found.")
                .contains("alias does not exist")
        );
        assert!(first("(KMS.NotFoundException) when calling the PutObject operation: Invalid arn us-west-2").contains("another region"));
    }

    #[test]
    fn an_unknown_message_matches_nothing() {
        assert!(ids("the printer is on fire").is_empty());
        assert!(ids("").is_empty());
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(
            shell_word("examples/broken/aoc.toml"),
            "examples/broken/aoc.toml"
        );
        assert_eq!(shell_word("my file"), "'my file'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }

    fn result(id: &str, status: Status, findings: &[(Status, &str)]) -> CheckResult {
        CheckResult {
            id: id.into(),
            title: String::new(),
            status,
            summary: format!("{id} summary"),
            evidence: Vec::new(),
            remediation: None,
            docs: Vec::new(),
            fixes: Vec::new(),
            steps: Vec::new(),
            findings: findings
                .iter()
                .map(|(s, r)| crate::model::report::FindingResult {
                    status: *s,
                    reason: r.to_string(),
                    summary: format!("{id}:{r}"),
                    evidence: Vec::new(),
                    action: None,
                    failure: None,
                })
                .collect(),
        }
    }

    fn cause(checks: &[&str], reasons: &[&str]) -> Cause {
        Cause {
            text: "c".into(),
            checks: checks.iter().map(|s| s.to_string()).collect(),
            reasons: reasons.iter().map(|s| s.to_string()).collect(),
            first_if: Vec::new(),
            unchecked: None,
        }
    }

    fn report(checks: Vec<CheckResult>) -> Report {
        Report::new(
            "offline",
            crate::model::attachment::Attachment::default(),
            checks,
        )
    }

    #[test]
    fn verdicts_follow_the_findings() {
        let r = report(vec![
            result(
                "role.trust",
                Status::Fail,
                &[(Status::Fail, "external-id-mismatch")],
            ),
            result("bucket.region", Status::Pass, &[(Status::Pass, "agree")]),
            result(
                "role.exists",
                Status::Skip,
                &[(Status::Skip, "fact-unavailable")],
            ),
            result(
                "bucket.policy",
                Status::Warn,
                &[(Status::Warn, "conditional-deny")],
            ),
        ]);
        let v = |c: &Cause| judge(c, &r, None).0;
        assert_eq!(v(&cause(&["role.trust"], &[])), Verdict::Confirmed);
        assert_eq!(
            v(&cause(
                &["role.trust"],
                &["role.trust:external-id-mismatch"]
            )),
            Verdict::Confirmed
        );
        // Fails, but for another cause.
        assert_eq!(
            v(&cause(
                &["role.trust", "bucket.region"],
                &["role.trust:principal-missing"]
            )),
            Verdict::NotConfirmed
        );
        assert_eq!(v(&cause(&["bucket.region"], &[])), Verdict::NotConfirmed);
        assert_eq!(
            v(&cause(&["bucket.region", "role.exists"], &[])),
            Verdict::Unknown
        );
        assert_eq!(v(&cause(&["bucket.policy"], &[])), Verdict::Unknown);
        // A confirmation outweighs an unknown.
        assert_eq!(
            v(&cause(&["role.exists", "role.trust"], &[])),
            Verdict::Confirmed
        );
        // A check left out of the run (--skip) is unknown.
        assert_eq!(v(&cause(&["kms.key"], &[])), Verdict::Unknown);
    }

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
