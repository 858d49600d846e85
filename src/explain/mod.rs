//! The `explain` command (README.md, "Start from an error message: `explain`"): from an error
//! message an admin saw, say what it means, what usually causes it (most likely first), which
//! checks confirm each cause, and the `check` command to run next; with `--run`, run those
//! checks and say which cause they confirm.
//!
//! This module owns the command: reading the message (the argument or standard input), the
//! `check` command to suggest, and running the checks with `--run`. It writes only to the `out`
//! it is handed. The catalogue of messages is `catalog`'s, matching a message against it
//! `matching`'s, what a run says about each cause `verdict`'s, and the output `render`'s.
//! Running the checks is [`crate::run::check`]'s; explain only picks which ones.

use std::io::{Read, Write};

use crate::cli::{CheckArgs, DEFAULT_JOBS, ExplainArgs, FailOn, SimulateFormat};
use crate::error::{CommandError, UsageError};
use crate::exit::Exit;
use crate::model::report::Report;
use crate::text::shell_word;

mod catalog;
mod matching;
mod render;
mod verdict;

pub use catalog::{Catalog, Cause, Entry, catalog, lint, parse};
pub use matching::{Match, find, normalize};
pub use verdict::{CheckOutcome, Verdict, judge, message_action};

/// How much of standard input is read: enough for any error message or log excerpt, and a
/// bound on the memory a mistaken `explain < huge.log` takes.
const MAX_INPUT: u64 = 16 * 1024 * 1024;

/// Where the placeholder `--config` stands when no attachment was given.
const PLACEHOLDER_CONFIG: &str = "aoc.toml";

pub fn run(args: &ExplainArgs, out: &mut dyn Write) -> Result<Exit, CommandError> {
    let message = read_message(args)?;
    let catalog = catalog()?;
    let matches = find(catalog, &message);
    let invocation = Invocation::of(args);

    let ran = if args.run && !matches.is_empty() {
        Some(run_checks(args, &matches, &invocation)?)
    } else {
        None
    };
    let output = render::build(&message, &matches, &invocation, ran.as_ref());
    match args.format {
        SimulateFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &output).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        SimulateFormat::Text => render::write_text(out, &output, &invocation, args.run)?,
    }
    out.flush()?;
    Ok(ran.map_or(Exit::Success, |r| r.exit_code))
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
            if let Some(flag) = stdin_flag(args) {
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

/// The attachment flag that would also read standard input, if any.
fn stdin_flag(args: &ExplainArgs) -> Option<&'static str> {
    let (a, d) = (&args.input, &args.input.documents);
    let dash = |p: &std::path::Path| p.as_os_str() == "-";
    if a.attachment_args.trust_policy.as_deref() == Some("-") {
        return Some("--trust-policy");
    }
    if d.identity_policies.iter().any(|p| dash(p)) {
        return Some("--identity-policy");
    }
    let single = [
        ("--permissions-boundary", &d.permissions_boundary),
        ("--bucket-policy", &d.bucket_policy),
        ("--key-policy", &d.key_policy),
        ("--role-trust-policy", &d.role_trust_policy),
        ("--config", &a.config),
        ("--facts", &args.facts),
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
    fn of(args: &ExplainArgs) -> Self {
        let (a, d) = (&args.input, &args.input.documents);
        let mut words: Vec<String> = Vec::new();
        let push = |words: &mut Vec<String>, flag: &str, value: &str| {
            words.push(flag.to_string());
            words.push(shell_word(value));
        };
        let path = |p: &std::path::Path| p.display().to_string();
        if let Some(p) = &args.facts {
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
        for p in &d.identity_policies {
            push(&mut words, "--identity-policy", &path(p));
        }
        for (flag, value) in [
            ("--permissions-boundary", &d.permissions_boundary),
            ("--bucket-policy", &d.bucket_policy),
            ("--key-policy", &d.key_policy),
            ("--role-trust-policy", &d.role_trust_policy),
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
    let ids = matching::unique_ids(
        matches
            .iter()
            .flat_map(|m| m.causes.iter().flat_map(|c| &c.checks)),
    );
    let check_args = CheckArgs {
        input: args.input.clone(),
        jobs: DEFAULT_JOBS,
        timeout: args.timeout,
        fail_on: args.fail_on,
        only: ids.iter().map(|s| s.to_string()).collect(),
        skip: args.skip.clone(),
        facts: args.facts.clone(),
        // Nothing else of `check` applies: explain writes its own output, and only to `out`.
        ..CheckArgs::default()
    };
    let run = crate::run::check(&check_args, false)
        .map_err(|e| UsageError(format!("explain --run: {e}")))?;
    let count = run.reports.len();
    let Some(report) = run.reports.into_iter().next().filter(|_| count == 1) else {
        return Err(UsageError(format!(
            "explain --run judges one attachment, and the config file has {count}: choose one with --attachment NAME"
        )));
    };
    let exit_code = crate::report::exit_code(&report.summary, args.fail_on == FailOn::Warn);
    Ok(Ran {
        command: invocation.only(&ids),
        report,
        exit_code,
    })
}
