//! `role.s3-access`: the role's effective identity permissions (inline and managed policies,
//! limited by its permissions boundary) allow every S3 action AoC needs, on the bucket ARN or
//! on the objects under the path. A same-account bucket policy that grants the role directly
//! also counts; a bucket policy's denies are `bucket.policy`'s business.

use std::collections::BTreeMap;

use super::FixStep;
use super::policy_help::{
    Misspelling, PolicyHome, allowing, allows_of_action, conditional_clause, conditional_parts,
    describe, describe_matched, misspellings, new_inline_policy_fix, policy_document,
    replace_policy_fix, resources_text, statements_by_resource, with_actions_corrected,
};
use super::{CheckDef, Finding, Input, Status};
use crate::model::aoc::S3Target;
use crate::policy::{Decision, NamedPolicy, PolicySet, evaluate};

pub const DEF: CheckDef = CheckDef {
    id: "role.s3-access",
    reasons: &[
        "all-allowed",
        "missing-action",
        "denied",
        "boundary-omits",
        "conditional",
        "misspelled-action",
        "no-such-bucket",
        "similar-bucket",
    ],
    run,
};

fn run(input: &Input<'_>) -> Vec<Finding> {
    let Some(target) = S3Target::from_gathered(input.values, input.facts) else {
        return vec![Finding::skip_needs(
            "a well-formed region, bucket, path and role ARN",
        )];
    };
    // S3 said the bucket does not exist: a grant on that name would fix nothing (the name is
    // probably mistyped), so no verdict and no policy for it; bucket.reachable says what to do.
    if input
        .facts
        .bucket_head
        .known()
        .is_some_and(|head| head.status == 404)
    {
        return vec![Finding::new(Status::Skip, "no-such-bucket").var("bucket", target.bucket)];
    }
    let (identity, boundary) = match super::policy_help::role_policies(input.facts) {
        Ok(policies) => policies,
        Err(findings) => return findings,
    };
    // A bucket policy naming the role grants by itself within one account.
    let bucket_policy: Option<&NamedPolicy> =
        input.facts.bucket_policy.known().and_then(|p| p.as_ref());

    let set = PolicySet {
        identity,
        boundary,
        resource: None,
    };
    let wanted: Vec<String> = target.required().into_iter().map(|(a, _)| a).collect();
    let wanted_refs: Vec<&str> = wanted.iter().map(String::as_str).collect();
    let typos = misspellings(identity.iter().chain(boundary), &wanted_refs);

    let mut findings = Vec::new();
    let mut granted_by = Vec::new();
    let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut outside_boundary: BTreeMap<String, Vec<String>> = BTreeMap::new();

    for (action, resource) in target.required() {
        let request = target.request(&action, &resource, input.values);
        let ev = evaluate(&set, &request);
        if ev.worst == Decision::Allowed {
            granted_by.push(format!(
                "{action} on {resource}: allowed by {}",
                allowing(&ev.matched)
            ));
            continue;
        }
        if let Some(bp) = bucket_policy {
            let direct = evaluate(
                &PolicySet {
                    identity: &[],
                    boundary,
                    resource: Some(bp),
                },
                &request,
            );
            if direct.worst == Decision::Allowed {
                granted_by.push(format!(
                    "{action} on {resource}: allowed by the bucket policy, {}",
                    allowing(&direct.matched)
                ));
                continue;
            }
        }
        if ev.best == Decision::Allowed {
            findings.push(
                Finding::warn("conditional")
                    .var("action", &action)
                    .var("resource", &resource)
                    .var("conditions", conditional_clause(&ev))
                    .evidence_lines(
                        conditional_parts(&ev)
                            .into_iter()
                            .map(|part| format!("{action} on {resource}: {part}")),
                    ),
            );
            continue;
        }
        if ev.best == Decision::ExplicitDeny {
            let denies: Vec<String> = ev
                .matched
                .iter()
                .filter(|m| m.effect == crate::policy::Effect::Deny)
                .map(describe_matched)
                .collect();
            findings.push(
                Finding::fail("denied")
                    .var("action", &action)
                    .var("resource", &resource)
                    .var("statement", denies.join("; "))
                    .evidence(format!(
                        "{action} on {resource} is explicitly denied by {}",
                        denies.join("; ")
                    )),
            );
            continue;
        }
        // Not allowed: say why, as precisely as the documents allow.
        if let Some(f) = super::policy_help::boundary_omits(identity, boundary, &request) {
            findings.push(f);
            outside_boundary
                .entry(resource.clone())
                .or_default()
                .push(action.clone());
            continue;
        }
        let mut f = Finding::fail("missing-action")
            .var("action", &action)
            .var("resource", &resource)
            .evidence(format!(
                "no statement of the role's policies allows {action} on {resource} for AoC's requests"
            ));
        f = f.evidence_lines(super::policy_help::unmet_conditions(identity, &request));
        for (p, st) in allows_of_action(identity.iter(), &action) {
            f = f.evidence(format!(
                "{} allows {action} only on {}",
                describe(&p.label, st.index, st.sid.as_deref()),
                resources_text(st)
            ));
        }
        for t in typos
            .iter()
            .filter(|t| t.meant.eq_ignore_ascii_case(&action))
        {
            f = f.evidence(format!(
                "{} lists `{}`, which is not an S3 action and grants nothing (did you mean `{}`?)",
                t.statement, t.written, t.meant
            ));
        }
        findings.push(f);
        missing.entry(resource).or_default().push(action);
    }

    // A grant on a bucket one or two letters from the one entered: either the policy or the
    // name entered in AoC has a typo, and only the admin knows which.
    if !missing.is_empty() {
        for (named, statement) in similar_buckets(identity, target.bucket) {
            findings.push(
                Finding::warn("similar-bucket")
                    .var("named", &named)
                    .var("bucket", target.bucket)
                    .evidence(format!(
                        "{statement} grants on the bucket {named}, not on {}",
                        target.bucket
                    )),
            );
        }
    }

    for t in &typos {
        let mut f = Finding::warn("misspelled-action")
            .var("written", &t.written)
            .var("meant", &t.meant);
        // Where the missing action's evidence already shows the typo, once is enough.
        if !missing
            .values()
            .flatten()
            .any(|a| a.eq_ignore_ascii_case(&t.meant))
        {
            f = f.evidence(format!(
                "{} lists `{}`; the action is `{}`",
                t.statement, t.written, t.meant
            ));
        }
        findings.push(f);
    }

    if !missing.is_empty() {
        let mut fix = grant_fix(&target, input, identity, boundary, &typos, &missing);
        // The policies grant under a folder of the bucket: maybe AoC's path is what is wrong.
        if let Some(folder) = granted_folder(identity, &target, &missing) {
            fix.insert(
                0,
                FixStep::note(format!(
                    "The role's policies grant these under `{folder}` of the bucket: if AoC is meant to use only that folder, set the path in AoC to /{} instead of widening the grant below.",
                    folder.trim_end_matches('/')
                )),
            );
        }
        if let Some(first) = findings.iter_mut().find(|f| f.reason == "missing-action") {
            first.fix = fix;
        }
    }

    // The boundary is the layer that decides these: it gets the grant, given whole.
    if let Some(b) = boundary.filter(|_| !outside_boundary.is_empty()) {
        let statements = statements_by_resource("AocS3Access", Some(b), &outside_boundary);
        let whole = super::policy_help::merged(b, statements);
        if let Some(fix) = replace_policy_fix(target.role.resource_name(), b, whole)
            && let Some(first) = findings.iter_mut().find(|f| f.reason == "boundary-omits")
        {
            first.fix = fix;
        }
    }

    if findings.is_empty() {
        findings.push(
            Finding::pass("all-allowed")
                .var("bucket_arn", target.bucket_arn())
                .var("object_arn", target.object_arn())
                .evidence_lines(granted_by),
        );
    }
    findings
}

/// The fix for missing grants. Where the admin's own statement is broken (a misspelled action,
/// the action granted on another resource), the policy holding it is corrected and given whole,
/// so replacing it drops nothing; otherwise a new inline policy under a name the role does not
/// use. Only what is still missing after the correction is added.
fn grant_fix(
    target: &S3Target<'_>,
    input: &Input<'_>,
    identity: &[NamedPolicy],
    boundary: Option<&NamedPolicy>,
    typos: &[Misspelling],
    missing: &BTreeMap<String, Vec<String>>,
) -> Vec<FixStep> {
    let role_name = target.role.resource_name();
    let missing_actions: Vec<&String> = missing.values().flatten().collect();
    let changeable =
        |p: &&NamedPolicy| !matches!(PolicyHome::of(&p.label), PolicyHome::AwsManaged(_));
    // A grant scoped by a condition AoC's requests do not meet: that statement, with AoC's
    // value added, rather than a second grant without the condition.
    let requests: Vec<crate::policy::Request> = missing
        .iter()
        .flat_map(|(resource, actions)| {
            actions
                .iter()
                .map(move |a| target.request(a, resource, input.values))
        })
        .collect();
    for p in identity.iter().filter(changeable) {
        if let Some(fixed) = super::policy_help::with_conditions_met(p, &requests)
            && let Some(fix) =
                replace_policy_fix(role_name, p, crate::policy::to_json(&fixed.document))
        {
            return fix;
        }
    }
    let broken_in: Option<&NamedPolicy> = typos
        .iter()
        .filter(|t| {
            missing_actions
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&t.meant))
        })
        .find_map(|t| identity.iter().find(|p| p.label == t.policy))
        .filter(changeable)
        .or_else(|| {
            missing_actions
                .iter()
                .flat_map(|a| allows_of_action(identity.iter(), a))
                .map(|(p, _)| p)
                .find(changeable)
        })
        .or_else(|| {
            identity
                .iter()
                .find(|p| PolicyHome::of(&p.label) == PolicyHome::Inline(NEW_POLICY_NAME))
        });

    let corrected = broken_in.map(|p| with_actions_corrected(p, typos));
    let after: Vec<NamedPolicy> = identity
        .iter()
        .map(|p| match &corrected {
            Some(c) if c.label == p.label => c.clone(),
            _ => p.clone(),
        })
        .collect();
    let set = PolicySet {
        identity: &after,
        boundary,
        resource: None,
    };
    let mut still: BTreeMap<&String, Vec<String>> = BTreeMap::new();
    for (resource, actions) in missing {
        for action in actions {
            let request = target.request(action, resource, input.values);
            if evaluate(&set, &request).worst != Decision::Allowed {
                still.entry(resource).or_default().push(action.clone());
            }
        }
    }
    let statements = statements_by_resource("AocS3Access", corrected.as_ref(), &still);

    if let (Some(c), Some(original)) = (&corrected, broken_in) {
        let mut whole = crate::policy::to_json(&c.document);
        if let Some(list) = whole.get_mut("Statement").and_then(|s| s.as_array_mut()) {
            list.extend(statements.iter().cloned());
        }
        if let Some(fix) = replace_policy_fix(role_name, original, whole) {
            return fix;
        }
    }
    new_inline_policy_fix(
        role_name,
        identity,
        NEW_POLICY_NAME,
        "Policy to add",
        policy_document(statements),
    )
}

/// Buckets the role's policies name that are one or two edits from `bucket` (not `bucket`
/// itself), with the statement naming each.
fn similar_buckets(identity: &[NamedPolicy], bucket: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for p in identity {
        for st in &p.document.statements {
            let Some(crate::policy::ResourceSpec::Resource(list)) = &st.resource else {
                continue;
            };
            for r in list {
                let Some(rest) = r.split(":::").nth(1) else {
                    continue;
                };
                let name = rest.split('/').next().unwrap_or_default();
                if name.is_empty()
                    || name == bucket
                    || name.contains(['*', '?', '$'])
                    || out.iter().any(|(n, _)| n == name)
                {
                    continue;
                }
                if (1..=2).contains(&strsim::levenshtein(name, bucket)) {
                    out.push((
                        name.to_string(),
                        describe(&p.label, st.index, st.sid.as_deref()),
                    ));
                }
            }
        }
    }
    out
}

/// A folder of the bucket, below AoC's path, on which the role's policies grant the missing
/// object actions (`data/` for a grant on `arn:aws:s3:::b/data/*` when AoC's path is `/`).
fn granted_folder(
    identity: &[NamedPolicy],
    target: &S3Target<'_>,
    missing: &BTreeMap<String, Vec<String>>,
) -> Option<String> {
    let objects = target.object_arn();
    let under = objects.strip_suffix('*')?;
    let actions = missing.get(&objects)?;
    actions.iter().find_map(|action| {
        allows_of_action(identity.iter(), action)
            .into_iter()
            .find_map(|(_, st)| match &st.resource {
                Some(crate::policy::ResourceSpec::Resource(list)) => list.iter().find_map(|r| {
                    let folder = r.strip_prefix(under)?.strip_suffix('*')?;
                    (folder.ends_with('/') && !folder.contains(['*', '?', '$']))
                        .then(|| format!("{}{folder}", target.prefix))
                }),
                _ => None,
            })
    })
}

/// The name the tool gives a new inline policy with the role's S3 grants.
const NEW_POLICY_NAME: &str = "aoc-s3-access";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::facts::{Fact, Facts};
    use crate::model::verdict::Status;

    const SEED_S3_POLICY: &str = r#"{
      "Version": "2012-10-17",
      "Statement": [
        {"Sid": "Objects", "Effect": "Allow",
         "Action": ["s3:AbortMultipartUpload","s3:DeleteObject","s3:ListMultipartUploadParts","s3:PutObject","s3:GetObject"],
         "Resource": ["arn:aws:s3:::aspera-kms/*"]},
        {"Sid": "Bucket", "Effect": "Allow",
         "Action": ["s3:GetBucketLocation","s3:ListBucket","s3:ListBucketMultipartUploads"],
         "Resource": ["arn:aws:s3:::aspera-kms"]}
      ]}"#;

    fn facts(identity: &[&str]) -> Facts {
        Facts {
            identity_policies: Fact::Known(
                identity
                    .iter()
                    .enumerate()
                    .map(|(i, j)| policy(&format!("policy{i}.json"), j))
                    .collect(),
            ),
            permissions_boundary: Fact::Known(None),
            ..Facts::default()
        }
    }

    #[test]
    fn seed_policy_passes() {
        let f = run_check(&DEF, &attachment(), &facts(&[SEED_S3_POLICY]));
        assert_eq!(status(&f), Status::Pass, "{}", text(&f));
    }

    #[test]
    fn misspelled_multipart_action_fails_and_names_it() {
        let p = SEED_S3_POLICY.replace(
            "s3:ListBucketMultipartUploads",
            "s3:ListBucketMultipartUpload",
        );
        let f = run_check(&DEF, &attachment(), &facts(&[&p]));
        assert_eq!(status(&f), Status::Fail);
        let t = text(&f);
        assert!(t.contains("s3:ListBucketMultipartUpload`"), "{t}");
        assert!(
            t.contains("did you mean `s3:ListBucketMultipartUploads`"),
            "{t}"
        );
        assert!(f.iter().any(|f| f.reason == "misspelled-action"));
    }

    #[test]
    fn object_actions_on_bucket_arn_only_fail() {
        let p = SEED_S3_POLICY.replace("arn:aws:s3:::aspera-kms/*", "arn:aws:s3:::aspera-kms");
        let f = run_check(&DEF, &attachment(), &facts(&[&p]));
        assert_eq!(status(&f), Status::Fail);
        let t = text(&f);
        assert!(t.contains("s3:PutObject"), "{t}");
        assert!(
            t.contains("allows s3:PutObject only on arn:aws:s3:::aspera-kms"),
            "{t}"
        );
        // The fix grants on the objects, with the real bucket, in the file that holds the
        // statement on the wrong resource (given whole).
        assert!(t.contains("\"arn:aws:s3:::aspera-kms/*\""), "{t}");
        assert!(
            t.contains("The whole file, corrected; every statement it had is kept (policy0.json)"),
            "{t}"
        );
    }

    /// The role's identity policies with `fix` applied as an admin would paste it.
    fn apply(
        identity: &[NamedPolicy],
        fix: &crate::model::verdict::FixDocument,
    ) -> Vec<NamedPolicy> {
        let doc = crate::policy::parse_policy(&fix.document.to_string()).unwrap();
        let label = match fix.applies_to {
            "identity-policy" => format!("inline policy {}", fix.policy_name.as_ref().unwrap()),
            "managed-policy-version" => {
                format!("managed policy {}", fix.policy_arn.as_ref().unwrap())
            }
            "policy-file" => fix.file.clone().unwrap(),
            other => panic!("not an identity fix: {other}"),
        };
        let mut out: Vec<NamedPolicy> = identity
            .iter()
            .filter(|p| p.label != label)
            .cloned()
            .collect();
        out.push(NamedPolicy {
            label,
            document: doc,
        });
        out
    }

    /// Applies `fix` to the role's policies in `facts` and expects the check to pass then.
    fn assert_fix_passes(facts: &Facts, fix: &crate::model::verdict::FixDocument) {
        let identity = facts.identity_policies.known().unwrap();
        let after = Facts {
            identity_policies: Fact::Known(apply(identity, fix)),
            ..live_facts(&[])
        };
        let f = run_check(&DEF, &attachment(), &after);
        assert_eq!(status(&f), Status::Pass, "{}", text(&f));
    }

    fn live_facts(policies: &[(&str, &str)]) -> Facts {
        Facts {
            identity_policies: Fact::Known(
                policies
                    .iter()
                    .map(|(label, json)| policy(label, json))
                    .collect(),
            ),
            permissions_boundary: Fact::Known(None),
            ..Facts::default()
        }
    }

    /// Every statement of `before` is still in `after`, as written.
    fn keeps_every_statement(before: &NamedPolicy, after: &serde_json::Value) {
        let old = crate::policy::to_json(&before.document);
        for st in old["Statement"].as_array().unwrap() {
            assert!(
                after["Statement"].as_array().unwrap().contains(st),
                "the fix drops {st} from {}",
                before.label
            );
        }
    }

    #[test]
    fn issue11_d11_fix_for_an_existing_inline_policy_carries_the_whole_document() {
        // The S3 grants sit in `aoc-s3-access` (the name the tool proposes) and one action is
        // missing: pasting a fragment under that name would drop every other grant.
        let p = SEED_S3_POLICY.replace("\"s3:ListBucketMultipartUploads\"", "\"s3:ListBucket\"");
        let facts = live_facts(&[
            ("inline policy aoc-s3-access", &p),
            (
                "inline policy other",
                r#"{"Statement": {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}}"#,
            ),
        ]);
        let f = run_check(&DEF, &attachment(), &facts);
        assert_eq!(status(&f), Status::Fail);
        let fix = fix_document(&f);
        assert_eq!(fix.applies_to, "identity-policy");
        assert_eq!(fix.policy_name.as_deref(), Some("aoc-s3-access"));
        let identity = facts.identity_policies.known().unwrap();
        keeps_every_statement(&identity[0], &fix.document);
        let t = text(&f);
        assert!(
            t.contains("put-role-policy --role-name aoc-access --policy-name aoc-s3-access"),
            "{t}"
        );
        // Applied, it leaves nothing missing.
        assert_fix_passes(&facts, &fix);
    }

    #[test]
    fn issue11_d11_a_new_inline_policy_gets_an_unused_name() {
        // An AWS managed policy cannot be changed, and the role already has a file named like
        // the tool's policy: the new policy must not reuse that name.
        let facts = live_facts(&[
            (
                "aoc-s3-access.json",
                r#"{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}}"#,
            ),
            (
                "managed policy arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
                r#"{"Statement": {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}}"#,
            ),
        ]);
        let f = run_check(&DEF, &attachment(), &facts);
        let fix = fix_document(&f);
        assert_eq!(fix.applies_to, "identity-policy");
        assert_eq!(
            fix.policy_name.as_deref(),
            Some("aoc-s3-access-2"),
            "{}",
            text(&f)
        );
        assert_fix_passes(&facts, &fix);
    }

    #[test]
    fn issue11_d10_a_broken_statement_in_a_managed_policy_gets_a_new_version_of_it() {
        let arn = "arn:aws:iam::111122223333:policy/aoc-s3";
        let broken = SEED_S3_POLICY.replace(
            "\"s3:ListBucketMultipartUploads\"",
            "\"s3:ListBucketMultipartUpload\"",
        );
        let facts = live_facts(&[(&format!("managed policy {arn}"), &broken)]);
        let f = run_check(&DEF, &attachment(), &facts);
        let fix = fix_document(&f);
        assert_eq!(fix.applies_to, "managed-policy-version");
        assert_eq!(fix.policy_arn.as_deref(), Some(arn));
        let t = text(&f);
        assert!(
            t.contains(&format!("aws iam create-policy-version --policy-arn {arn}"))
                && t.contains("--set-as-default"),
            "{t}"
        );
        assert!(t.contains("at most five versions"), "{t}");
        assert!(!t.contains("put-role-policy"), "{t}");
        // The misspelled action is corrected in place, nothing else is added.
        let statements = fix.document["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 2, "{}", fix.document);
        assert!(
            fix.document
                .to_string()
                .contains("\"s3:ListBucketMultipartUploads\"")
        );
        assert!(
            !fix.document
                .to_string()
                .contains("\"s3:ListBucketMultipartUpload\"")
        );
        assert_fix_passes(&facts, &fix);
    }

    #[test]
    fn issue11_d10_missing_grants_read_as_one_line_per_resource() {
        // Only the bucket actions are granted: five object actions are missing.
        let p = r#"{"Statement": {"Effect": "Allow", "Action": ["s3:GetBucketLocation","s3:ListBucket","s3:ListBucketMultipartUploads"], "Resource": "arn:aws:s3:::aspera-kms"}}"#;
        let f = run_check(&DEF, &attachment(), &facts(&[p]));
        let catalog = crate::catalog::get().unwrap();
        let result = crate::checks::results::check_result(catalog, &DEF, &f);
        assert!(!result.summary.contains("more)"), "{}", result.summary);
        assert!(
            result.summary.contains("s3:PutObject")
                && result.summary.contains("s3:ListMultipartUploadParts"),
            "{}",
            result.summary
        );
        let remediation = result.remediation.unwrap();
        assert_eq!(
            remediation.matches("in one of the role's policies").count(),
            1,
            "{remediation}"
        );
    }

    #[test]
    fn issue11_d4_a_conditional_deny_is_reported_as_a_deny() {
        let deny = r#"{"Statement": [{"Sid": "OnlyFromOffice", "Effect": "Deny", "Action": "s3:*", "Resource": "*",
            "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24"]}}}]}"#;
        let f = run_check(&DEF, &attachment(), &facts(&[SEED_S3_POLICY, deny]));
        assert_eq!(status(&f), Status::Warn, "{}", text(&f));
        let t = text(&f);
        assert!(
            t.contains("denied by statement 0 (Sid `OnlyFromOffice`) of policy1.json when NotIpAddress aws:SourceIp"),
            "{t}"
        );
        assert!(!t.contains("allowed only if"), "{t}");
        assert!(!t.contains("only if NotIpAddress"), "{t}");
    }

    #[test]
    fn policy_scoped_to_another_path_fails() {
        let mut a = attachment();
        a.path = "/data".into();
        let p = SEED_S3_POLICY.replace("aspera-kms/*", "aspera-kms/other/*");
        let f = run_check(&DEF, &a, &facts(&[&p]));
        assert_eq!(status(&f), Status::Fail);
        let t = text(&f);
        assert!(t.contains("arn:aws:s3:::aspera-kms/data/*"), "{t}");
        assert!(t.contains("only on arn:aws:s3:::aspera-kms/other/*"), "{t}");
    }

    #[test]
    fn inline_deny_fails_naming_the_statement() {
        let deny = r#"{"Statement": {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}}"#;
        let f = run_check(&DEF, &attachment(), &facts(&[SEED_S3_POLICY, deny]));
        assert_eq!(status(&f), Status::Fail);
        assert!(f.iter().any(|f| f.reason == "denied"));
        assert!(text(&f).contains("NoDelete"), "{}", text(&f));
    }

    #[test]
    fn boundary_that_omits_an_action_fails() {
        let mut facts = facts(&[SEED_S3_POLICY]);
        facts.permissions_boundary = Fact::Known(Some(policy(
            "boundary.json",
            r#"{"Statement": {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "s3:PutObject", "s3:AbortMultipartUpload"], "Resource": "*"}}"#,
        )));
        let f = run_check(&DEF, &attachment(), &facts);
        assert_eq!(status(&f), Status::Fail);
        let b: Vec<_> = f.iter().filter(|f| f.reason == "boundary-omits").collect();
        assert_eq!(b.len(), 1, "{}", text(&f));
        assert!(text(&f).contains("s3:DeleteObject"));
    }

    #[test]
    fn source_ip_condition_warns_with_the_condition() {
        let p = r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}}"#;
        let f = run_check(&DEF, &attachment(), &facts(&[p]));
        assert_eq!(status(&f), Status::Warn, "{}", text(&f));
        assert!(text(&f).contains("aws:SourceIp"), "{}", text(&f));
    }

    #[test]
    fn no_identity_policies_is_skip_offline() {
        let facts = Facts::default();
        let f = run_check(&DEF, &attachment(), &facts);
        assert_eq!(status(&f), Status::Skip);
    }

    #[test]
    fn issue11_d2_no_grant_is_proposed_for_a_bucket_that_does_not_exist() {
        let mut a = attachment();
        a.bucket = "aspera-kms-dmeo".into();
        let mut facts = facts(&[SEED_S3_POLICY]);
        facts.bucket_head = Fact::Known(crate::model::facts::BucketHead {
            status: 404,
            region: None,
        });
        let f = run_check(&DEF, &a, &facts);
        assert_eq!(status(&f), Status::Skip, "{}", text(&f));
        assert!(f.iter().all(|f| f.fix.is_empty()));
        assert!(text(&f).contains("aspera-kms-dmeo"));
    }

    #[test]
    fn issue11_d7_conditions_on_known_request_facts_are_decided() {
        // Common guard rails, each on a value the tool knows about AoC's requests.
        let guards = r#"{"Statement": [
            {"Sid": "Tls12", "Effect": "Deny", "Action": "s3:*", "Resource": "*",
             "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}},
            {"Sid": "NoSseC", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
             "Condition": {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}}},
            {"Sid": "OnlyThisRole", "Effect": "Deny", "Action": "s3:*", "Resource": "*",
             "Condition": {"StringNotLike": {"aws:userid": ["AROAEXAMPLEROLEID:*", "111122223333"]}}},
            {"Sid": "SseKms", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
             "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}}
        ]}"#;
        let mut known = facts(&[SEED_S3_POLICY, guards]);
        known.role = Fact::Known(Some(crate::model::facts::RoleInfo {
            arn: ROLE_ARN.into(),
            role_id: "AROAEXAMPLEROLEID".into(),
            permissions_boundary_arn: None,
        }));
        let f = run_check(&DEF, &attachment(), &known);
        assert_eq!(status(&f), Status::Pass, "{}", text(&f));

        // Another role's ID is a sure Deny, not a warning.
        let other = guards.replace("AROAEXAMPLEROLEID", "AROAANOTHERROLEID");
        let mut other_facts = facts(&[SEED_S3_POLICY, &other]);
        other_facts.role = Fact::Known(Some(crate::model::facts::RoleInfo {
            arn: ROLE_ARN.into(),
            role_id: "AROAEXAMPLEROLEID".into(),
            permissions_boundary_arn: None,
        }));
        let f = run_check(&DEF, &attachment(), &other_facts);
        assert_eq!(status(&f), Status::Fail, "{}", text(&f));
        assert!(text(&f).contains("OnlyThisRole"), "{}", text(&f));
    }

    #[test]
    fn a_grant_on_a_bucket_one_letter_away_is_pointed_out() {
        let mut a = attachment();
        a.bucket = "aspera-kmss".into();
        let f = run_check(&DEF, &a, &facts(&[SEED_S3_POLICY]));
        assert_eq!(status(&f), Status::Fail);
        assert!(
            f.iter().any(|f| f.reason == "similar-bucket"
                && text(std::slice::from_ref(f)).contains("aspera-kms")),
            "{}",
            text(&f)
        );
    }

    #[test]
    fn issue11_a_misspelled_condition_key_is_absent_and_named() {
        // AWS treats a key it does not define as absent: this Allow never applies.
        let p = SEED_S3_POLICY.replace(
            r#""Resource": ["arn:aws:s3:::aspera-kms/*"]}"#,
            r#""Resource": ["arn:aws:s3:::aspera-kms/*"], "Condition": {"Bool": {"aws:SecureTransprot": "true"}}}"#,
        );
        assert_ne!(p, SEED_S3_POLICY);
        let f = run_check(&DEF, &attachment(), &facts(&[&p]));
        assert_eq!(status(&f), Status::Fail, "{}", text(&f));
        assert!(
            text(&f).contains("did you mean `aws:SecureTransport`?"),
            "{}",
            text(&f)
        );
    }

    #[test]
    fn issue11_a_misspelled_condition_operator_is_named() {
        let p = SEED_S3_POLICY.replace(
            r#""Resource": ["arn:aws:s3:::aspera-kms/*"]}"#,
            r#""Resource": ["arn:aws:s3:::aspera-kms/*"], "Condition": {"StringEqual": {"aws:PrincipalAccount": "111122223333"}}}"#,
        );
        let f = run_check(&DEF, &attachment(), &facts(&[&p]));
        assert!(
            text(&f).contains(
                "`StringEqual` is not a condition operator, did you mean `StringEquals`?"
            ),
            "{}",
            text(&f)
        );
    }

    #[test]
    fn a_grant_on_a_folder_suggests_the_path_before_widening() {
        let p = SEED_S3_POLICY.replace(
            "arn:aws:s3:::aspera-kms/*",
            "arn:aws:s3:::aspera-kms/data/*",
        );
        let f = run_check(&DEF, &attachment(), &facts(&[&p]));
        assert_eq!(status(&f), Status::Fail);
        let t = text(&f);
        assert!(t.contains("set the path in AoC to /data"), "{t}");
    }
}
