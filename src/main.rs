//! The `aoc-preflight` binary: parse arguments, run, render, and map the outcome to an exit
//! code in one place (docs/contract.md, "Statuses and exit codes"). All logic is in the library.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{self, Write};
use std::process::ExitCode;

use aoc_preflight::cli::{Cli, ColorChoice, Command, ReportFormat, SimulateFormat};
use aoc_preflight::error::{CommandError, UsageError};
use aoc_preflight::exit::Exit;
use aoc_preflight::model::report::FleetReport;
use aoc_preflight::report;
use aoc_preflight::text::one_line;
use aoc_preflight::{catalog, checks, run, simulate};
use clap::{CommandFactory, FromArgMatches, ValueEnum};

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // Where each --output stands among the --format flags decides which format it receives.
    let positions = matches
        .subcommand_matches("check")
        .map(|m| OutputPositions {
            formats: m
                .indices_of("format")
                .map(|i| i.collect())
                .unwrap_or_default(),
            outputs: m
                .indices_of("output")
                .map(|i| i.collect())
                .unwrap_or_default(),
        })
        .unwrap_or_default();
    match cli.color {
        ColorChoice::Always => anstream::ColorChoice::Always.write_global(),
        ColorChoice::Never => anstream::ColorChoice::Never.write_global(),
        ColorChoice::Auto => {}
    }
    match dispatch(cli.command, &positions) {
        Ok(exit) => ExitCode::from(exit),
        Err(CommandError::Usage(e)) => {
            let _ = writeln!(
                io::stderr(),
                "aoc-preflight: error: {}",
                one_line(&e.to_string())
            );
            ExitCode::from(Exit::Usage)
        }
        // A closed pipe (`aoc-preflight ... | head`) is not an error worth a message.
        Err(CommandError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(CommandError::Io(e)) => {
            let _ = writeln!(
                io::stderr(),
                "aoc-preflight: error: cannot write the output: {e}"
            );
            ExitCode::from(Exit::Usage)
        }
    }
}

fn dispatch(command: Command, positions: &OutputPositions) -> Result<Exit, CommandError> {
    match command {
        Command::Check(args) => {
            // A spinner only where a person watches: text to a terminal, not in CI.
            let progress = args.format.contains(&ReportFormat::Text)
                && io::IsTerminal::is_terminal(&io::stderr())
                && std::env::var_os("CI").is_none();
            // Where each report goes is settled before the run: a mistake there must not
            // cost a live run's minutes first.
            let targets = output_targets(&args.format, &args.output, positions)?;
            let run = run::check(&args, progress)?;
            let mut fleet = FleetReport::new(run.reports);
            // The exit code is recorded in the reports by the function that returns it.
            let code = report::settle(&mut fleet, args.fail_on == aoc_preflight::cli::FailOn::Warn);
            // One redaction map for every output of the run, so placeholders agree.
            let mut redactor = args.redact.then(|| {
                let mut r = aoc_preflight::redact::Redactor::new();
                for id in run.bundle.external_ids(&run.accesses) {
                    r.external_id(&id);
                }
                r
            });
            let mut redacted = |text: String| match redactor.as_mut() {
                Some(r) => r.redact(&text),
                None => text,
            };
            if let Some(path) = &args.save_facts {
                std::fs::write(path, redacted(run.bundle.to_json())).map_err(|e| {
                    UsageError(format!(
                        "--save-facts: cannot write {}: {}",
                        path.display(),
                        aoc_preflight::error::io_reason(&e)
                    ))
                })?;
            }
            let render_options = report::Options {
                unicode: utf8_locale(),
                quiet: args.quiet,
            };
            for (format, path) in targets {
                let mut rendered = Vec::new();
                report::render(format.into(), &fleet, &render_options, &mut rendered)?;
                let text = redacted(String::from_utf8_lossy(&rendered).into_owned());
                let mut out = open_output(path)?;
                out.write_all(text.as_bytes())?;
                out.flush()?;
            }
            if args.verbose {
                let trace = redacted(report::text::aws_trace(&fleet));
                let _ = io::stderr().write_all(trace.as_bytes());
            }
            // On GitHub Actions the Markdown report also goes to the step summary.
            if std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true") {
                let markdown = redacted(report::markdown::render(&fleet, &render_options));
                if let Err(e) = aoc_preflight::step_summary::append(&markdown) {
                    let _ = writeln!(
                        io::stderr(),
                        "aoc-preflight: warning: cannot append to GITHUB_STEP_SUMMARY: {e}"
                    );
                }
            }
            Ok(code)
        }
        Command::Explain(args) => {
            let mut out = anstream::stdout().lock();
            aoc_preflight::explain::run(&args, &mut out)
        }
        Command::Generate(args) => {
            let mut out = io::stdout().lock();
            aoc_preflight::generate::run(&args, &mut out, &mut io::stderr())
        }
        Command::Simulate(args) => {
            let mut out = io::stdout().lock();
            simulate::run(&args, &mut out)?;
            out.flush()?;
            Ok(Exit::Success)
        }
        Command::Permissions(args) => {
            let values = aoc_preflight::permissions::scope(&args)?;
            let doc = aoc_preflight::permissions::policy(values.as_ref(), args.probe);
            let mut out = io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &doc).map_err(io::Error::from)?;
            writeln!(out)?;
            Ok(Exit::Success)
        }
        Command::Init(args) => {
            let mut out = io::stdout().lock();
            aoc_preflight::init::run(&args, &mut out, &mut io::stderr())
        }
        Command::Completions(args) => {
            let mut out = io::stdout().lock();
            clap_complete::generate(args.shell, &mut Cli::command(), "aoc-preflight", &mut out);
            out.flush()?;
            Ok(Exit::Success)
        }
        Command::Man => {
            let mut out = io::stdout().lock();
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            out.flush()?;
            Ok(Exit::Success)
        }
        Command::Checks(args) => {
            let catalog = catalog::get().map_err(UsageError)?;
            let mut out = anstream::stdout().lock();
            match args.format {
                SimulateFormat::Json => {
                    let list: Vec<serde_json::Value> = checks::ALL
                        .iter()
                        .map(|c| {
                            let meta = catalog.meta(c.id);
                            serde_json::json!({
                                "id": c.id,
                                "title": meta.map(|m| m.title.as_str()),
                                "description": meta.map(|m| m.description.trim()),
                                "docs": meta.map(|m| &m.docs),
                            })
                        })
                        .collect();
                    serde_json::to_writer_pretty(&mut out, &list).map_err(io::Error::from)?;
                    writeln!(out)?;
                }
                SimulateFormat::Text => {
                    let width = checks::ALL.iter().map(|c| c.id.len()).max().unwrap_or(0);
                    for c in checks::ALL {
                        let title = catalog.meta(c.id).map_or("", |m| m.title.as_str());
                        writeln!(out, "{:width$}  {title}", c.id)?;
                    }
                }
            }
            Ok(Exit::Success)
        }
    }
}

/// Whether the terminal takes UTF-8, as the C library decides it: the first of `LC_ALL`,
/// `LC_CTYPE` and `LANG` that is set and not empty names the character set; none (the C
/// locale) means ASCII. Windows consoles take Unicode.
fn utf8_locale() -> bool {
    if cfg!(windows) {
        return true;
    }
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.is_empty())
        .is_some_and(|value| {
            let v = value.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        })
}

/// Command-line positions of the `--format` and `--output` values of `check`.
#[derive(Default)]
struct OutputPositions {
    formats: Vec<usize>,
    outputs: Vec<usize>,
}

/// Pairs each --output with the --format given before it (the first format when none is);
/// a format left without an --output goes to standard output, and only one may.
fn output_targets<'a>(
    formats: &[ReportFormat],
    outputs: &'a [std::path::PathBuf],
    positions: &OutputPositions,
) -> Result<Vec<(ReportFormat, Option<&'a std::path::Path>)>, UsageError> {
    if let Some(name) = outputs.iter().find_map(|p| format_name_as_file(p)) {
        return Err(UsageError(format!(
            "--output {name}: `{name}` is a report format, not a file: give --format {name} \
             (and --output FILE to write it to a file, e.g. report.{name}; ./{name} if a file \
             named `{name}` is really meant)"
        )));
    }
    let mut targets: Vec<(ReportFormat, Option<&std::path::Path>)> = Vec::new();
    let mut used = vec![false; formats.len()];
    for (i, path) in outputs.iter().enumerate() {
        let at = positions.outputs.get(i).copied().unwrap_or(0);
        let format_index = positions
            .formats
            .iter()
            .rposition(|&f| f < at)
            .unwrap_or(0)
            .min(formats.len().saturating_sub(1));
        if used.get(format_index).copied().unwrap_or(false) {
            return Err(UsageError::new(
                "two --output for one --format: give a --format before each --output",
            ));
        }
        if let Some(u) = used.get_mut(format_index) {
            *u = true;
        }
        let format = formats.get(format_index).copied().unwrap_or_default();
        targets.push((format, Some(path.as_path())));
    }
    let to_stdout: Vec<ReportFormat> = formats
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(f, _)| *f)
        .collect();
    if to_stdout.len() > 1 {
        return Err(UsageError::new(
            "several --format go to standard output: give each but one its own --output FILE",
        ));
    }
    targets.extend(to_stdout.into_iter().map(|f| (f, None)));
    Ok(targets)
}

/// A bare format name given to `--output` (`--output json`): surely meant for `--format`, and
/// a report written to a file named `json` would be found by nobody. A path (`./json`) or a
/// name with an extension (`report.json`) is a file.
fn format_name_as_file(path: &std::path::Path) -> Option<String> {
    let name = path.to_str()?;
    if name.contains(['/', '\\', '.']) {
        return None;
    }
    ReportFormat::value_variants()
        .iter()
        .filter_map(|f| f.to_possible_value())
        .find(|v| v.get_name().eq_ignore_ascii_case(name))
        .map(|v| v.get_name().to_string())
}

/// Standard output or the `--output` file, behind a stream that strips colour where it does
/// not belong (a file, a pipe, `NO_COLOR`, `--color never`).
fn open_output(path: Option<&std::path::Path>) -> Result<Box<dyn Write>, CommandError> {
    Ok(match path {
        Some(p) => {
            let file = std::fs::File::create(p).map_err(|e| {
                UsageError(format!(
                    "--output: cannot create {}: {}",
                    p.display(),
                    aoc_preflight::error::io_reason(&e)
                ))
            })?;
            Box::new(io::BufWriter::new(anstream::AutoStream::new(
                file,
                anstream::ColorChoice::global(),
            )))
        }
        None => Box::new(anstream::stdout()),
    })
}
