//! Running the `check` command: resolve the attachments, gather the facts, judge every
//! selected check, and build the report. Rendering and exit codes are the caller's.

use crate::bundle::{Bundle, BundleEntry};
use crate::catalog;
use crate::checks::{self, Input, Values};
use crate::cli::CheckArgs;
use crate::error::UsageError;
use crate::model::facts::Facts;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};

use crate::gather::{
    self,
    live::{LiveOptions, LiveSession},
};
use crate::model::attachment::{Attachment, AttachmentInput, OfflineDocuments};
use crate::model::report::{CheckResult, Report};
use crate::model::verdict::Finding;
use crate::spec;

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
    let mut judged: Vec<(&checks::CheckDef, Vec<Finding>)> = checks::ALL
        .iter()
        .filter(|c| only.is_empty() || only.iter().any(|id| id == c.id))
        .filter(|c| !skip.iter().any(|id| id == c.id))
        .map(|c| (c, (c.run)(&input)))
        .collect();
    // Two checks may fix the same policy (a file with the S3 and the KMS grants, the
    // boundary): one merged document, or applying both would undo one.
    checks::fix::merge_across_checks(&mut judged);
    Ok(judged
        .iter()
        .map(|(c, findings)| crate::checks::results::check_result(catalog, c, findings))
        .collect())
}

/// What a `check` run produced: one report per attachment, and the facts they were judged on
/// (for `--save-facts`).
pub struct CheckRun {
    pub reports: Vec<Report>,
    pub bundle: Bundle,
    /// The credentials each attachment was read with (for `--redact`: audit-role external IDs).
    pub accesses: Vec<crate::model::attachment::Access>,
}

/// Runs `check`. `progress` shows a progress bar on stderr while AWS answers (the caller
/// decides: a terminal, text format, not CI).
pub fn check(args: &CheckArgs, progress: bool) -> Result<CheckRun, UsageError> {
    validate_selection(&args.only, &args.skip)?;
    if args.probe && (args.input.offline || args.facts.is_some()) {
        return Err(UsageError::new(
            "--probe writes to the bucket through AWS: it needs live mode (not --offline or --facts)",
        ));
    }
    if let Some(path) = &args.facts {
        // A replay judges the saved facts exactly as the run that saved them did.
        let bundle = Bundle::load(path)?;
        return judge_all(bundle, Vec::new(), args);
    }
    let inputs = spec::resolve(spec::Sources::of(&args.input))?;
    let accesses: Vec<_> = inputs.iter().map(|i| i.access.clone()).collect();
    let facts = if args.input.offline {
        inputs
            .iter()
            .map(|i| gather::offline(&i.documents))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        if let Some(flag) = offline_only_flag(args, &inputs) {
            return Err(UsageError(format!(
                "{flag} is for offline mode (live mode reads the documents from AWS); add --offline"
            )));
        }
        gather_live(args, &inputs, progress)?
    };
    let entries = inputs
        .into_iter()
        .zip(facts)
        .map(|(input, facts)| BundleEntry {
            aoc_trust_policy: input.attachment.aoc_trust.policy.clone(),
            attachment: input.attachment,
            facts,
        })
        .collect();
    judge_all(Bundle::new(entries), accesses, args)
}

/// Judges every attachment of a bundle into its report.
fn judge_all(
    bundle: Bundle,
    accesses: Vec<crate::model::attachment::Access>,
    args: &CheckArgs,
) -> Result<CheckRun, UsageError> {
    let mut reports = Vec::with_capacity(bundle.entries.len());
    for entry in &bundle.entries {
        let mut attachment = entry.attachment.clone();
        attachment.aoc_trust.policy = entry.aoc_trust_policy.clone();
        let results = judge(&attachment, &entry.facts, &args.only, &args.skip)?;
        let mut report = Report::new(entry.facts.mode.as_str(), attachment, results);
        if entry.facts.mode == crate::model::facts::Mode::Live {
            report.aws = Some(crate::model::report::AwsUsage::from_calls(
                &entry.facts.calls,
            ));
        }
        reports.push(report);
    }
    Ok(CheckRun {
        reports,
        bundle,
        accesses,
    })
}

/// Live facts for every attachment, `--jobs` at a time, facts they share fetched once.
fn gather_live(
    args: &CheckArgs,
    inputs: &[AttachmentInput],
    progress: bool,
) -> Result<Vec<Facts>, UsageError> {
    let options = LiveOptions {
        profile: args.input.profile.clone(),
        endpoint_url: args.input.endpoint_url.clone(),
        timeout: Duration::from_secs(args.timeout.max(1)),
        probe: args.probe,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| UsageError(format!("cannot start the async runtime: {e}")))?;
    let session = LiveSession::new(options);
    let bar = progress.then(|| spinner(inputs.len()));
    let gathered: Vec<(usize, Facts)> = runtime.block_on(async {
        stream::iter(gather_order(inputs).into_iter().map(|i| (i, &inputs[i])))
            .map(|(i, input)| {
                let session = &session;
                let bar = &bar;
                async move {
                    let values = Values::from_attachment(&input.attachment);
                    let facts = session
                        .gather(
                            &input.attachment,
                            &values,
                            &input.access,
                            input.org_access.as_ref(),
                        )
                        .await;
                    if let Some(b) = bar {
                        b.inc(1);
                    }
                    (i, facts)
                }
            })
            .buffer_unordered(args.jobs.max(1))
            .collect()
            .await
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut by_index: Vec<Facts> = vec![Facts::default(); inputs.len()];
    for (i, facts) in gathered {
        by_index[i] = facts;
    }
    Ok(by_index)
}

/// The order in which attachments are gathered: round-robin over the groups that share their
/// AWS resources. A fleet file usually lists one bucket's paths one after another; gathered
/// in that order, `--jobs` concurrent gathers all wait on the same shared facts while the
/// other resources wait their turn. Interleaved, they cover distinct resources. Reports keep
/// the file's order.
fn gather_order(inputs: &[AttachmentInput]) -> Vec<usize> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of = std::collections::HashMap::new();
    for (i, input) in inputs.iter().enumerate() {
        let a = &input.attachment;
        let key = (
            &input.access,
            a.region.as_str(),
            a.bucket.as_str(),
            a.kms_key.as_str(),
            a.role_arn.as_str(),
        );
        let g = *group_of.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    let rounds = groups.iter().map(Vec::len).max().unwrap_or(0);
    (0..rounds)
        .flat_map(|round| groups.iter().filter_map(move |g| g.get(round).copied()))
        .collect()
}

/// A document flag given without `--offline`: live mode would ignore it, silently judging
/// something else than the user meant.
fn offline_only_flag(args: &CheckArgs, inputs: &[AttachmentInput]) -> Option<&'static str> {
    if !args.input.documents.identity_policies.is_empty() {
        return Some("--identity-policy");
    }
    let given = |f: fn(&OfflineDocuments) -> bool| inputs.iter().any(|i| f(&i.documents));
    if given(|d| d.permissions_boundary.is_some()) {
        return Some("--permissions-boundary");
    }
    if given(|d| d.bucket_policy.is_some()) {
        return Some("--bucket-policy");
    }
    if given(|d| d.key_policy.is_some()) {
        return Some("--key-policy");
    }
    if given(|d| d.role_trust_policy.is_some()) {
        return Some("--role-trust-policy");
    }
    if given(|d| !d.identity_policies.is_empty()) {
        return Some("identity_policies (config file)");
    }
    // Live mode establishes the owner with S3 itself; a value given would be ignored.
    if given(|d| d.bucket_account.is_some()) {
        return Some("--bucket-account (bucket_account)");
    }
    None
}

fn spinner(attachments: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(attachments as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {pos}/{len} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message("Reading S3, KMS and IAM: attachments checked");
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(bucket: &str, path: &str) -> AttachmentInput {
        AttachmentInput {
            attachment: Attachment {
                region: "us-east-1".into(),
                bucket: bucket.into(),
                path: path.into(),
                ..Attachment::default()
            },
            ..AttachmentInput::default()
        }
    }

    #[test]
    fn attachments_sharing_resources_are_gathered_interleaved() {
        let inputs = [
            input("a", "/1"),
            input("a", "/2"),
            input("a", "/3"),
            input("b", "/1"),
            input("b", "/2"),
            input("c", "/1"),
        ];
        assert_eq!(gather_order(&inputs), [0, 3, 5, 1, 4, 2]);
    }

    #[test]
    fn other_credentials_make_another_group() {
        let mut audited = input("a", "/2");
        audited.access.profile = Some("audit".into());
        let inputs = [input("a", "/1"), input("a", "/3"), audited];
        assert_eq!(gather_order(&inputs), [0, 2, 1]);
    }
}
