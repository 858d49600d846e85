//! The `aoc-preflight` binary: parse arguments, run, render, and map the outcome to an exit
//! code in one place (DESIGN.md §5). All logic is in the library.

use std::io::{self, Write};
use std::process::ExitCode;

use aoc_preflight::cli::{Cli, ColorChoice, Command, ReportFormat, SimulateFormat};
use aoc_preflight::error::{CommandError, UsageError};
use aoc_preflight::report::{self, FleetReport};
use aoc_preflight::{catalog, checks, run, simulate};
use clap::Parser;

const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.color {
        ColorChoice::Always => anstream::ColorChoice::Always.write_global(),
        ColorChoice::Never => anstream::ColorChoice::Never.write_global(),
        ColorChoice::Auto => {}
    }
    match dispatch(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(CommandError::Usage(e)) => {
            let _ = writeln!(io::stderr(), "aoc-preflight: error: {e}");
            ExitCode::from(EXIT_USAGE)
        }
        // A closed pipe (`aoc-preflight ... | head`) is not an error worth a message.
        Err(CommandError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(CommandError::Io(e)) => {
            let _ = writeln!(
                io::stderr(),
                "aoc-preflight: error: cannot write the output: {e}"
            );
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn dispatch(command: Command) -> Result<u8, CommandError> {
    match command {
        Command::Check(args) => {
            // A spinner only where a person watches: text to a terminal, not in CI.
            let progress = args.format.contains(&ReportFormat::Text)
                && io::IsTerminal::is_terminal(&io::stderr())
                && std::env::var_os("CI").is_none();
            let reports = run::check(&args, progress)?;
            let fleet = FleetReport::new(reports);
            let code = report::exit_code(
                &fleet.summary,
                args.fail_on == aoc_preflight::cli::FailOn::Warn,
            );
            let targets = output_targets(&args.format, &args.output)?;
            for (format, path) in targets {
                let mut out = open_output(path)?;
                report::render(format, &fleet, &mut out)?;
                out.flush()?;
            }
            Ok(code)
        }
        Command::Explain(args) => {
            let mut out = anstream::stdout().lock();
            aoc_preflight::explain::run(&args, &mut out)
        }
        Command::Generate(args) => {
            let mut out = io::stdout().lock();
            aoc_preflight::generate::run(&args, &mut out)
        }
        Command::Simulate(args) => {
            let mut out = io::stdout().lock();
            simulate::run(&args, &mut out)?;
            out.flush()?;
            Ok(0)
        }
        Command::Permissions(args) => {
            let values = permissions_values(&args.attachment_args);
            let doc = aoc_preflight::permissions::policy(values.as_ref());
            let mut out = io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &doc).map_err(io::Error::from)?;
            writeln!(out)?;
            Ok(0)
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
            Ok(0)
        }
    }
}

/// Pairs each --format with its --output (by position); at most one format may go to
/// standard output.
fn output_targets<'a>(
    formats: &[ReportFormat],
    outputs: &'a [std::path::PathBuf],
) -> Result<Vec<(ReportFormat, Option<&'a std::path::Path>)>, UsageError> {
    if outputs.len() > formats.len() {
        return Err(UsageError::new(
            "more --output than --format: give one --format before each --output",
        ));
    }
    if formats.len() > outputs.len() + 1 {
        return Err(UsageError::new(
            "several --format go to standard output: give each but one its own --output FILE",
        ));
    }
    Ok(formats
        .iter()
        .enumerate()
        .map(|(i, f)| (*f, outputs.get(i).map(|p| p.as_path())))
        .collect())
}

/// The attachment's values for scoping `permissions`, from whichever flags were given.
fn permissions_values(a: &aoc_preflight::cli::AttachmentArgs) -> Option<checks::Values> {
    if a.bucket.is_none() && a.kms_key.is_none() && a.role_arn.is_none() {
        return None;
    }
    let attachment = aoc_preflight::spec::Attachment {
        region: a.region.clone().unwrap_or_default(),
        bucket: a.bucket.clone().unwrap_or_default(),
        kms_key: a.kms_key.clone().unwrap_or_default(),
        role_arn: a.role_arn.clone().unwrap_or_default(),
        path: "/".to_string(),
        ..Default::default()
    };
    Some(checks::Values::from_attachment(&attachment))
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
