//! The `simulate` command: evaluates one request against policy files offline and prints
//! the decision, why, and the statements that matched (like `aws iam
//! simulate-custom-policy`, but with resource policies, boundaries and KMS key policies).
//! With `--requests`, many requests (JSON Lines) against policies loaded once.
//!
//! Owns argument validation (ARNs, `--context` pairs) and the text/JSON rendering; the
//! evaluation itself is [`crate::policy::evaluate`]. Reads the policy files it is given and
//! writes only to the `out` it is handed (the library never prints). The context is strict:
//! a key not given is absent from the request, as AWS treats it, so the answer is certain.

use std::io::Write;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::cli::{SimulateArgs, SimulateFormat};
use crate::error::{UsageError, load_policy, read_input};
use crate::model::facts::OrgPolicies;
use crate::model::org_input::{self, OrgPolicyFile};
use crate::policy::eval::add_organizations;
use crate::policy::eval::{complete_context, is_cross_account, resource_account, strict_resource};
use crate::policy::matching::is_service_principal;
use crate::policy::{
    Context, Decision, Effect, Evaluation, NamedPolicy, PolicySet, Request, evaluate,
};

/// The JSON form of a simulation (`--format json`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimulationReport {
    pub decision: &'static str,
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub resource_account: Option<String>,
    pub cross_account: bool,
    pub explanation: String,
    /// The policies the decision needed and that were not given (`key policy`, `trust
    /// policy`, `resource policy`): the decision is AWS's for a request where they do not
    /// exist or do not allow.
    pub missing_policies: Vec<&'static str>,
    pub matched_statements: Vec<MatchedStatementReport>,
}

#[derive(Debug, Serialize)]
pub struct MatchedStatementReport {
    pub policy: String,
    pub index: usize,
    pub sid: Option<String>,
    pub effect: &'static str,
}

fn effect_str(e: Effect) -> &'static str {
    match e {
        Effect::Allow => "Allow",
        Effect::Deny => "Deny",
    }
}

/// Checks that `value` is an ARN; the error names the flag and the expected format.
fn require_arn(flag: impl std::fmt::Display, value: &str) -> Result<(), UsageError> {
    // The borrowed parse first: a batch checks thousands of ARNs, nearly all good.
    if crate::arn::ArnRef::parse(value).is_some() {
        return Ok(());
    }
    value
        .parse::<crate::arn::Arn>()
        .map(|_| ())
        .map_err(|e| UsageError::new(format!("{flag}: {e}")))
}

/// Actions that take no resource, for which a request's resource is `*` (AWS's Service
/// Authorization Reference lists no resource type for them, and a policy grants them only
/// with `"Resource": "*"`): <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html>,
/// <https://docs.aws.amazon.com/kms/latest/developerguide/kms-api-permissions-reference.html>,
/// <https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html>.
/// A small list of the ones an AoC admin meets, not every such action of every service.
pub const RESOURCELESS_ACTIONS: &[&str] = &[
    "s3:ListAllMyBuckets",
    "kms:CreateKey",
    "kms:GenerateRandom",
    "kms:ListAliases",
    "kms:ListKeys",
    "iam:ListRoles",
    "iam:ListPolicies",
];

/// Checks the request's resource: an ARN, or `*` for an action that takes no resource.
fn require_resource(
    flag: impl std::fmt::Display,
    value: &str,
    action: &str,
) -> Result<(), UsageError> {
    if value != "*" {
        return require_arn(flag, value);
    }
    if RESOURCELESS_ACTIONS
        .iter()
        .any(|a| a.eq_ignore_ascii_case(action))
    {
        return Ok(());
    }
    Err(UsageError::new(format!(
        "{flag}: `*` is only for actions that take no resource ({}); give the ARN of the resource {action} acts on",
        RESOURCELESS_ACTIONS.join(", ")
    )))
}

/// Checks `SERVICE:ACTION` (wildcards are for policies, not requests).
fn require_action(flag: impl std::fmt::Display, value: &str) -> Result<(), UsageError> {
    let ok = match value.split_once(':') {
        Some((service, name)) => {
            !service.is_empty()
                && !name.is_empty()
                && !value.contains(['*', '?', ' '])
                && !value.chars().any(char::is_control)
                && !name.contains(':')
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(UsageError::new(format!(
            "{flag}: `{value}` is not an action (expected SERVICE:ACTION, e.g. s3:GetObject)"
        )))
    }
}

/// Builds the request context from `KEY=VALUE` pairs; a repeated key is multi-valued.
pub fn parse_context(pairs: &[String]) -> Result<Context, UsageError> {
    let mut ctx = Context::strict();
    for pair in pairs {
        match pair.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                ctx.add(key.trim(), value);
            }
            _ => {
                return Err(UsageError::new(format!(
                    "--context: `{pair}` is not KEY=VALUE (e.g. --context sts:ExternalId=abc)"
                )));
            }
        }
    }
    Ok(ctx)
}

/// Validates the arguments and builds the request (no file access).
pub fn build_request(args: &SimulateArgs) -> Result<Request, UsageError> {
    let given = |flag: &str, value: &Option<String>| {
        value
            .clone()
            .ok_or_else(|| UsageError::new(format!("{flag} is required (or --requests FILE)")))
    };
    validated(
        Request {
            principal: given("--principal", &args.principal)?,
            action: given("--action", &args.action)?,
            resource: given("--resource", &args.resource)?,
            resource_account: args.resource_account.clone(),
            context: parse_context(&args.context)?,
        },
        "--",
    )
}

/// Checks a request's principal, action, resource and account; errors name the field as
/// `{prefix}principal` and so on (`--principal` for flags, `principal` for request lines).
fn validated(request: Request, prefix: &str) -> Result<Request, UsageError> {
    // Written only into an error message: a batch validates thousands of good requests.
    let field = |name: &'static str| std::fmt::from_fn(move |f| write!(f, "{prefix}{name}"));
    if !is_service_principal(&request.principal) {
        require_arn(field("principal"), &request.principal)?;
    }
    require_action(field("action"), &request.action)?;
    require_resource(field("resource"), &request.resource, &request.action)?;
    if let Some(acct) = &request.resource_account
        && !crate::arn::is_account_id(acct)
    {
        let field = if prefix == "--" {
            "--resource-account"
        } else {
            "resourceAccount"
        };
        return Err(UsageError::new(format!(
            "{field}: `{acct}` is not an AWS account ID (expected 12 digits)"
        )));
    }
    Ok(request)
}

/// One line of a `--requests` file.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RequestLine {
    principal: String,
    action: String,
    resource: String,
    #[serde(default)]
    resource_account: Option<String>,
    /// Key → a value or a list of values; JSON booleans and numbers are taken as their text,
    /// the way AWS compares them.
    #[serde(default)]
    context: serde_json::Map<String, Value>,
}

/// Reads a `--requests` file (JSON Lines): every line is checked before any is evaluated, so
/// a bad line gives one error (file, line, column) and no partial output. Blank lines are
/// skipped.
pub fn read_requests(path: &Path) -> Result<Vec<Request>, UsageError> {
    let text = read_input(path)?;
    let name = if path.as_os_str() == "-" {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    };
    let mut requests = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        // A byte-order mark from a Windows editor is not part of the first request.
        let line = if i == 0 {
            line.strip_prefix('\u{feff}').unwrap_or(line)
        } else {
            line
        };
        if line.trim().is_empty() {
            continue;
        }
        let at =
            |column: usize, what: String| UsageError(format!("{name}:{number}:{column}: {what}"));
        let parsed: RequestLine = serde_json::from_str(line).map_err(|e| {
            at(
                e.column().max(1),
                format!("not a request: {}", strip_position(&e)),
            )
        })?;
        let mut context = Context::strict();
        for (key, value) in &parsed.context {
            let values = context_values(value).ok_or_else(|| {
                at(
                    1,
                    format!("context key `{key}`: a value must be a string, a number, a boolean or a list of them"),
                )
            })?;
            context.set(key, values);
        }
        let request = Request {
            principal: parsed.principal,
            action: parsed.action,
            resource: parsed.resource,
            resource_account: parsed.resource_account,
            context,
        };
        let mut request = validated(request, "").map_err(|e| at(1, e.0))?;
        complete_context(&mut request);
        requests.push(request);
    }
    if requests.is_empty() {
        return Err(UsageError(format!("{name}: no request in the file")));
    }
    Ok(requests)
}

/// serde_json's message without its trailing " at line L column C" (the caller says where).
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

fn context_values(value: &Value) -> Option<Vec<String>> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match value {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => scalar(other).map(|v| vec![v]),
    }
}

/// Evaluates and renders the report model.
pub fn simulate(
    identity: &[NamedPolicy],
    boundary: Option<&NamedPolicy>,
    resource: Option<&NamedPolicy>,
    request: &Request,
) -> (Evaluation, SimulationReport) {
    simulate_in_organization(identity, boundary, resource, None, request)
}

/// The SCP and RCP files of `--scp` / `--rcp`, read once, and the management account.
#[derive(Debug, Default)]
pub struct OrgFiles {
    pub scps: Vec<OrgPolicyFile>,
    pub rcps: Vec<OrgPolicyFile>,
    pub management_account: Option<String>,
    /// Each file's policy, by path.
    loaded: Vec<(std::path::PathBuf, NamedPolicy)>,
}

impl OrgFiles {
    /// Reads every file once; `None` when none was given.
    pub fn load(
        scps: &[OrgPolicyFile],
        rcps: &[OrgPolicyFile],
        management_account: Option<&str>,
    ) -> Result<Option<Self>, UsageError> {
        if scps.is_empty() && rcps.is_empty() {
            return Ok(None);
        }
        let mut loaded = Vec::new();
        for f in scps.iter().chain(rcps).filter(|f| !f.is_full_aws_access()) {
            if !loaded.iter().any(|(p, _)| *p == f.path) {
                loaded.push((f.path.clone(), load_policy(&f.path)?));
            }
        }
        let files = OrgFiles {
            scps: scps.to_vec(),
            rcps: rcps.to_vec(),
            management_account: management_account.map(str::to_string),
            loaded,
        };
        // The levels are the same for every request: a conflict (two OU paths that are not
        // one) is a usage error now, before any answer.
        let probe = Request {
            principal: "arn:aws:iam::111111111111:root".into(),
            action: "s3:GetObject".into(),
            resource: "arn:aws:s3:::b".into(),
            resource_account: Some("111111111111".into()),
            context: Context::strict(),
        };
        files.organizations(&probe)?;
        Ok(Some(files))
    }

    /// The SCPs as they bear on the principal's account and the RCPs on the resource's: the
    /// levels given lead to each in turn.
    fn organizations(&self, request: &Request) -> Result<Vec<OrgPolicies>, UsageError> {
        let load = |path: &Path| {
            self.loaded
                .iter()
                .find(|(p, _)| p == path)
                .map(|(_, policy)| policy.clone())
                .ok_or_else(|| UsageError::new(format!("{} was not read", path.display())))
        };
        let management = self.management_account.as_deref();
        let mut out = Vec::new();
        if let Some(account) = crate::arn::account_in(&request.principal)
            && !self.scps.is_empty()
            && let Some(mut org) = org_input::organization(
                account,
                management,
                &self.scps,
                &[],
                load,
                UsageError::new,
            )?
        {
            org.rcps_enabled = false;
            out.push(org);
        }
        if let Some(account) = resource_account(request)
            && !self.rcps.is_empty()
            && let Some(mut org) = org_input::organization(
                &account,
                management,
                &[],
                &self.rcps,
                load,
                UsageError::new,
            )?
        {
            org.scps_enabled = false;
            out.push(org);
        }
        Ok(out)
    }
}

/// [`simulate`], with the organization's SCPs and RCPs in the decision.
pub fn simulate_in_organization(
    identity: &[NamedPolicy],
    boundary: Option<&NamedPolicy>,
    resource: Option<&NamedPolicy>,
    org: Option<&OrgFiles>,
    request: &Request,
) -> (Evaluation, SimulationReport) {
    let set = PolicySet {
        identity,
        boundary,
        resource,
    };
    let mut evaluation = evaluate(&set, request);
    let missing_policies = require_resource_policy(resource, request, &mut evaluation);
    // The files were read and checked before any request: building the levels cannot fail.
    let orgs = org
        .map(|o| o.organizations(request).unwrap_or_default())
        .unwrap_or_default();
    if !orgs.is_empty() {
        let engine: Vec<_> = orgs
            .iter()
            .map(|o| crate::checks::org_policies::organization(o, None, None))
            .collect();
        let refs: Vec<_> = engine.iter().collect();
        evaluation = add_organizations(evaluation, &refs, request);
    }
    let report = SimulationReport {
        decision: evaluation.decision().as_str(),
        principal: request.principal.clone(),
        action: request.action.clone(),
        resource: request.resource.clone(),
        resource_account: resource_account(request),
        cross_account: is_cross_account(request),
        explanation: evaluation.explanation.clone(),
        missing_policies,
        matched_statements: evaluation
            .matched
            .iter()
            .map(|m| MatchedStatementReport {
                policy: m.policy.clone(),
                index: m.index,
                sid: m.sid.clone(),
                effect: effect_str(m.effect),
            })
            .collect(),
    };
    (evaluation, report)
}

/// AWS's answer when the resource's own policy was not given. `simulate` answers for the
/// request as AWS would see it, so a policy not given does not exist:
/// - a KMS key: "Unless the key policy explicitly allows it, you cannot use IAM policies to
///   allow access to a KMS key" (KMS Developer Guide, "Key policies",
///   <https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html>); likewise a
///   role is assumed only if its trust policy allows the caller ("Policy evaluation logic",
///   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>);
/// - across accounts the resource policy must also allow ("Cross-account policy evaluation
///   logic", <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html>).
///
/// The engine itself judges the identity side alone when no key policy is given (the checks
/// combine the key policy themselves), so the rule is applied here, for `simulate` only.
/// Returns the policies that were missing; an explicit deny stays an explicit deny.
fn require_resource_policy(
    resource: Option<&NamedPolicy>,
    request: &Request,
    evaluation: &mut Evaluation,
) -> Vec<&'static str> {
    if resource.is_some() {
        return Vec::new();
    }
    if let Some(kind) = strict_resource(request) {
        let account = crate::arn::account_in(&request.principal).unwrap_or("ACCOUNT");
        let rule = if kind == "key policy" {
            format!(
                "KMS allows nothing unless the key policy allows it, naming {} or delegating to IAM via arn:aws:iam::{account}:root; identity policies alone grant nothing",
                request.principal
            )
        } else {
            format!(
                "a role can be assumed only if its trust policy allows {}",
                request.principal
            )
        };
        if evaluation.worst != Decision::ExplicitDeny {
            let identity = identity_side(&evaluation.explanation, kind);
            evaluation.best = Decision::ImplicitDeny;
            evaluation.worst = Decision::ImplicitDeny;
            evaluation.explanation =
                format!("no {kind} given (--resource-policy): {rule}; identity side: {identity}");
        }
        return vec![kind];
    }
    if is_cross_account(request) {
        // The engine already answers implicitDeny and says why.
        return vec!["resource policy"];
    }
    Vec::new()
}

/// The engine's explanation without its note on the unchecked key or trust policy
/// ("; no key policy given: … which was not checked").
fn identity_side(explanation: &str, kind: &str) -> String {
    const END: &str = "which was not checked";
    let start = format!("; no {kind} given");
    match (explanation.find(&start), explanation.find(END)) {
        (Some(from), Some(to)) if to > from => {
            format!("{}{}", &explanation[..from], &explanation[to + END.len()..])
        }
        _ => explanation.to_string(),
    }
}

/// A closed pipe (`aoc-preflight simulate ... | head`) is not an error; any other write
/// failure is reported as unusable output.
fn written(result: std::io::Result<()>) -> Result<(), UsageError> {
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(UsageError::new(format!(
            "cannot write the output: {}",
            crate::error::io_reason(&e)
        ))),
    }
}

/// Runs `simulate`: validates, loads the policies, evaluates, writes the answer to `out`.
/// Every decision is a successful run (exit 0); only bad usage or unusable input is an
/// error.
pub fn run(args: &SimulateArgs, out: &mut dyn Write) -> Result<(), UsageError> {
    let requests = match &args.requests {
        Some(path) => Some(read_requests(path)?),
        None => None,
    };
    let request = match &requests {
        Some(_) => None,
        None => Some(build_request(args)?),
    };
    let identity: Vec<NamedPolicy> = args
        .policies
        .iter()
        .map(|p| load_policy(p))
        .collect::<Result<_, _>>()?;
    let boundary = args
        .permissions_boundary
        .as_deref()
        .map(load_policy)
        .transpose()?;
    let resource = args
        .resource_policy
        .as_deref()
        .map(load_policy)
        .transpose()?;
    if let Some(account) = args
        .org_management_account
        .as_deref()
        .filter(|a| !crate::arn::is_account_id(a))
    {
        return Err(UsageError::new(format!(
            "--org-management-account: `{account}` is not a 12-digit AWS account ID"
        )));
    }
    let org = OrgFiles::load(
        &args.scps,
        &args.rcps,
        args.org_management_account.as_deref(),
    )?;
    if let Some(requests) = requests {
        return written(write_batch(
            &identity,
            boundary.as_ref(),
            resource.as_ref(),
            org.as_ref(),
            &requests,
            args.format,
            out,
        ));
    }
    let Some(request) = request else {
        return Ok(());
    };
    let (_, report) = simulate_in_organization(
        &identity,
        boundary.as_ref(),
        resource.as_ref(),
        org.as_ref(),
        &request,
    );
    match args.format {
        SimulateFormat::Json => {
            let text = serde_json::to_string_pretty(&report)
                .map_err(|e| UsageError::new(format!("cannot render JSON: {e}")))?;
            written(writeln!(out, "{text}"))?;
        }
        SimulateFormat::Text => written(write_text(&report, out))?,
    }
    Ok(())
}

/// One answer per request: JSON Lines, or a tab-separated table with a header.
fn write_batch(
    identity: &[NamedPolicy],
    boundary: Option<&NamedPolicy>,
    resource: Option<&NamedPolicy>,
    org: Option<&OrgFiles>,
    requests: &[Request],
    format: SimulateFormat,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(out);
    if format == SimulateFormat::Text {
        writeln!(out, "decision\tprincipal\taction\tresource\twhy")?;
    }
    for request in requests {
        let (_, report) = simulate_in_organization(identity, boundary, resource, org, request);
        match format {
            SimulateFormat::Json => {
                serde_json::to_writer(&mut out, &report)?;
                writeln!(out)?;
            }
            // Values cannot hold a tab or a line break: ARNs and actions refuse white space,
            // and the explanation is built from them.
            SimulateFormat::Text => writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}",
                report.decision,
                report.principal,
                report.action,
                report.resource,
                report.explanation
            )?,
        }
    }
    out.flush()
}

/// The text form: decision first, then the request, why, and the statements.
pub fn write_text(report: &SimulationReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "Decision:  {}", report.decision)?;
    writeln!(out, "Principal: {}", report.principal)?;
    writeln!(out, "Action:    {}", report.action)?;
    writeln!(out, "Resource:  {}", report.resource)?;
    let account = report.resource_account.as_deref().unwrap_or("unknown");
    let scope = if report.cross_account {
        "cross-account"
    } else {
        "same account"
    };
    writeln!(out, "Account:   {account} ({scope})")?;
    writeln!(out, "Why:       {}", report.explanation)?;
    if !report.missing_policies.is_empty() {
        writeln!(
            out,
            "Missing:   {} (not given; the decision is AWS's without it)",
            report.missing_policies.join(", ")
        )?;
    }
    if report.matched_statements.is_empty() {
        writeln!(out, "Matched statements: none")?;
    } else {
        writeln!(out, "Matched statements:")?;
        for m in &report.matched_statements {
            let sid = match &m.sid {
                Some(s) if !s.is_empty() => format!(" (Sid {s:?})"),
                _ => String::new(),
            };
            writeln!(
                out,
                "  - {} statement {}{sid}: {}",
                m.policy, m.index, m.effect
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn args(dir: &std::path::Path) -> SimulateArgs {
        SimulateArgs {
            policies: vec![dir.join("id.json")],
            permissions_boundary: None,
            resource_policy: None,
            scps: vec![],
            rcps: vec![],
            org_management_account: None,
            principal: Some("arn:aws:iam::111122223333:role/app".into()),
            action: Some("s3:GetObject".into()),
            resource: Some("arn:aws:s3:::b/k".into()),
            resource_account: None,
            context: vec![],
            requests: None,
            format: SimulateFormat::Json,
        }
    }

    fn tempdir_with_policy() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("id.json"),
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
        )
        .expect("write");
        dir
    }

    #[test]
    fn json_output() {
        let dir = tempdir_with_policy();
        let mut out = Vec::new();
        run(&args(dir.path()), &mut out).expect("runs");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(v["decision"], "allowed");
        assert_eq!(v["crossAccount"], false);
        assert_eq!(v["resourceAccount"], "111122223333");
        assert_eq!(v["matchedStatements"][0]["sid"], "Read");
        assert_eq!(v["matchedStatements"][0]["index"], 0);
        assert_eq!(v["matchedStatements"][0]["effect"], "Allow");
        assert!(
            v["explanation"]
                .as_str()
                .unwrap_or("")
                .contains("statement 0")
        );
    }

    #[test]
    fn text_output() {
        let dir = tempdir_with_policy();
        let mut a = args(dir.path());
        a.format = SimulateFormat::Text;
        a.action = Some("s3:PutObject".into());
        let mut out = Vec::new();
        run(&a, &mut out).expect("runs");
        let text = String::from_utf8(out).expect("utf8");
        assert!(text.starts_with("Decision:  implicitDeny\n"), "{text}");
        assert!(text.contains("(same account)"), "{text}");
        assert!(text.contains("Matched statements: none"), "{text}");
    }

    #[test]
    fn usage_errors() {
        let dir = tempdir_with_policy();
        let mut a = args(dir.path());
        a.principal = Some("role/app".into());
        let e = run(&a, &mut Vec::new()).expect_err("bad principal");
        assert_eq!(
            e.0,
            "--principal: `role/app` is not an ARN (expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)"
        );
        let mut a = args(dir.path());
        a.principal = Some("s3.amazonaws.com".into());
        assert!(run(&a, &mut Vec::new()).is_ok());
        let mut a = args(dir.path());
        a.resource = Some("b/k".into());
        assert!(
            run(&a, &mut Vec::new())
                .expect_err("bad resource")
                .0
                .starts_with("--resource: ")
        );
        let mut a = args(dir.path());
        a.action = Some("GetObject".into());
        assert!(
            run(&a, &mut Vec::new())
                .expect_err("bad action")
                .0
                .starts_with("--action: ")
        );
        let mut a = args(dir.path());
        a.context = vec!["novalue".into()];
        assert!(
            run(&a, &mut Vec::new())
                .expect_err("bad context")
                .0
                .starts_with("--context: ")
        );
        let mut a = args(dir.path());
        a.resource_account = Some("12".into());
        assert!(run(&a, &mut Vec::new()).is_err());
        let mut a = args(dir.path());
        a.policies = vec![PathBuf::from("/nonexistent/p.json")];
        let e = run(&a, &mut Vec::new()).expect_err("missing file");
        assert!(e.0.contains("/nonexistent/p.json"), "{}", e.0);
    }

    #[test]
    fn context_pairs() {
        let ctx =
            parse_context(&["k=a".into(), "K=b".into(), "x==y".into(), "e=".into()]).expect("ok");
        assert_eq!(
            ctx.get("k"),
            crate::policy::KeyState::Present(&["a".to_string(), "b".to_string()])
        );
        assert_eq!(
            ctx.get("x"),
            crate::policy::KeyState::Present(&["=y".to_string()])
        );
        assert_eq!(
            ctx.get("e"),
            crate::policy::KeyState::Present(&[String::new()])
        );
        assert!(parse_context(&["=v".into()]).is_err());
    }
}
