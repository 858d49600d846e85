//! Building policy documents: the one statement builder that both `generate` (documents
//! written from scratch) and the checks' fixes (statements added to a document) use, so the two
//! cannot drift apart in shape or wording. Pure.

use std::collections::BTreeMap;

use super::{
    ActionSpec, Effect, NamedPolicy, PolicyDocument, PrincipalSpec, Principals, ResourceSpec,
    Statement,
};

/// An Allow statement: `principal` for resource policies (an AWS principal ARN), `None` for
/// identity policies; `resource` `None` for trust policies, which have none.
pub fn allow_statement(
    sid: Option<&str>,
    principal: Option<&str>,
    actions: &[String],
    resource: Option<&str>,
) -> Statement {
    Statement {
        index: 0,
        sid: sid.map(str::to_string),
        effect: Effect::Allow,
        principal: principal.map(|p| {
            PrincipalSpec::Principal(Principals::Map(BTreeMap::from([(
                "AWS".to_string(),
                vec![p.to_string()],
            )])))
        }),
        action: ActionSpec::Action(actions.to_vec()),
        resource: resource.map(|r| ResourceSpec::Resource(vec![r.to_string()])),
        conditions: Vec::new(),
        position: None,
    }
}

/// A `2012-10-17` document of these statements, numbered in order.
pub fn document(statements: Vec<Statement>) -> PolicyDocument {
    PolicyDocument {
        version: Some("2012-10-17".to_string()),
        id: None,
        statements: statements
            .into_iter()
            .enumerate()
            .map(|(i, mut st)| {
                st.index = i;
                st
            })
            .collect(),
    }
}

/// A policy that allows everything (`"Action": "*"`, `"Resource": "*"`, and `"Principal": "*"`
/// for a resource policy): the stand-in for a layer a question sets aside, so that only the
/// other layers decide.
pub fn allow_everything(label: &str, resource_policy: bool) -> NamedPolicy {
    let mut st = allow_statement(None, None, &["*".to_string()], Some("*"));
    if resource_policy {
        st.principal = Some(PrincipalSpec::Principal(Principals::Any));
    }
    NamedPolicy {
        label: label.to_string(),
        document: document(vec![st]),
    }
}

/// One statement as AWS policy JSON, the way [`super::to_json`] writes it in a document.
pub fn statement_json(st: &Statement) -> serde_json::Value {
    let doc = PolicyDocument {
        version: None,
        id: None,
        statements: vec![st.clone()],
    };
    match super::to_json(&doc).get_mut("Statement") {
        Some(serde_json::Value::Array(list)) if !list.is_empty() => list.swap_remove(0),
        _ => serde_json::Value::Null,
    }
}
