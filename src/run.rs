//! Running the `check` command: resolve the attachments, gather the facts, judge every
//! selected check, and build the report. Rendering and exit codes are the caller's.

use crate::catalog;
use crate::checks::{self, Input, Values};
use crate::cli::CheckArgs;
use crate::error::UsageError;
use crate::facts::Facts;
use crate::gather;
use crate::report::{CheckResult, Report};
use crate::spec::{self, Attachment};

/// Fails on a check ID that does not exist, listing the ones that do: a typo in `--only`
/// must not silently run nothing.
pub fn validate_selection(only: &[String], skip: &[String]) -> Result<(), UsageError> {
    for (flag, ids) in [("--only", only), ("--skip", skip)] {
        for id in ids {
            if checks::find(id).is_none() {
                let known: Vec<&str> = checks::ALL.iter().map(|c| c.id).collect();
                return Err(UsageError(format!(
                    "{flag}: unknown check ID `{id}` (known: {})",
                    known.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// Judges the selected checks for one attachment.
pub fn judge(
    attachment: &Attachment,
    facts: &Facts,
    only: &[String],
    skip: &[String],
) -> Result<Vec<CheckResult>, UsageError> {
    let catalog = catalog::get().map_err(UsageError)?;
    let values = Values::from_attachment(attachment);
    let input = Input {
        attachment,
        values: &values,
        facts,
    };
    Ok(checks::ALL
        .iter()
        .filter(|c| only.is_empty() || only.iter().any(|id| id == c.id))
        .filter(|c| !skip.iter().any(|id| id == c.id))
        .map(|c| catalog.result(c, &(c.run)(&input)))
        .collect())
}

/// The reports of a `check` run, one per attachment.
pub fn check(args: &CheckArgs) -> Result<Vec<Report>, UsageError> {
    validate_selection(&args.only, &args.skip)?;
    if !args.offline {
        return Err(UsageError::new(
            "live mode (reading AWS) is not available in this version yet; run with --offline and the policy documents as files",
        ));
    }
    if args.probe {
        return Err(UsageError::new(
            "--probe writes to the bucket and needs live mode; it cannot be combined with --offline",
        ));
    }
    let inputs = spec::resolve(args)?;
    let mut reports = Vec::with_capacity(inputs.len());
    for input in inputs {
        let facts = gather::offline(&input.documents)?;
        let results = judge(&input.attachment, &facts, &args.only, &args.skip)?;
        reports.push(Report::new(facts.mode.as_str(), input.attachment, results));
    }
    Ok(reports)
}
