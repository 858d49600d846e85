//! The bodies of the fuzz targets (issue 6): each takes the fuzzer's bytes, runs one input
//! surface of aoc-preflight, and panics when a property that must hold for every input does
//! not. `fuzz_targets/*.rs` hand them to libFuzzer; the normal test suite replays the saved
//! inputs under `fuzz/regressions/` and `fuzz/seeds/` through the same functions
//! (`tests/cli/fuzz_regressions.rs`), so an input that once crashed stays fixed.
//!
//! Only the public API of the library is used, and nothing here touches the network. Inputs
//! with several parts separate them with a line holding `====`.

use std::path::PathBuf;
use std::str::FromStr;

use aoc_preflight::arn::{self, Arn};
use aoc_preflight::checks::{self, Input};
use aoc_preflight::cli::{Cli, Command, ReportFormat};
use aoc_preflight::model::Values;
use aoc_preflight::model::attachment::{AocTrust, Attachment};
use aoc_preflight::model::facts::{Fact, Facts};
use aoc_preflight::model::report::{self, FleetReport};
use aoc_preflight::model::verdict::Status;
use aoc_preflight::policy::{
    Context, Decision, Evaluation, NamedPolicy, PolicySet, Request, evaluate, evaluate_policy,
    parse_policy, to_json,
};
use clap::Parser;

/// The input's text parts, split at `====` lines; `None` when it is not UTF-8 (every input
/// surface reads text, and the file readers refuse other bytes before parsing).
fn parts(data: &[u8]) -> Option<Vec<&str>> {
    let text = std::str::from_utf8(data).ok()?;
    Some(text.split("\n====\n").collect())
}

/// `check` with these flags, as the command line parses them.
fn check_args(flags: &[&std::ffi::OsStr]) -> Box<aoc_preflight::cli::CheckArgs> {
    let words = ["aoc-preflight".as_ref(), "check".as_ref()]
        .into_iter()
        .chain(flags.iter().copied());
    match Cli::try_parse_from(words).map(|cli| cli.command) {
        Ok(Command::Check(args)) => args,
        _ => panic!("the fixed command line parses as check"),
    }
}

/// A file holding `data` for the surfaces that only read files (config, bundle); one per
/// process and target, so parallel fuzzing jobs do not share it.
fn scratch_file(target: &str, data: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "aoc-preflight-fuzz-{target}-{}",
        std::process::id()
    ));
    std::fs::write(&path, data).expect("write the scratch file");
    path
}

// ---------------------------------------------------------------------------------------------
// policy: the parser, normalisation and the evaluator.

/// Requests every policy is asked: what the checks ask for the seed attachment, and requests
/// made of the policy's own strings (its actions and resources taken literally, which is
/// where wildcard and variable handling is stressed).
fn requests_for(
    policy: &aoc_preflight::policy::PolicyDocument,
    extra: Option<&str>,
) -> Vec<Request> {
    let role = "arn:aws:iam::111122223333:role/aoc-role";
    let mut out = Vec::new();
    let mut push = |principal: &str, action: &str, resource: &str, strict: bool| {
        let mut context = if strict {
            Context::strict()
        } else {
            Context::partial()
        };
        context.set("aws:SecureTransport", vec!["true".into()]);
        context.set("s3:prefix", vec!["data/".into()]);
        context.set("kms:ViaService", vec!["s3.us-east-1.amazonaws.com".into()]);
        out.push(Request {
            principal: principal.to_string(),
            action: action.to_string(),
            resource: resource.to_string(),
            resource_account: None,
            context,
        });
    };
    for strict in [true, false] {
        push(
            role,
            "s3:PutObject",
            "arn:aws:s3:::bucket/data/file",
            strict,
        );
        push(role, "s3:ListBucket", "arn:aws:s3:::bucket", strict);
        push(
            role,
            "kms:GenerateDataKey",
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            strict,
        );
        push(
            "arn:aws:iam::999988887777:role/other",
            "kms:Decrypt",
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            strict,
        );
    }
    // A few of the policy's own strings, bounded so one large policy does not make a slow
    // input.
    let literals = policy.statements.iter().take(4).flat_map(|st| {
        let actions = match &st.action {
            aoc_preflight::policy::ActionSpec::Action(a)
            | aoc_preflight::policy::ActionSpec::NotAction(a) => a.iter().take(2).cloned(),
        };
        let resources = match &st.resource {
            Some(aoc_preflight::policy::ResourceSpec::Resource(r))
            | Some(aoc_preflight::policy::ResourceSpec::NotResource(r)) => {
                r.iter().take(2).cloned().collect::<Vec<_>>()
            }
            None => Vec::new(),
        };
        actions
            .flat_map(move |a| {
                let resources = resources.clone();
                resources
                    .into_iter()
                    .chain(std::iter::once("arn:aws:s3:::bucket/x".to_string()))
                    .map(move |r| (a.clone(), r))
            })
            .take(4)
    });
    for (action, resource) in literals.collect::<Vec<_>>() {
        push(role, &action, &resource, true);
        push(role, &action, &resource, false);
    }
    // Optional request lines after the policy: principal, action, resource, then `key=value`.
    if let Some(extra) = extra {
        let mut lines = extra.lines();
        if let (Some(p), Some(a), Some(r)) = (lines.next(), lines.next(), lines.next()) {
            let mut context = Context::strict();
            for line in lines.take(16) {
                if let Some((k, v)) = line.split_once('=') {
                    context.add(k, v);
                } else {
                    context.set_absent(line);
                }
            }
            out.push(Request {
                principal: p.to_string(),
                action: a.to_string(),
                resource: r.to_string(),
                resource_account: None,
                context,
            });
        }
    }
    out
}

/// Properties of one evaluation that hold whatever the policy says.
fn check_evaluation(what: &str, e: &Evaluation, context: &Context) {
    // Decisions are ordered Allowed < ImplicitDeny < ExplicitDeny: the best case can never be
    // worse than the worst case.
    assert!(
        e.best <= e.worst,
        "{what}: best {:?} worse than worst {:?}",
        e.best,
        e.worst
    );
    // With every context key known (strict: unlisted keys are absent), nothing is undecided.
    if context.missing == aoc_preflight::policy::MissingKey::Absent {
        assert!(
            e.is_certain(),
            "{what}: uncertain ({:?} .. {:?}) with a complete context: {:?}",
            e.best,
            e.worst,
            e.unresolved_conditions()
        );
    }
    // An undecided answer names what it depends on.
    if !e.is_certain() {
        assert!(
            !e.unresolved_conditions().is_empty(),
            "{what}: uncertain but names no condition"
        );
    }
    if e.worst == Decision::Allowed || e.best == Decision::ExplicitDeny {
        assert!(e.is_certain(), "{what}: inconsistent best/worst");
    }
}

/// The policy parser and evaluator: input is a policy document, optionally followed by a
/// `====` line and a request (principal, action, resource, `key=value` context lines).
pub fn policy(data: &[u8]) {
    let Some(parts) = parts(data) else { return };
    let text = parts[0];
    let document = match parse_policy(text) {
        Ok(d) => d,
        Err(e) => {
            assert!(
                e.line >= 1 && e.column >= 1,
                "error position is 1-based: {e:?}"
            );
            assert!(!e.message.is_empty(), "an error says what is wrong");
            return;
        }
    };
    // Normalisation is a fixed point: the JSON we show parses back to the same document form.
    let shown = to_json(&document);
    let reparsed = parse_policy(&shown.to_string())
        .unwrap_or_else(|e| panic!("the normalised policy does not parse: {e}\n{shown}"));
    assert_eq!(
        to_json(&reparsed),
        shown,
        "normalising twice changes the policy"
    );

    let original = NamedPolicy {
        label: "fuzz.json".into(),
        document,
    };
    let normalised = NamedPolicy {
        label: "fuzz.json".into(),
        document: reparsed,
    };
    for request in requests_for(&original.document, parts.get(1).copied()) {
        let a = evaluate_policy(&original, &request);
        let b = evaluate_policy(&normalised, &request);
        check_evaluation("alone", &a, &request.context);
        assert_eq!(
            (a.best, a.worst),
            (b.best, b.worst),
            "the normalised policy decides {request:?} differently"
        );
        // The same document as identity policy, boundary and resource policy at once: the
        // combining rules must stay consistent too.
        let identity = std::slice::from_ref(&original);
        for set in [
            PolicySet {
                identity,
                boundary: None,
                resource: None,
            },
            PolicySet {
                identity,
                boundary: Some(&original),
                resource: Some(&original),
            },
            PolicySet {
                identity: &[],
                boundary: None,
                resource: Some(&original),
            },
        ] {
            let e = evaluate(&set, &request);
            check_evaluation("set", &e, &request.context);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// arn: the ARN parser and the value checks built on it.

/// The ARN parser: a parsed ARN prints as it was written and parses to itself; the accessors
/// and the `input.values` check take any string without panicking.
pub fn arn(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = Arn::from_str(text) {
        assert_eq!(parsed.to_string(), text, "an ARN prints as written");
        assert_eq!(Arn::from_str(&parsed.to_string()).as_ref(), Ok(&parsed));
        let _ = (
            parsed.resource_type(),
            parsed.resource_id(),
            parsed.resource_name(),
            parsed.has_valid_account(),
        );
        assert!(
            text.contains(parsed.resource_name()),
            "the resource name is part of the ARN"
        );
    }
    let _ = arn::account_of(text);
    // The same string in every place an attachment takes an ARN or a name.
    let attachment = Attachment {
        region: text.to_string(),
        bucket: text.to_string(),
        path: text.to_string(),
        kms_key: text.to_string(),
        role_arn: text.to_string(),
        aoc_trust: AocTrust {
            aoc_principal: Some(text.to_string()),
            external_id: Some(text.to_string()),
            policy: None,
        },
        ..Attachment::default()
    };
    let values = Values::from_attachment(&attachment);
    // A value the checks will use is one that passed validation.
    if let Some(role) = &values.role {
        assert_eq!(role.to_string(), text);
    }
    judge_and_render(&attachment, &Facts::default());
}

// ---------------------------------------------------------------------------------------------
// config: the TOML config file, through the command line as a user gives it.

/// The config file parser: any text, as `check --offline --config FILE`, resolves to
/// attachments or to a usage error; neither panics. What resolved is then judged (with no
/// documents) and rendered in every format.
pub fn config(data: &[u8]) {
    let path = scratch_file("config", data);
    let args = check_args(&["--offline".as_ref(), "--config".as_ref(), path.as_os_str()]);
    match aoc_preflight::spec::resolve(aoc_preflight::spec::Sources::of(&args.input)) {
        Ok(inputs) => {
            assert!(
                !inputs.is_empty(),
                "a config resolves to at least one attachment"
            );
            for input in inputs.iter().take(4) {
                judge_and_render(&input.attachment, &Facts::default());
            }
        }
        Err(e) => assert!(
            !e.to_string().is_empty(),
            "a usage error says what is wrong"
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// trust: the role trust policy comparison.

/// Builds the trust policy AoC shows for a principal and external ID (the IBM procedure,
/// step 5), with proper JSON escaping whatever the strings hold.
fn aoc_trust_policy(principal: &str, external_id: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": principal},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": external_id}}
        }]
    })
    .to_string()
}

/// The trust comparison: input is AoC's principal, its external ID and the role's trust
/// policy, in three parts. A role whose trust policy is exactly AoC's passes whenever the
/// values are valid; any other trust policy is judged without panicking, and a failure
/// carries the trust policy to apply.
pub fn trust(data: &[u8]) {
    let Some(parts) = parts(data) else { return };
    let principal = parts.first().copied().unwrap_or_default();
    let external_id = parts.get(1).copied().unwrap_or_default();
    let aoc_text = aoc_trust_policy(principal, external_id);
    let aoc_policy = NamedPolicy {
        label: "aoc-trust.json".into(),
        document: parse_policy(&aoc_text).expect("the AoC trust policy we build parses"),
    };
    let attachment = Attachment {
        region: "us-east-1".into(),
        bucket: "aoc-bucket".into(),
        path: "/".into(),
        kms_key: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
            .into(),
        role_arn: "arn:aws:iam::111122223333:role/aoc-role".into(),
        aoc_trust: AocTrust {
            policy: Some(aoc_policy.clone()),
            external_id: None,
            aoc_principal: None,
        },
        ..Attachment::default()
    };
    let values = Values::from_attachment(&attachment);
    let judge_trust = |role_trust: NamedPolicy| {
        let facts = Facts {
            role_trust_policy: Fact::Known(role_trust),
            ..Facts::default()
        };
        let input = Input {
            attachment: &attachment,
            values: &values,
            facts: &facts,
        };
        let def = checks::find("role.trust").expect("role.trust exists");
        (def.run)(&input)
    };

    // AoC's own policy as the role's trust policy.
    let findings = judge_trust(aoc_policy.clone());
    let valid = values.problems.is_empty()
        && values.aoc_principal.as_deref() == Some(principal)
        && values.external_id.as_deref() == Some(external_id)
        && !principal.contains(['*', '?'])
        && !external_id.contains(['*', '?', '$']);
    if valid {
        let statuses: Vec<Status> = findings.iter().map(|f| f.status).collect();
        assert!(
            findings.iter().all(|f| f.status == Status::Pass),
            "AoC's own trust policy does not pass: {statuses:?} for {aoc_text}"
        );
    }

    // Any other trust policy.
    if let Some(text) = parts.get(2)
        && let Ok(document) = parse_policy(text)
    {
        let findings = judge_trust(NamedPolicy {
            label: "role-trust.json".into(),
            document,
        });
        assert!(!findings.is_empty(), "a check always says something");
        for f in findings.iter().filter(|f| f.status == Status::Fail) {
            if values.problems.is_empty() {
                // The whole trust policy to apply, or (a Deny of its own blocks AoC) why not.
                assert!(!f.fix.is_empty(), "a failing trust policy comes with a fix");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// bundle: a saved facts bundle replayed through every check and every report format.

/// The facts bundle reader and everything downstream of it: `check --facts FILE` loads or
/// refuses the bundle, judges every check and renders every format; the JSON report is JSON.
pub fn bundle(data: &[u8]) {
    let path = scratch_file("bundle", data);
    let args = check_args(&["--facts".as_ref(), path.as_os_str()]);
    match aoc_preflight::run::check(&args, false) {
        Ok(run) => render_all(&FleetReport::new(run.reports)),
        Err(e) => assert!(
            !e.to_string().is_empty(),
            "a usage error says what is wrong"
        ),
    }
}

// ---------------------------------------------------------------------------------------------

/// Judges every check for an attachment and renders the report in every format.
fn judge_and_render(attachment: &Attachment, facts: &Facts) {
    let results =
        aoc_preflight::run::judge(attachment, facts, &[], &[]).expect("the catalog loads");
    assert_eq!(results.len(), checks::ALL.len(), "every check reports");
    let report = report::Report::new("offline", attachment.clone(), results);
    render_all(&FleetReport::new(vec![report]));
}

fn render_all(fleet: &FleetReport) {
    for format in [
        ReportFormat::Text,
        ReportFormat::Json,
        ReportFormat::Junit,
        ReportFormat::Sarif,
        ReportFormat::Markdown,
        ReportFormat::Dot,
    ] {
        let mut out = Vec::new();
        let options = aoc_preflight::report::Options {
            unicode: format == ReportFormat::Text,
            quiet: format == ReportFormat::Markdown,
        };
        aoc_preflight::report::render(format.into(), fleet, &options, &mut out)
            .expect("rendering into memory succeeds");
        let text = String::from_utf8(out).expect("reports are UTF-8");
        if format == ReportFormat::Json {
            serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or_else(|e| panic!("the JSON report is not JSON: {e}"));
        }
    }
}
