//! The IAM policy model and its evaluation: parsing real-world documents, matching actions,
//! resources and principals, conditions, and AWS's rules for combining identity policies, a
//! permissions boundary and a resource policy.
//!
//! Pure: no I/O, no printing. Evaluation is three-valued: a condition on a context key whose
//! value is unknown (as opposed to known to be absent) leaves the decision open, and the
//! result then carries both the best and the worst case and the conditions it depends on.
//! `simulate` uses a strict context (a key not given is absent, as AWS treats it), so its
//! answers are always certain.
//!
//! Sources: "Policy evaluation logic"
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>),
//! "IAM JSON policy elements reference", "Condition operators", and for keys the KMS Developer
//! Guide "Key policies" / "Default key policy".

pub mod build;
mod combine;
pub mod condition;
pub mod eval;
pub mod keys;
pub mod matching;
pub mod org;
pub mod parse;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use eval::{PolicySet, evaluate, evaluate_in_organization, evaluate_policy};
pub use parse::{PolicyParseError, parse_policy};

/// A parsed policy document. Statements keep their position in the document so evidence can
/// say "statement 2 (Sid `DenyOtherKeys`)".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyDocument {
    pub version: Option<String>,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

/// A policy with the label that names it in evidence (a file path, `inline policy X`,
/// `managed policy arn:...`, `key policy`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedPolicy {
    pub label: String,
    pub document: PolicyDocument,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// One statement. Single strings and arrays in the JSON both become `Vec<String>`. Two
/// statements are equal when they say the same at the same index, wherever in a text they were
/// written: a document and its re-serialisation parse equal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Statement {
    /// Zero-based position in the document's `Statement` array (0 for a single object).
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    /// `None` in identity policies (no `Principal` element).
    pub principal: Option<PrincipalSpec>,
    pub action: ActionSpec,
    /// `None` only for trust policies, which may omit `Resource`.
    pub resource: Option<ResourceSpec>,
    /// All conditions of the statement, flattened; every one must hold (AND). Within one
    /// condition, several values are ORed (or NORed for negated operators), as AWS does.
    pub conditions: Vec<Condition>,
    /// Where the statement's `{` is in the text it was parsed from; `None` for a statement
    /// the tool built. Not kept in bundles: a replay has no text to point into.
    #[serde(skip)]
    pub position: Option<Position>,
}

impl PartialEq for Statement {
    fn eq(&self, other: &Self) -> bool {
        // Destructured without `..`: a new field must be placed on one side or the other.
        let Statement {
            index,
            sid,
            effect,
            principal,
            action,
            resource,
            conditions,
            position: _,
        } = self;
        *index == other.index
            && *sid == other.sid
            && *effect == other.effect
            && *principal == other.principal
            && *action == other.action
            && *resource == other.resource
            && *conditions == other.conditions
    }
}

/// Where something starts in a policy's text: 1-based line and column (in characters), in
/// the file as given (or in the decoded JSON of a URL-encoded document).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PrincipalSpec {
    Principal(Principals),
    NotPrincipal(Principals),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Principals {
    /// `"Principal": "*"`: anyone, including anonymous callers.
    Any,
    /// `{"AWS": [...], "Service": [...], "Federated": [...], "CanonicalUser": [...]}`. Keys are
    /// stored as written; values as written (`"*"` inside `AWS` means any AWS principal).
    Map(BTreeMap<String, Vec<String>>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ActionSpec {
    Action(Vec<String>),
    NotAction(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ResourceSpec {
    Resource(Vec<String>),
    NotResource(Vec<String>),
}

/// One `operator: { key: values }` entry of a `Condition` block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// As written, e.g. `ForAnyValue:StringLikeIfExists`.
    pub operator: String,
    /// As written; compared case-insensitively with context keys.
    pub key: String,
    /// Values as strings (JSON booleans and numbers are turned into their text).
    pub values: Vec<String>,
}

impl std::fmt::Display for Condition {
    /// `StringEquals sts:ExternalId ["abc"]`: the form used in evidence and warnings.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let values: Vec<String> = self.values.iter().map(|v| format!("{v:?}")).collect();
        write!(f, "{} {} [{}]", self.operator, self.key, values.join(", "))
    }
}

/// A part of a statement whose truth could not be determined. Kept typed so callers ask which
/// condition key or operator it is instead of parsing the rendered text; shown (and
/// serialized) as that text.
#[derive(Debug, Clone, PartialEq)]
pub enum Unresolved {
    /// A condition whose key's value is not known, or whose operator is not one AWS has.
    Condition(Condition),
    /// A `Resource` whose policy variable is not known, rendered as written.
    Resource(String),
    /// The statement names one session (`named`) of the caller's role, and the caller's
    /// session name is not known.
    Session(String),
}

impl Unresolved {
    /// The condition, when this is one.
    pub fn condition(&self) -> Option<&Condition> {
        match self {
            Unresolved::Condition(c) => Some(c),
            _ => None,
        }
    }

    /// Whether this is a condition on `key` (compared as AWS compares keys, ignoring case).
    pub fn is_condition_on(&self, key: &str) -> bool {
        self.condition()
            .is_some_and(|c| c.key.eq_ignore_ascii_case(key))
    }

    /// Several, as one phrase: `A and B`.
    pub fn join(parts: &[Unresolved]) -> String {
        parts
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" and ")
    }
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unresolved::Condition(c) => c.fmt(f),
            Unresolved::Resource(r) => f.write_str(r),
            Unresolved::Session(named) => {
                write!(
                    f,
                    "the caller is the session {named} (its name is not known)"
                )
            }
        }
    }
}

impl Serialize for Unresolved {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What the evaluator knows about the request's context keys.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Context {
    /// Known values by lower-cased key. A key may have several values (multi-valued keys such
    /// as `aws:TagKeys`, or a repeated `--context` in `simulate`).
    values: BTreeMap<String, Vec<String>>,
    /// Keys known to be absent from the request, by lower-cased key.
    absent: std::collections::BTreeSet<String>,
    /// Keys whose value is one of a few alternatives (each a full set of values), by
    /// lower-cased key: a condition is decided when every alternative decides it alike.
    one_of: BTreeMap<String, Vec<Vec<String>>>,
    /// Keys whose single value starts with a known prefix and goes on unknown, maybe with
    /// nothing (a role session's `aws:userid` is `ROLEID:session-name`; AoC lists `path/` and
    /// the folders below it), by lower-cased key.
    prefixed: BTreeMap<String, String>,
    /// How to treat a key that is neither in `values` nor in `absent`.
    pub missing: MissingKey,
}

/// How the evaluator treats a context key it was told nothing about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// The key is absent from the request, as AWS treats it (`simulate`).
    #[default]
    Absent,
    /// The value is unknown to the tool (the checks): conditions on it leave the answer open.
    Unknown,
}

/// The state of one context key as the evaluator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyState<'a> {
    Present(&'a [String]),
    Absent,
    Unknown,
    /// One of these sets of values (see [`Context::set_one_of`]).
    OneOf(&'a [Vec<String>]),
    /// One value that starts with this text (see [`Context::set_prefixed`]).
    Prefixed(&'a str),
}

impl Context {
    /// A context where unlisted keys are absent (AWS's own behaviour; for `simulate`).
    pub fn strict() -> Self {
        Context::default()
    }

    /// A context where unlisted keys are unknown (for the checks, which model a request the
    /// tool does not see).
    pub fn partial() -> Self {
        Context {
            missing: MissingKey::Unknown,
            ..Context::default()
        }
    }

    /// Sets a key's values (replacing earlier ones). Keys are case-insensitive.
    pub fn set(&mut self, key: &str, values: Vec<String>) -> &mut Self {
        let k = self.forget(key);
        self.values.insert(k, values);
        self
    }

    /// Records that the key has one of these sets of values, the tool does not know which
    /// (AoC's TLS version is 1.2 or 1.3).
    pub fn set_one_of(&mut self, key: &str, alternatives: Vec<Vec<String>>) -> &mut Self {
        let k = self.forget(key);
        self.one_of.insert(k, alternatives);
        self
    }

    /// Records that the key has one value that starts with `prefix`, the rest unknown.
    pub fn set_prefixed(&mut self, key: &str, prefix: &str) -> &mut Self {
        let k = self.forget(key);
        self.prefixed.insert(k, prefix.to_string());
        self
    }

    /// Drops what is known of a key; returns the key lower-cased.
    fn forget(&mut self, key: &str) -> String {
        let k = key.to_ascii_lowercase();
        self.absent.remove(&k);
        self.values.remove(&k);
        self.one_of.remove(&k);
        self.prefixed.remove(&k);
        k
    }

    /// Adds one value to a key (a multi-valued key when called more than once).
    pub fn add(&mut self, key: &str, value: &str) -> &mut Self {
        let k = key.to_ascii_lowercase();
        self.absent.remove(&k);
        self.one_of.remove(&k);
        self.prefixed.remove(&k);
        self.values.entry(k).or_default().push(value.to_string());
        self
    }

    /// Records that the request does not carry this key.
    pub fn set_absent(&mut self, key: &str) -> &mut Self {
        let k = self.forget(key);
        self.absent.insert(k);
        self
    }

    /// Whether the context says anything of the key (a value, alternatives, a prefix, or
    /// that it is absent), as opposed to leaving it to [`Context::missing`].
    pub fn says(&self, key: &str) -> bool {
        let k = key.to_ascii_lowercase();
        self.values.contains_key(&k)
            || self.absent.contains(&k)
            || self.one_of.contains_key(&k)
            || self.prefixed.contains_key(&k)
    }

    /// The state of a key, case-insensitively.
    pub fn get(&self, key: &str) -> KeyState<'_> {
        let k = key.to_ascii_lowercase();
        if let Some(v) = self.values.get(&k) {
            return KeyState::Present(v);
        }
        if self.absent.contains(&k) {
            return KeyState::Absent;
        }
        if let Some(alternatives) = self.one_of.get(&k) {
            return KeyState::OneOf(alternatives);
        }
        if let Some(prefix) = self.prefixed.get(&k) {
            return KeyState::Prefixed(prefix);
        }
        match self.missing {
            MissingKey::Absent => KeyState::Absent,
            // A key AWS does not define (a typo, `aws:SecureTransprot`) is never in a request:
            // AWS evaluates it as absent, so its value is not unknown.
            MissingKey::Unknown if keys::is_real_key_lowercase(&k) == Some(false) => {
                KeyState::Absent
            }
            MissingKey::Unknown => KeyState::Unknown,
        }
    }
}

/// The request being evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The calling principal's ARN (for AoC: the role ARN; an `assumed-role` session ARN also
    /// works). May also be a service principal such as `s3.amazonaws.com`.
    pub principal: String,
    /// e.g. `s3:PutObject`.
    pub action: String,
    /// The resource ARN, e.g. `arn:aws:s3:::bucket/data/file`.
    pub resource: String,
    /// The account that owns the resource. `None`: taken from the resource ARN's account field,
    /// or the principal's account when the ARN has none (S3 ARNs).
    pub resource_account: Option<String>,
    pub context: Context,
}

/// AWS's EvalDecision words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub enum Decision {
    Allowed,
    ImplicitDeny,
    ExplicitDeny,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::ImplicitDeny => "implicitDeny",
            Decision::ExplicitDeny => "explicitDeny",
        }
    }
}

/// A statement that applied to the request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchedStatement {
    /// The policy's label.
    pub policy: String,
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    /// Conditions of this statement whose value the tool could not determine; empty when the
    /// statement applies for certain.
    pub unresolved: Vec<Unresolved>,
}

/// The answer for one request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// The decision if every undeterminable condition goes the caller's way (Allow conditions
    /// hold, Deny conditions do not).
    pub best: Decision,
    /// The decision if every undeterminable condition goes against the caller.
    pub worst: Decision,
    /// Statements that applied, certainly or possibly, in evaluation order.
    pub matched: Vec<MatchedStatement>,
    /// One sentence on how the policies combined (e.g. "cross-account: the resource policy
    /// must also allow"; "KMS: the key policy delegates to IAM via the account root").
    pub explanation: String,
}

impl Evaluation {
    /// True when unknown context cannot change the decision.
    pub fn is_certain(&self) -> bool {
        self.best == self.worst
    }

    /// The decision when certain; otherwise the worst case (the safe answer).
    pub fn decision(&self) -> Decision {
        self.worst
    }

    /// The conditions the decision depends on, rendered, without duplicates.
    pub fn unresolved_conditions(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for m in &self.matched {
            for c in m.unresolved.iter().map(ToString::to_string) {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
        out
    }
}

/// The document as AWS policy JSON again (for showing a merged policy to paste). A list of
/// one is written as a single value, the way people write policies.
pub fn to_json(doc: &PolicyDocument) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let one_or_many = |v: &Vec<String>| {
        if v.len() == 1 { json!(v[0]) } else { json!(v) }
    };
    let principals = |p: &Principals| match p {
        Principals::Any => json!("*"),
        Principals::Map(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), one_or_many(v))).collect())
        }
    };
    let statements: Vec<Value> = doc
        .statements
        .iter()
        .map(|st| {
            let mut o = Map::new();
            if let Some(sid) = &st.sid {
                o.insert("Sid".into(), json!(sid));
            }
            o.insert(
                "Effect".into(),
                json!(match st.effect {
                    Effect::Allow => "Allow",
                    Effect::Deny => "Deny",
                }),
            );
            match &st.principal {
                Some(PrincipalSpec::Principal(p)) => {
                    o.insert("Principal".into(), principals(p));
                }
                Some(PrincipalSpec::NotPrincipal(p)) => {
                    o.insert("NotPrincipal".into(), principals(p));
                }
                None => {}
            }
            match &st.action {
                ActionSpec::Action(a) => o.insert("Action".into(), one_or_many(a)),
                ActionSpec::NotAction(a) => o.insert("NotAction".into(), one_or_many(a)),
            };
            match &st.resource {
                Some(ResourceSpec::Resource(r)) => {
                    o.insert("Resource".into(), one_or_many(r));
                }
                Some(ResourceSpec::NotResource(r)) => {
                    o.insert("NotResource".into(), one_or_many(r));
                }
                None => {}
            }
            if !st.conditions.is_empty() {
                let mut block: Map<String, Value> = Map::new();
                for c in &st.conditions {
                    let op = block.entry(c.operator.clone()).or_insert_with(|| json!({}));
                    if let Some(op) = op.as_object_mut() {
                        op.insert(c.key.clone(), one_or_many(&c.values));
                    }
                }
                o.insert("Condition".into(), Value::Object(block));
            }
            Value::Object(o)
        })
        .collect();
    let mut top = Map::new();
    if let Some(v) = &doc.version {
        top.insert("Version".into(), json!(v));
    }
    if let Some(id) = &doc.id {
        top.insert("Id".into(), json!(id));
    }
    top.insert("Statement".into(), Value::Array(statements));
    Value::Object(top)
}
