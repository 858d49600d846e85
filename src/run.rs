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

use crate::checks::gate::Required;
use crate::gather::{
    self,
    live::{LiveOptions, LiveSession},
};
use crate::model::attachment::{Attachment, AttachmentInput, OfflineDocuments};
use crate::model::gate::Suppression;
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
                let near = crate::suggest::nearest(id, known.iter().copied());
                return Err(UsageError(format!(
                    "{flag}: unknown check ID `{id}`{} (known: {})",
                    crate::suggest::did_you_mean(&near),
                    known.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// Judges the selected checks for one attachment, without suppressions or required checks.
pub fn judge(
    attachment: &Attachment,
    facts: &Facts,
    only: &[String],
    skip: &[String],
) -> Result<Vec<CheckResult>, UsageError> {
    let gate = GateSettings::default();
    Ok(judge_gated(attachment, facts, only, skip, &[], &gate)?.results)
}

/// The gate of one run: the config file's suppressions and the date they expire against.
pub struct GateSettings {
    pub suppressions: Vec<Suppression>,
    pub today: jiff::civil::Date,
}

impl Default for GateSettings {
    fn default() -> Self {
        GateSettings {
            suppressions: Vec::new(),
            today: jiff::tz::TimeZone::UTC
                .to_datetime(jiff::Timestamp::now())
                .date(),
        }
    }
}

/// The environment variable that fixes "today" for suppression expiry. For tests only: a run
/// in a pipeline uses the clock (UTC).
pub const TODAY_FOR_TESTS: &str = "AOC_PREFLIGHT_TODAY_FOR_TESTS";

impl GateSettings {
    /// The suppressions of the config file, and today's date (UTC; or `TODAY_FOR_TESTS`).
    fn of(config: Option<&std::path::Path>) -> Result<Self, UsageError> {
        let mut gate = GateSettings {
            suppressions: spec::suppressions(config)?,
            ..GateSettings::default()
        };
        if let Ok(text) = std::env::var(TODAY_FOR_TESTS) {
            gate.today = text.parse().map_err(|e| {
                UsageError(format!(
                    "{TODAY_FOR_TESTS}={text} is not a date (2027-01-31): {e}"
                ))
            })?;
        }
        Ok(gate)
    }
}

/// Judges the selected checks for one attachment through the gate: suppressions, and the
/// checks required (`required`: from `--require` and the config file; offline, `role.trust`
/// is required too when AoC's principal and external ID were given, since then only the
/// role's trust policy file is missing for it to run).
pub fn judge_gated(
    attachment: &Attachment,
    facts: &Facts,
    only: &[String],
    skip: &[String],
    required: &[Required],
    gate: &GateSettings,
) -> Result<checks::gate::Gated, UsageError> {
    let catalog = catalog::get().map_err(UsageError)?;
    let values = Values::from_attachment(attachment);
    let input = Input {
        attachment,
        values: &values,
        facts,
    };
    let selected = |id: &str| {
        (only.is_empty() || only.iter().any(|o| o == id)) && !skip.iter().any(|s| s == id)
    };
    let mut judged: Vec<(&checks::CheckDef, Vec<Finding>)> = checks::ALL
        .iter()
        .filter(|c| selected(c.id))
        .map(|c| {
            let mut findings = (c.run)(&input);
            checks::locate::locate(&input, &mut findings);
            (c, findings)
        })
        .collect();
    // Two checks may fix the same policy (a file with the S3 and the KMS grants, the
    // boundary): one merged document, or applying both would undo one.
    checks::fix::merge_across_checks(&mut judged);
    let mut required = required.to_vec();
    // Offline, a run given AoC's principal and external ID but not the role's trust policy
    // would pass with the trust unchecked. Live, the role's trust policy is read, so the check
    // skips only when the role itself is missing or malformed, which other checks fail.
    if facts.mode == crate::model::facts::Mode::Offline
        && values.aoc_principal.is_some()
        && values.external_id.is_some()
        && selected("role.trust")
        && !required.iter().any(|r| r.id == "role.trust")
    {
        required.push(Required {
            id: "role.trust".into(),
            by: "AoC's principal and external ID were given".into(),
        });
    }
    let gated = checks::gate::Gate {
        suppressions: &gate.suppressions,
        today: gate.today,
        attachment: attachment.name.as_deref(),
        required: &required,
    }
    .apply(catalog, &judged);
    Ok(gated)
}

/// The checks `--require` and the config file require, each with where it came from; an
/// unknown ID, or one that `--only`/`--skip` leaves out, is a usage error.
fn required_checks(args: &CheckArgs, from_config: &[String]) -> Result<Vec<Required>, UsageError> {
    let mut required: Vec<Required> = Vec::new();
    for (ids, by) in [
        (args.require.as_slice(), "--require"),
        (from_config, "`require` in the config file"),
    ] {
        for id in ids {
            if let Some(problem) = checks::gate::unknown_check(id) {
                return Err(UsageError(format!("{by}: {problem}")));
            }
            let left_out =
                (!args.only.is_empty() && !args.only.contains(id)) || args.skip.contains(id);
            if left_out {
                return Err(UsageError(format!(
                    "{by}: `{id}` is required but --only/--skip leaves it out: a required check must run"
                )));
            }
            if !required.iter().any(|r| &r.id == id) {
                required.push(Required {
                    id: id.clone(),
                    by: by.to_string(),
                });
            }
        }
    }
    Ok(required)
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
    required_checks(args, &[])?;
    let gate = GateSettings::of(args.input.config.as_deref())?;
    if let Some(path) = &args.facts {
        // A replay judges the saved facts exactly as the run that saved them did.
        crate::bundle::refuse_attachment_flags(&args.input)?;
        let mut bundle = Bundle::load(path)?;
        if let Some(name) = &args.input.attachment {
            bundle.select(name, path)?;
        }
        return judge_all(
            bundle,
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Some(path),
            args,
            &gate,
        );
    }
    let inputs = spec::resolve(spec::Sources::of(&args.input))?;
    let required: Vec<Vec<String>> = inputs.iter().map(|i| i.required.clone()).collect();
    let accesses: Vec<_> = inputs.iter().map(|i| i.access.clone()).collect();
    let config_entries: Vec<_> = inputs.iter().map(|i| i.config_entry.clone()).collect();
    let notes: Vec<_> = inputs.iter().map(|i| i.notes.clone()).collect();
    let facts = if args.input.offline {
        inputs
            .iter()
            .map(|i| gather::offline(&i.documents, &i.attachment))
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
    let mut run = judge_all(
        Bundle::new(entries),
        accesses,
        required,
        notes,
        None,
        args,
        &gate,
    )?;
    for (report, table) in run.reports.iter_mut().zip(&config_entries) {
        if let Some(table) = table {
            checks::locate::config_entry(&mut report.checks, &mut report.suppressed, table);
        }
        if let Ok(here) = std::env::current_dir() {
            checks::locate::relative_to(&here, &mut report.checks, &mut report.suppressed);
        }
    }
    Ok(run)
}

/// Judges every attachment of a bundle into its report. `required`: per attachment, the
/// checks the config file requires (none for a replay); `notes`: what reading each one's
/// input did; `replayed_from`: the bundle file of a replay.
fn judge_all(
    bundle: Bundle,
    accesses: Vec<crate::model::attachment::Access>,
    required: Vec<Vec<String>>,
    mut notes: Vec<Vec<String>>,
    replayed_from: Option<&std::path::Path>,
    args: &CheckArgs,
    gate: &GateSettings,
) -> Result<CheckRun, UsageError> {
    let mut reports = Vec::with_capacity(bundle.entries.len());
    let mut matched = std::collections::BTreeSet::new();
    notes.resize(bundle.entries.len(), Vec::new());
    for (i, (entry, notes)) in bundle.entries.iter().zip(notes).enumerate() {
        let mut attachment = entry.attachment.clone();
        attachment.aoc_trust.policy = entry.aoc_trust_policy.clone();
        let from_config = required.get(i).map(Vec::as_slice).unwrap_or_default();
        let required = required_checks(args, from_config)?;
        let mut gated = judge_gated(
            &attachment,
            &entry.facts,
            &args.only,
            &args.skip,
            &required,
            gate,
        )?;
        if let Ok(here) = std::env::current_dir() {
            checks::locate::relative_to(&here, &mut gated.results, &mut gated.suppressed);
        }
        matched.extend(gated.matched.iter().copied());
        let mut report = Report::new(entry.facts.mode.as_str(), attachment, gated.results);
        report.access_verified = checks::gate::access_verified(&report.checks, &gated.suppressed);
        report.required = required.iter().map(|r| r.id.clone()).collect();
        report.suppressed = gated.suppressed;
        report.gate_warnings = gated.warnings;
        if entry.facts.mode == crate::model::facts::Mode::Live {
            report.aws = Some(crate::model::report::AwsUsage::from_calls(
                &entry.facts.calls,
            ));
        }
        report.notes = notes;
        report.replay = replayed_from.map(|path| crate::model::report::Replay {
            bundle: path.display().to_string(),
            gathered_at: bundle.gathered_at.clone(),
            gathered_by: entry.facts.caller.known().map(|c| c.arn.clone()),
        });
        reports.push(report);
    }
    checks::gate::report_unmatched(&gate.suppressions, &matched, gate.today, &mut reports);
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
    if given(|d| d.terraform_plan.is_some()) {
        return Some("--terraform-plan (terraform_plan)");
    }
    if given(|d| !d.identity_policies.is_empty()) {
        return Some("identity_policies (config file)");
    }
    // Live mode establishes the owner with S3 itself; a value given would be ignored.
    if given(|d| d.bucket_account.is_some()) {
        return Some("--bucket-account (bucket_account)");
    }
    // Live mode reads the organization's policies from AWS Organizations.
    if given(|d| !d.scps.is_empty() || !d.rcps.is_empty()) {
        return Some("--scp/--rcp (scps/rcps)");
    }
    if given(|d| d.org_management_account.is_some()) {
        return Some("--org-management-account (org_management_account)");
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
