//! The sinks that render the report model ([`crate::model::report`]) in each format. Sinks
//! write to any `io::Write`, so tests render into a `Vec<u8>`.

pub mod causes;
pub mod diagram;
pub mod dot;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod mermaid;
pub mod path;
pub mod sarif;
pub mod text;

use crate::model::report::{FleetReport, Summary};

/// The formats a report renders in (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Junit,
    Sarif,
    Markdown,
    /// The access path as a Graphviz graph.
    Dot,
}

/// How the sinks for people render: decided by the command from the terminal and the flags,
/// never read from the environment by a sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The terminal shows UTF-8: draw with box-drawing characters, else plain ASCII.
    pub unicode: bool,
    /// Leave out the checks that passed (text and Markdown).
    pub quiet: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            unicode: true,
            quiet: false,
        }
    }
}

/// Renders the run in one format: one attachment's report alone, or the fleet.
pub fn render(
    format: Format,
    fleet: &FleetReport,
    options: &Options,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    use Format as F;
    match (format, fleet.reports.as_slice()) {
        (F::Json, [one]) => json::write_report(out, one),
        (F::Json, _) => json::write_fleet(out, fleet),
        (F::Text, [one]) => text::write_report(out, one, options),
        (F::Text, _) => text::write_fleet(out, fleet, options),
        (F::Junit, _) => junit::write_fleet(out, fleet),
        (F::Sarif, _) => sarif::write_fleet(out, fleet),
        (F::Markdown, _) => markdown::write_fleet(out, fleet, options),
        (F::Dot, _) => dot::write_fleet(out, fleet),
    }
}

/// Settles how the run ends: [`run_exit_code`], recorded in the fleet (and in its report when
/// there is one, which the JSON sink writes alone) so that the reports' `exit_code` and
/// `outcome` are the process's exit code, which is this function's result.
pub fn settle(fleet: &mut FleetReport, fail_on_warn: bool) -> crate::exit::Exit {
    let exit = run_exit_code(fleet, fail_on_warn);
    let outcome = Some(crate::model::report::RunOutcome::from(exit));
    fleet.run = outcome;
    if let [one] = fleet.reports.as_mut_slice() {
        one.run = outcome;
    }
    exit
}

/// How a run ends (docs/contract.md, "Statuses and exit codes"): as [`exit_code`], except
/// that a check that failed only because the tool could not read AWS (its credentials) counts
/// as not determined (such a run found nothing about the attachment, broken or not), and that
/// a report in which no access check reached a verdict is not determined either: value and
/// region checks alone never make a green gate.
pub fn run_exit_code(fleet: &FleetReport, fail_on_warn: bool) -> crate::exit::Exit {
    let mut summary = Summary::default();
    for check in fleet.reports.iter().flat_map(|r| &r.checks) {
        if check.status == crate::model::verdict::Status::Fail && causes::stopped_by_access(check) {
            summary.add(crate::model::verdict::Status::Error);
        } else {
            summary.add(check.status);
        }
    }
    let exit = exit_code(&summary, fail_on_warn);
    use crate::model::gate::GateWarningKind as W;
    let nothing_verified = fleet.reports.iter().any(|r| {
        r.gate_warnings.iter().any(|w| {
            matches!(
                w.kind,
                W::NothingVerified | W::TrustNotVerified | W::RoleAccessNotVerified
            )
        })
    });
    if exit == crate::exit::Exit::Success && nothing_verified {
        crate::exit::Exit::Undetermined
    } else {
        exit
    }
}

/// How a run ends (docs/contract.md, "Statuses and exit codes"): failed if a check failed (or
/// warned, with `--fail-on warn`), else undetermined if one could not be determined.
pub fn exit_code(summary: &Summary, fail_on_warn: bool) -> crate::exit::Exit {
    use crate::exit::Exit;
    if summary.fail > 0 || (fail_on_warn && summary.warn > 0) {
        Exit::Failed
    } else if summary.error > 0 {
        Exit::Undetermined
    } else {
        Exit::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::verdict::Status;

    #[test]
    fn exit_codes_follow_the_design() {
        let mut s = Summary::default();
        assert_eq!(exit_code(&s, false).code(), 0);
        s.add(Status::Warn);
        assert_eq!(exit_code(&s, false).code(), 0);
        assert_eq!(exit_code(&s, true).code(), 1);
        s.add(Status::Error);
        assert_eq!(exit_code(&s, false).code(), 3);
        s.add(Status::Fail);
        assert_eq!(exit_code(&s, false).code(), 1);
    }
}
