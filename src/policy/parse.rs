//! Parsing policy JSON as AWS writes and returns it, into [`PolicyDocument`].
//!
//! Pure: no I/O. Accepts what AWS accepts and what its APIs return: URL-encoded documents
//! (GetRole, GetRolePolicy and GetPolicyVersion return RFC 3986-encoded JSON), a single
//! `Statement` object or an array, single strings or arrays for `Action`, `Resource`,
//! `Principal` and condition values, and JSON booleans and numbers as condition values.
//! Rejects what AWS rejects: unknown element names (element names are case-sensitive),
//! an `Effect` other than `Allow`/`Deny`, both or neither of `Action`/`NotAction`, and so on
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html>).
//! Errors name the JSON path (`Statement[1].Effect`) and, where they can be found, the line
//! and column of the offending value. Each statement keeps the line and column of its `{`, so
//! a finding about it can point at the file and line to change.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{
    ActionSpec, Condition, Effect, PolicyDocument, Position, PrincipalSpec, Principals,
    ResourceSpec, Statement,
};

/// A document that is not a valid policy. `line`/`column` are 1-based and point into the
/// (decoded) JSON text when the JSON itself is invalid; structural errors (e.g. an `Effect`
/// that is neither `Allow` nor `Deny`) carry the JSON path in the message and the position
/// of the statement when known.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct PolicyParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parses a policy document. Accepts URL-encoded documents (as IAM's GetRole, GetRolePolicy
/// and GetPolicyVersion return them): text starting with `%7B` (any case) is percent-decoded
/// first; text starting with `{` is used as is.
pub fn parse_policy(text: &str) -> Result<PolicyDocument, PolicyParseError> {
    // A UTF-8 byte-order mark (Windows editors add one) is not JSON whitespace.
    let unmarked = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = unmarked.trim();
    let decoded: String;
    // Positions point into the text the user has: the file itself, or the decoded JSON.
    let source: &str = if trimmed
        .get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case("%7B"))
    {
        decoded = percent_encoding::percent_decode_str(trimmed)
            .decode_utf8()
            .map_err(|_| PolicyParseError {
                line: 1,
                column: 1,
                message: "URL-encoded policy does not decode to UTF-8 text".to_string(),
            })?
            .into_owned();
        &decoded
    } else {
        unmarked
    };

    let value: Value = serde_json::from_str(source).map_err(|e| json_error(&e))?;
    // serde_json keeps the last of duplicate keys; a document whose meaning depends on which
    // one a parser keeps ("Effect": "Allow", then "Deny") must be refused, not guessed.
    serde_json::from_str::<NoDuplicateKeys>(source).map_err(|e| json_error(&e))?;
    Parser { source }.document(&value)
}

/// Deserializes any JSON, failing on an object with the same key twice.
struct NoDuplicateKeys;

impl<'de> serde::Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicateKeysVisitor)
    }
}

struct NoDuplicateKeysVisitor;

impl<'de> serde::de::Visitor<'de> for NoDuplicateKeysVisitor {
    type Value = NoDuplicateKeys;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!("duplicate key `{key}`")));
            }
            map.next_value::<NoDuplicateKeys>()?;
        }
        Ok(NoDuplicateKeys)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<NoDuplicateKeys>()?.is_some() {}
        Ok(NoDuplicateKeys)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
}

/// serde_json's message without its " at line L column C" suffix, plus the position.
fn json_error(e: &serde_json::Error) -> PolicyParseError {
    let text = e.to_string();
    let message = match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    PolicyParseError {
        line: e.line().max(1),
        column: e.column().max(1),
        message: if message.starts_with("duplicate key") {
            message
        } else {
            format!("invalid JSON: {message}")
        },
    }
}

/// One step of a JSON path.
#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn render_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// How a JSON value reads in an error message.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

struct Parser<'a> {
    source: &'a str,
}

const TOP_KEYS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_KEYS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];
const PRINCIPAL_TYPES: &[&str] = &["AWS", "Service", "Federated", "CanonicalUser"];

impl Parser<'_> {
    /// An error at `path`, positioned at the value there (or at `anchor`, the nearest
    /// enclosing value, when the path itself does not exist, e.g. a missing key).
    fn err(
        &self,
        path: &[Seg],
        anchor: &[Seg],
        message: impl std::fmt::Display,
    ) -> PolicyParseError {
        let (line, column) = locate(self.source, path)
            .or_else(|| locate(self.source, anchor))
            .unwrap_or((1, 1));
        let where_ = render_path(path);
        let message = if where_.is_empty() {
            message.to_string()
        } else {
            format!("{where_}: {message}")
        };
        PolicyParseError {
            line,
            column,
            message,
        }
    }

    fn document(&self, value: &Value) -> Result<PolicyDocument, PolicyParseError> {
        let Value::Object(top) = value else {
            return Err(self.err(
                &[],
                &[],
                format!("expected a policy object, found {}", describe(value)),
            ));
        };
        for key in top.keys() {
            if !TOP_KEYS.contains(&key.as_str()) {
                return Err(self.err(
                    &[Seg::Key(key.clone())],
                    &[],
                    format!("unknown element (expected {})", TOP_KEYS.join(", ")),
                ));
            }
        }
        let version = match top.get("Version") {
            None => None,
            Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => Some(v.clone()),
            Some(other) => {
                return Err(self.err(
                    &[Seg::Key("Version".into())],
                    &[],
                    format!(
                        "expected \"2012-10-17\" or \"2008-10-17\", found {}",
                        describe(other)
                    ),
                ));
            }
        };
        let id = match top.get("Id") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(self.err(
                    &[Seg::Key("Id".into())],
                    &[],
                    format!("expected a string, found {}", describe(other)),
                ));
            }
        };
        // One pass over the text for every statement: locating each one by its path would
        // read the document again per statement.
        let positions = statement_positions(self.source);
        let statements = match top.get("Statement") {
            None => return Err(self.err(&[], &[], "missing \"Statement\"")),
            Some(Value::Object(obj)) => {
                let mut st = self.statement(obj, 0, &[Seg::Key("Statement".into())])?;
                st.position = positions.first().copied();
                vec![st]
            }
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let path = [Seg::Key("Statement".into()), Seg::Index(i)];
                    match item {
                        Value::Object(obj) => {
                            let mut st = self.statement(obj, i, &path)?;
                            st.position = positions.get(i).copied();
                            out.push(st);
                        }
                        other => {
                            return Err(self.err(
                                &path,
                                &[],
                                format!("expected a statement object, found {}", describe(other)),
                            ));
                        }
                    }
                }
                out
            }
            Some(other) => {
                return Err(self.err(
                    &[Seg::Key("Statement".into())],
                    &[],
                    format!(
                        "expected a statement object or an array of them, found {}",
                        describe(other)
                    ),
                ));
            }
        };
        Ok(PolicyDocument {
            version,
            id,
            statements,
        })
    }

    fn statement(
        &self,
        obj: &Map<String, Value>,
        index: usize,
        path: &[Seg],
    ) -> Result<Statement, PolicyParseError> {
        let at = |key: &str| -> Vec<Seg> {
            let mut p = path.to_vec();
            p.push(Seg::Key(key.to_string()));
            p
        };
        for key in obj.keys() {
            if !STATEMENT_KEYS.contains(&key.as_str()) {
                let hint = STATEMENT_KEYS
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(key))
                    .map(|k| format!(" (element names are case-sensitive: did you mean \"{k}\"?)"))
                    .unwrap_or_default();
                return Err(self.err(&at(key), path, format!("unknown element{hint}")));
            }
        }
        let sid = match obj.get("Sid") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(self.err(
                    &at("Sid"),
                    path,
                    format!("expected a string, found {}", describe(other)),
                ));
            }
        };
        let effect = match obj.get("Effect") {
            None => return Err(self.err(path, path, "missing \"Effect\"")),
            Some(Value::String(s)) if s == "Allow" => Effect::Allow,
            Some(Value::String(s)) if s == "Deny" => Effect::Deny,
            Some(other) => {
                return Err(self.err(
                    &at("Effect"),
                    path,
                    format!("expected \"Allow\" or \"Deny\", found {}", describe(other)),
                ));
            }
        };
        let principal = match (obj.get("Principal"), obj.get("NotPrincipal")) {
            (Some(_), Some(_)) => {
                return Err(self.err(
                    path,
                    path,
                    "has both \"Principal\" and \"NotPrincipal\" (use one)",
                ));
            }
            (Some(v), None) => Some(PrincipalSpec::Principal(
                self.principals(v, &at("Principal"))?,
            )),
            (None, Some(v)) => Some(PrincipalSpec::NotPrincipal(
                self.principals(v, &at("NotPrincipal"))?,
            )),
            (None, None) => None,
        };
        let action = match (obj.get("Action"), obj.get("NotAction")) {
            (Some(_), Some(_)) => {
                return Err(self.err(
                    path,
                    path,
                    "has both \"Action\" and \"NotAction\" (use one)",
                ));
            }
            (Some(v), None) => ActionSpec::Action(self.strings(v, &at("Action"))?),
            (None, Some(v)) => ActionSpec::NotAction(self.strings(v, &at("NotAction"))?),
            (None, None) => {
                return Err(self.err(path, path, "missing \"Action\" or \"NotAction\""));
            }
        };
        let resource = match (obj.get("Resource"), obj.get("NotResource")) {
            (Some(_), Some(_)) => {
                return Err(self.err(
                    path,
                    path,
                    "has both \"Resource\" and \"NotResource\" (use one)",
                ));
            }
            (Some(v), None) => Some(ResourceSpec::Resource(self.strings(v, &at("Resource"))?)),
            (None, Some(v)) => Some(ResourceSpec::NotResource(
                self.strings(v, &at("NotResource"))?,
            )),
            // Trust policies omit Resource; identity policies without one are rejected by
            // IAM, but reading them is harmless (the statement then covers every resource).
            (None, None) => None,
        };
        let conditions = match obj.get("Condition") {
            None => Vec::new(),
            Some(v) => self.conditions(v, &at("Condition"))?,
        };
        Ok(Statement {
            index,
            sid,
            effect,
            principal,
            action,
            resource,
            conditions,
            position: None,
        })
    }

    /// A string or an array of strings.
    fn strings(&self, v: &Value, path: &[Seg]) -> Result<Vec<String>, PolicyParseError> {
        match v {
            Value::String(s) => Ok(vec![s.clone()]),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => {
                        let mut p = path.to_vec();
                        p.push(Seg::Index(i));
                        Err(self.err(
                            &p,
                            path,
                            format!("expected a string, found {}", describe(other)),
                        ))
                    }
                })
                .collect(),
            other => Err(self.err(
                path,
                path,
                format!(
                    "expected a string or an array of strings, found {}",
                    describe(other)
                ),
            )),
        }
    }

    /// `"*"`, `{"AWS": ..., "Service": ...}`, or (leniently) a string or array of AWS
    /// principals.
    fn principals(&self, v: &Value, path: &[Seg]) -> Result<Principals, PolicyParseError> {
        match v {
            Value::String(s) if s == "*" => Ok(Principals::Any),
            Value::String(_) | Value::Array(_) => {
                let mut map = BTreeMap::new();
                map.insert("AWS".to_string(), self.strings(v, path)?);
                Ok(Principals::Map(map))
            }
            Value::Object(obj) => {
                let mut map = BTreeMap::new();
                for (kind, values) in obj {
                    let mut p = path.to_vec();
                    p.push(Seg::Key(kind.clone()));
                    if !PRINCIPAL_TYPES.contains(&kind.as_str()) {
                        return Err(self.err(
                            &p,
                            path,
                            format!(
                                "unknown principal type (expected {})",
                                PRINCIPAL_TYPES.join(", ")
                            ),
                        ));
                    }
                    map.insert(kind.clone(), self.strings(values, &p)?);
                }
                Ok(Principals::Map(map))
            }
            other => Err(self.err(
                path,
                path,
                format!(
                    "expected \"*\" or an object such as {{\"AWS\": ...}}, found {}",
                    describe(other)
                ),
            )),
        }
    }

    /// `{ operator: { key: value-or-values } }`, flattened.
    fn conditions(&self, v: &Value, path: &[Seg]) -> Result<Vec<Condition>, PolicyParseError> {
        let Value::Object(ops) = v else {
            return Err(self.err(
                path,
                path,
                format!(
                    "expected an object of condition operators, found {}",
                    describe(v)
                ),
            ));
        };
        let mut out = Vec::new();
        for (operator, block) in ops {
            let mut op_path = path.to_vec();
            op_path.push(Seg::Key(operator.clone()));
            let Value::Object(keys) = block else {
                return Err(self.err(
                    &op_path,
                    path,
                    format!(
                        "expected an object of condition keys, found {}",
                        describe(block)
                    ),
                ));
            };
            for (key, values) in keys {
                let mut key_path = op_path.clone();
                key_path.push(Seg::Key(key.clone()));
                let values = match values {
                    Value::Array(items) => items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            let mut p = key_path.clone();
                            p.push(Seg::Index(i));
                            self.scalar(item, &p, &key_path)
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    other => vec![self.scalar(other, &key_path, &op_path)?],
                };
                out.push(Condition {
                    operator: operator.clone(),
                    key: key.clone(),
                    values,
                });
            }
        }
        Ok(out)
    }

    /// A condition value: strings as they are, booleans and numbers as their JSON text.
    fn scalar(&self, v: &Value, path: &[Seg], anchor: &[Seg]) -> Result<String, PolicyParseError> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Number(n) => Ok(n.to_string()),
            other => Err(self.err(
                path,
                anchor,
                format!(
                    "expected a string, number or boolean, found {}",
                    describe(other)
                ),
            )),
        }
    }
}

/// Finds the 1-based line and column of the value at `path` in JSON `text` (already known
/// to be valid).
fn locate(text: &str, path: &[Seg]) -> Option<(usize, usize)> {
    let offset = locate_offset(text, path)?;
    let position = positions_of(text, &[offset]).into_iter().next()?;
    Some((position.line, position.column))
}

/// The position of every statement's `{`, in document order: of the one object when
/// `Statement` is an object, of each object of the array otherwise.
fn statement_positions(text: &str) -> Vec<Position> {
    let Some(start) = locate_offset(text, &[Seg::Key("Statement".into())]) else {
        return Vec::new();
    };
    let bytes = text.as_bytes();
    let mut pos = start;
    let mut offsets = Vec::new();
    match bytes.get(pos) {
        Some(b'{') => offsets.push(pos),
        Some(b'[') => {
            pos += 1;
            loop {
                skip_ws(bytes, &mut pos);
                if matches!(bytes.get(pos), None | Some(b']')) {
                    break;
                }
                offsets.push(pos);
                if skip_value(bytes, &mut pos).is_none() {
                    break;
                }
                skip_ws(bytes, &mut pos);
                if bytes.get(pos) != Some(&b',') {
                    break;
                }
                pos += 1;
            }
        }
        _ => {}
    }
    positions_of(text, &offsets)
}

/// Line and column of each byte offset (ascending), reading the text once for all of them.
fn positions_of(text: &str, offsets: &[usize]) -> Vec<Position> {
    let mut out = Vec::with_capacity(offsets.len());
    let (mut line, mut column, mut scanned) = (1usize, 1usize, 0usize);
    for &offset in offsets {
        let Some(between) = text.get(scanned..offset) else {
            break;
        };
        for c in between.chars() {
            if c == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        scanned = offset;
        out.push(Position { line, column });
    }
    out
}

/// The byte offset of the value at `path` in JSON `text` (already known to be valid). A
/// small scanner rather than a second parser: it only skips values.
fn locate_offset(text: &str, path: &[Seg]) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut pos = 0usize;
    skip_ws(bytes, &mut pos);
    for seg in path {
        match (seg, bytes.get(pos)) {
            (Seg::Key(want), Some(b'{')) => {
                pos += 1;
                let mut found = false;
                loop {
                    skip_ws(bytes, &mut pos);
                    if bytes.get(pos) == Some(&b'}') || pos >= bytes.len() {
                        break;
                    }
                    let start = pos;
                    skip_string(bytes, &mut pos)?;
                    let key: String = serde_json::from_str(text.get(start..pos)?).ok()?;
                    skip_ws(bytes, &mut pos);
                    if bytes.get(pos) != Some(&b':') {
                        return None;
                    }
                    pos += 1;
                    skip_ws(bytes, &mut pos);
                    if &key == want {
                        found = true;
                        break;
                    }
                    skip_value(bytes, &mut pos)?;
                    skip_ws(bytes, &mut pos);
                    if bytes.get(pos) == Some(&b',') {
                        pos += 1;
                    }
                }
                if !found {
                    return None;
                }
            }
            (Seg::Index(want), Some(b'[')) => {
                pos += 1;
                let mut i = 0usize;
                loop {
                    skip_ws(bytes, &mut pos);
                    if bytes.get(pos) == Some(&b']') || pos >= bytes.len() {
                        return None;
                    }
                    if i == *want {
                        break;
                    }
                    skip_value(bytes, &mut pos)?;
                    skip_ws(bytes, &mut pos);
                    if bytes.get(pos) == Some(&b',') {
                        pos += 1;
                    }
                    i += 1;
                }
            }
            _ => return None,
        }
    }
    (pos <= text.len()).then_some(pos)
}

fn skip_ws(bytes: &[u8], pos: &mut usize) {
    while matches!(bytes.get(*pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        *pos += 1;
    }
}

fn skip_string(bytes: &[u8], pos: &mut usize) -> Option<()> {
    if bytes.get(*pos) != Some(&b'"') {
        return None;
    }
    *pos += 1;
    loop {
        match bytes.get(*pos)? {
            b'\\' => *pos += 2,
            b'"' => {
                *pos += 1;
                return Some(());
            }
            _ => *pos += 1,
        }
    }
}

fn skip_value(bytes: &[u8], pos: &mut usize) -> Option<()> {
    match bytes.get(*pos)? {
        b'"' => skip_string(bytes, pos),
        b'{' | b'[' => {
            let mut depth = 0usize;
            loop {
                match bytes.get(*pos)? {
                    b'"' => {
                        skip_string(bytes, pos)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            *pos += 1;
                            return Some(());
                        }
                    }
                    _ => {}
                }
                *pos += 1;
            }
        }
        _ => {
            while !matches!(
                bytes.get(*pos),
                None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            ) {
                *pos += 1;
            }
            Some(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> PolicyParseError {
        parse_policy(text).expect_err("should fail")
    }

    #[test]
    fn single_statement_and_strings() {
        let doc = parse_policy(
            r#"{"Version":"2012-10-17","Statement":{"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#,
        )
        .unwrap();
        assert_eq!(doc.version.as_deref(), Some("2012-10-17"));
        assert_eq!(doc.statements.len(), 1);
        let s = &doc.statements[0];
        assert_eq!(s.index, 0);
        assert_eq!(s.sid.as_deref(), Some("A"));
        assert_eq!(s.effect, Effect::Allow);
        assert_eq!(s.action, ActionSpec::Action(vec!["s3:GetObject".into()]));
        assert_eq!(
            s.resource,
            Some(ResourceSpec::Resource(vec!["arn:aws:s3:::b/*".into()]))
        );
        assert!(s.principal.is_none());
    }

    #[test]
    fn arrays_not_elements_principals_and_conditions() {
        let doc = parse_policy(
            r#"{
  "Statement": [
    {"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "NotResource": "arn:aws:s3:::b"},
    {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*",
     "Condition": {"Bool": {"aws:SecureTransport": false},
                   "NumericLessThan": {"s3:max-keys": 10},
                   "StringEquals": {"aws:SourceVpc": ["vpc-1", "vpc-2"]}}},
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*"},
    {"Effect": "Allow", "NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:root"], "Service": "s3.amazonaws.com"}, "Action": "s3:*"}
  ]
}"#,
        )
        .unwrap();
        assert_eq!(doc.version, None);
        let s = &doc.statements;
        assert_eq!(
            s[0].action,
            ActionSpec::NotAction(vec!["iam:*".into(), "sts:*".into()])
        );
        assert_eq!(
            s[0].resource,
            Some(ResourceSpec::NotResource(vec!["arn:aws:s3:::b".into()]))
        );
        assert_eq!(
            s[1].principal,
            Some(PrincipalSpec::Principal(Principals::Any))
        );
        assert_eq!(s[1].index, 1);
        let conds: Vec<String> = s[1].conditions.iter().map(|c| c.to_string()).collect();
        assert!(conds.contains(&"Bool aws:SecureTransport [\"false\"]".to_string()));
        assert!(conds.contains(&"NumericLessThan s3:max-keys [\"10\"]".to_string()));
        assert!(conds.contains(&"StringEquals aws:SourceVpc [\"vpc-1\", \"vpc-2\"]".to_string()));
        match &s[2].principal {
            Some(PrincipalSpec::Principal(Principals::Map(m))) => {
                assert_eq!(m.get("AWS"), Some(&vec!["*".to_string()]));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s[2].resource, None);
        match &s[3].principal {
            Some(PrincipalSpec::NotPrincipal(Principals::Map(m))) => {
                assert_eq!(m.len(), 2);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn url_encoded() {
        let raw = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}"#;
        let enc: String =
            percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        assert!(enc.starts_with("%7B"));
        assert_eq!(parse_policy(&enc).unwrap(), parse_policy(raw).unwrap());
        assert_eq!(
            parse_policy(&format!("  {}\n", enc.replace("%7B", "%7b"))).unwrap(),
            parse_policy(raw).unwrap()
        );
    }

    #[test]
    fn invalid_json_has_position() {
        let e = err("{\n  \"Statement\": [\n    {\"Effect\": \"Allow\" \"Action\": \"x\"}\n  ]\n}");
        assert_eq!(e.line, 3);
        assert!(e.column > 1);
        assert!(e.message.starts_with("invalid JSON: "), "{}", e.message);
        assert!(!e.message.contains("at line"), "{}", e.message);
        let e = err("");
        assert_eq!((e.line, e.column), (1, 1));
    }

    #[test]
    fn structural_errors_name_the_path() {
        let e = err(
            "{\"Statement\": [\n {\"Effect\": \"Allow\", \"Action\": \"s3:*\"},\n {\"Effect\": \"Alow\", \"Action\": \"s3:*\"}]}",
        );
        assert_eq!(
            e.message,
            "Statement[1].Effect: expected \"Allow\" or \"Deny\", found \"Alow\""
        );
        assert_eq!((e.line, e.column), (3, 13));

        let e = err(r#"{"Statement": [{"Action": "s3:*"}]}"#);
        assert_eq!(e.message, "Statement[0]: missing \"Effect\"");
        assert_eq!((e.line, e.column), (1, 16));

        let e = err(r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "NotAction": "x"}}"#);
        assert_eq!(
            e.message,
            "Statement: has both \"Action\" and \"NotAction\" (use one)"
        );

        let e = err(r#"{"Statement": {"Effect": "Allow"}}"#);
        assert_eq!(e.message, "Statement: missing \"Action\" or \"NotAction\"");

        let e = err(r#"{"Statement": {"Effect": "Allow", "Action": ["s3:*", 42]}}"#);
        assert_eq!(
            e.message,
            "Statement.Action[1]: expected a string, found 42"
        );

        let e = err(r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Condition": "x"}}"#);
        assert_eq!(
            e.message,
            "Statement.Condition: expected an object of condition operators, found \"x\""
        );

        let e = err(
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Condition": {"Bool": {"k": null}}}}"#,
        );
        assert_eq!(
            e.message,
            "Statement.Condition.Bool.k: expected a string, number or boolean, found null"
        );

        let e = err(r#"{"Statement": {"Effect": "Allow", "action": "s3:*"}}"#);
        assert!(
            e.message.starts_with("Statement.action: unknown element"),
            "{}",
            e.message
        );
        assert!(e.message.contains("\"Action\""), "{}", e.message);

        let e = err(r#"{"Version": "2012-10-17", "Statements": []}"#);
        assert!(
            e.message.starts_with("Statements: unknown element"),
            "{}",
            e.message
        );

        let e = err(r#"{"Version": "2012-10-18", "Statement": []}"#);
        assert_eq!(
            e.message,
            "Version: expected \"2012-10-17\" or \"2008-10-17\", found \"2012-10-18\""
        );

        let e = err(r#"{"Version": "2012-10-17"}"#);
        assert_eq!(e.message, "missing \"Statement\"");

        let e = err(r#"[1]"#);
        assert_eq!(e.message, "expected a policy object, found an array");

        let e = err(
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Principal": {"Aws": "*"}}}"#,
        );
        assert!(
            e.message
                .starts_with("Statement.Principal.Aws: unknown principal type"),
            "{}",
            e.message
        );

        let e = err(r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Principal": 3}}"#);
        assert!(
            e.message.starts_with("Statement.Principal: expected"),
            "{}",
            e.message
        );
    }

    #[test]
    fn never_panics_on_truncated_or_mangled_input() {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A\"b","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:root"]},"Action":["s3:*"],"Resource":"*","Condition":{"StringEquals":{"k":["v",1,true]}}},{"Effect":"Alow","Action":"x"}]}"#;
        for (i, _) in doc.char_indices() {
            let _ = parse_policy(&doc[..i]);
        }
        let bytes = doc.as_bytes();
        for i in 0..bytes.len() {
            for replacement in [b'{', b'}', b'[', b']', b'"', b',', b':', b'\\', b'x', b'1'] {
                let mut mangled = bytes.to_vec();
                mangled[i] = replacement;
                if let Ok(text) = std::str::from_utf8(&mangled) {
                    let _ = parse_policy(text);
                }
            }
        }
        let _ = parse_policy("%7B%ZZ");
        let _ = parse_policy("%7b%FF%FE");
        let _ = parse_policy("\u{feff}{\"Statement\": []}");
    }

    #[test]
    fn statements_keep_the_line_and_column_of_their_brace() {
        let text = "{\n  \"Statement\": [\n    {\"Sid\": \"é{\", \"Effect\": \"Allow\", \"Action\": \"s3:*\"},\n\n      { \"Effect\": \"Deny\",\n        \"Action\": [\"x\"], \"Condition\": {\"Bool\": {\"k\": \"[\"}}}, {\"Effect\": \"Allow\", \"Action\": \"y\"}\n  ]\n}";
        let doc = parse_policy(text).unwrap();
        let at: Vec<Option<(usize, usize)>> = doc
            .statements
            .iter()
            .map(|s| s.position.map(|p| (p.line, p.column)))
            .collect();
        // The third statement follows the second on its line, after a `[` and `}` in strings.
        let line6 = text.lines().nth(5).unwrap();
        let third = line6.find("{\"Effect\": \"Allow\"").unwrap() + 1;
        assert_eq!(at, [Some((3, 5)), Some((5, 7)), Some((6, third))]);

        let single =
            parse_policy("\n\n {\"Statement\":\n\t{\"Effect\": \"Allow\", \"Action\": \"s3:*\"}}")
                .unwrap();
        assert_eq!(
            single.statements[0].position,
            Some(Position { line: 4, column: 2 })
        );
        // A document written by the tool has no text to point into.
        let built = crate::policy::build::allow_statement(None, None, &[], None);
        assert_eq!(built.position, None);
    }

    #[test]
    fn locate_handles_escapes_and_nesting() {
        let text = "{\"a\\\"b\": [1, {\"x\": \"}]\"}], \"Statement\": {\"k\": [10, 20]}}";
        let path = [
            Seg::Key("Statement".into()),
            Seg::Key("k".into()),
            Seg::Index(1),
        ];
        let (line, col) = locate(text, &path).unwrap();
        assert_eq!(line, 1);
        assert_eq!(&text[col - 1..col + 1], "20");
        assert_eq!(locate(text, &[Seg::Key("zzz".into())]), None);
    }
}
