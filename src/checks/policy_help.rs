//! Helpers the policy checks share: naming a statement in evidence, finding the statements
//! that mention an action, spotting misspelled action names, and rendering a statement to
//! paste. Pure.

use serde_json::json;

use crate::policy::matching::action_spec_matches;
use crate::policy::{ActionSpec, Effect, MatchedStatement, NamedPolicy, ResourceSpec, Statement};

/// "statement 2 (Sid `DenyOtherKeys`) of key policy": how evidence names a statement.
/// The role's identity policies and permissions boundary, both needed by the role checks, or
/// the finding that says why one is not known.
pub fn role_policies(
    facts: &crate::facts::Facts,
) -> Result<(&[NamedPolicy], Option<&NamedPolicy>), Vec<super::Finding>> {
    use crate::facts::Fact;
    let identity: &[NamedPolicy] = match &facts.identity_policies {
        Fact::Known(p) => p,
        other => {
            return Err(super::Finding::from_missing_fact(other)
                .into_iter()
                .collect());
        }
    };
    let boundary: Option<&NamedPolicy> = match &facts.permissions_boundary {
        Fact::Known(b) => b.as_ref(),
        other => {
            return Err(super::Finding::from_missing_fact(other)
                .into_iter()
                .collect());
        }
    };
    Ok((identity, boundary))
}

pub fn describe(policy: &str, index: usize, sid: Option<&str>) -> String {
    match sid {
        Some(sid) if !sid.is_empty() => format!("statement {index} (Sid `{sid}`) of {policy}"),
        _ => format!("statement {index} of {policy}"),
    }
}

pub fn describe_matched(m: &MatchedStatement) -> String {
    let mut s = describe(&m.policy, m.index, m.sid.as_deref());
    if !m.unresolved.is_empty() {
        s.push_str(&format!(" (if {})", m.unresolved.join(" and ")));
    }
    s
}

/// The `Resource` (or `NotResource`) of a statement, as written, for evidence.
pub fn resources_text(st: &Statement) -> String {
    match &st.resource {
        Some(ResourceSpec::Resource(r)) => r.join(", "),
        Some(ResourceSpec::NotResource(r)) => format!("everything except {}", r.join(", ")),
        None => "(no Resource)".to_string(),
    }
}

/// Allow statements whose action list covers `action`, whatever their resources: where a
/// grant exists but on the wrong resource, this is how to show it.
pub fn allows_of_action<'a>(
    policies: impl IntoIterator<Item = &'a NamedPolicy>,
    action: &str,
) -> Vec<(&'a NamedPolicy, &'a Statement)> {
    let mut out = Vec::new();
    for p in policies {
        for st in &p.document.statements {
            if st.effect == Effect::Allow && statement_covers_action(st, action) {
                out.push((p, st));
            }
        }
    }
    out
}

/// True when the statement's `Action`/`NotAction` covers `action`.
pub fn statement_covers_action(st: &Statement, action: &str) -> bool {
    action_spec_matches(&st.action, action)
}

/// Actions that are not real but one or two letters away from one AoC needs, such as
/// `s3:ListBucketMultipartUpload` (the Aspera KB's spelling) for
/// `s3:ListBucketMultipartUploads`. IAM accepts such names silently and they grant nothing.
pub fn misspellings<'a>(
    policies: impl IntoIterator<Item = &'a NamedPolicy>,
    wanted: &[&str],
) -> Vec<Misspelling> {
    let mut out = Vec::new();
    for p in policies {
        for st in &p.document.statements {
            let (ActionSpec::Action(list) | ActionSpec::NotAction(list)) = &st.action;
            for written in list {
                if written.contains(['*', '?']) {
                    continue;
                }
                if wanted.iter().any(|w| w.eq_ignore_ascii_case(written)) {
                    continue;
                }
                let lower = written.to_ascii_lowercase();
                if let Some(meant) = wanted.iter().find(|w| {
                    let d = strsim::levenshtein(&lower, &w.to_ascii_lowercase());
                    (1..=2).contains(&d)
                }) {
                    out.push(Misspelling {
                        statement: describe(&p.label, st.index, st.sid.as_deref()),
                        written: written.clone(),
                        meant: (*meant).to_string(),
                    });
                }
            }
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
pub struct Misspelling {
    pub statement: String,
    pub written: String,
    pub meant: String,
}

/// An Allow statement, to paste into a policy or to apply.
pub fn statement(
    sid: &str,
    principal: Option<&str>,
    actions: &[String],
    resource: &str,
) -> serde_json::Value {
    let mut st = json!({
        "Sid": sid,
        "Effect": "Allow",
    });
    if let Some(p) = principal {
        st["Principal"] = json!({ "AWS": p });
    }
    st["Action"] = if actions.len() == 1 {
        json!(actions[0])
    } else {
        json!(actions)
    };
    st["Resource"] = json!(resource);
    st
}

/// A whole policy document of the given statements.
pub fn policy_document(statements: Vec<serde_json::Value>) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": statements,
    })
}

/// A policy with statements appended (for policies that must be replaced whole, such as key
/// and bucket policies).
pub fn merged(policy: &NamedPolicy, statements: Vec<serde_json::Value>) -> serde_json::Value {
    let mut doc = crate::policy::to_json(&policy.document);
    if let Some(list) = doc.get_mut("Statement").and_then(|s| s.as_array_mut()) {
        list.extend(statements);
    }
    doc
}

/// Pretty JSON for remediation text.
pub fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}
